//! Every lookup and list a request makes is planned on an index: `EXPLAIN QUERY PLAN`
//! on SQLite (always) and `EXPLAIN` on PostgreSQL (ignored tests, with
//! `enable_seqscan = off`, so a sequential scan in the plan means no index can
//! answer the query) for each `WHERE` clause of `src/imp.rs`.
//!
//! The statements below mirror `src/imp.rs` (same clauses and columns; values are
//! bound, as the store binds them). A query added there belongs here too.

use sqlx::Row as _;
use verify_store_sql::SqliteStore;

/// How one placeholder is bound.
#[derive(Debug, Clone, Copy)]
enum Bind {
    /// A 16-byte sid (or a credential id: both are byte strings).
    Sid,
    /// An identity, factor type or record.
    Text,
    /// A time, version, count or limit.
    Int,
}

use Bind::{Int, Sid, Text};

/// `(what, statement, binds)`: the store's statements that look rows up.
const QUERIES: &[(&str, &str, &[Bind])] = &[
    (
        "get_service",
        "SELECT record FROM verify_services WHERE sid = $1",
        &[Sid],
    ),
    (
        "update_service",
        "UPDATE verify_services SET version = $1, record = $2 \
         WHERE sid = $3 AND version = $4 AND date_created = $5",
        &[Int, Text, Sid, Int, Int],
    ),
    (
        "delete_service",
        "DELETE FROM verify_services WHERE sid = $1 AND version = $2",
        &[Sid, Int],
    ),
    (
        "get_entity",
        "SELECT record FROM verify_entities WHERE sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "get_entity_by_identity",
        "SELECT record FROM verify_entities WHERE service_sid = $1 AND identity = $2",
        &[Sid, Text],
    ),
    (
        "list_entities",
        "SELECT date_created, sid FROM verify_entities WHERE service_sid = $1",
        &[Sid],
    ),
    (
        "delete_entity: lock the entity's challenges",
        "SELECT 1 FROM verify_challenges WHERE entity_sid = $1",
        &[Sid],
    ),
    (
        "delete_entity: its factors",
        "SELECT sid, version FROM verify_factors WHERE entity_sid = $1",
        &[Sid],
    ),
    (
        "insert_factor: the factor sid is free",
        "SELECT 1 FROM verify_factors WHERE sid = $1",
        &[Sid],
    ),
    (
        "insert_factor: the credential id is free",
        "SELECT 1 FROM verify_factors WHERE service_sid = $1 AND credential_id = $2",
        &[Sid, Sid],
    ),
    (
        "insert_factor / count_factors: factors of a type",
        "SELECT COUNT(*) FROM verify_factors WHERE entity_sid = $1 AND factor_type = $2",
        &[Sid, Text],
    ),
    (
        "insert_factor / count_factor_creations_since",
        "SELECT COUNT(*) FROM verify_factor_creations \
         WHERE entity_sid = $1 AND date_created >= $2",
        &[Sid, Int],
    ),
    (
        "get_factor",
        "SELECT record FROM verify_factors WHERE sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "find_factor_by_credential_id",
        "SELECT record FROM verify_factors WHERE service_sid = $1 AND credential_id = $2",
        &[Sid, Sid],
    ),
    (
        "entity_factors",
        "SELECT record FROM verify_factors WHERE entity_sid = $1 AND service_sid = $2 \
         ORDER BY date_created, sid",
        &[Sid, Sid],
    ),
    (
        "list_factors",
        "SELECT date_created, sid FROM verify_factors WHERE entity_sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "cas_factor",
        "UPDATE verify_factors SET version = $1, credential_id = $2, record = $3, \
         record_format = $11 \
         WHERE sid = $4 AND version = $5 AND service_sid = $6 AND entity_sid = $7 \
         AND identity = $8 AND factor_type = $9 AND date_created = $10",
        &[Int, Sid, Text, Sid, Int, Sid, Sid, Text, Text, Int, Int],
    ),
    (
        "delete_factor: lock its challenges",
        "SELECT 1 FROM verify_challenges WHERE factor_sid = $1",
        &[Sid],
    ),
    (
        "delete_factor",
        "DELETE FROM verify_factors WHERE sid = $1 AND service_sid = $2 AND version = $3",
        &[Sid, Sid, Int],
    ),
    (
        "the factor cascade to its challenges (foreign key columns)",
        "SELECT 1 FROM verify_challenges \
         WHERE service_sid = $1 AND entity_sid = $2 AND factor_sid = $3",
        &[Sid, Sid, Sid],
    ),
    (
        "insert_challenge: its factor",
        "SELECT entity_sid FROM verify_factors WHERE sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "get_challenge",
        "SELECT record FROM verify_challenges WHERE sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "list_challenges",
        "SELECT date_created, sid, status, expiration_date FROM verify_challenges \
         WHERE entity_sid = $1 AND service_sid = $2 ORDER BY date_created, sid",
        &[Sid, Sid],
    ),
    (
        "list_challenges with FactorSid",
        "SELECT date_created, sid, status, expiration_date FROM verify_challenges \
         WHERE entity_sid = $1 AND service_sid = $2 AND factor_sid = $3 \
         ORDER BY date_created, sid",
        &[Sid, Sid, Sid],
    ),
    (
        "list_challenges with Status=pending",
        "SELECT date_created, sid, status, expiration_date FROM verify_challenges \
         WHERE entity_sid = $1 AND service_sid = $2 AND status = 'pending' \
         AND date_created >= $3 ORDER BY date_created, sid",
        &[Sid, Sid, Int],
    ),
    (
        "list_challenges with FactorSid and Status=pending",
        "SELECT date_created, sid, status, expiration_date FROM verify_challenges \
         WHERE entity_sid = $1 AND service_sid = $2 AND factor_sid = $3 \
         AND status = 'pending' AND date_created >= $4 ORDER BY date_created, sid",
        &[Sid, Sid, Sid, Int],
    ),
    (
        "a page's records by sid",
        "SELECT sid, record FROM verify_challenges WHERE sid IN ($1, $2, $3)",
        &[Sid, Sid, Sid],
    ),
    (
        "cas_challenge",
        "UPDATE verify_challenges SET version = $1, entity_sid = $2, identity = $3, \
         factor_sid = $4, status = $5, expiration_date = $6, record = $7, \
         record_format = $13 \
         WHERE sid = $8 AND version = $9 AND service_sid = $10 AND factor_type = $11 \
         AND date_created = $12 AND (entity_sid IS NULL OR entity_sid = $2) \
         AND (identity IS NULL OR identity = $3) AND (factor_sid IS NULL OR factor_sid = $4)",
        &[
            Int, Sid, Text, Sid, Text, Int, Text, Sid, Int, Sid, Text, Int, Int,
        ],
    ),
    (
        "cas_challenge: why it matched nothing",
        "SELECT service_sid, factor_type, date_created, entity_sid, identity, factor_sid \
         FROM verify_challenges WHERE sid = $1",
        &[Sid],
    ),
    (
        "get_access_token",
        "SELECT record FROM verify_access_tokens WHERE sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "cas_token",
        "UPDATE verify_access_tokens SET version = $1, record = $2 \
         WHERE sid = $3 AND service_sid = $4 AND version = $5 AND identity = $6 \
         AND date_created = $7",
        &[Int, Text, Sid, Sid, Int, Text, Int],
    ),
    (
        "get_webhook",
        "SELECT record FROM verify_webhooks WHERE sid = $1 AND service_sid = $2",
        &[Sid, Sid],
    ),
    (
        "list_webhooks",
        "SELECT date_created, sid FROM verify_webhooks WHERE service_sid = $1",
        &[Sid],
    ),
    (
        "delete_webhook",
        "DELETE FROM verify_webhooks WHERE sid = $1 AND service_sid = $2 AND version = $3",
        &[Sid, Sid, Int],
    ),
    (
        "peek_events",
        "SELECT sequence, record FROM verify_outbox WHERE sequence > $1 \
         ORDER BY sequence LIMIT $2",
        &[Int, Int],
    ),
    (
        "ack_events",
        "DELETE FROM verify_outbox WHERE sequence <= $1",
        &[Int],
    ),
    (
        "prune_expired: the challenges",
        "DELETE FROM verify_challenges WHERE sid IN (SELECT sid FROM verify_challenges \
         WHERE expiration_date <= $1 ORDER BY expiration_date, sid LIMIT $2)",
        &[Int, Int],
    ),
    (
        "prune_expired: the creation times",
        "DELETE FROM verify_factor_creations WHERE date_created < $1",
        &[Int],
    ),
    (
        "upgrade_records: the next batch",
        "SELECT sid, version, record FROM verify_challenges \
         WHERE record_format = 1 AND sid > $1 ORDER BY sid LIMIT $2",
        &[Sid, Int],
    ),
];

