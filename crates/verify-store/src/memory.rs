//! [`MemoryStore`]: the embedded default store, one mutex over ordered maps.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use verify_model::list::Listable;
use verify_model::{
    AccessToken, AccessTokenSid, Challenge, ChallengeFilter, ChallengeSid, ChallengeTransition,
    Entity, EntitySid, Event, Factor, FactorKind, FactorSid, FactorTransition, FactorType,
    Identity, Service, ServiceSid, UnixTime, Webhook, WebhookSid, paginate,
};

use crate::error::{QuotaKind, Resource, StoreError, UniqueKey};
use crate::store::{FactorInsert, ListQuery, Listing, OutboxEvent, Store};

/// An in-memory [`Store`]: every method runs under one mutex, checks all of its
/// preconditions first and only then changes the maps and appends its events, so
/// each write is atomic and linearizable. No lock is ever held across an `.await`
/// (the methods do not await).
///
/// Cloning a `MemoryStore` clones a handle: the clones share one state, like several
/// server processes sharing one database (this is how the conformance suite races
/// writers against each other). Listing and counting scan the maps: fine for the
/// small app it is meant for, not for millions of records. Nothing is persisted.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: records hold secrets (TOTP seeds, webhook secrets).
        let state = self.lock();
        f.debug_struct("MemoryStore")
            .field("services", &state.services.len())
            .field("entities", &state.entities.len())
            .field("factors", &state.factors.len())
            .field("challenges", &state.challenges.len())
            .field("access_tokens", &state.access_tokens.len())
            .field("webhooks", &state.webhooks.len())
            .field("outbox", &state.outbox.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    services: BTreeMap<ServiceSid, Service>,
    entities: BTreeMap<EntitySid, Entity>,
    factors: BTreeMap<FactorSid, Factor>,
    /// Creation times of every factor ever inserted per entity (deleted ones too).
    creations: BTreeMap<EntitySid, Vec<UnixTime>>,
    challenges: BTreeMap<ChallengeSid, Challenge>,
    access_tokens: BTreeMap<AccessTokenSid, AccessToken>,
    webhooks: BTreeMap<WebhookSid, Webhook>,
    outbox: BTreeMap<u64, Event>,
    /// The sequence number of the next event (starts at 1, never reused).
    next_sequence: u64,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets what can no longer matter at `cutoff`, so a long-running process does
    /// not grow without bound: challenges whose expiration date is at or before
    /// `cutoff` (answered, or expired whether or not their expiry was written: a host
    /// that wants every `challenge.expired` event polls expiry first), and factor
    /// creation times before `cutoff` (pass a cutoff at least 24 hours back, or the
    /// daily creation quota would forget creations it still counts). Returns how many
    /// challenges were removed.
    pub fn prune(&self, cutoff: UnixTime) -> usize {
        let mut state = self.lock();
        let before = state.challenges.len();
        state.challenges.retain(|_, c| c.expiration_date() > cutoff);
        for times in state.creations.values_mut() {
            times.retain(|&t| t >= cutoff);
        }
        state.creations.retain(|_, times| !times.is_empty());
        before.saturating_sub(state.challenges.len())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every method validates before it mutates and cannot panic in between, so a
        // poisoned lock (a panic elsewhere while holding it) still guards a
        // consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A passkey factor's credential id, if it has one.
fn credential_id(factor: &Factor) -> Option<&[u8]> {
    match factor.kind() {
        FactorKind::Passkeys(passkey) => passkey.credential().map(|c| c.id.as_slice()),
        _ => None,
    }
}

fn conflict(resource: Resource, sid: impl fmt::Display, expected: Option<u64>) -> StoreError {
    StoreError::Conflict {
        resource,
        sid: sid.to_string(),
        expected_version: expected,
    }
}

fn not_found(resource: Resource, sid: impl fmt::Display) -> StoreError {
    StoreError::NotFound {
        resource,
        sid: sid.to_string(),
    }
}

const fn invalid(resource: Resource, rule: &'static str) -> StoreError {
    StoreError::InvalidWrite { resource, rule }
}

/// The version a compare-and-set write of `new_version` expects to replace.
fn expected_version(resource: Resource, new_version: u64) -> Result<u64, StoreError> {
    new_version.checked_sub(1).ok_or(invalid(
        resource,
        "an updated record's version is the stored version plus one",
    ))
}

/// Checks the stored version against the one a write expects.
fn check_version(
    resource: Resource,
    sid: impl fmt::Display,
    stored: u64,
    expected: u64,
) -> Result<(), StoreError> {
    if stored == expected {
        Ok(())
    } else {
        Err(conflict(resource, sid, Some(expected)))
    }
}

/// A borrowed item with its list key, so any record pages through
/// [`verify_model::paginate`].
struct Keyed<'a, T> {
    key: (UnixTime, [u8; 16]),
    item: &'a T,
}

impl<T> Listable for Keyed<'_, T> {
    fn list_key(&self) -> (UnixTime, [u8; 16]) {
        self.key
    }
}

