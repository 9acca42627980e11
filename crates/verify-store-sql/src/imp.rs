//! The [`Store`](verify_store::Store) implementation, written once as SQL and
//! expanded for each backend by `store_impl!` (the backends differ only in how a
//! write transaction begins and in their row locks: `BEGIN` and `FOR UPDATE` on
//! PostgreSQL; `BEGIN IMMEDIATE` and no row locks on SQLite, whose database-wide
//! write lock, taken when the transaction begins, already serializes writers).
//!
//! Every compare-and-set is one statement, `UPDATE … WHERE sid = $n AND version =
//! $m AND <immutable columns unchanged>`; when it matches no row, a second read
//! (inside the same transaction) tells "not found" from "invalid write" from
//! "conflict". Events are appended in the same transaction as the change.

macro_rules! store_impl {
    ($store:ident, $db:ty, begin = $begin:literal, for_update = $for_update:literal, for_no_key_update = $for_nk:literal, skip_locked = $skip:literal) => {
        use std::collections::{BTreeMap, HashMap};

        use sqlx::Row as _;
        use verify_model::{
            AccessToken, AccessTokenSid, Challenge, ChallengeFilter, ChallengeSid, ChallengeTransition, Entity, FactorTransition,
            EntitySid, Event, Factor, FactorSid, FactorType, Identity, Service, ServiceSid,
            UnixTime, Webhook, WebhookSid,
        };
        use verify_store::{
            FactorInsert, ListQuery, Listing, OutboxEvent, QuotaKind, Resource, Store, StoreError,
            UniqueKey,
        };

        use crate::codec::{
            Key, LEGACY_RECORD_FORMAT, MAX_UPGRADE_PASSES, OnWrite, RECORD_FORMAT, Secrets,
            UPGRADE_BATCH, backend, conflict, credential_id, expected_version, invalid, not_found,
            page_keys, secs, sid_bytes, stored_version, version,
        };

        type Tx = sqlx::Transaction<'static, $db>;

        // Sealing is the same for every backend: the codec does the work.
        impl $store {
            /// Seals secret fields with `sealer` before writing and opens them after
            /// reading (see [`SecretSealer`](crate::SecretSealer)). A record whose
            /// secret is stored in the clear is then refused as
            /// [`StoreError::Corrupt`]: nobody can plant a known TOTP secret by
            /// writing the row directly.
            #[must_use]
            pub fn with_sealer(mut self, sealer: std::sync::Arc<dyn crate::SecretSealer>) -> Self {
                self.codec = crate::codec::Codec::with_sealer(sealer, false);
                self
            }

            /// Like [`with_sealer`](Self::with_sealer), but still reads secrets
            /// stored in the clear (rows written before the sealer was introduced;
            /// every write seals). Switch to `with_sealer` once every row has been
            /// rewritten.
            #[must_use]
            pub fn with_sealer_accepting_plaintext(
                mut self,
                sealer: std::sync::Arc<dyn crate::SecretSealer>,
            ) -> Self {
                self.codec = crate::codec::Codec::with_sealer(sealer, true);
                self
            }
        }


        /// An optional 16-byte sid as a column value.
        fn opt_sid<T>(sid: Option<T>, bytes: impl Fn(&T) -> [u8; 16]) -> Option<Vec<u8>> {
            sid.as_ref().map(|s| bytes(s).to_vec())
        }

        fn usize_count(count: i64) -> usize {
            usize::try_from(count).unwrap_or(usize::MAX)
        }

        impl $store {
            /// Begins a write transaction (every transaction of the store writes)
            /// with the backend's `BEGIN` statement.
            async fn begin(&self) -> Result<Tx, StoreError> {
                self.pool.begin_with($begin).await.map_err(backend)
            }

            /// One record by a query whose binds are all sids.
            async fn fetch_record<T: serde::de::DeserializeOwned>(
                &self,
                resource: Resource,
                secrets: Secrets,
                sql: &str,
                binds: &[&[u8]],
            ) -> Result<Option<T>, StoreError> {
                let mut query = sqlx::query(sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                let row = query.fetch_optional(self.read_pool()).await.map_err(backend)?;
                row.map(|row| {
                    let text: String = row.try_get(0).map_err(backend)?;
                    self.codec.decode(resource, secrets, &text)
                })
                .transpose()
            }

            /// Every row's list key, by a query returning `(date_created, sid)`.
            async fn fetch_keys(
                &self,
                resource: Resource,
                sql: &str,
                binds: &[&[u8]],
            ) -> Result<Vec<Key>, StoreError> {
                let mut query = sqlx::query(sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                let rows = query.fetch_all(self.read_pool()).await.map_err(backend)?;
                rows.iter()
                    .map(|row| {
                        let time: i64 = row.try_get(0).map_err(backend)?;
                        let sid: Vec<u8> = row.try_get(1).map_err(backend)?;
                        Key::from_columns(resource, time, &sid)
                    })
                    .collect()
            }

            /// The records of `keys` from `table`, in the keys' order (a row deleted
            /// since the keys were read is left out).
            async fn fetch_by_keys<T: serde::de::DeserializeOwned>(
                &self,
                table: &str,
                resource: Resource,
                secrets: Secrets,
                keys: &[Key],
            ) -> Result<Vec<T>, StoreError> {
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                let placeholders: Vec<String> =
                    (1..=keys.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT sid, record FROM {table} WHERE sid IN ({})",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query(&sql);
                for key in keys {
                    query = query.bind(key.sid.as_slice());
                }
                let rows = query.fetch_all(self.read_pool()).await.map_err(backend)?;
                let mut texts: HashMap<[u8; 16], String> = HashMap::with_capacity(rows.len());
                for row in &rows {
                    let sid: Vec<u8> = row.try_get(0).map_err(backend)?;
                    let text: String = row.try_get(1).map_err(backend)?;
                    texts.insert(sid_bytes(resource, &sid)?, text);
                }
                keys.iter()
                    .filter_map(|key| texts.remove(&key.sid))
                    .map(|text| self.codec.decode(resource, secrets, &text))
                    .collect()
            }

            /// A page of `table` whose keys `key_sql` selects.
            async fn list_page<T: serde::de::DeserializeOwned>(
                &self,
                table: &str,
                resource: Resource,
                secrets: Secrets,
                key_sql: &str,
                binds: &[&[u8]],
                query: &ListQuery,
            ) -> Result<Listing<T>, StoreError> {
                let keys = self.fetch_keys(resource, key_sql, binds).await?;
                let page = page_keys(&keys, query)?;
                let items = self.fetch_by_keys(table, resource, secrets, &page.items).await?;
                Ok(Listing::new(items, page.next_page_token, page.previous_page_token))
            }

            /// Appends `events` to the outbox inside `tx`.
            async fn append(tx: &mut Tx, events: &[Event]) -> Result<(), StoreError> {
                Self::append_two(tx, events, &[]).await
            }

            /// Appends the events of two transitions written together (`first`'s,
            /// then `second`'s), in that order, in one write of the outbox (how it
            /// numbers them is the backend's `append_outbox`).
            async fn append_two(
                tx: &mut Tx,
                first: &[Event],
                second: &[Event],
            ) -> Result<(), StoreError> {
                if first.is_empty() && second.is_empty() {
                    return Ok(());
                }
                let records = first
                    .iter()
                    .chain(second)
                    .map(|event| {
                        serde_json::to_string(event)
                            .map_err(|error| StoreError::Backend(Box::new(error)))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Self::append_outbox(tx, &records).await
            }

            /// Why a version-checked delete or update of a plain record (no immutable
            /// columns besides its sid and service) matched no row.
            async fn diagnose_version(
                tx: &mut Tx,
                resource: Resource,
                sql: &str,
                binds: &[&[u8]],
                sid: String,
                expected: u64,
            ) -> StoreError {
                let mut query = sqlx::query(sql);
                for bind in binds {
                    query = query.bind(*bind);
                }
                match query.fetch_optional(&mut **tx).await {
                    Err(error) => backend(error),
                    Ok(None) => not_found(resource, sid),
                    Ok(Some(_)) => conflict(resource, sid, Some(expected)),
                }
            }

            /// Compare-and-set of a factor inside `tx`.
            async fn cas_factor(&self, tx: &mut Tx, factor: &Factor) -> Result<(), StoreError> {
                const R: Resource = Resource::Factor;
                let expected = expected_version(R, factor.version())?;
                let sid = factor.sid().to_string();
                let record = self.codec.encode(R, &sid, Secrets::Factor, factor)?;
                let done = sqlx::query(
                    "UPDATE verify_factors SET version = $1, credential_id = $2, record = $3, \
                     record_format = $11 \
                     WHERE sid = $4 AND version = $5 AND service_sid = $6 AND entity_sid = $7 \
                     AND identity = $8 AND factor_type = $9 AND date_created = $10",
                )
                .bind(version(R, factor.version())?)
                .bind(credential_id(factor))
                .bind(record.as_str())
                .bind(factor.sid().as_bytes().as_slice())
                .bind(expected)
                .bind(factor.service_sid().as_bytes().as_slice())
                .bind(factor.entity_sid().as_bytes().as_slice())
                .bind(factor.identity().as_str())
                .bind(factor.factor_type().as_str())
                .bind(secs(R, factor.date_created())?)
                .bind(RECORD_FORMAT)
                .execute(&mut **tx)
                .await
                .map_err(|e| OnWrite::new(R, R).map(e))?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                let stored = sqlx::query(
                    "SELECT service_sid, entity_sid, identity, factor_type, date_created \
                     FROM verify_factors WHERE sid = $1",
                )
                .bind(factor.sid().as_bytes().as_slice())
                .fetch_optional(&mut **tx)
                .await
                .map_err(backend)?;
                let Some(row) = stored else {
                    return Err(not_found(R, sid));
                };
                let service: Vec<u8> = row.try_get(0).map_err(backend)?;
                let entity: Vec<u8> = row.try_get(1).map_err(backend)?;
                let identity: String = row.try_get(2).map_err(backend)?;
                let factor_type: String = row.try_get(3).map_err(backend)?;
                let created: i64 = row.try_get(4).map_err(backend)?;
                if service.as_slice() != factor.service_sid().as_bytes()
                    || entity.as_slice() != factor.entity_sid().as_bytes()
                    || identity != factor.identity().as_str()
                    || factor_type != factor.factor_type().as_str()
                    || created != secs(R, factor.date_created())?
                {
                    return Err(invalid(
                        R,
                        "service, entity, identity, type and date_created are immutable",
                    ));
                }
                Err(conflict(R, sid, Some(stored_version(R, expected)?)))
            }

            /// Compare-and-set of a challenge inside `tx`.
            async fn cas_challenge(
                &self,
                tx: &mut Tx,
                challenge: &Challenge,
            ) -> Result<(), StoreError> {
                const R: Resource = Resource::Challenge;
                let expected = expected_version(R, challenge.version())?;
                let sid = challenge.sid().to_string();
                let record = self.codec.encode(R, &sid, Secrets::None, challenge)?;
                let entity = opt_sid(challenge.entity_sid(), |s| *s.as_bytes());
                let factor = opt_sid(challenge.factor_sid(), |s| *s.as_bytes());
                let identity = challenge.identity().map(|i| i.as_str().to_owned());
                let on_write = OnWrite {
                    resource: R,
                    parent: Resource::Factor,
                    parent_sid: challenge.factor_sid().map(|s| *s.as_bytes()),
                };
                let done = sqlx::query(
                    "UPDATE verify_challenges SET version = $1, entity_sid = $2, identity = $3, \
                     factor_sid = $4, status = $5, expiration_date = $6, record = $7, \
                     record_format = $13 \
                     WHERE sid = $8 AND version = $9 AND service_sid = $10 AND factor_type = $11 \
                     AND date_created = $12 AND (entity_sid IS NULL OR entity_sid = $2) \
                     AND (identity IS NULL OR identity = $3) AND (factor_sid IS NULL OR factor_sid = $4)",
                )
                .bind(version(R, challenge.version())?)
                .bind(entity.clone())
                .bind(identity.clone())
                .bind(factor.clone())
                .bind(challenge.state().status().as_str())
                .bind(secs(R, challenge.expires_at())?)
                .bind(record.as_str())
                .bind(challenge.sid().as_bytes().as_slice())
                .bind(expected)
                .bind(challenge.service_sid().as_bytes().as_slice())
                .bind(challenge.factor_type().as_str())
                .bind(secs(R, challenge.date_created())?)
                .bind(RECORD_FORMAT)
                .execute(&mut **tx)
                .await
                .map_err(|e| on_write.map(e))?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                let stored = sqlx::query(
                    "SELECT service_sid, factor_type, date_created, entity_sid, identity, factor_sid \
                     FROM verify_challenges WHERE sid = $1",
                )
                .bind(challenge.sid().as_bytes().as_slice())
                .fetch_optional(&mut **tx)
                .await
                .map_err(backend)?;
                let Some(row) = stored else {
                    return Err(not_found(R, sid));
                };
                let s_service: Vec<u8> = row.try_get(0).map_err(backend)?;
                let s_type: String = row.try_get(1).map_err(backend)?;
                let s_created: i64 = row.try_get(2).map_err(backend)?;
                let s_entity: Option<Vec<u8>> = row.try_get(3).map_err(backend)?;
                let s_identity: Option<String> = row.try_get(4).map_err(backend)?;
                let s_factor: Option<Vec<u8>> = row.try_get(5).map_err(backend)?;
                let bound_once = |old: &Option<Vec<u8>>, new: &Option<Vec<u8>>| {
                    old.is_none() || old == new
                };
                if s_service.as_slice() != challenge.service_sid().as_bytes()
                    || s_type != challenge.factor_type().as_str()
                    || s_created != secs(R, challenge.date_created())?
                    || !bound_once(&s_entity, &entity)
                    || !(s_identity.is_none() || s_identity == identity)
                    || !bound_once(&s_factor, &factor)
                {
                    return Err(invalid(
                        R,
                        "service, type, date_created and a bound entity or factor are immutable",
                    ));
                }
                Err(conflict(R, sid, Some(stored_version(R, expected)?)))
            }
        }

        impl Store for $store {
            async fn insert_service(&self, service: &Service) -> Result<(), StoreError> {
                const R: Resource = Resource::Service;
                if service.version() != 0 {
                    return Err(invalid(R, "a new record has version 0"));
                }
                let record =
                    self.codec.encode(R, &service.sid().to_string(), Secrets::None, service)?;
                sqlx::query(
                    "INSERT INTO verify_services (sid, date_created, version, record) \
                     VALUES ($1, $2, 0, $3)",
                )
                .bind(service.sid().as_bytes().as_slice())
                .bind(secs(R, service.date_created())?)
                .bind(record.as_str())
                .execute(&self.pool)
                .await
                .map_err(|e| OnWrite::new(R, R).map(e))?;
                Ok(())
            }

            async fn get_service(&self, sid: ServiceSid) -> Result<Option<Service>, StoreError> {
                self.fetch_record(
                    Resource::Service,
                    Secrets::None,
                    "SELECT record FROM verify_services WHERE sid = $1",
                    &[sid.as_bytes()],
                )
                .await
            }

            async fn list_services(&self, query: &ListQuery) -> Result<Listing<Service>, StoreError> {
                self.list_page(
                    "verify_services",
                    Resource::Service,
                    Secrets::None,
                    "SELECT date_created, sid FROM verify_services",
                    &[],
                    query,
                )
                .await
            }

            async fn update_service(&self, service: &Service) -> Result<(), StoreError> {
                const R: Resource = Resource::Service;
                let expected = expected_version(R, service.version())?;
                let sid = service.sid().to_string();
                let record = self.codec.encode(R, &sid, Secrets::None, service)?;
                let mut tx = self.begin().await?;
                let done = sqlx::query(
                    "UPDATE verify_services SET version = $1, record = $2 \
                     WHERE sid = $3 AND version = $4 AND date_created = $5",
                )
                .bind(version(R, service.version())?)
                .bind(record.as_str())
                .bind(service.sid().as_bytes().as_slice())
                .bind(expected)
                .bind(secs(R, service.date_created())?)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() != 1 {
                    let row = sqlx::query("SELECT date_created FROM verify_services WHERE sid = $1")
                        .bind(service.sid().as_bytes().as_slice())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend)?;
                    let Some(row) = row else {
                        return Err(not_found(R, sid));
                    };
                    let created: i64 = row.try_get(0).map_err(backend)?;
                    if created != secs(R, service.date_created())? {
                        return Err(invalid(R, "date_created is immutable"));
                    }
                    return Err(conflict(R, sid, Some(stored_version(R, expected)?)));
                }
                tx.commit().await.map_err(backend)
            }

            async fn delete_service(
                &self,
                sid: ServiceSid,
                expected_version: u64,
            ) -> Result<(), StoreError> {
                const R: Resource = Resource::Service;
                let mut tx = self.begin().await?;
                let done = sqlx::query("DELETE FROM verify_services WHERE sid = $1 AND version = $2")
                    .bind(sid.as_bytes().as_slice())
                    .bind(version(R, expected_version)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                if done.rows_affected() != 1 {
                    return Err(Self::diagnose_version(
                        &mut tx,
                        R,
                        "SELECT 1 FROM verify_services WHERE sid = $1",
                        &[sid.as_bytes()],
                        sid.to_string(),
                        expected_version,
                    )
                    .await);
                }
                tx.commit().await.map_err(backend)
            }

            async fn insert_entity(&self, entity: &Entity) -> Result<(), StoreError> {
                const R: Resource = Resource::Entity;
                let record = self.codec.encode(R, &entity.sid().to_string(), Secrets::None, entity)?;
                let on_write = OnWrite {
                    resource: R,
                    parent: Resource::Service,
                    parent_sid: Some(*entity.service_sid().as_bytes()),
                };
                sqlx::query(
                    "INSERT INTO verify_entities (sid, service_sid, identity, date_created, record) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(entity.sid().as_bytes().as_slice())
                .bind(entity.service_sid().as_bytes().as_slice())
                .bind(entity.identity().as_str())
                .bind(secs(R, entity.date_created())?)
                .bind(record.as_str())
                .execute(&self.pool)
                .await
                .map_err(|e| on_write.map(e))?;
                Ok(())
            }

            async fn get_entity(
                &self,
                service: ServiceSid,
                sid: EntitySid,
            ) -> Result<Option<Entity>, StoreError> {
                self.fetch_record(
                    Resource::Entity,
                    Secrets::None,
                    "SELECT record FROM verify_entities WHERE sid = $1 AND service_sid = $2",
                    &[sid.as_bytes(), service.as_bytes()],
                )
                .await
            }

            async fn get_entity_by_identity(
                &self,
                service: ServiceSid,
                identity: &Identity,
            ) -> Result<Option<Entity>, StoreError> {
                let row = sqlx::query(
                    "SELECT record FROM verify_entities WHERE service_sid = $1 AND identity = $2",
                )
                .bind(service.as_bytes().as_slice())
                .bind(identity.as_str())
                .fetch_optional(self.read_pool())
                .await
                .map_err(backend)?;
                row.map(|row| {
                    let text: String = row.try_get(0).map_err(backend)?;
                    self.codec.decode(Resource::Entity, Secrets::None, &text)
                })
                .transpose()
            }

            async fn list_entities(
                &self,
                service: ServiceSid,
                query: &ListQuery,
            ) -> Result<Listing<Entity>, StoreError> {
                self.list_page(
                    "verify_entities",
                    Resource::Entity,
                    Secrets::None,
                    "SELECT date_created, sid FROM verify_entities WHERE service_sid = $1",
                    &[service.as_bytes()],
                    query,
                )
                .await
            }

            async fn delete_entity(
                &self,
                service: ServiceSid,
                sid: EntitySid,
                factors: &[(FactorSid, u64)],
                events: &[Event],
            ) -> Result<(), StoreError> {
                let mut told: BTreeMap<[u8; 16], u64> = BTreeMap::new();
                for &(factor, version) in factors {
                    if told.insert(*factor.as_bytes(), version).is_some() {
                        return Err(invalid(Resource::Entity, "each factor is listed once"));
                    }
                }
                let mut tx = self.begin().await?;
                let found = sqlx::query(concat!(
                    "SELECT 1 FROM verify_entities WHERE sid = $1 AND service_sid = $2 ",
                    $for_update
                ))
                .bind(sid.as_bytes().as_slice())
                .bind(service.as_bytes().as_slice())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                if found.is_none() {
                    return Err(not_found(Resource::Entity, sid));
                }
                // Lock order challenge, then factor (as approvals take them), so a
                // concurrent approval cannot deadlock with this delete.
                sqlx::query(concat!(
                    "SELECT 1 FROM verify_challenges WHERE entity_sid = $1 ",
                    $for_update
                ))
                .bind(sid.as_bytes().as_slice())
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                let rows = sqlx::query(concat!(
                    "SELECT sid, version FROM verify_factors WHERE entity_sid = $1 ",
                    $for_update
                ))
                .bind(sid.as_bytes().as_slice())
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                let mut stored: BTreeMap<[u8; 16], u64> = BTreeMap::new();
                for row in &rows {
                    let factor: Vec<u8> = row.try_get(0).map_err(backend)?;
                    let version: i64 = row.try_get(1).map_err(backend)?;
                    stored.insert(
                        sid_bytes(Resource::Factor, &factor)?,
                        stored_version(Resource::Factor, version)?,
                    );
                }
                for &(factor, version) in factors {
                    if stored.get(factor.as_bytes()) != Some(&version) {
                        return Err(conflict(Resource::Factor, factor, Some(version)));
                    }
                }
                if let Some(extra) = stored.keys().find(|f| !told.contains_key(*f)) {
                    return Err(conflict(Resource::Factor, FactorSid::from_bytes(*extra), None));
                }
                sqlx::query("DELETE FROM verify_entities WHERE sid = $1")
                    .bind(sid.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Self::append(&mut tx, events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn insert_factor(&self, insert: FactorInsert<'_>) -> Result<(), StoreError> {
                const R: Resource = Resource::Factor;
                let factor = insert.factor;
                if factor.version() != 0 {
                    return Err(invalid(R, "a new record has version 0"));
                }
                let record = self.codec.encode(R, &factor.sid().to_string(), Secrets::Factor, factor)?;
                let mut tx = self.begin().await?;
                // Locks the entity row: concurrent creates for one entity queue here,
                // so the quota counts below cannot be raced.
                let entity = sqlx::query(concat!(
                    "SELECT identity FROM verify_entities WHERE sid = $1 AND service_sid = $2 ",
                    $for_nk
                ))
                .bind(factor.entity_sid().as_bytes().as_slice())
                .bind(factor.service_sid().as_bytes().as_slice())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
                let Some(entity) = entity else {
                    return Err(not_found(Resource::Entity, factor.entity_sid()));
                };
                let identity: String = entity.try_get(0).map_err(backend)?;
                if identity != factor.identity().as_str() {
                    return Err(invalid(R, "the factor's identity is its entity's"));
                }
                let taken = sqlx::query("SELECT 1 FROM verify_factors WHERE sid = $1")
                    .bind(factor.sid().as_bytes().as_slice())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                if taken.is_some() {
                    return Err(StoreError::Duplicate { resource: R, key: UniqueKey::Sid });
                }
                if let Some(credential) = credential_id(factor) {
                    let taken = sqlx::query(
                        "SELECT 1 FROM verify_factors WHERE service_sid = $1 AND credential_id = $2",
                    )
                    .bind(factor.service_sid().as_bytes().as_slice())
                    .bind(credential)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if taken.is_some() {
                        return Err(StoreError::Duplicate {
                            resource: R,
                            key: UniqueKey::CredentialId,
                        });
                    }
                }
                if let Some(quota) = insert.quota {
                    let of_type: i64 = sqlx::query(
                        "SELECT COUNT(*) FROM verify_factors WHERE entity_sid = $1 AND factor_type = $2",
                    )
                    .bind(factor.entity_sid().as_bytes().as_slice())
                    .bind(factor.factor_type().as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?
                    .try_get(0)
                    .map_err(backend)?;
                    let of_type = usize_count(of_type);
                    if of_type >= quota.max_of_type {
                        return Err(StoreError::QuotaExceeded {
                            kind: QuotaKind::FactorsOfType,
                            limit: quota.max_of_type,
                            count: of_type,
                        });
                    }
                    let created: i64 = sqlx::query(
                        "SELECT COUNT(*) FROM verify_factor_creations \
                         WHERE entity_sid = $1 AND date_created >= $2",
                    )
                    .bind(factor.entity_sid().as_bytes().as_slice())
                    .bind(secs(R, quota.window_start)?)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?
                    .try_get(0)
                    .map_err(backend)?;
                    let created = usize_count(created);
                    if created >= quota.max_created_in_window {
                        return Err(StoreError::QuotaExceeded {
                            kind: QuotaKind::CreationsInWindow,
                            limit: quota.max_created_in_window,
                            count: created,
                        });
                    }
                }
                if let Some(token) = insert.redeemed_token {
                    if token.identity() != factor.identity()
                        || token.factor_type() != factor.factor_type()
                    {
                        return Err(invalid(
                            Resource::AccessToken,
                            "the redeemed token is for this identity and factor type",
                        ));
                    }
                    self.cas_token(&mut tx, token).await?;
                }
                sqlx::query(
                    "INSERT INTO verify_factors (sid, service_sid, entity_sid, identity, factor_type, \
                     credential_id, date_created, version, record, record_format) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
                )
                .bind(factor.sid().as_bytes().as_slice())
                .bind(factor.service_sid().as_bytes().as_slice())
                .bind(factor.entity_sid().as_bytes().as_slice())
                .bind(factor.identity().as_str())
                .bind(factor.factor_type().as_str())
                .bind(credential_id(factor))
                .bind(secs(R, factor.date_created())?)
                .bind(record.as_str())
                .bind(RECORD_FORMAT)
                .execute(&mut *tx)
                .await
                .map_err(|e| OnWrite::new(R, Resource::Entity).map(e))?;
                sqlx::query(
                    "INSERT INTO verify_factor_creations (entity_sid, date_created, factor_sid) \
                     VALUES ($1, $2, $3)",
                )
                .bind(factor.entity_sid().as_bytes().as_slice())
                .bind(secs(R, factor.date_created())?)
                .bind(factor.sid().as_bytes().as_slice())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                Self::append(&mut tx, insert.events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn get_factor(
                &self,
                service: ServiceSid,
                sid: FactorSid,
            ) -> Result<Option<Factor>, StoreError> {
                self.fetch_record(
                    Resource::Factor,
                    Secrets::Factor,
                    "SELECT record FROM verify_factors WHERE sid = $1 AND service_sid = $2",
                    &[sid.as_bytes(), service.as_bytes()],
                )
                .await
            }

            async fn find_factor_by_credential_id(
                &self,
                service: ServiceSid,
                credential: &[u8],
            ) -> Result<Option<Factor>, StoreError> {
                self.fetch_record(
                    Resource::Factor,
                    Secrets::Factor,
                    "SELECT record FROM verify_factors WHERE service_sid = $1 AND credential_id = $2",
                    &[service.as_bytes(), credential],
                )
                .await
            }

            async fn entity_factors(
                &self,
                service: ServiceSid,
                entity: EntitySid,
            ) -> Result<Vec<Factor>, StoreError> {
                let rows = sqlx::query(
                    "SELECT record FROM verify_factors WHERE entity_sid = $1 AND service_sid = $2 \
                     ORDER BY date_created, sid",
                )
                .bind(entity.as_bytes().as_slice())
                .bind(service.as_bytes().as_slice())
                .fetch_all(self.read_pool())
                .await
                .map_err(backend)?;
                rows.iter()
                    .map(|row| {
                        let text: String = row.try_get(0).map_err(backend)?;
                        self.codec.decode(Resource::Factor, Secrets::Factor, &text)
                    })
                    .collect()
            }

            async fn list_factors(
                &self,
                service: ServiceSid,
                entity: EntitySid,
                query: &ListQuery,
            ) -> Result<Listing<Factor>, StoreError> {
                self.list_page(
                    "verify_factors",
                    Resource::Factor,
                    Secrets::Factor,
                    "SELECT date_created, sid FROM verify_factors WHERE entity_sid = $1 AND service_sid = $2",
                    &[entity.as_bytes(), service.as_bytes()],
                    query,
                )
                .await
            }

            async fn count_factors(
                &self,
                entity: EntitySid,
                factor_type: FactorType,
            ) -> Result<usize, StoreError> {
                let count: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM verify_factors WHERE entity_sid = $1 AND factor_type = $2",
                )
                .bind(entity.as_bytes().as_slice())
                .bind(factor_type.as_str())
                .fetch_one(self.read_pool())
                .await
                .map_err(backend)?
                .try_get(0)
                .map_err(backend)?;
                Ok(usize_count(count))
            }

            async fn count_factor_creations_since(
                &self,
                entity: EntitySid,
                since: UnixTime,
            ) -> Result<usize, StoreError> {
                let since = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
                let count: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM verify_factor_creations \
                     WHERE entity_sid = $1 AND date_created >= $2",
                )
                .bind(entity.as_bytes().as_slice())
                .bind(since)
                .fetch_one(self.read_pool())
                .await
                .map_err(backend)?
                .try_get(0)
                .map_err(backend)?;
                Ok(usize_count(count))
            }

            async fn update_factor(&self, factor: &Factor, events: &[Event]) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                self.cas_factor(&mut tx, factor).await?;
                Self::append(&mut tx, events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn delete_factor(
                &self,
                service: ServiceSid,
                sid: FactorSid,
                expected_version: u64,
                events: &[Event],
            ) -> Result<(), StoreError> {
                const R: Resource = Resource::Factor;
                let mut tx = self.begin().await?;
                // Its challenges go with it (foreign key, ON DELETE CASCADE). Lock them
                // first: approvals lock challenge, then factor; so does this delete.
                sqlx::query(concat!(
                    "SELECT 1 FROM verify_challenges WHERE factor_sid = $1 ",
                    $for_update
                ))
                .bind(sid.as_bytes().as_slice())
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
                let done = sqlx::query(
                    "DELETE FROM verify_factors WHERE sid = $1 AND service_sid = $2 AND version = $3",
                )
                .bind(sid.as_bytes().as_slice())
                .bind(service.as_bytes().as_slice())
                .bind(version(R, expected_version)?)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() != 1 {
                    return Err(Self::diagnose_version(
                        &mut tx,
                        R,
                        "SELECT 1 FROM verify_factors WHERE sid = $1 AND service_sid = $2",
                        &[sid.as_bytes(), service.as_bytes()],
                        sid.to_string(),
                        expected_version,
                    )
                    .await);
                }
                Self::append(&mut tx, events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn insert_challenge(
                &self,
                challenge: &Challenge,
                events: &[Event],
            ) -> Result<(), StoreError> {
                const R: Resource = Resource::Challenge;
                if challenge.version() != 0 {
                    return Err(invalid(R, "a new record has version 0"));
                }
                let record = self.codec.encode(R, &challenge.sid().to_string(), Secrets::None, challenge)?;
                let mut tx = self.begin().await?;
                if let Some(factor) = challenge.factor_sid() {
                    let row = sqlx::query(
                        "SELECT entity_sid FROM verify_factors WHERE sid = $1 AND service_sid = $2",
                    )
                    .bind(factor.as_bytes().as_slice())
                    .bind(challenge.service_sid().as_bytes().as_slice())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let Some(row) = row else {
                        return Err(not_found(Resource::Factor, factor));
                    };
                    let entity: Vec<u8> = row.try_get(0).map_err(backend)?;
                    if challenge.entity_sid().map(|e| *e.as_bytes()).as_ref().map(<[u8; 16]>::as_slice)
                        != Some(entity.as_slice())
                    {
                        return Err(invalid(R, "the challenge's entity is its factor's"));
                    }
                }
                let on_write = OnWrite {
                    resource: R,
                    parent: Resource::Service,
                    parent_sid: Some(*challenge.service_sid().as_bytes()),
                };
                sqlx::query(
                    "INSERT INTO verify_challenges (sid, service_sid, entity_sid, identity, factor_sid, \
                     factor_type, status, expiration_date, date_created, version, record, record_format) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11)",
                )
                .bind(challenge.sid().as_bytes().as_slice())
                .bind(challenge.service_sid().as_bytes().as_slice())
                .bind(opt_sid(challenge.entity_sid(), |s| *s.as_bytes()))
                .bind(challenge.identity().map(Identity::as_str))
                .bind(opt_sid(challenge.factor_sid(), |s| *s.as_bytes()))
                .bind(challenge.factor_type().as_str())
                .bind(challenge.state().status().as_str())
                .bind(secs(R, challenge.expires_at())?)
                .bind(secs(R, challenge.date_created())?)
                .bind(record.as_str())
                .bind(RECORD_FORMAT)
                .execute(&mut *tx)
                .await
                .map_err(|e| on_write.map(e))?;
                Self::append(&mut tx, events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn get_challenge(
                &self,
                service: ServiceSid,
                sid: ChallengeSid,
            ) -> Result<Option<Challenge>, StoreError> {
                self.fetch_record(
                    Resource::Challenge,
                    Secrets::None,
                    "SELECT record FROM verify_challenges WHERE sid = $1 AND service_sid = $2",
                    &[sid.as_bytes(), service.as_bytes()],
                )
                .await
            }

            async fn list_challenges(
                &self,
                service: ServiceSid,
                entity: EntitySid,
                filter: &ChallengeFilter,
                query: &ListQuery,
                now: UnixTime,
            ) -> Result<Listing<Challenge>, StoreError> {
                const R: Resource = Resource::Challenge;
                // The scan reads keys, status and expiry (index-only where the
                // backend can); the status a pending row has at `now` is computed
                // here, as `Challenge::status_at` does.
                let mut sql = String::from(
                    "SELECT date_created, sid, status, expiration_date FROM verify_challenges \
                     WHERE entity_sid = $1 AND service_sid = $2",
                );
                let factor_bytes = filter.factor_sid.map(|f| *f.as_bytes());
                if factor_bytes.is_some() {
                    sql.push_str(" AND factor_sid = $3");
                }
                // Pending ones were created within the longest lifetime: read only that
                // range of the index, not the entity's (or factor's) whole history.
                // The status is a literal so that the planner may take migration
                // 0007's partial indexes, which hold the stored-pending rows alone (a
                // pending row past its expiry is filtered below).
                let since = filter.created_since(now).map(|since| secs(R, since)).transpose()?;
                if since.is_some() {
                    sql.push_str(if factor_bytes.is_some() {
                        " AND status = 'pending' AND date_created >= $4"
                    } else {
                        " AND status = 'pending' AND date_created >= $3"
                    });
                }
                // In list order, as migration 0004's indexes hold the rows: the planner
                // then walks `verify_challenges_entity_list` (or `_factor_list`) for
                // this entity alone instead of every challenge of the service (the
                // keys are paged below either way, so the answer is unchanged).
                sql.push_str(" ORDER BY date_created, sid");
                let mut scan = sqlx::query(&sql)
                    .bind(entity.as_bytes().as_slice())
                    .bind(service.as_bytes().as_slice());
                if let Some(factor) = &factor_bytes {
                    scan = scan.bind(factor.as_slice());
                }
                if let Some(since) = since {
                    scan = scan.bind(since);
                }
                let rows = scan.fetch_all(self.read_pool()).await.map_err(backend)?;
                let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
                let mut keys = Vec::with_capacity(rows.len());
                for row in &rows {
                    let time: i64 = row.try_get(0).map_err(backend)?;
                    let sid: Vec<u8> = row.try_get(1).map_err(backend)?;
                    let status: String = row.try_get(2).map_err(backend)?;
                    let expires: i64 = row.try_get(3).map_err(backend)?;
                    let status_now = if status == "pending" && now_secs >= expires {
                        "expired"
                    } else {
                        status.as_str()
                    };
                    if filter.status.is_none_or(|wanted| wanted.as_str() == status_now) {
                        keys.push(Key::from_columns(R, time, &sid)?);
                    }
                }
                let page = page_keys(&keys, query)?;
                let items = self
                    .fetch_by_keys("verify_challenges", R, Secrets::None, &page.items)
                    .await?;
                Ok(Listing::new(items, page.next_page_token, page.previous_page_token))
            }

            async fn update_challenge(
                &self,
                challenge: &Challenge,
                events: &[Event],
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                self.cas_challenge(&mut tx, challenge).await?;
                Self::append(&mut tx, events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn update_challenge_and_factor(
                &self,
                challenge: &ChallengeTransition,
                factor: &FactorTransition,
            ) -> Result<(), StoreError> {
                let (challenge_events, factor_events) = (&challenge.events, &factor.events);
                let (challenge, factor) = (&challenge.challenge, &factor.factor);
                if challenge.factor_sid() != Some(factor.sid())
                    || challenge.entity_sid() != Some(factor.entity_sid())
                    || challenge.service_sid() != factor.service_sid()
                {
                    return Err(invalid(
                        Resource::Challenge,
                        "the challenge names the factor written with it",
                    ));
                }
                let mut tx = self.begin().await?;
                // Challenge first, then factor: every writer takes the two row locks
                // in this order.
                self.cas_challenge(&mut tx, challenge).await?;
                self.cas_factor(&mut tx, factor).await?;
                Self::append_two(&mut tx, challenge_events, factor_events).await?;
                tx.commit().await.map_err(backend)
            }

            async fn insert_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
                const R: Resource = Resource::AccessToken;
                if token.version() != 0 {
                    return Err(invalid(R, "a new record has version 0"));
                }
                let record = self.codec.encode(R, &token.sid().to_string(), Secrets::None, token)?;
                let on_write = OnWrite {
                    resource: R,
                    parent: Resource::Service,
                    parent_sid: Some(*token.service_sid().as_bytes()),
                };
                sqlx::query(
                    "INSERT INTO verify_access_tokens (sid, service_sid, identity, date_created, version, record) \
                     VALUES ($1, $2, $3, $4, 0, $5)",
                )
                .bind(token.sid().as_bytes().as_slice())
                .bind(token.service_sid().as_bytes().as_slice())
                .bind(token.identity().as_str())
                .bind(secs(R, token.date_created())?)
                .bind(record.as_str())
                .execute(&self.pool)
                .await
                .map_err(|e| on_write.map(e))?;
                Ok(())
            }

            async fn get_access_token(
                &self,
                service: ServiceSid,
                sid: AccessTokenSid,
            ) -> Result<Option<AccessToken>, StoreError> {
                self.fetch_record(
                    Resource::AccessToken,
                    Secrets::None,
                    "SELECT record FROM verify_access_tokens WHERE sid = $1 AND service_sid = $2",
                    &[sid.as_bytes(), service.as_bytes()],
                )
                .await
            }

            async fn update_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                self.cas_token(&mut tx, token).await?;
                tx.commit().await.map_err(backend)
            }

            async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
                const R: Resource = Resource::Webhook;
                if webhook.version() != 0 {
                    return Err(invalid(R, "a new record has version 0"));
                }
                let record = self.codec.encode(R, &webhook.sid().to_string(), Secrets::Webhook, webhook)?;
                let on_write = OnWrite {
                    resource: R,
                    parent: Resource::Service,
                    parent_sid: Some(*webhook.service_sid().as_bytes()),
                };
                sqlx::query(
                    "INSERT INTO verify_webhooks (sid, service_sid, date_created, version, record) \
                     VALUES ($1, $2, $3, 0, $4)",
                )
                .bind(webhook.sid().as_bytes().as_slice())
                .bind(webhook.service_sid().as_bytes().as_slice())
                .bind(secs(R, webhook.date_created())?)
                .bind(record.as_str())
                .execute(&self.pool)
                .await
                .map_err(|e| on_write.map(e))?;
                Ok(())
            }

            async fn get_webhook(
                &self,
                service: ServiceSid,
                sid: WebhookSid,
            ) -> Result<Option<Webhook>, StoreError> {
                self.fetch_record(
                    Resource::Webhook,
                    Secrets::Webhook,
                    "SELECT record FROM verify_webhooks WHERE sid = $1 AND service_sid = $2",
                    &[sid.as_bytes(), service.as_bytes()],
                )
                .await
            }

            async fn list_webhooks(
                &self,
                service: ServiceSid,
                query: &ListQuery,
            ) -> Result<Listing<Webhook>, StoreError> {
                self.list_page(
                    "verify_webhooks",
                    Resource::Webhook,
                    Secrets::Webhook,
                    "SELECT date_created, sid FROM verify_webhooks WHERE service_sid = $1",
                    &[service.as_bytes()],
                    query,
                )
                .await
            }

            async fn update_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
                const R: Resource = Resource::Webhook;
                let expected = expected_version(R, webhook.version())?;
                let sid = webhook.sid().to_string();
                let record = self.codec.encode(R, &sid, Secrets::Webhook, webhook)?;
                let mut tx = self.begin().await?;
                let done = sqlx::query(
                    "UPDATE verify_webhooks SET version = $1, record = $2 \
                     WHERE sid = $3 AND service_sid = $4 AND version = $5 AND date_created = $6",
                )
                .bind(version(R, webhook.version())?)
                .bind(record.as_str())
                .bind(webhook.sid().as_bytes().as_slice())
                .bind(webhook.service_sid().as_bytes().as_slice())
                .bind(expected)
                .bind(secs(R, webhook.date_created())?)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() != 1 {
                    let row = sqlx::query(
                        "SELECT date_created FROM verify_webhooks WHERE sid = $1 AND service_sid = $2",
                    )
                    .bind(webhook.sid().as_bytes().as_slice())
                    .bind(webhook.service_sid().as_bytes().as_slice())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let Some(row) = row else {
                        return Err(not_found(R, sid));
                    };
                    let created: i64 = row.try_get(0).map_err(backend)?;
                    if created != secs(R, webhook.date_created())? {
                        return Err(invalid(R, "date_created is immutable"));
                    }
                    return Err(conflict(R, sid, Some(stored_version(R, expected)?)));
                }
                tx.commit().await.map_err(backend)
            }

            async fn delete_webhook(
                &self,
                service: ServiceSid,
                sid: WebhookSid,
                expected_version: u64,
            ) -> Result<(), StoreError> {
                const R: Resource = Resource::Webhook;
                let mut tx = self.begin().await?;
                let done = sqlx::query(
                    "DELETE FROM verify_webhooks WHERE sid = $1 AND service_sid = $2 AND version = $3",
                )
                .bind(sid.as_bytes().as_slice())
                .bind(service.as_bytes().as_slice())
                .bind(version(R, expected_version)?)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() != 1 {
                    return Err(Self::diagnose_version(
                        &mut tx,
                        R,
                        "SELECT 1 FROM verify_webhooks WHERE sid = $1 AND service_sid = $2",
                        &[sid.as_bytes(), service.as_bytes()],
                        sid.to_string(),
                        expected_version,
                    )
                    .await);
                }
                tx.commit().await.map_err(backend)
            }

            async fn peek_events(
                &self,
                after: Option<u64>,
                limit: usize,
            ) -> Result<Vec<OutboxEvent>, StoreError> {
                self.number_outbox().await?;
                let after = after.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let rows = sqlx::query(
                    "SELECT sequence, record FROM verify_outbox WHERE sequence > $1 \
                     ORDER BY sequence LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(self.read_pool())
                .await
                .map_err(backend)?;
                outbox_events(&rows)
            }

            async fn ack_events(&self, through: u64) -> Result<usize, StoreError> {
                let through = i64::try_from(through).unwrap_or(i64::MAX);
                let done = sqlx::query("DELETE FROM verify_outbox WHERE sequence <= $1")
                    .bind(through)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
            }

            async fn drain_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
                self.number_outbox().await?;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let rows = sqlx::query(concat!(
                    "DELETE FROM verify_outbox WHERE sequence IN (SELECT sequence FROM verify_outbox \
                     WHERE sequence IS NOT NULL ORDER BY sequence LIMIT $1 ",
                    $skip,
                    ") RETURNING sequence, record"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
                let mut events = outbox_events(&rows)?;
                events.sort_by_key(|e| e.sequence);
                Ok(events)
            }

            async fn prune_expired(
                &self,
                cutoff: UnixTime,
                limit: usize,
            ) -> Result<usize, StoreError> {
                let cutoff = secs(Resource::Challenge, cutoff)?;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let mut tx = self.begin().await?;
                // Migration 0006's expiration index: the oldest first, `limit` of them.
                let removed = sqlx::query(
                    "DELETE FROM verify_challenges WHERE sid IN (SELECT sid FROM verify_challenges \
                     WHERE expiration_date <= $1 ORDER BY expiration_date, sid LIMIT $2)",
                )
                .bind(cutoff)
                .bind(limit)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                sqlx::query("DELETE FROM verify_factor_creations WHERE date_created < $1")
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                tx.commit().await.map_err(backend)?;
                Ok(usize::try_from(removed.rows_affected()).unwrap_or(usize::MAX))
            }
        }

        impl $store {
            /// Compare-and-set of an access token inside `tx`.
            async fn cas_token(&self, tx: &mut Tx, token: &AccessToken) -> Result<(), StoreError> {
                const R: Resource = Resource::AccessToken;
                let expected = expected_version(R, token.version())?;
                let sid = token.sid().to_string();
                let record = self.codec.encode(R, &sid, Secrets::None, token)?;
                let done = sqlx::query(
                    "UPDATE verify_access_tokens SET version = $1, record = $2 \
                     WHERE sid = $3 AND service_sid = $4 AND version = $5 AND identity = $6 \
                     AND date_created = $7",
                )
                .bind(version(R, token.version())?)
                .bind(record.as_str())
                .bind(token.sid().as_bytes().as_slice())
                .bind(token.service_sid().as_bytes().as_slice())
                .bind(expected)
                .bind(token.identity().as_str())
                .bind(secs(R, token.date_created())?)
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                let row = sqlx::query(
                    "SELECT identity, date_created FROM verify_access_tokens \
                     WHERE sid = $1 AND service_sid = $2",
                )
                .bind(token.sid().as_bytes().as_slice())
                .bind(token.service_sid().as_bytes().as_slice())
                .fetch_optional(&mut **tx)
                .await
                .map_err(backend)?;
                let Some(row) = row else {
                    return Err(not_found(R, sid));
                };
                let identity: String = row.try_get(0).map_err(backend)?;
                let created: i64 = row.try_get(1).map_err(backend)?;
                if identity != token.identity().as_str() || created != secs(R, token.date_created())? {
                    return Err(invalid(R, "service, identity and date_created are immutable"));
                }
                Err(conflict(R, sid, Some(stored_version(R, expected)?)))
            }
        }

        // The upgrade of rows an earlier release wrote (schema 0002's `record_format`).
        impl $store {
            /// Rewrites every factor and challenge row still in release 0.1.0's shape
            /// (`record_format` 1) in today's (2): each record is loaded through the
            /// model (which validates it and reads the old shape) and written back, in
            /// batches of [`UPGRADE_BATCH`] rows, each batch one transaction. A crash
            /// loses at most the batch in flight (rolled back, still format 1); the
            /// next call carries on from the rows still at format 1.
            ///
            /// Factors and challenges are upgraded in separate transactions, so this
            /// never holds a challenge lock and a factor lock together and cannot
            /// deadlock with the challenge-then-factor order of the answering paths.
            pub(crate) async fn upgrade_records(&self) -> Result<(), StoreError> {
                self.upgrade_table::<Factor>(
                    "verify_factors",
                    Resource::Factor,
                    Secrets::Factor,
                    |factor| (*factor.sid().as_bytes(), factor.sid().to_string()),
                )
                .await?;
                self.upgrade_table::<Challenge>(
                    "verify_challenges",
                    Resource::Challenge,
                    Secrets::None,
                    |challenge| (*challenge.sid().as_bytes(), challenge.sid().to_string()),
                )
                .await
            }

            /// [`upgrade_records`](Self::upgrade_records) for one table: passes over
            /// the format-1 rows in sid order until none is left (a row a 0.1.0
            /// process inserts or changes during a pass is caught by the next), at
            /// most [`MAX_UPGRADE_PASSES`] times.
            async fn upgrade_table<T: serde::Serialize + serde::de::DeserializeOwned>(
                &self,
                table: &str,
                resource: Resource,
                secrets: Secrets,
                sid_of: fn(&T) -> ([u8; 16], String),
            ) -> Result<(), StoreError> {
                // The format is spelled into the text, not bound, so that the
                // planner can use the partial index of the rows still to upgrade.
                let select = format!(
                    "SELECT sid, version, record FROM {table} \
                     WHERE record_format = {LEGACY_RECORD_FORMAT} AND sid > $1 \
                     ORDER BY sid LIMIT $2 {}",
                    $for_update
                );
                let update = format!(
                    "UPDATE {table} SET record = $1, record_format = {RECORD_FORMAT} \
                     WHERE sid = $2 AND version = $3 AND record_format = {LEGACY_RECORD_FORMAT}"
                );
                let left = format!(
                    "SELECT 1 FROM {table} WHERE record_format = {LEGACY_RECORD_FORMAT} LIMIT 1"
                );
                for _ in 0..MAX_UPGRADE_PASSES {
                    if sqlx::query(&left)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?
                        .is_none()
                    {
                        return Ok(());
                    }
                    self.rewrite_rows(&select, &update, resource, secrets, sid_of)
                        .await?;
                }
                Err(StoreError::Backend(Box::new(std::io::Error::other(format!(
                    "rows of {table} were still in release 0.1.0's shape after \
                     {MAX_UPGRADE_PASSES} upgrade passes (is a 0.1.0 process still writing?)"
                )))))
            }
        }

        // Re-sealing every secret under the current key (a key rotation).
        impl $store {
            /// Rewrites every factor and webhook row through the store's sealer, so
            /// that each secret is sealed under its current key (after a rotation
            /// with [`RotatingSealer`](crate::RotatingSealer), which still opens the
            /// old ones), or sealed at all (a database written before a sealer was
            /// set, opened `with_sealer_accepting_plaintext`). Rows go in sid order,
            /// in batches of 256 rows, each batch one transaction; a row a
            /// request changes meanwhile keeps its newer version (written, and so
            /// sealed, under the current key already). Returns the rows rewritten.
            ///
            /// Run it after [`migrate`](Self::migrate). Without a sealer it rewrites
            /// nothing and returns 0.
            ///
            /// # Errors
            /// [`StoreError::Corrupt`] for a row that does not open (a key that is not
            /// given); [`StoreError::Backend`] / [`StoreError::Unavailable`].
            pub async fn reseal_secrets(&self) -> Result<u64, StoreError> {
                if !self.codec.has_sealer() {
                    return Ok(0);
                }
                let factors = self
                    .reseal_table::<Factor>(
                        "verify_factors",
                        Resource::Factor,
                        Secrets::Factor,
                        true,
                        |factor| (*factor.sid().as_bytes(), factor.sid().to_string()),
                    )
                    .await?;
                let webhooks = self
                    .reseal_table::<Webhook>(
                        "verify_webhooks",
                        Resource::Webhook,
                        Secrets::Webhook,
                        false,
                        |webhook| (*webhook.sid().as_bytes(), webhook.sid().to_string()),
                    )
                    .await?;
                Ok(factors + webhooks)
            }

            async fn reseal_table<T: serde::Serialize + serde::de::DeserializeOwned>(
                &self,
                table: &str,
                resource: Resource,
                secrets: Secrets,
                has_record_format: bool,
                sid_of: fn(&T) -> ([u8; 16], String),
            ) -> Result<u64, StoreError> {
                let select = format!(
                    "SELECT sid, version, record FROM {table} WHERE sid > $1 \
                     ORDER BY sid LIMIT $2 {}",
                    $for_update
                );
                // The record is written in today's shape: say so where the table
                // records the shape.
                let update = if has_record_format {
                    format!(
                        "UPDATE {table} SET record = $1, record_format = {RECORD_FORMAT} \
                         WHERE sid = $2 AND version = $3"
                    )
                } else {
                    format!("UPDATE {table} SET record = $1 WHERE sid = $2 AND version = $3")
                };
                self.rewrite_rows(&select, &update, resource, secrets, sid_of)
                    .await
            }

            /// One pass over the rows `select` finds (in sid order after `$1`, at most
            /// `$2` = `UPGRADE_BATCH` a batch, each batch one transaction): each
            /// record is loaded through the model (validated, its secrets opened) and
            /// written back by `update` (`$1` the record, `$2` the sid, `$3` the version
            /// read), encoded and sealed as the store writes today. Returns the rows
            /// rewritten.
            ///
            /// The version is left as it is: the rewrite changes how the record is
            /// written, not the resource, and the record carries the same version as
            /// the column. A request that read the row before and writes `version + 1`
            /// still wins its compare-and-set, as it would have without the rewrite;
            /// had it written first, the UPDATE matches nothing and is moot.
            async fn rewrite_rows<T: serde::Serialize + serde::de::DeserializeOwned>(
                &self,
                select: &str,
                update: &str,
                resource: Resource,
                secrets: Secrets,
                sid_of: fn(&T) -> ([u8; 16], String),
            ) -> Result<u64, StoreError> {
                let mut rewritten = 0_u64;
                // Sids are 16 bytes: every one sorts after the empty string.
                let mut after: Vec<u8> = Vec::new();
                loop {
                    let mut tx = self.begin().await?;
                    let rows = sqlx::query(select)
                        .bind(after.as_slice())
                        .bind(UPGRADE_BATCH)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(backend)?;
                    for row in &rows {
                        let sid: Vec<u8> = row.try_get(0).map_err(backend)?;
                        let stored: i64 = row.try_get(1).map_err(backend)?;
                        let text: String = row.try_get(2).map_err(backend)?;
                        let sid = sid_bytes(resource, &sid)?;
                        let at_row = |rule: String| StoreError::Corrupt {
                            resource,
                            rule: format!("{rule} (row sid {})", hex_bytes(&sid)),
                        };
                        let record: T = self
                            .codec
                            .decode(resource, secrets, &text)
                            .map_err(|error| match error {
                                StoreError::Corrupt { rule, .. } => at_row(rule),
                                other => other,
                            })?;
                        let (record_sid, display) = sid_of(&record);
                        if record_sid != sid {
                            return Err(at_row("the record names another sid".to_owned()));
                        }
                        let written = self.codec.encode(resource, &display, secrets, &record)?;
                        let done = sqlx::query(update)
                            .bind(written.as_str())
                            .bind(sid.as_slice())
                            .bind(stored)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                        rewritten += done.rows_affected();
                        after = sid.to_vec();
                    }
                    tx.commit().await.map_err(backend)?;
                    if usize_count(UPGRADE_BATCH) > rows.len() {
                        return Ok(rewritten);
                    }
                }
            }
        }

        fn hex_bytes(bytes: &[u8]) -> String {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }

        fn outbox_events(rows: &[<$db as sqlx::Database>::Row]) -> Result<Vec<OutboxEvent>, StoreError> {
            rows.iter()
                .map(|row| {
                    let sequence: i64 = row.try_get(0).map_err(backend)?;
                    let text: String = row.try_get(1).map_err(backend)?;
                    let sequence = u64::try_from(sequence).map_err(|_| StoreError::Corrupt {
                        resource: Resource::Service,
                        rule: "negative outbox sequence".to_owned(),
                    })?;
                    let event: Event = serde_json::from_str(&text).map_err(|error| StoreError::Corrupt {
                        resource: Resource::Service,
                        rule: format!("outbox event does not load: {error}"),
                    })?;
                    Ok(OutboxEvent::new(sequence, event))
                })
                .collect()
        }
    };
}

pub(crate) use store_impl;