/// Statements that read a whole index on purpose, with why that is the answer's
/// size and not more. Their plans may `SCAN` an index, never a table.
const WHOLE_INDEX: &[(&str, &str, &str)] = &[
    (
        "list_services",
        "SELECT date_created, sid FROM verify_services",
        "the list is every service: its covering index in list order",
    ),
    (
        "upgrade_records: anything left",
        "SELECT 1 FROM verify_challenges WHERE record_format = 1 LIMIT 1",
        "the partial index holds only rows still to upgrade: empty after the upgrade",
    ),
    (
        "drain_events",
        "SELECT sequence FROM verify_outbox WHERE sequence IS NOT NULL ORDER BY sequence LIMIT $1",
        "the outbox in sequence (rowid) order, stopped after `limit` rows",
    ),
];

/// PostgreSQL's own statements that read a whole index on purpose (schema v5's
/// outbox numbering), with why.
const PG_WHOLE_INDEX: &[(&str, &str, &str)] = &[(
    "number_outbox: the unnumbered events",
    "SELECT id FROM verify_outbox WHERE sequence IS NULL ORDER BY txid, id LIMIT $1",
    "the partial index holds only events not numbered yet, in numbering order",
)];

/// The plan lines of `sql` on SQLite.
async fn sqlite_plan(store: &SqliteStore, sql: &str, binds: &[Bind]) -> Vec<String> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query(&explain);
    for bind in binds {
        query = match bind {
            Sid => query.bind(vec![0x5a_u8; 16]),
            Text => query.bind("text"),
            Int => query.bind(1_i64),
        };
    }
    let rows = query.fetch_all(store.pool()).await.expect("explain");
    rows.iter()
        .map(|row| row.try_get::<String, _>("detail").expect("detail"))
        .collect()
}