fn page<'a, T: Clone + 'a>(
    items: impl Iterator<Item = (UnixTime, [u8; 16], &'a T)>,
    query: &ListQuery,
) -> Result<Listing<T>, StoreError> {
    let keyed: Vec<Keyed<'a, T>> = items
        .map(|(time, sid, item)| Keyed {
            key: (time, sid),
            item,
        })
        .collect();
    let page = paginate(
        &keyed,
        |_| true,
        query.order,
        query.page_size,
        query.page_token.as_ref(),
    )
    .map_err(|_| StoreError::InvalidPageToken)?;
    Ok(Listing::new(
        page.items.iter().map(|k| k.item.clone()).collect(),
        page.next_page_token,
        page.previous_page_token,
    ))
}

/// An optional binding may go from unset to set, never change once set.
fn bound_once<T: PartialEq>(old: Option<T>, new: Option<T>) -> bool {
    old.is_none() || old == new
}

impl State {
    fn require_service(&self, sid: ServiceSid) -> Result<&Service, StoreError> {
        self.services
            .get(&sid)
            .ok_or_else(|| not_found(Resource::Service, sid))
    }

    fn append(&mut self, events: &[Event]) {
        for event in events {
            let sequence = self.next_sequence.max(1);
            self.outbox.insert(sequence, event.clone());
            self.next_sequence = sequence.saturating_add(1);
        }
    }

    /// Whether a factor of `service` other than `except` holds `credential`.
    fn credential_taken(&self, service: ServiceSid, credential: &[u8], except: FactorSid) -> bool {
        self.factors.values().any(|f| {
            f.service_sid() == service && f.sid() != except && credential_id(f) == Some(credential)
        })
    }

    fn factor_in(&self, service: ServiceSid, sid: FactorSid) -> Option<&Factor> {
        self.factors
            .get(&sid)
            .filter(|f| f.service_sid() == service)
    }

    /// Checks a factor update against the stored row without applying it.
    fn check_factor_update(&self, new: &Factor) -> Result<(), StoreError> {
        let expected = expected_version(Resource::Factor, new.version())?;
        let stored = self
            .factors
            .get(&new.sid())
            .ok_or_else(|| not_found(Resource::Factor, new.sid()))?;
        if stored.service_sid() != new.service_sid()
            || stored.entity_sid() != new.entity_sid()
            || stored.identity() != new.identity()
            || stored.factor_type() != new.factor_type()
            || stored.date_created() != new.date_created()
        {
            return Err(invalid(
                Resource::Factor,
                "service, entity, identity, type and date_created are immutable",
            ));
        }
        check_version(Resource::Factor, new.sid(), stored.version(), expected)?;
        if let Some(credential) = credential_id(new)
            && self.credential_taken(new.service_sid(), credential, new.sid())
        {
            return Err(StoreError::Duplicate {
                resource: Resource::Factor,
                key: UniqueKey::CredentialId,
            });
        }
        Ok(())
    }

    /// Checks a challenge update against the stored row without applying it.
    fn check_challenge_update(&self, new: &Challenge) -> Result<(), StoreError> {
        let expected = expected_version(Resource::Challenge, new.version())?;
        let stored = self
            .challenges
            .get(&new.sid())
            .ok_or_else(|| not_found(Resource::Challenge, new.sid()))?;
        // An open (usernameless) passkey challenge learns its entity and factor when
        // approved; every other binding is immutable.
        if stored.service_sid() != new.service_sid()
            || stored.factor_type() != new.factor_type()
            || stored.date_created() != new.date_created()
            || !bound_once(stored.entity_sid(), new.entity_sid())
            || !bound_once(stored.factor_sid(), new.factor_sid())
            || !bound_once(stored.identity(), new.identity())
        {
            return Err(invalid(
                Resource::Challenge,
                "service, type, date_created and a bound entity or factor are immutable",
            ));
        }
        check_version(Resource::Challenge, new.sid(), stored.version(), expected)?;
        if let Some(factor) = new.factor_sid()
            && stored.factor_sid().is_none()
        {
            let bound = self
                .factor_in(new.service_sid(), factor)
                .ok_or_else(|| not_found(Resource::Factor, factor))?;
            if Some(bound.entity_sid()) != new.entity_sid() {
                return Err(invalid(
                    Resource::Challenge,
                    "a challenge binds its factor's entity",
                ));
            }
        }
        Ok(())
    }

    fn check_token_update(&self, new: &AccessToken) -> Result<(), StoreError> {
        let expected = expected_version(Resource::AccessToken, new.version())?;
        let stored = self
            .access_tokens
            .get(&new.sid())
            .filter(|t| t.service_sid() == new.service_sid())
            .ok_or_else(|| not_found(Resource::AccessToken, new.sid()))?;
        if stored.identity() != new.identity() || stored.date_created() != new.date_created() {
            return Err(invalid(
                Resource::AccessToken,
                "service, identity and date_created are immutable",
            ));
        }
        check_version(Resource::AccessToken, new.sid(), stored.version(), expected)
    }

    /// Removes a factor and its challenges (no checks).
    fn remove_factor(&mut self, sid: FactorSid) {
        self.factors.remove(&sid);
        self.challenges.retain(|_, c| c.factor_sid() != Some(sid));
    }
}

impl Store for MemoryStore {
    async fn insert_service(&self, service: &Service) -> Result<(), StoreError> {
        if service.version() != 0 {
            return Err(invalid(Resource::Service, "a new record has version 0"));
        }
        let mut state = self.lock();
        if state.services.contains_key(&service.sid()) {
            return Err(StoreError::Duplicate {
                resource: Resource::Service,
                key: UniqueKey::Sid,
            });
        }
        state.services.insert(service.sid(), service.clone());
        Ok(())
    }

    async fn get_service(&self, sid: ServiceSid) -> Result<Option<Service>, StoreError> {
        Ok(self.lock().services.get(&sid).cloned())
    }

    async fn list_services(&self, query: &ListQuery) -> Result<Listing<Service>, StoreError> {
        let state = self.lock();
        page(
            state
                .services
                .values()
                .map(|s| (s.date_created(), *s.sid().as_bytes(), s)),
            query,
        )
    }

    async fn update_service(&self, service: &Service) -> Result<(), StoreError> {
        let expected = expected_version(Resource::Service, service.version())?;
        let mut state = self.lock();
        let stored = state.require_service(service.sid())?;
        if stored.date_created() != service.date_created() {
            return Err(invalid(Resource::Service, "date_created is immutable"));
        }
        check_version(Resource::Service, service.sid(), stored.version(), expected)?;
        state.services.insert(service.sid(), service.clone());
        Ok(())
    }

    async fn delete_service(
        &self,
        sid: ServiceSid,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let stored = state.require_service(sid)?;
        check_version(Resource::Service, sid, stored.version(), expected_version)?;
        state.services.remove(&sid);
        let entities: Vec<EntitySid> = state
            .entities
            .values()
            .filter(|e| e.service_sid() == sid)
            .map(Entity::sid)
            .collect();
        for entity in entities {
            state.entities.remove(&entity);
            state.creations.remove(&entity);
        }
        state.factors.retain(|_, f| f.service_sid() != sid);
        state.challenges.retain(|_, c| c.service_sid() != sid);
        state.access_tokens.retain(|_, t| t.service_sid() != sid);
        state.webhooks.retain(|_, w| w.service_sid() != sid);
        Ok(())
    }

    async fn insert_entity(&self, entity: &Entity) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.require_service(entity.service_sid())?;
        if state.entities.contains_key(&entity.sid()) {
            return Err(StoreError::Duplicate {
                resource: Resource::Entity,
                key: UniqueKey::Sid,
            });
        }
        if state
            .entities
            .values()
            .any(|e| e.service_sid() == entity.service_sid() && e.identity() == entity.identity())
        {
            return Err(StoreError::Duplicate {
                resource: Resource::Entity,
                key: UniqueKey::Identity,
            });
        }
        state.entities.insert(entity.sid(), entity.clone());
        Ok(())
    }

    async fn get_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
    ) -> Result<Option<Entity>, StoreError> {
        Ok(self
            .lock()
            .entities
            .get(&sid)
            .filter(|e| e.service_sid() == service)
            .cloned())
    }

    async fn get_entity_by_identity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> Result<Option<Entity>, StoreError> {
        Ok(self
            .lock()
            .entities
            .values()
            .find(|e| e.service_sid() == service && e.identity() == identity)
            .cloned())
    }

    async fn list_entities(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Entity>, StoreError> {
        let state = self.lock();
        page(
            state
                .entities
                .values()
                .filter(|e| e.service_sid() == service)
                .map(|e| (e.date_created(), *e.sid().as_bytes(), e)),
            query,
        )
    }

    async fn delete_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
        factors: &[(FactorSid, u64)],
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state
            .entities
            .get(&sid)
            .filter(|e| e.service_sid() == service)
            .is_none()
        {
            return Err(not_found(Resource::Entity, sid));
        }
        let stored: BTreeMap<FactorSid, u64> = state
            .factors
            .values()
            .filter(|f| f.entity_sid() == sid)
            .map(|f| (f.sid(), f.version()))
            .collect();
        let mut told: BTreeMap<FactorSid, u64> = BTreeMap::new();
        for &(factor, version) in factors {
            if told.insert(factor, version).is_some() {
                return Err(invalid(Resource::Entity, "each factor is listed once"));
            }
            if stored.get(&factor) != Some(&version) {
                return Err(conflict(Resource::Factor, factor, Some(version)));
            }
        }
        if let Some(extra) = stored.keys().find(|f| !told.contains_key(f)) {
            return Err(conflict(Resource::Factor, extra, None));
        }
        state.entities.remove(&sid);
        state.creations.remove(&sid);
        state.factors.retain(|_, f| f.entity_sid() != sid);
        state.challenges.retain(|_, c| c.entity_sid() != Some(sid));
        state.append(events);
        Ok(())
    }

    async fn insert_factor(&self, insert: FactorInsert<'_>) -> Result<(), StoreError> {
        let factor = insert.factor;
        if factor.version() != 0 {
            return Err(invalid(Resource::Factor, "a new record has version 0"));
        }
        let mut state = self.lock();
        let entity = state
            .entities
            .get(&factor.entity_sid())
            .filter(|e| e.service_sid() == factor.service_sid())
            .ok_or_else(|| not_found(Resource::Entity, factor.entity_sid()))?;
        if entity.identity() != factor.identity() {
            return Err(invalid(
                Resource::Factor,
                "the factor's identity is its entity's",
            ));
        }
        if state.factors.contains_key(&factor.sid()) {
            return Err(StoreError::Duplicate {
                resource: Resource::Factor,
                key: UniqueKey::Sid,
            });
        }
        if let Some(credential) = credential_id(factor)
            && state.credential_taken(factor.service_sid(), credential, factor.sid())
        {
            return Err(StoreError::Duplicate {
                resource: Resource::Factor,
                key: UniqueKey::CredentialId,
            });
        }
        if let Some(quota) = insert.quota {
            let of_type = state
                .factors
                .values()
                .filter(|f| {
                    f.entity_sid() == factor.entity_sid() && f.factor_type() == factor.factor_type()
                })
                .count();
            if of_type >= quota.max_of_type {
                return Err(StoreError::QuotaExceeded {
                    kind: QuotaKind::FactorsOfType,
                    limit: quota.max_of_type,
                    count: of_type,
                });
            }
            let created = state
                .creations
                .get(&factor.entity_sid())
                .map_or(0, |times| {
                    times.iter().filter(|&&t| t >= quota.window_start).count()
                });
            if created >= quota.max_created_in_window {
                return Err(StoreError::QuotaExceeded {
                    kind: QuotaKind::CreationsInWindow,
                    limit: quota.max_created_in_window,
                    count: created,
                });
            }
        }
        if let Some(token) = insert.redeemed_token {
            state.check_token_update(token)?;
            if token.service_sid() != factor.service_sid()
                || token.identity() != factor.identity()
                || token.factor_type() != factor.factor_type()
            {
                return Err(invalid(
                    Resource::AccessToken,
                    "the redeemed token is for this service, identity and factor type",
                ));
            }
            state.access_tokens.insert(token.sid(), token.clone());
        }
        state
            .creations
            .entry(factor.entity_sid())
            .or_default()
            .push(factor.date_created());
        state.factors.insert(factor.sid(), factor.clone());
        state.append(insert.events);
        Ok(())
    }

    async fn get_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
    ) -> Result<Option<Factor>, StoreError> {
        Ok(self.lock().factor_in(service, sid).cloned())
    }

    async fn find_factor_by_credential_id(
        &self,
        service: ServiceSid,
        credential: &[u8],
    ) -> Result<Option<Factor>, StoreError> {
        Ok(self
            .lock()
            .factors
            .values()
            .find(|f| f.service_sid() == service && credential_id(f) == Some(credential))
            .cloned())
    }

    async fn entity_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
    ) -> Result<Vec<Factor>, StoreError> {
        let state = self.lock();
        let mut factors: Vec<Factor> = state
            .factors
            .values()
            .filter(|f| f.service_sid() == service && f.entity_sid() == entity)
            .cloned()
            .collect();
        factors.sort_by_key(Listable::list_key);
        Ok(factors)
    }

    async fn list_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        query: &ListQuery,
    ) -> Result<Listing<Factor>, StoreError> {
        let state = self.lock();
        page(
            state
                .factors
                .values()
                .filter(|f| f.service_sid() == service && f.entity_sid() == entity)
                .map(|f| (f.date_created(), *f.sid().as_bytes(), f)),
            query,
        )
    }

    async fn count_factors(
        &self,
        entity: EntitySid,
        factor_type: FactorType,
    ) -> Result<usize, StoreError> {
        Ok(self
            .lock()
            .factors
            .values()
            .filter(|f| f.entity_sid() == entity && f.factor_type() == factor_type)
            .count())
    }

    async fn count_factor_creations_since(
        &self,
        entity: EntitySid,
        since: UnixTime,
    ) -> Result<usize, StoreError> {
        Ok(self
            .lock()
            .creations
            .get(&entity)
            .map_or(0, |times| times.iter().filter(|&&t| t >= since).count()))
    }

    async fn update_factor(&self, factor: &Factor, events: &[Event]) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check_factor_update(factor)?;
        state.factors.insert(factor.sid(), factor.clone());
        state.append(events);
        Ok(())
    }

    async fn delete_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
        expected_version: u64,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let stored = state
            .factor_in(service, sid)
            .ok_or_else(|| not_found(Resource::Factor, sid))?;
        check_version(Resource::Factor, sid, stored.version(), expected_version)?;
        state.remove_factor(sid);
        state.append(events);
        Ok(())
    }

    async fn insert_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> Result<(), StoreError> {
        if challenge.version() != 0 {
            return Err(invalid(Resource::Challenge, "a new record has version 0"));
        }
        let mut state = self.lock();
        state.require_service(challenge.service_sid())?;
        if let Some(factor) = challenge.factor_sid() {
            let stored = state
                .factor_in(challenge.service_sid(), factor)
                .ok_or_else(|| not_found(Resource::Factor, factor))?;
            if Some(stored.entity_sid()) != challenge.entity_sid() {
                return Err(invalid(
                    Resource::Challenge,
                    "the challenge's entity is its factor's",
                ));
            }
        }
        if state.challenges.contains_key(&challenge.sid()) {
            return Err(StoreError::Duplicate {
                resource: Resource::Challenge,
                key: UniqueKey::Sid,
            });
        }
        state.challenges.insert(challenge.sid(), challenge.clone());
        state.append(events);
        Ok(())
    }

    async fn get_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
    ) -> Result<Option<Challenge>, StoreError> {
        Ok(self
            .lock()
            .challenges
            .get(&sid)
            .filter(|c| c.service_sid() == service)
            .cloned())
    }

    async fn list_challenges(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        filter: &ChallengeFilter,
        query: &ListQuery,
        now: UnixTime,
    ) -> Result<Listing<Challenge>, StoreError> {
        let state = self.lock();
        page(
            state
                .challenges
                .values()
                .filter(|c| {
                    c.service_sid() == service
                        && c.entity_sid() == Some(entity)
                        && filter.matches(c, now)
                })
                .map(|c| (c.date_created(), *c.sid().as_bytes(), c)),
            query,
        )
    }

    async fn update_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check_challenge_update(challenge)?;
        state.challenges.insert(challenge.sid(), challenge.clone());
        state.append(events);
        Ok(())
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
        let mut state = self.lock();
        state.check_challenge_update(challenge)?;
        state.check_factor_update(factor)?;
        state.challenges.insert(challenge.sid(), challenge.clone());
        state.factors.insert(factor.sid(), factor.clone());
        state.append(challenge_events);
        state.append(factor_events);
        Ok(())
    }

    async fn insert_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        if token.version() != 0 {
            return Err(invalid(Resource::AccessToken, "a new record has version 0"));
        }
        let mut state = self.lock();
        state.require_service(token.service_sid())?;
        if state.access_tokens.contains_key(&token.sid()) {
            return Err(StoreError::Duplicate {
                resource: Resource::AccessToken,
                key: UniqueKey::Sid,
            });
        }
        state.access_tokens.insert(token.sid(), token.clone());
        Ok(())
    }

    async fn get_access_token(
        &self,
        service: ServiceSid,
        sid: AccessTokenSid,
    ) -> Result<Option<AccessToken>, StoreError> {
        Ok(self
            .lock()
            .access_tokens
            .get(&sid)
            .filter(|t| t.service_sid() == service)
            .cloned())
    }

    async fn update_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check_token_update(token)?;
        state.access_tokens.insert(token.sid(), token.clone());
        Ok(())
    }

    async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        if webhook.version() != 0 {
            return Err(invalid(Resource::Webhook, "a new record has version 0"));
        }
        let mut state = self.lock();
        state.require_service(webhook.service_sid())?;
        if state.webhooks.contains_key(&webhook.sid()) {
            return Err(StoreError::Duplicate {
                resource: Resource::Webhook,
                key: UniqueKey::Sid,
            });
        }
        state.webhooks.insert(webhook.sid(), webhook.clone());
        Ok(())
    }

    async fn get_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
    ) -> Result<Option<Webhook>, StoreError> {
        Ok(self
            .lock()
            .webhooks
            .get(&sid)
            .filter(|w| w.service_sid() == service)
            .cloned())
    }

    async fn list_webhooks(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Webhook>, StoreError> {
        let state = self.lock();
        page(
            state
                .webhooks
                .values()
                .filter(|w| w.service_sid() == service)
                .map(|w| (w.date_created(), *w.sid().as_bytes(), w)),
            query,
        )
    }

    async fn update_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let expected = expected_version(Resource::Webhook, webhook.version())?;
        let mut state = self.lock();
        let stored = state
            .webhooks
            .get(&webhook.sid())
            .filter(|w| w.service_sid() == webhook.service_sid())
            .ok_or_else(|| not_found(Resource::Webhook, webhook.sid()))?;
        if stored.date_created() != webhook.date_created() {
            return Err(invalid(Resource::Webhook, "date_created is immutable"));
        }
        check_version(Resource::Webhook, webhook.sid(), stored.version(), expected)?;
        state.webhooks.insert(webhook.sid(), webhook.clone());
        Ok(())
    }

    async fn delete_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let stored = state
            .webhooks
            .get(&sid)
            .filter(|w| w.service_sid() == service)
            .ok_or_else(|| not_found(Resource::Webhook, sid))?;
        check_version(Resource::Webhook, sid, stored.version(), expected_version)?;
        state.webhooks.remove(&sid);
        Ok(())
    }

    async fn peek_events(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let state = self.lock();
        let start = after.map_or(0, |a| a.saturating_add(1));
        Ok(state
            .outbox
            .range(start..)
            .take(limit)
            .map(|(&sequence, event)| OutboxEvent::new(sequence, event.clone()))
            .collect())
    }

    async fn ack_events(&self, through: u64) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let kept = state.outbox.split_off(&through.saturating_add(1));
        let removed = std::mem::replace(&mut state.outbox, kept);
        // `through == u64::MAX` cannot split past itself: drop that last key too.
        let extra = if through == u64::MAX {
            usize::from(state.outbox.remove(&u64::MAX).is_some())
        } else {
            0
        };
        Ok(removed.len().saturating_add(extra))
    }

    async fn drain_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        let mut state = self.lock();
        let mut drained = Vec::new();
        while drained.len() < limit {
            let Some((sequence, event)) = state.outbox.pop_first() else {
                break;
            };
            drained.push(OutboxEvent::new(sequence, event));
        }
        Ok(drained)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;
    use verify_model::{WebhookEventType, WebhookStatus};

    const T0: UnixTime = UnixTime::from_secs(1_767_225_600);

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn service_with_webhook(store: &MemoryStore) -> (Service, Webhook) {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let service = Service::create("Owl Bank", T0, &mut rng).unwrap();
        let webhook = Webhook::create(
            service.sid(),
            "Events",
            vec![WebhookEventType::All],
            "https://hooks.example.com/",
            T0,
            &mut rng,
        )
        .unwrap();
        block_on(async {
            store.insert_service(&service).await.unwrap();
            store.insert_webhook(&webhook).await.unwrap();
        });
        (service, webhook)
    }

    #[test]
    fn debug_shows_counts_only() {
        let store = MemoryStore::new();
        let (service, _) = service_with_webhook(&store);
        let debug = format!("{store:?}");
        assert!(debug.contains("services: 1"), "{debug}");
        assert!(debug.contains("webhooks: 1"), "{debug}");
        assert!(!debug.contains(&service.sid().to_string()), "{debug}");
    }

    #[test]
    fn clones_share_one_state() {
        let store = MemoryStore::new();
        let handle = store.clone();
        let (service, _) = service_with_webhook(&handle);
        drop(handle);
        let read = block_on(store.get_service(service.sid())).unwrap();
        assert_eq!(read, Some(service));
    }

    #[test]
    fn an_unbumped_update_is_an_invalid_write_not_a_conflict() {
        let store = MemoryStore::new();
        let (service, webhook) = service_with_webhook(&store);
        let err = block_on(store.update_service(&service)).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::InvalidWrite {
                    resource: Resource::Service,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = block_on(store.update_webhook(&webhook)).unwrap_err();
        assert_eq!(err.kind(), "invalid_write");
        let disabled = webhook.with_status(WebhookStatus::Disabled, T0).unwrap();
        block_on(store.update_webhook(&disabled)).unwrap();
    }

    #[test]
    fn a_write_from_another_service_is_not_found() {
        let store = MemoryStore::new();
        let (_, webhook) = service_with_webhook(&store);
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let other = Service::create("Other", T0, &mut rng).unwrap();
        block_on(store.insert_service(&other)).unwrap();
        let err = block_on(store.delete_webhook(other.sid(), webhook.sid(), 0)).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NotFound {
                    resource: Resource::Webhook,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn ack_through_the_last_possible_sequence_empties_the_outbox() {
        let store = MemoryStore::new();
        {
            let mut state = store.lock();
            state.next_sequence = u64::MAX - 1;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let service = Service::create("Owl Bank", T0, &mut rng).unwrap();
        let entity = Entity::create(
            service.sid(),
            Identity::parse("user-0001").unwrap(),
            T0,
            &mut rng,
        );
        let kind = FactorKind::totp(
            verify_model::TotpSecret::generate(&mut rng),
            verify_model::TotpAlgorithm::default(),
            verify_model::TotpParams::default(),
        );
        let new = verify_model::NewFactor::new(
            service.sid(),
            entity.sid(),
            entity.identity().clone(),
            "App",
        );
        let created = Factor::create(new, kind, T0, &mut rng).unwrap();
        let event = created.events.first().unwrap().clone();
        store.lock().append(&[event.clone(), event]);
        let sequences: Vec<u64> = block_on(store.peek_events(None, 10))
            .unwrap()
            .iter()
            .map(|e| e.sequence)
            .collect();
        assert_eq!(sequences, [u64::MAX - 1, u64::MAX]);
        assert_eq!(block_on(store.ack_events(u64::MAX)).unwrap(), 2);
        assert!(block_on(store.peek_events(None, 10)).unwrap().is_empty());
    }

    #[test]
    fn a_poisoned_lock_still_serves() {
        let store = MemoryStore::new();
        let (service, _) = service_with_webhook(&store);
        let clone = store.clone();
        let result = std::thread::spawn(move || {
            let _guard = clone.lock();
            panic!("poison the lock");
        })
        .join();
        assert!(result.is_err());
        let read = block_on(store.get_service(service.sid())).unwrap();
        assert_eq!(read, Some(service));
    }

    #[test]
    fn prune_forgets_only_what_is_past_the_cutoff() {
        let store = MemoryStore::new();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let service = Service::create("Owl Bank", T0, &mut rng).unwrap();
        let entity = Entity::create(
            service.sid(),
            Identity::parse("user-0001").unwrap(),
            T0,
            &mut rng,
        );
        let kind = FactorKind::totp(
            verify_model::TotpSecret::generate(&mut rng),
            verify_model::TotpAlgorithm::default(),
            verify_model::TotpParams::default(),
        );
        let new = verify_model::NewFactor::new(
            service.sid(),
            entity.sid(),
            entity.identity().clone(),
            "App",
        );
        let created = Factor::create(new, kind, T0, &mut rng).unwrap();
        let factor = created
            .factor
            .verify(verify_model::VerificationProof::TotpStep(1), T0)
            .unwrap()
            .factor;
        let minutes = |m: u64| T0.saturating_add(std::time::Duration::from_secs(m * 60));
        let make = |at: UnixTime, rng: &mut ChaCha20Rng| {
            Challenge::create(
                verify_model::ChallengeTarget::Factor(&factor),
                verify_model::NewChallenge::new(),
                at,
                rng,
            )
            .unwrap()
            .challenge
        };
        let old = make(T0, &mut rng);
        let fresh = make(minutes(10), &mut rng);
        block_on(async {
            store.insert_service(&service).await.unwrap();
            store.insert_entity(&entity).await.unwrap();
            store
                .insert_factor(FactorInsert::new(&created.factor, &created.events))
                .await
                .unwrap();
            store.update_factor(&factor, &[]).await.unwrap();
            store.insert_challenge(&old, &[]).await.unwrap();
            store.insert_challenge(&fresh, &[]).await.unwrap();
        });
        // `old` expires at T0 + 5 min, `fresh` at T0 + 15 min.
        assert_eq!(store.prune(minutes(4)), 0);
        assert_eq!(store.prune(minutes(5)), 1);
        let (s, entity_sid) = (service.sid(), entity.sid());
        assert_eq!(block_on(store.get_challenge(s, old.sid())).unwrap(), None);
        assert_eq!(
            block_on(store.get_challenge(s, fresh.sid())).unwrap(),
            Some(fresh)
        );
        assert_eq!(
            block_on(store.count_factor_creations_since(entity_sid, T0)).unwrap(),
            0
        );
    }
}
