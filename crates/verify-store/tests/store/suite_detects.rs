//! The conformance suite must fail on broken stores: each flaw below is a plausible
//! store bug, and the checks that guard against it must report it.

use verify_model::{
    AccessToken, AccessTokenSid, Challenge, ChallengeFilter, ChallengeSid, ChallengeTransition,
    Entity, EntitySid, Event, Factor, FactorSid, FactorTransition, FactorType, Identity, Service,
    ServiceSid, UnixTime, Webhook, WebhookSid,
};
use verify_store::conformance::{self, Failure};
use verify_store::{FactorInsert, ListQuery, Listing, MemoryStore, OutboxEvent, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    /// Updates report success on a version conflict (last writer "wins" silently).
    SwallowConflicts,
    /// `drain_events` returns events without removing them.
    DrainPeeks,
    /// `insert_factor` ignores the quota.
    IgnoreQuota,
    /// Listing ignores the page token (always the first page).
    IgnorePageToken,
    /// `delete_entity` ignores the factor list it was given.
    DeleteEntityBlindly,
    /// `prune_expired` ignores its limit.
    PruneUnbounded,
}

#[derive(Debug, Clone)]
struct Flawed {
    inner: MemoryStore,
    flaw: Flaw,
}

impl Flawed {
    fn new(flaw: Flaw) -> Self {
        Self {
            inner: MemoryStore::new(),
            flaw,
        }
    }

    fn swallow(&self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        match result {
            Err(StoreError::Conflict { .. }) if self.flaw == Flaw::SwallowConflicts => Ok(()),
            other => other,
        }
    }

    fn query(&self, query: &ListQuery) -> ListQuery {
        if self.flaw == Flaw::IgnorePageToken {
            ListQuery::new(query.order, query.page_size)
        } else {
            query.clone()
        }
    }
}

impl Store for Flawed {
    async fn insert_service(&self, service: &Service) -> Result<(), StoreError> {
        self.inner.insert_service(service).await
    }
    async fn get_service(&self, sid: ServiceSid) -> Result<Option<Service>, StoreError> {
        self.inner.get_service(sid).await
    }
    async fn list_services(&self, query: &ListQuery) -> Result<Listing<Service>, StoreError> {
        self.inner.list_services(&self.query(query)).await
    }
    async fn update_service(&self, service: &Service) -> Result<(), StoreError> {
        self.swallow(self.inner.update_service(service).await)
    }
    async fn delete_service(&self, sid: ServiceSid, version: u64) -> Result<(), StoreError> {
        self.inner.delete_service(sid, version).await
    }
    async fn insert_entity(&self, entity: &Entity) -> Result<(), StoreError> {
        self.inner.insert_entity(entity).await
    }
    async fn get_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
    ) -> Result<Option<Entity>, StoreError> {
        self.inner.get_entity(service, sid).await
    }
    async fn get_entity_by_identity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> Result<Option<Entity>, StoreError> {
        self.inner.get_entity_by_identity(service, identity).await
    }
    async fn list_entities(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Entity>, StoreError> {
        self.inner.list_entities(service, &self.query(query)).await
    }
    async fn delete_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
        factors: &[(FactorSid, u64)],
        events: &[Event],
    ) -> Result<(), StoreError> {
        if self.flaw == Flaw::DeleteEntityBlindly {
            let actual: Vec<(FactorSid, u64)> = self
                .inner
                .entity_factors(service, sid)
                .await?
                .iter()
                .map(|f| (f.sid(), f.version()))
                .collect();
            return self
                .inner
                .delete_entity(service, sid, &actual, events)
                .await;
        }
        self.inner
            .delete_entity(service, sid, factors, events)
            .await
    }
    async fn insert_factor(&self, insert: FactorInsert<'_>) -> Result<(), StoreError> {
        if self.flaw == Flaw::IgnoreQuota {
            let mut plain = FactorInsert::new(insert.factor, insert.events);
            if let Some(token) = insert.redeemed_token {
                plain = plain.redeeming(token);
            }
            return self.inner.insert_factor(plain).await;
        }
        self.inner.insert_factor(insert).await
    }
    async fn get_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
    ) -> Result<Option<Factor>, StoreError> {
        self.inner.get_factor(service, sid).await
    }
    async fn find_factor_by_credential_id(
        &self,
        service: ServiceSid,
        credential_id: &[u8],
    ) -> Result<Option<Factor>, StoreError> {
        self.inner
            .find_factor_by_credential_id(service, credential_id)
            .await
    }
    async fn entity_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
    ) -> Result<Vec<Factor>, StoreError> {
        self.inner.entity_factors(service, entity).await
    }
    async fn list_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        query: &ListQuery,
    ) -> Result<Listing<Factor>, StoreError> {
        self.inner
            .list_factors(service, entity, &self.query(query))
            .await
    }
    async fn count_factors(
        &self,
        entity: EntitySid,
        factor_type: FactorType,
    ) -> Result<usize, StoreError> {
        self.inner.count_factors(entity, factor_type).await
    }
    async fn count_factor_creations_since(
        &self,
        entity: EntitySid,
        since: UnixTime,
    ) -> Result<usize, StoreError> {
        self.inner.count_factor_creations_since(entity, since).await
    }
    async fn update_factor(&self, factor: &Factor, events: &[Event]) -> Result<(), StoreError> {
        self.swallow(self.inner.update_factor(factor, events).await)
    }
    async fn delete_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
        version: u64,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.inner
            .delete_factor(service, sid, version, events)
            .await
    }
    async fn insert_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.inner.insert_challenge(challenge, events).await
    }
    async fn get_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
    ) -> Result<Option<Challenge>, StoreError> {
        self.inner.get_challenge(service, sid).await
    }
    async fn list_challenges(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        filter: &ChallengeFilter,
        query: &ListQuery,
        now: UnixTime,
    ) -> Result<Listing<Challenge>, StoreError> {
        self.inner
            .list_challenges(service, entity, filter, &self.query(query), now)
            .await
    }
    async fn update_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.swallow(self.inner.update_challenge(challenge, events).await)
    }
    async fn update_challenge_and_factor(
        &self,
        challenge: &ChallengeTransition,
        factor: &FactorTransition,
    ) -> Result<(), StoreError> {
        self.swallow(
            self.inner
                .update_challenge_and_factor(challenge, factor)
                .await,
        )
    }
    async fn insert_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        self.inner.insert_access_token(token).await
    }
    async fn get_access_token(
        &self,
        service: ServiceSid,
        sid: AccessTokenSid,
    ) -> Result<Option<AccessToken>, StoreError> {
        self.inner.get_access_token(service, sid).await
    }
    async fn update_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        self.swallow(self.inner.update_access_token(token).await)
    }
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        self.inner.insert_webhook(webhook).await
    }
    async fn get_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
    ) -> Result<Option<Webhook>, StoreError> {
        self.inner.get_webhook(service, sid).await
    }
    async fn list_webhooks(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Webhook>, StoreError> {
        self.inner.list_webhooks(service, &self.query(query)).await
    }
    async fn update_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        self.swallow(self.inner.update_webhook(webhook).await)
    }
    async fn delete_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
        version: u64,
    ) -> Result<(), StoreError> {
        self.inner.delete_webhook(service, sid, version).await
    }
    async fn peek_events(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        self.inner.peek_events(after, limit).await
    }
    async fn ack_events(&self, through: u64) -> Result<usize, StoreError> {
        self.inner.ack_events(through).await
    }
    async fn drain_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        if self.flaw == Flaw::DrainPeeks {
            return self.inner.peek_events(None, limit).await;
        }
        self.inner.drain_events(limit).await
    }
    async fn prune_expired(&self, cutoff: UnixTime, limit: usize) -> Result<usize, StoreError> {
        let limit = if self.flaw == Flaw::PruneUnbounded {
            usize::MAX
        } else {
            limit
        };
        self.inner.prune_expired(cutoff, limit).await
    }
}