/// A full table scan in a SQLite plan: `SCAN t` without `USING ... INDEX`, or a sort
/// in a temporary b-tree (the rows were not read in index order).
fn sqlite_bad_line(line: &str, whole_index_allowed: bool) -> bool {
    let scan = line.starts_with("SCAN ");
    let on_index = line.contains(" USING ") && line.contains("INDEX");
    let rowid_order = whole_index_allowed && line.starts_with("SCAN verify_outbox");
    line.contains("USE TEMP B-TREE")
        || (scan && !whole_index_allowed)
        || (scan && !on_index && !rowid_order)
}

#[tokio::test]
async fn every_request_query_searches_an_index_on_sqlite() {
    let store = crate::support::sqlite_store().await;
    let mut failures = Vec::new();
    for &(what, sql, binds) in QUERIES {
        let plan = sqlite_plan(&store, sql, binds).await;
        if plan.is_empty() || plan.iter().any(|line| sqlite_bad_line(line, false)) {
            failures.push(format!("{what}: {plan:?}"));
        }
        // A lookup by key is a SEARCH (on an index, or the primary key).
        if !plan.iter().any(|line| line.starts_with("SEARCH ")) {
            failures.push(format!("{what}: no SEARCH in {plan:?}"));
        }
    }
    for &(what, sql, _why) in WHOLE_INDEX {
        let binds: &[Bind] = if sql.contains("$1") { &[Int] } else { &[] };
        let plan = sqlite_plan(&store, sql, binds).await;
        if plan.iter().any(|line| sqlite_bad_line(line, true)) {
            failures.push(format!("{what}: {plan:?}"));
        }
    }
    assert!(failures.is_empty(), "table scans:\n{}", failures.join("\n"));
}

