//! The conformance suite on PostgreSQL, one test per check, each in its own schema.
//! Every test is `#[ignore]`d (`cargo test` counts them as ignored): run them with
//! `VERIFY_TEST_POSTGRES_URL` set and `-- --include-ignored` (`.ci/pg.sh run cargo
//! test -p verify-store-sql -- --include-ignored`); run without the URL they fail.

use verify_store::conformance::{CHECKS, Failure};

macro_rules! pg_suite {
    ($($check:ident)+) => {
        /// The checks this module runs, to compare with the suite's own list.
        const RUN: &[&str] = &[$(stringify!($check)),+];
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
            async fn $check() -> Result<(), Failure> {
                let store = crate::support::pg_store(stringify!($check)).await;
                verify_store::conformance::$check(store).await
            }
        )+
    };
}

pg_suite!(
    service_crud entity_crud factor_crud factor_quota passkey_credential_unique
    access_token_redeem challenge_crud paired_write list_challenges list_factors list_entities
    webhook_crud entity_cascade_delete service_cascade_delete outbox prune_expired
    race_challenge_approval race_totp_step race_sign_count race_outbox_drain
    race_entity_identity race_token_redeem discoverable_passkey entity_passkey
);

#[test]
fn runs_every_conformance_check() {
    let mut run = RUN.to_vec();
    let mut all = CHECKS.to_vec();
    run.sort_unstable();
    all.sort_unstable();
    assert_eq!(run, all, "the PostgreSQL run must cover the whole suite");
}