fn expect_failure(check: &str, result: Result<(), Failure>) {
    assert!(
        matches!(&result, Err(failure) if failure.check == check),
        "check {check} must fail on a flawed store, got {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swallowed_conflicts_are_caught() {
    let flawed = || Flawed::new(Flaw::SwallowConflicts);
    expect_failure("service_crud", conformance::service_crud(flawed()).await);
    expect_failure("factor_crud", conformance::factor_crud(flawed()).await);
    expect_failure(
        "challenge_crud",
        conformance::challenge_crud(flawed()).await,
    );
    expect_failure("paired_write", conformance::paired_write(flawed()).await);
    expect_failure(
        "race_challenge_approval",
        conformance::race_challenge_approval(flawed()).await,
    );
    expect_failure(
        "race_totp_step",
        conformance::race_totp_step(flawed()).await,
    );
    expect_failure(
        "race_sign_count",
        conformance::race_sign_count(flawed()).await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn non_removing_drain_is_caught() {
    expect_failure(
        "outbox",
        conformance::outbox(Flawed::new(Flaw::DrainPeeks)).await,
    );
    expect_failure(
        "race_outbox_drain",
        conformance::race_outbox_drain(Flawed::new(Flaw::DrainPeeks)).await,
    );
}

#[tokio::test]
async fn an_unbounded_prune_is_caught() {
    expect_failure(
        "prune_expired",
        conformance::prune_expired(Flawed::new(Flaw::PruneUnbounded)).await,
    );
}

#[tokio::test]
async fn ignored_quota_is_caught() {
    expect_failure(
        "factor_quota",
        conformance::factor_quota(Flawed::new(Flaw::IgnoreQuota)).await,
    );
}

#[tokio::test]
async fn ignored_page_token_is_caught() {
    let flawed = || Flawed::new(Flaw::IgnorePageToken);
    expect_failure(
        "list_challenges",
        conformance::list_challenges(flawed()).await,
    );
    expect_failure("list_factors", conformance::list_factors(flawed()).await);
    expect_failure("service_crud", conformance::service_crud(flawed()).await);
    expect_failure("webhook_crud", conformance::webhook_crud(flawed()).await);
    expect_failure("list_entities", conformance::list_entities(flawed()).await);
}

#[tokio::test]
async fn blind_entity_delete_is_caught() {
    expect_failure(
        "entity_cascade_delete",
        conformance::entity_cascade_delete(Flawed::new(Flaw::DeleteEntityBlindly)).await,
    );
}

#[tokio::test]
async fn the_checks_pass_on_memory_store_one_by_one() {
    // The same functions the macro calls, to show `Flawed` fails only by its flaw.
    let store = MemoryStore::new;
    assert_eq!(conformance::factor_quota(store()).await, Ok(()));
    assert_eq!(conformance::outbox(store()).await, Ok(()));
    assert_eq!(conformance::CHECKS.len(), 24);
}