/// The challenge lists use migration 0004's indexes, and the pending lists 0007's
/// partial ones, by name (the failure that prompted 0004: the planner took
/// `verify_challenges_service` and read the whole service).
#[tokio::test]
async fn challenge_lists_use_the_entity_indexes_on_sqlite() {
    let store = crate::support::sqlite_store().await;
    for (what, index) in [
        ("list_challenges", "verify_challenges_entity_list"),
        (
            "list_challenges with FactorSid",
            "verify_challenges_factor_list",
        ),
        (
            "list_challenges with Status=pending",
            "verify_challenges_entity_pending",
        ),
        (
            "list_challenges with FactorSid and Status=pending",
            "verify_challenges_factor_pending",
        ),
        ("entity_factors", "verify_factors_entity_list"),
    ] {
        let &(_, sql, binds) = QUERIES
            .iter()
            .find(|(name, _, _)| *name == what)
            .expect("listed");
        let plan = sqlite_plan(&store, sql, binds).await;
        assert!(
            plan.iter().any(|line| line.contains(index)),
            "{what} should use {index}: {plan:?}"
        );
    }
}

/// The plan of `sql` on PostgreSQL, as text lines.
async fn pg_plan(connection: &mut sqlx::PgConnection, sql: &str, binds: &[Bind]) -> Vec<String> {
    let explain = format!("EXPLAIN {sql}");
    let mut query = sqlx::query(&explain);
    for bind in binds {
        query = match bind {
            Sid => query.bind(vec![0x5a_u8; 16]),
            Text => query.bind("text"),
            Int => query.bind(1_i64),
        };
    }
    let rows = query.fetch_all(&mut *connection).await.expect("explain");
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).expect("plan line"))
        .collect()
}

/// The index a PostgreSQL plan node reads, if it reads one.
fn pg_index_of(line: &str) -> Option<&str> {
    let rest = line
        .split(" using ")
        .nth(1)
        .or_else(|| line.split("Bitmap Index Scan on ").nth(1))?;
    rest.split_whitespace().next()
}

/// The first key column of the index `name`.
async fn pg_leading_column(connection: &mut sqlx::PgConnection, name: &str) -> String {
    sqlx::query(
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
         WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
    )
    .bind(name)
    .fetch_one(&mut *connection)
    .await
    .expect("the index exists")
    .try_get(0)
    .expect("a column name")
}

/// What is wrong with a PostgreSQL plan: a sequential scan, or (unless the
/// statement reads a whole index on purpose) no index read bounded on its first
/// column. PostgreSQL prints a condition on a later column of an index as an
/// `Index Cond` too, though it then reads the whole index: so the condition must
/// name the index's leading column.
async fn pg_problems(
    connection: &mut sqlx::PgConnection,
    plan: &[String],
    whole_index: bool,
) -> Option<String> {
    if plan.iter().any(|line| line.contains("Seq Scan")) {
        return Some("a sequential scan".to_owned());
    }
    if whole_index {
        return None;
    }
    let mut bounded = false;
    for (at, line) in plan.iter().enumerate() {
        let Some(index) = pg_index_of(line) else {
            continue;
        };
        let leading = pg_leading_column(connection, index).await;
        // The node's own lines, up to the next node.
        let condition = plan
            .iter()
            .skip(at.saturating_add(1))
            .take_while(|l| !l.contains("->"))
            .find(|l| l.contains("Index Cond:"));
        match condition {
            Some(c) if c.contains(&format!("({leading} ")) => bounded = true,
            _ => return Some(format!("{index} is read whole (not bounded on {leading})")),
        }
    }
    (!bounded).then(|| "no index bounded on its first column".to_owned())
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn every_request_query_has_an_index_on_postgres() {
    let store = crate::support::pg_store("query_plans").await;
    let mut connection = store.pool().acquire().await.expect("a connection");
    // An empty table is cheapest to read whole; with sequential scans priced out the
    // planner shows whether an index can answer the query at all.
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .expect("set");
    let mut failures = Vec::new();
    let queries = QUERIES
        .iter()
        .map(|&(what, sql, binds)| (what, sql, binds, false));
    let whole = WHOLE_INDEX
        .iter()
        .chain(PG_WHOLE_INDEX)
        .map(|&(what, sql, _)| {
            let binds: &[Bind] = if sql.contains("$1") { &[Int] } else { &[] };
            (what, sql, binds, true)
        });
    for (what, sql, binds, whole_index) in queries.chain(whole) {
        let plan = pg_plan(&mut connection, sql, binds).await;
        if let Some(problem) = pg_problems(&mut connection, &plan, whole_index).await {
            failures.push(format!("{what}: {problem}\n  {}", plan.join("\n  ")));
        }
    }
    sqlx::query("RESET enable_seqscan")
        .execute(&mut *connection)
        .await
        .expect("reset");
    assert!(failures.is_empty(), "unindexed:\n{}", failures.join("\n"));
}

/// On PostgreSQL the outbox numbering reads migration 0005's partial index, and a
/// read of the numbered events its unique index.
#[tokio::test]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn outbox_numbering_uses_its_indexes_on_postgres() {
    let store = crate::support::pg_store("query_plans_outbox").await;
    let mut connection = store.pool().acquire().await.expect("a connection");
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .expect("set");
    let numbering = pg_plan(&mut connection, PG_WHOLE_INDEX[0].1, &[Int]).await;
    assert!(
        numbering
            .iter()
            .any(|line| line.contains("verify_outbox_unnumbered")),
        "{}",
        numbering.join("\n")
    );
    let &(_, peek, binds) = QUERIES
        .iter()
        .find(|(name, _, _)| *name == "peek_events")
        .expect("listed");
    let plan = pg_plan(&mut connection, peek, binds).await;
    assert!(
        plan.iter()
            .any(|line| line.contains("verify_outbox_sequence")),
        "{}",
        plan.join("\n")
    );
}

/// On PostgreSQL the challenge lists' plans name a migration 0004 index (0007's
/// partial ones for the pending lists).
#[tokio::test]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn challenge_lists_use_the_entity_indexes_on_postgres() {
    let store = crate::support::pg_store("query_plans_lists").await;
    let mut connection = store.pool().acquire().await.expect("a connection");
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .expect("set");
    for (what, index) in [
        ("list_challenges", "verify_challenges_entity_list"),
        (
            "list_challenges with FactorSid",
            "verify_challenges_factor_list",
        ),
        (
            "list_challenges with Status=pending",
            "verify_challenges_entity_pending",
        ),
        (
            "list_challenges with FactorSid and Status=pending",
            "verify_challenges_factor_pending",
        ),
    ] {
        let &(_, sql, binds) = QUERIES
            .iter()
            .find(|(name, _, _)| *name == what)
            .expect("listed");
        let plan = pg_plan(&mut connection, sql, binds).await;
        assert!(
            plan.iter().any(|line| line.contains(index)),
            "{what} should use {index}:\n{}",
            plan.join("\n")
        );
    }
}
