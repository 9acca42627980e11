//! [`MemoryStore`]: the embedded default store, ordered maps with secondary indexes
//! under one reader-writer lock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use verify_model::list::Listable;
use verify_model::{
    AccessToken, AccessTokenSid, Challenge, ChallengeFilter, ChallengeSid, ChallengeState,
    ChallengeTransition, Entity, EntitySid, Event, Factor, FactorKind, FactorSid, FactorTransition,
    FactorType, Identity, ListOrder, Service, ServiceSid, UnixTime, Webhook, WebhookSid, paginate,
};

use crate::error::{QuotaKind, Resource, StoreError, UniqueKey};
use crate::store::{FactorInsert, ListQuery, Listing, OutboxEvent, Store};

/// The most undrained events a [`MemoryStore`] keeps by default: about 20–40 MB of
/// events, far more than a host that drains (the server drains every poll
/// interval) ever holds, and a bound for one that never drains.
pub const DEFAULT_OUTBOX_BOUND: usize = 100_000;

/// An in-memory [`Store`]: every write runs under the write half of one
/// reader-writer lock, checks all of its preconditions first and only then changes
/// the maps, their indexes and the outbox, so each write is atomic and
/// linearizable; reads share the read half and run in parallel. No lock is ever
/// held across an `.await` (the methods do not await).
///
/// Every lookup a request makes by something other than a sid (an identity, a
/// passkey credential id, an entity's factors or challenges, a service's records)
/// goes through an ordered index kept in the same critical section as the rows, so
/// its cost depends on the size of the answer, not of the store: a first page of a
/// list reads one page of its index; a later page (whose token only
/// [`verify_model::paginate`] can read) reads the matching records of that one
/// entity or service.
///
/// Cloning a `MemoryStore` clones a handle: the clones share one state, like several
/// server processes sharing one database (this is how the conformance suite races
/// writers against each other). Nothing is persisted.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: records hold secrets (TOTP seeds, webhook secrets).
        let state = self.read();
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

/// The rows, and the indexes over them.
///
/// The rows are only ever changed through the `put_*` / `remove_*_row` methods of
/// [`State`], which update [`Indexes`] alongside, so the indexes always equal what
/// [`Indexes::build`] computes from the rows (the unit tests check exactly that after
/// random operations).
#[derive(Default)]
struct State {
    services: BTreeMap<ServiceSid, Service>,
    entities: BTreeMap<EntitySid, Entity>,
    factors: BTreeMap<FactorSid, Factor>,
    /// How many factors were created at each time, per entity, every factor ever
    /// inserted (deleted ones too): the daily creation quota counts a range of it.
    creations: BTreeMap<EntitySid, BTreeMap<UnixTime, usize>>,
    challenges: BTreeMap<ChallengeSid, Challenge>,
    access_tokens: BTreeMap<AccessTokenSid, AccessToken>,
    webhooks: BTreeMap<WebhookSid, Webhook>,
    outbox: BTreeMap<u64, Event>,
    /// The most events the outbox keeps ([`DEFAULT_OUTBOX_BOUND`] when `None`).
    outbox_bound: Option<usize>,
    /// Events dropped, oldest first, because the outbox was full.
    dropped_events: u64,
    /// The sequence number of the next event (starts at 1, never reused).
    next_sequence: u64,
    index: Indexes,
}

/// A record's place in its lists: `(date_created, sid)`. Sids order by their bytes,
/// so a set of these iterates in [`Listable::list_key`] order.
type ListKey<S> = (UnixTime, S);

/// Secondary indexes: each is a function of the rows alone (see `Indexes::build`).
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq, Eq))]
struct Indexes {
    /// Every service, in list order.
    services: BTreeSet<ListKey<ServiceSid>>,
    /// Per service, what its requests look up by something other than a sid.
    by_service: BTreeMap<ServiceSid, ServiceIndex>,
    /// Per entity sid: the factors naming it, in list order (the entity's factors,
    /// its quota counts, the delete cascade).
    entity_factors: BTreeMap<EntitySid, BTreeSet<ListKey<FactorSid>>>,
    /// Per entity sid: the challenges naming it, in list order (the challenge list,
    /// the delete cascade).
    entity_challenges: BTreeMap<EntitySid, BTreeSet<ListKey<ChallengeSid>>>,
    /// Per factor sid: the challenges naming it, in list order (the `FactorSid`
    /// filter, the delete cascade).
    factor_challenges: BTreeMap<FactorSid, BTreeSet<ListKey<ChallengeSid>>>,
    /// Per entity sid: the challenges naming it whose stored state is pending, in
    /// list order (the `Status=pending` lists, and the engine's count of a push
    /// factor's pending challenges on every create). Without it, those walk every
    /// challenge the entity made within the longest lifetime, answered or not.
    entity_pending: BTreeMap<EntitySid, BTreeSet<ListKey<ChallengeSid>>>,
    /// Every challenge by expiration date ([`MemoryStore::prune`]).
    expirations: BTreeSet<(UnixTime, ChallengeSid)>,
}

/// The indexes of one service's records.
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq, Eq))]
struct ServiceIndex {
    /// Its entities, in list order.
    entities: BTreeSet<ListKey<EntitySid>>,
    /// Its entities by identity (unique per service).
    identities: BTreeMap<Identity, EntitySid>,
    /// Its passkey factors by credential id (unique per service).
    credentials: BTreeMap<Vec<u8>, FactorSid>,
    /// Its challenges (the delete cascade; usernameless ones name no entity).
    challenges: BTreeSet<ChallengeSid>,
    /// Its access tokens (the delete cascade).
    access_tokens: BTreeSet<AccessTokenSid>,
    /// Its webhooks, in list order.
    webhooks: BTreeSet<ListKey<WebhookSid>>,
}

impl ServiceIndex {
    fn is_empty(&self) -> bool {
        self.entities.is_empty()
            && self.identities.is_empty()
            && self.credentials.is_empty()
            && self.challenges.is_empty()
            && self.access_tokens.is_empty()
            && self.webhooks.is_empty()
    }
}

impl Indexes {
    /// The indexes of `state`'s rows, computed from scratch (what the incremental
    /// updates must always equal).
    #[cfg(test)]
    fn build(state: &State) -> Self {
        let mut index = Self::default();
        for service in state.services.values() {
            index
                .services
                .insert((service.date_created(), service.sid()));
        }
        for entity in state.entities.values() {
            index.index_entity(entity);
        }
        for factor in state.factors.values() {
            index.index_factor(factor);
        }
        for challenge in state.challenges.values() {
            index.index_challenge(challenge);
        }
        for token in state.access_tokens.values() {
            index
                .service(token.service_sid())
                .access_tokens
                .insert(token.sid());
        }
        for webhook in state.webhooks.values() {
            index
                .service(webhook.service_sid())
                .webhooks
                .insert((webhook.date_created(), webhook.sid()));
        }
        index
    }

    fn service(&mut self, sid: ServiceSid) -> &mut ServiceIndex {
        self.by_service.entry(sid).or_default()
    }

    /// Drops `sid`'s service index once nothing is left in it, so that a deleted
    /// service leaves nothing behind.
    fn tidy_service(&mut self, sid: ServiceSid) {
        if self
            .by_service
            .get(&sid)
            .is_some_and(ServiceIndex::is_empty)
        {
            self.by_service.remove(&sid);
        }
    }

    fn index_entity(&mut self, entity: &Entity) {
        let index = self.service(entity.service_sid());
        index.entities.insert((entity.date_created(), entity.sid()));
        index
            .identities
            .insert(entity.identity().clone(), entity.sid());
    }

    fn unindex_entity(&mut self, entity: &Entity) {
        if let Some(index) = self.by_service.get_mut(&entity.service_sid()) {
            index
                .entities
                .remove(&(entity.date_created(), entity.sid()));
            if index.identities.get(entity.identity()) == Some(&entity.sid()) {
                index.identities.remove(entity.identity());
            }
        }
        self.tidy_service(entity.service_sid());
    }

    fn index_factor(&mut self, factor: &Factor) {
        self.entity_factors
            .entry(factor.entity_sid())
            .or_default()
            .insert((factor.date_created(), factor.sid()));
        if let Some(credential) = credential_id(factor) {
            self.service(factor.service_sid())
                .credentials
                .insert(credential.to_vec(), factor.sid());
        }
    }

    fn unindex_factor(&mut self, factor: &Factor) {
        remove_from(
            &mut self.entity_factors,
            factor.entity_sid(),
            &(factor.date_created(), factor.sid()),
        );
        if let Some(credential) = credential_id(factor)
            && let Some(index) = self.by_service.get_mut(&factor.service_sid())
            && index.credentials.get(credential) == Some(&factor.sid())
        {
            index.credentials.remove(credential);
        }
        self.tidy_service(factor.service_sid());
    }

    fn index_challenge(&mut self, challenge: &Challenge) {
        let key = (challenge.date_created(), challenge.sid());
        if let Some(entity) = challenge.entity_sid() {
            self.entity_challenges
                .entry(entity)
                .or_default()
                .insert(key);
        }
        if let Some(factor) = challenge.factor_sid() {
            self.factor_challenges
                .entry(factor)
                .or_default()
                .insert(key);
        }
        self.index_pending(challenge);
        self.expirations
            .insert((challenge.expiration_date(), challenge.sid()));
        self.service(challenge.service_sid())
            .challenges
            .insert(challenge.sid());
    }

    fn unindex_challenge(&mut self, challenge: &Challenge) {
        let key = (challenge.date_created(), challenge.sid());
        if let Some(entity) = challenge.entity_sid() {
            remove_from(&mut self.entity_challenges, entity, &key);
        }
        if let Some(factor) = challenge.factor_sid() {
            remove_from(&mut self.factor_challenges, factor, &key);
        }
        self.unindex_pending(challenge);
        self.expirations
            .remove(&(challenge.expiration_date(), challenge.sid()));
        if let Some(index) = self.by_service.get_mut(&challenge.service_sid()) {
            index.challenges.remove(&challenge.sid());
        }
        self.tidy_service(challenge.service_sid());
    }

    /// Adds `challenge` to its entity's pending index when its stored state is
    /// pending.
    fn index_pending(&mut self, challenge: &Challenge) {
        if let Some(entity) = challenge.entity_sid()
            && challenge.state() == ChallengeState::Pending
        {
            self.entity_pending
                .entry(entity)
                .or_default()
                .insert((challenge.date_created(), challenge.sid()));
        }
    }

    /// Removes `challenge` from its entity's pending index (whatever its state).
    fn unindex_pending(&mut self, challenge: &Challenge) {
        if let Some(entity) = challenge.entity_sid() {
            remove_from(
                &mut self.entity_pending,
                entity,
                &(challenge.date_created(), challenge.sid()),
            );
        }
    }
}

/// Every field of a factor some index is keyed on.
fn factor_index_keys(factor: &Factor) -> (ServiceSid, EntitySid, UnixTime, Option<&[u8]>) {
    (
        factor.service_sid(),
        factor.entity_sid(),
        factor.date_created(),
        credential_id(factor),
    )
}

/// Every field of a challenge some index is keyed on.
fn challenge_index_keys(
    challenge: &Challenge,
) -> (
    ServiceSid,
    Option<EntitySid>,
    Option<FactorSid>,
    UnixTime,
    UnixTime,
) {
    (
        challenge.service_sid(),
        challenge.entity_sid(),
        challenge.factor_sid(),
        challenge.date_created(),
        challenge.expiration_date(),
    )
}

/// Removes `value` from the set `key` maps to, and the set once it is empty.
fn remove_from<K: Ord, V: Ord>(map: &mut BTreeMap<K, BTreeSet<V>>, key: K, value: &V) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(value);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose outbox keeps at most `bound` undrained events (at least
    /// 1; [`DEFAULT_OUTBOX_BOUND`] otherwise). Past it the oldest are dropped, and
    /// counted ([`MemoryStore::dropped_events`]): a write never fails because nobody
    /// drains the outbox, and what was lost is visible.
    #[must_use]
    pub fn with_outbox_bound(bound: usize) -> Self {
        let store = Self::default();
        store.lock().outbox_bound = Some(bound.max(1));
        store
    }

    /// How many events were dropped because the outbox was full (the oldest
    /// first, their sequence numbers never reused).
    #[must_use]
    pub fn dropped_events(&self) -> u64 {
        self.read().dropped_events
    }

    /// Forgets what can no longer matter at `cutoff`, so a long-running process does
    /// not grow without bound: challenges whose expiration date is at or before
    /// `cutoff` (answered, or expired whether or not their expiry was written: a host
    /// that wants every `challenge.expired` event polls expiry first), and factor
    /// creation times before `cutoff` (pass a cutoff at least 24 hours back, or the
    /// daily creation quota would forget creations it still counts). Returns how many
    /// challenges were removed.
    pub fn prune(&self, cutoff: UnixTime) -> usize {
        self.prune_up_to(cutoff, usize::MAX)
    }

    /// [`MemoryStore::prune`] of at most `limit` challenges
    /// ([`Store::prune_expired`]).
    fn prune_up_to(&self, cutoff: UnixTime, limit: usize) -> usize {
        let mut state = self.lock();
        // The expiration index holds exactly the challenges to drop, oldest first.
        let due: Vec<ChallengeSid> = state
            .index
            .expirations
            .range(..=(cutoff, ChallengeSid::from_bytes([0xff; 16])))
            .take(limit)
            .map(|&(_, sid)| sid)
            .collect();
        for &sid in &due {
            state.remove_challenge_row(sid);
        }
        for times in state.creations.values_mut() {
            *times = times.split_off(&cutoff);
        }
        state.creations.retain(|_, times| !times.is_empty());
        due.len()
    }

    /// The write half of the lock.
    fn lock(&self) -> RwLockWriteGuard<'_, State> {
        // Every method validates before it mutates and cannot panic in between, so a
        // poisoned lock (a panic elsewhere while holding it) still guards a
        // consistent state.
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The read half of the lock (shared by concurrent readers).
    fn read(&self) -> RwLockReadGuard<'_, State> {
        // As in `lock`: a poisoned lock still guards a consistent state.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
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

/// The page `query` asks for of the matching items `ascending` yields in ascending
/// list order (`key` is each item's list key).
///
/// The first page (no token) of `n` items is the first `n` items in the query's
/// order, and it has a next page exactly when an `n + 1`-th exists: so only `n + 1`
/// items are taken, from the end the order starts at, and [`paginate`] run over those
/// gives the same page and tokens as over the whole list. A later page is named by a
/// token whose key only [`paginate`] reads, so it runs over every matching item (of
/// one entity's or one service's list, never of the whole store).
fn page_in_order<'a, T: Clone + 'a>(
    ascending: impl DoubleEndedIterator<Item = &'a T>,
    key: impl Fn(&T) -> (UnixTime, [u8; 16]),
    query: &ListQuery,
) -> Result<Listing<T>, StoreError> {
    let items: Vec<&'a T> = if query.page_token.is_none() {
        let wanted = usize::from(query.page_size.get()).saturating_add(1);
        if query.order == ListOrder::Desc {
            ascending.rev().take(wanted).collect()
        } else {
            ascending.take(wanted).collect()
        }
    } else {
        ascending.collect()
    };
    let keyed: Vec<Keyed<'a, T>> = items
        .into_iter()
        .map(|item| Keyed {
            key: key(item),
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

/// The records a set of list keys names, in the set's order.
fn rows<'a, S: Ord + Copy + 'a, T>(
    keys: Option<&'a BTreeSet<ListKey<S>>>,
    table: &'a BTreeMap<S, T>,
) -> impl DoubleEndedIterator<Item = &'a T> + 'a {
    keys.into_iter()
        .flatten()
        .filter_map(move |(_, sid)| table.get(sid))
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
        let bound = self.outbox_bound.unwrap_or(DEFAULT_OUTBOX_BOUND);
        while self.outbox.len() > bound {
            if self.outbox.pop_first().is_none() {
                break;
            }
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
    }

    // ---- row writes: every change of a row goes through these, with its indexes --

    fn put_service(&mut self, service: Service) {
        if let Some(old) = self.services.remove(&service.sid()) {
            self.index.services.remove(&(old.date_created(), old.sid()));
        }
        self.index
            .services
            .insert((service.date_created(), service.sid()));
        self.services.insert(service.sid(), service);
    }

    fn put_entity(&mut self, entity: Entity) {
        if let Some(old) = self.entities.remove(&entity.sid()) {
            self.index.unindex_entity(&old);
        }
        self.index.index_entity(&entity);
        self.entities.insert(entity.sid(), entity);
    }

    fn remove_entity_row(&mut self, sid: EntitySid) {
        if let Some(old) = self.entities.remove(&sid) {
            self.index.unindex_entity(&old);
        }
    }

    fn put_factor(&mut self, factor: Factor) {
        // Most updates (a TOTP step, a sign count, a rename) change no indexed
        // field: replace the row in place and leave the indexes alone.
        if let Some(stored) = self.factors.get_mut(&factor.sid())
            && factor_index_keys(stored) == factor_index_keys(&factor)
        {
            *stored = factor;
            return;
        }
        if let Some(old) = self.factors.remove(&factor.sid()) {
            self.index.unindex_factor(&old);
        }
        self.index.index_factor(&factor);
        self.factors.insert(factor.sid(), factor);
    }

    fn remove_factor_row(&mut self, sid: FactorSid) {
        if let Some(old) = self.factors.remove(&sid) {
            self.index.unindex_factor(&old);
        }
    }

    fn put_challenge(&mut self, challenge: Challenge) {
        // A status change (the usual update) changes no key of the list indexes:
        // replace the row in place and move it out of the pending index only.
        if let Some(stored) = self.challenges.get_mut(&challenge.sid())
            && challenge_index_keys(stored) == challenge_index_keys(&challenge)
        {
            let was_pending = stored.state() == ChallengeState::Pending;
            let is_pending = challenge.state() == ChallengeState::Pending;
            if was_pending != is_pending {
                self.index.unindex_pending(&challenge);
                self.index.index_pending(&challenge);
            }
            *stored = challenge;
            return;
        }
        if let Some(old) = self.challenges.remove(&challenge.sid()) {
            self.index.unindex_challenge(&old);
        }
        self.index.index_challenge(&challenge);
        self.challenges.insert(challenge.sid(), challenge);
    }

    fn remove_challenge_row(&mut self, sid: ChallengeSid) {
        if let Some(old) = self.challenges.remove(&sid) {
            self.index.unindex_challenge(&old);
        }
    }

    fn put_token(&mut self, token: AccessToken) {
        if let Some(old) = self.access_tokens.remove(&token.sid()) {
            self.remove_token_key(&old);
        }
        self.index
            .service(token.service_sid())
            .access_tokens
            .insert(token.sid());
        self.access_tokens.insert(token.sid(), token);
    }

    fn remove_token_row(&mut self, sid: AccessTokenSid) {
        if let Some(old) = self.access_tokens.remove(&sid) {
            self.remove_token_key(&old);
        }
    }

    fn remove_token_key(&mut self, token: &AccessToken) {
        if let Some(index) = self.index.by_service.get_mut(&token.service_sid()) {
            index.access_tokens.remove(&token.sid());
        }
        self.index.tidy_service(token.service_sid());
    }

    fn put_webhook(&mut self, webhook: Webhook) {
        if let Some(old) = self.webhooks.remove(&webhook.sid()) {
            self.remove_webhook_key(&old);
        }
        self.index
            .service(webhook.service_sid())
            .webhooks
            .insert((webhook.date_created(), webhook.sid()));
        self.webhooks.insert(webhook.sid(), webhook);
    }

    fn remove_webhook_row(&mut self, sid: WebhookSid) {
        if let Some(old) = self.webhooks.remove(&sid) {
            self.remove_webhook_key(&old);
        }
    }

    fn remove_webhook_key(&mut self, webhook: &Webhook) {
        if let Some(index) = self.index.by_service.get_mut(&webhook.service_sid()) {
            index
                .webhooks
                .remove(&(webhook.date_created(), webhook.sid()));
        }
        self.index.tidy_service(webhook.service_sid());
    }

    // ---- index reads --------------------------------------------------------------

    fn service_index(&self, service: ServiceSid) -> Option<&ServiceIndex> {
        self.index.by_service.get(&service)
    }

    /// The factors naming `entity`, in list order.
    fn factors_of(&self, entity: EntitySid) -> impl DoubleEndedIterator<Item = &Factor> + '_ {
        rows(self.index.entity_factors.get(&entity), &self.factors)
    }

    /// The challenges naming `entity`, in list order.
    fn challenges_of_entity(
        &self,
        entity: EntitySid,
    ) -> impl DoubleEndedIterator<Item = &Challenge> + '_ {
        rows(self.index.entity_challenges.get(&entity), &self.challenges)
    }

    /// The challenges naming `factor`, in list order.
    fn challenges_of_factor(
        &self,
        factor: FactorSid,
    ) -> impl DoubleEndedIterator<Item = &Challenge> + '_ {
        rows(self.index.factor_challenges.get(&factor), &self.challenges)
    }

    /// The challenges of `entity` whose stored state is pending, created at or
    /// after `since`, in list order: one range of the pending index. (A stored
    /// pending challenge may have expired: the list's filter still decides.)
    fn pending_created_since(
        &self,
        entity: EntitySid,
        since: UnixTime,
    ) -> impl DoubleEndedIterator<Item = &Challenge> + '_ {
        self.index
            .entity_pending
            .get(&entity)
            .into_iter()
            .flat_map(move |keys| keys.range((since, ChallengeSid::from_bytes([0; 16]))..))
            .filter_map(|(_, sid)| self.challenges.get(sid))
    }

    /// Whether a factor of `service` other than `except` holds `credential`.
    fn credential_taken(&self, service: ServiceSid, credential: &[u8], except: FactorSid) -> bool {
        self.service_index(service)
            .and_then(|index| index.credentials.get(credential))
            .is_some_and(|&holder| holder != except)
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

    /// Removes a factor and the challenges naming it (no checks).
    fn remove_factor(&mut self, sid: FactorSid) {
        let challenges: Vec<ChallengeSid> =
            self.challenges_of_factor(sid).map(Challenge::sid).collect();
        for challenge in challenges {
            self.remove_challenge_row(challenge);
        }
        self.remove_factor_row(sid);
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
        state.put_service(service.clone());
        Ok(())
    }

    async fn get_service(&self, sid: ServiceSid) -> Result<Option<Service>, StoreError> {
        Ok(self.read().services.get(&sid).cloned())
    }

    async fn list_services(&self, query: &ListQuery) -> Result<Listing<Service>, StoreError> {
        let state = self.read();
        page_in_order(
            rows(Some(&state.index.services), &state.services),
            |s| (s.date_created(), *s.sid().as_bytes()),
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
        state.put_service(service.clone());
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
        let (date_created, index) = (stored.date_created(), state.service_index(sid));
        // What the service holds, read from its index before the rows go.
        let entities: Vec<EntitySid> = index
            .map(|i| i.entities.iter().map(|&(_, e)| e).collect())
            .unwrap_or_default();
        let challenges: Vec<ChallengeSid> = index
            .map(|i| i.challenges.iter().copied().collect())
            .unwrap_or_default();
        let tokens: Vec<AccessTokenSid> = index
            .map(|i| i.access_tokens.iter().copied().collect())
            .unwrap_or_default();
        let webhooks: Vec<WebhookSid> = index
            .map(|i| i.webhooks.iter().map(|&(_, w)| w).collect())
            .unwrap_or_default();
        // A factor's entity is of the factor's service (`insert_factor` checks), so
        // the service's factors are its entities' factors.
        let factors: Vec<FactorSid> = entities
            .iter()
            .flat_map(|&entity| state.factors_of(entity))
            .filter(|f| f.service_sid() == sid)
            .map(Factor::sid)
            .collect();
        state.services.remove(&sid);
        state.index.services.remove(&(date_created, sid));
        for entity in entities {
            state.remove_entity_row(entity);
            state.creations.remove(&entity);
        }
        for factor in factors {
            state.remove_factor_row(factor);
        }
        for challenge in challenges {
            state.remove_challenge_row(challenge);
        }
        for token in tokens {
            state.remove_token_row(token);
        }
        for webhook in webhooks {
            state.remove_webhook_row(webhook);
        }
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
            .service_index(entity.service_sid())
            .is_some_and(|index| index.identities.contains_key(entity.identity()))
        {
            return Err(StoreError::Duplicate {
                resource: Resource::Entity,
                key: UniqueKey::Identity,
            });
        }
        state.put_entity(entity.clone());
        Ok(())
    }

    async fn get_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
    ) -> Result<Option<Entity>, StoreError> {
        Ok(self
            .read()
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
        let state = self.read();
        Ok(state
            .service_index(service)
            .and_then(|index| index.identities.get(identity))
            .and_then(|sid| state.entities.get(sid))
            .cloned())
    }

    async fn list_entities(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Entity>, StoreError> {
        let state = self.read();
        page_in_order(
            rows(
                state.service_index(service).map(|i| &i.entities),
                &state.entities,
            ),
            |e| (e.date_created(), *e.sid().as_bytes()),
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
            .factors_of(sid)
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
        // Its challenges include every challenge of its factors (a challenge names
        // its factor's entity: `insert_challenge` and the binding update check).
        let challenges: Vec<ChallengeSid> = state
            .challenges_of_entity(sid)
            .map(Challenge::sid)
            .collect();
        for challenge in challenges {
            state.remove_challenge_row(challenge);
        }
        for &factor in stored.keys() {
            state.remove_factor_row(factor);
        }
        state.remove_entity_row(sid);
        state.creations.remove(&sid);
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
            // At most a few hundred factors per entity (the type quotas).
            let of_type = state
                .factors_of(factor.entity_sid())
                .filter(|f| f.factor_type() == factor.factor_type())
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
                .map_or(0, |times| count_since(times, quota.window_start));
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
            state.put_token(token.clone());
        }
        let times = state.creations.entry(factor.entity_sid()).or_default();
        let count = times.entry(factor.date_created()).or_default();
        *count = count.saturating_add(1);
        state.put_factor(factor.clone());
        state.append(insert.events);
        Ok(())
    }

    async fn get_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
    ) -> Result<Option<Factor>, StoreError> {
        Ok(self.read().factor_in(service, sid).cloned())
    }

    async fn find_factor_by_credential_id(
        &self,
        service: ServiceSid,
        credential: &[u8],
    ) -> Result<Option<Factor>, StoreError> {
        let state = self.read();
        Ok(state
            .service_index(service)
            .and_then(|index| index.credentials.get(credential))
            .and_then(|sid| state.factor_in(service, *sid))
            .cloned())
    }

    async fn entity_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
    ) -> Result<Vec<Factor>, StoreError> {
        // The index is in list order already.
        let state = self.read();
        Ok(state
            .factors_of(entity)
            .filter(|f| f.service_sid() == service)
            .cloned()
            .collect())
    }

    async fn list_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        query: &ListQuery,
    ) -> Result<Listing<Factor>, StoreError> {
        let state = self.read();
        page_in_order(
            state
                .factors_of(entity)
                .filter(|f| f.service_sid() == service),
            Listable::list_key,
            query,
        )
    }

    async fn count_factors(
        &self,
        entity: EntitySid,
        factor_type: FactorType,
    ) -> Result<usize, StoreError> {
        Ok(self
            .read()
            .factors_of(entity)
            .filter(|f| f.factor_type() == factor_type)
            .count())
    }

    async fn count_factor_creations_since(
        &self,
        entity: EntitySid,
        since: UnixTime,
    ) -> Result<usize, StoreError> {
        Ok(self
            .read()
            .creations
            .get(&entity)
            .map_or(0, |times| count_since(times, since)))
    }

    async fn update_factor(&self, factor: &Factor, events: &[Event]) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check_factor_update(factor)?;
        state.put_factor(factor.clone());
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
        state.put_challenge(challenge.clone());
        state.append(events);
        Ok(())
    }

    async fn get_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
    ) -> Result<Option<Challenge>, StoreError> {
        Ok(self
            .read()
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
        let state = self.read();
        let keep = |c: &&Challenge| {
            c.service_sid() == service && c.entity_sid() == Some(entity) && filter.matches(c, now)
        };
        // Pending ones are stored pending and were created within the longest
        // lifetime: walk only that range of the entity's pending index.
        if let Some(since) = filter.created_since(now) {
            return page_in_order(
                state.pending_created_since(entity, since).filter(keep),
                Listable::list_key,
                query,
            );
        }
        // With a factor filter the factor's index is the smaller list to walk.
        match filter.factor_sid {
            Some(factor) => page_in_order(
                state.challenges_of_factor(factor).filter(keep),
                Listable::list_key,
                query,
            ),
            None => page_in_order(
                state.challenges_of_entity(entity).filter(keep),
                Listable::list_key,
                query,
            ),
        }
    }

    async fn update_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check_challenge_update(challenge)?;
        state.put_challenge(challenge.clone());
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
        state.put_challenge(challenge.clone());
        state.put_factor(factor.clone());
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
        state.put_token(token.clone());
        Ok(())
    }

    async fn get_access_token(
        &self,
        service: ServiceSid,
        sid: AccessTokenSid,
    ) -> Result<Option<AccessToken>, StoreError> {
        Ok(self
            .read()
            .access_tokens
            .get(&sid)
            .filter(|t| t.service_sid() == service)
            .cloned())
    }

    async fn update_access_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.check_token_update(token)?;
        state.put_token(token.clone());
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
        state.put_webhook(webhook.clone());
        Ok(())
    }

    async fn get_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
    ) -> Result<Option<Webhook>, StoreError> {
        Ok(self
            .read()
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
        let state = self.read();
        page_in_order(
            rows(
                state.service_index(service).map(|i| &i.webhooks),
                &state.webhooks,
            ),
            |w| (w.date_created(), *w.sid().as_bytes()),
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
        state.put_webhook(webhook.clone());
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
        state.remove_webhook_row(sid);
        Ok(())
    }

    async fn peek_events(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let state = self.read();
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

    async fn prune_expired(&self, cutoff: UnixTime, limit: usize) -> Result<usize, StoreError> {
        Ok(self.prune_up_to(cutoff, limit))
    }
}

/// How many creations `times` holds at or after `since`.
fn count_since(times: &BTreeMap<UnixTime, usize>, since: UnixTime) -> usize {
    times
        .range(since..)
        .fold(0_usize, |total, (_, &n)| total.saturating_add(n))
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
    fn a_full_outbox_drops_its_oldest_events_and_counts_them() {
        let store = MemoryStore::with_outbox_bound(3);
        let mut rng = ChaCha20Rng::seed_from_u64(81);
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
        for _ in 0..5 {
            store.lock().append(std::slice::from_ref(&event));
        }
        let sequences: Vec<u64> = block_on(store.peek_events(None, 10))
            .unwrap()
            .iter()
            .map(|e| e.sequence)
            .collect();
        assert_eq!(sequences, [3, 4, 5]);
        assert_eq!(store.dropped_events(), 2);
        assert_eq!(MemoryStore::new().dropped_events(), 0);
        assert_eq!(
            MemoryStore::with_outbox_bound(0).lock().outbox_bound,
            Some(1)
        );
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

/// The indexes against the rows after random operations: incremental index updates
/// must equal indexes built from scratch, and every indexed read must answer what a
/// scan of the rows answers (the implementation before the indexes).
#[cfg(test)]
mod index_tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;
    use verify_model::ceremony::{PasskeyCeremony, PasskeyRequestOptions};
    use verify_model::factor::{PasskeyCredential, PushBinding, PushConfig};
    use verify_model::{
        AnswerInput, ChallengeStatus, ChallengeTarget, CredentialSid, Details, NewAccessToken,
        NewChallenge, NewFactor, NotificationPlatform, PageSize, PasskeysConfig, RelyingParty,
        TotpAlgorithm, TotpParams, TotpSecret, UserVerification, VerificationProof,
        WebhookEventType,
    };

    use crate::store::FactorQuota;

    const T0: UnixTime = UnixTime::from_secs(1_767_225_600);
    /// Services, identities and credential ids drawn from (small, so that
    /// operations collide: duplicates, cascades over shared entities).
    const SERVICES: usize = 2;
    const IDENTITIES: usize = 3;
    const CREDENTIALS: usize = 3;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn at(secs: u64) -> UnixTime {
        UnixTime::from_secs(T0.as_secs() + secs)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Entity {
            service: usize,
            identity: usize,
        },
        Factor {
            entity: usize,
            kind: u8,
            quota: bool,
        },
        Verify {
            factor: usize,
            credential: usize,
        },
        Challenge {
            factor: usize,
            secs: u64,
        },
        Discoverable {
            service: usize,
            secs: u64,
        },
        EntityPasskeys {
            entity: usize,
            secs: u64,
        },
        Answer {
            challenge: usize,
            factor: usize,
            how: u8,
            secs: u64,
        },
        DeleteFactor {
            factor: usize,
        },
        DeleteEntity {
            entity: usize,
        },
        DeleteService {
            service: usize,
        },
        Token {
            service: usize,
            identity: usize,
        },
        Redeem {
            token: usize,
        },
        Webhook {
            service: usize,
        },
        DeleteWebhook {
            webhook: usize,
        },
        Prune {
            secs: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let n = 0_usize..16;
        let secs = 0_u64..900;
        prop_oneof![
            3 => (0..SERVICES, 0..IDENTITIES)
                .prop_map(|(service, identity)| Op::Entity { service, identity }),
            3 => (n.clone(), 0_u8..3, any::<bool>())
                .prop_map(|(entity, kind, quota)| Op::Factor { entity, kind, quota }),
            3 => (n.clone(), 0..CREDENTIALS)
                .prop_map(|(factor, credential)| Op::Verify { factor, credential }),
            4 => (n.clone(), secs.clone())
                .prop_map(|(factor, secs)| Op::Challenge { factor, secs }),
            1 => (0..SERVICES, secs.clone())
                .prop_map(|(service, secs)| Op::Discoverable { service, secs }),
            1 => (n.clone(), secs.clone())
                .prop_map(|(entity, secs)| Op::EntityPasskeys { entity, secs }),
            4 => (n.clone(), n.clone(), 0_u8..3, secs.clone()).prop_map(
                |(challenge, factor, how, secs)| Op::Answer { challenge, factor, how, secs }
            ),
            1 => n.clone().prop_map(|factor| Op::DeleteFactor { factor }),
            1 => n.clone().prop_map(|entity| Op::DeleteEntity { entity }),
            1 => (0..SERVICES).prop_map(|service| Op::DeleteService { service }),
            1 => (0..SERVICES, 0..IDENTITIES)
                .prop_map(|(service, identity)| Op::Token { service, identity }),
            1 => n.clone().prop_map(|token| Op::Redeem { token }),
            1 => (0..SERVICES).prop_map(|service| Op::Webhook { service }),
            1 => n.prop_map(|webhook| Op::DeleteWebhook { webhook }),
            1 => secs.prop_map(|secs| Op::Prune { secs }),
        ]
    }

    /// Everything created so far (deleted or not: operations on deleted records
    /// must fail without touching the indexes).
    struct World {
        store: MemoryStore,
        rng: ChaCha20Rng,
        services: Vec<Service>,
        entities: Vec<Entity>,
        factors: Vec<FactorSid>,
        challenges: Vec<ChallengeSid>,
        tokens: Vec<AccessToken>,
        webhooks: Vec<Webhook>,
    }

    fn pick<T>(items: &[T], index: usize) -> Option<&T> {
        items.get(index.checked_rem(items.len())?)
    }

    fn ceremony(user_handle: Option<&[u8]>) -> PasskeyCeremony {
        let options = PasskeyRequestOptions::new(
            b"YC0".to_vec(),
            300_000,
            "example.com".to_owned(),
            Vec::new(),
            UserVerification::Preferred,
        );
        PasskeyCeremony::new(options, user_handle.map(<[u8]>::to_vec))
    }

    fn credential(n: usize) -> PasskeyCredential {
        PasskeyCredential::new(
            format!("cred-{n}").into_bytes(),
            vec![0xa5; 77],
            -7,
            0,
            Vec::new(),
            false,
            false,
            [0; 16],
            "none",
            true,
        )
        .unwrap()
    }

    impl World {
        fn new(seed: u64) -> Self {
            let store = MemoryStore::new();
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let services: Vec<Service> = (0..SERVICES)
                .map(|i| Service::create(&format!("Service {i}"), T0, &mut rng).unwrap())
                .collect();
            for service in &services {
                block_on(store.insert_service(service)).unwrap();
            }
            Self {
                store,
                rng,
                services,
                entities: Vec::new(),
                factors: Vec::new(),
                challenges: Vec::new(),
                tokens: Vec::new(),
                webhooks: Vec::new(),
            }
        }

        /// The stored factor `index` names, if it is still there.
        fn factor(&self, index: usize) -> Option<Factor> {
            let sid = *pick(&self.factors, index)?;
            self.store.read().factors.get(&sid).cloned()
        }

        fn challenge(&self, index: usize) -> Option<Challenge> {
            let sid = *pick(&self.challenges, index)?;
            self.store.read().challenges.get(&sid).cloned()
        }

        /// Applies `op`; store errors are expected (stale or deleted records,
        /// duplicates, quotas) and ignored: only the indexes are under test.
        #[expect(clippy::too_many_lines, reason = "one arm per operation")]
        fn apply(&mut self, op: &Op) {
            let store = self.store.clone();
            match *op {
                Op::Entity { service, identity } => {
                    let service = self.services[service].sid();
                    let identity = Identity::parse(&format!("user-{identity:04}")).unwrap();
                    let entity = Entity::create(service, identity, T0, &mut self.rng);
                    let _ = block_on(store.insert_entity(&entity));
                    self.entities.push(entity);
                }
                Op::Factor {
                    entity,
                    kind,
                    quota,
                } => {
                    let Some(entity) = pick(&self.entities, entity).cloned() else {
                        return;
                    };
                    let new = NewFactor::new(
                        entity.service_sid(),
                        entity.sid(),
                        entity.identity().clone(),
                        "Factor",
                    );
                    let kind = match kind {
                        0 => FactorKind::totp(
                            TotpSecret::generate(&mut self.rng),
                            TotpAlgorithm::default(),
                            TotpParams::default(),
                        ),
                        1 => {
                            let mut der = vec![
                                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                0x07, 0x03, 0x42, 0x00, 0x04,
                            ];
                            der.extend_from_slice(&[0x42; 64]);
                            let config = PushConfig::new(
                                "com.example.app",
                                NotificationPlatform::None,
                                None,
                                Some("1.0.0"),
                                CredentialSid::generate(&mut self.rng),
                            )
                            .unwrap();
                            FactorKind::push(PushBinding::from_spki_der(&der).unwrap(), config)
                        }
                        _ => {
                            let rp = RelyingParty::new(
                                "example.com",
                                "Example",
                                vec!["https://example.com".to_owned()],
                            )
                            .unwrap();
                            FactorKind::passkeys(PasskeysConfig::new(rp))
                        }
                    };
                    let created = Factor::create(new, kind, T0, &mut self.rng).unwrap();
                    let mut insert = FactorInsert::new(&created.factor, &created.events);
                    if quota {
                        insert = insert.with_quota(FactorQuota::new(2, T0, 3));
                    }
                    let _ = block_on(store.insert_factor(insert));
                    self.factors.push(created.factor.sid());
                }
                Op::Verify {
                    factor,
                    credential: n,
                } => {
                    let Some(factor) = self.factor(factor) else {
                        return;
                    };
                    let proof = match factor.factor_type() {
                        FactorType::Totp => VerificationProof::TotpStep(1),
                        FactorType::Push => VerificationProof::PushSignature,
                        _ => VerificationProof::Passkey(credential(n)),
                    };
                    if let Ok(verified) = factor.verify(proof, at(1)) {
                        let _ = block_on(store.update_factor(&verified.factor, &verified.events));
                    }
                }
                Op::Challenge { factor, secs } => {
                    let Some(factor) = self.factor(factor) else {
                        return;
                    };
                    let mut input = NewChallenge::new();
                    match factor.factor_type() {
                        FactorType::Push => {
                            input =
                                input.with_details(Details::new("Sign in?", Vec::new()).unwrap());
                        }
                        FactorType::Passkeys => input = input.with_passkey(ceremony(Some(b"YE0"))),
                        _ => {}
                    }
                    // Some live the longest lifetime: still pending an hour later.
                    if secs % 3 == 0 {
                        input.expiration_date =
                            Some(at(secs).saturating_add(verify_model::limits::MAX_CHALLENGE_TTL));
                    }
                    let target = ChallengeTarget::Factor(&factor);
                    if let Ok(created) = Challenge::create(target, input, at(secs), &mut self.rng) {
                        let _ = block_on(store.insert_challenge(&created.challenge, &[]));
                        self.challenges.push(created.challenge.sid());
                    }
                }
                Op::Discoverable { service, secs } => {
                    let target = ChallengeTarget::DiscoverablePasskey(self.services[service].sid());
                    let input = NewChallenge::new().with_passkey(ceremony(None));
                    let created =
                        Challenge::create(target, input, at(secs), &mut self.rng).unwrap();
                    let _ = block_on(store.insert_challenge(&created.challenge, &[]));
                    self.challenges.push(created.challenge.sid());
                }
                Op::EntityPasskeys { entity, secs } => {
                    let Some(entity) = pick(&self.entities, entity).cloned() else {
                        return;
                    };
                    let target = ChallengeTarget::EntityPasskeys(&entity);
                    let input = NewChallenge::new().with_passkey(ceremony(Some(b"YE0")));
                    let created =
                        Challenge::create(target, input, at(secs), &mut self.rng).unwrap();
                    let _ = block_on(store.insert_challenge(&created.challenge, &[]));
                    self.challenges.push(created.challenge.sid());
                }
                Op::Answer {
                    challenge,
                    factor,
                    how,
                    secs,
                } => {
                    let Some(challenge) = self.challenge(challenge) else {
                        return;
                    };
                    let now = at(secs);
                    let factor = self.factor(factor);
                    match (how, factor) {
                        // A passkey answer binds an open challenge to the factor.
                        (0, Some(factor)) if factor.factor_type() == FactorType::Passkeys => {
                            if let Ok(paired) = challenge.approve_passkey(&factor, 1, false, now) {
                                let _ = match paired.factor {
                                    Some(f) => block_on(
                                        store.update_challenge_and_factor(&paired.challenge, &f),
                                    ),
                                    None => block_on(store.update_challenge(
                                        &paired.challenge.challenge,
                                        &paired.challenge.events,
                                    )),
                                };
                            }
                        }
                        (0, Some(factor)) => {
                            let input = AnswerInput::new(now).with_factor(&factor);
                            if let Ok(t) = challenge.approve(&input) {
                                let _ = block_on(store.update_challenge(&t.challenge, &t.events));
                            }
                        }
                        (1, _) => {
                            if let Ok(t) = challenge.record_failed_attempt(now) {
                                let _ = block_on(store.update_challenge(&t.challenge, &t.events));
                            }
                        }
                        _ => {
                            if let Ok(Some(t)) = challenge.poll_expiry(now) {
                                let _ = block_on(store.update_challenge(&t.challenge, &t.events));
                            }
                        }
                    }
                }
                Op::DeleteFactor { factor } => {
                    if let Some(factor) = self.factor(factor) {
                        let _ = block_on(store.delete_factor(
                            factor.service_sid(),
                            factor.sid(),
                            factor.version(),
                            &[],
                        ));
                    }
                }
                Op::DeleteEntity { entity } => {
                    let Some(entity) = pick(&self.entities, entity).cloned() else {
                        return;
                    };
                    let factors: Vec<(FactorSid, u64)> =
                        block_on(store.entity_factors(entity.service_sid(), entity.sid()))
                            .unwrap()
                            .iter()
                            .map(|f| (f.sid(), f.version()))
                            .collect();
                    let _ = block_on(store.delete_entity(
                        entity.service_sid(),
                        entity.sid(),
                        &factors,
                        &[],
                    ));
                }
                Op::DeleteService { service } => {
                    let sid = self.services[service].sid();
                    if let Some(stored) = block_on(store.get_service(sid)).unwrap() {
                        block_on(store.delete_service(sid, stored.version())).unwrap();
                    }
                }
                Op::Token { service, identity } => {
                    let new = NewAccessToken::new(
                        self.services[service].sid(),
                        Identity::parse(&format!("user-{identity:04}")).unwrap(),
                    );
                    if let Ok(token) = AccessToken::issue(new, T0, &mut self.rng) {
                        let _ = block_on(store.insert_access_token(&token));
                        self.tokens.push(token);
                    }
                }
                Op::Redeem { token } => {
                    let Some(token) = pick(&self.tokens, token) else {
                        return;
                    };
                    let stored = block_on(store.get_access_token(token.service_sid(), token.sid()));
                    if let Some(stored) = stored.unwrap()
                        && let Ok(redeemed) = stored.redeem(&stored.token(), at(1))
                    {
                        let _ = block_on(store.update_access_token(&redeemed));
                    }
                }
                Op::Webhook { service } => {
                    let webhook = Webhook::create(
                        self.services[service].sid(),
                        "Events",
                        vec![WebhookEventType::All],
                        "https://hooks.example.com/",
                        T0,
                        &mut self.rng,
                    )
                    .unwrap();
                    let _ = block_on(store.insert_webhook(&webhook));
                    self.webhooks.push(webhook);
                }
                Op::DeleteWebhook { webhook } => {
                    if let Some(webhook) = pick(&self.webhooks, webhook) {
                        let _ =
                            block_on(store.delete_webhook(webhook.service_sid(), webhook.sid(), 0));
                    }
                }
                Op::Prune { secs } => {
                    self.store.prune(at(secs));
                }
            }
        }

        /// Every indexed read against a scan of the rows.
        fn check(&self) -> Result<(), TestCaseError> {
            {
                let state = self.store.read();
                prop_assert_eq!(&Indexes::build(&state), &state.index);
            }
            let state = self.store.read();
            let store = &self.store;
            let now = at(150);
            for service in &self.services {
                let s = service.sid();
                for identity in 0..IDENTITIES {
                    let identity = Identity::parse(&format!("user-{identity:04}")).unwrap();
                    let scanned = state
                        .entities
                        .values()
                        .find(|e| e.service_sid() == s && e.identity() == &identity)
                        .cloned();
                    let indexed = block_on(store.get_entity_by_identity(s, &identity)).unwrap();
                    prop_assert_eq!(indexed, scanned);
                }
                for n in 0..CREDENTIALS {
                    let id = format!("cred-{n}").into_bytes();
                    let scanned = state
                        .factors
                        .values()
                        .find(|f| f.service_sid() == s && credential_id(f) == Some(&id[..]))
                        .cloned();
                    let indexed = block_on(store.find_factor_by_credential_id(s, &id)).unwrap();
                    prop_assert_eq!(indexed, scanned);
                }
                let all_entities: Vec<&Entity> = state
                    .entities
                    .values()
                    .filter(|e| e.service_sid() == s)
                    .collect();
                let listed = list_all(|q| block_on(store.list_entities(s, q)));
                prop_assert_eq!(
                    listed,
                    scanned_list(&all_entities, |e| e.date_created(), |e| *e.sid().as_bytes())
                );
                for entity in &self.entities {
                    let e = entity.sid();
                    let mut scanned: Vec<Factor> = state
                        .factors
                        .values()
                        .filter(|f| f.service_sid() == s && f.entity_sid() == e)
                        .cloned()
                        .collect();
                    scanned.sort_by_key(Listable::list_key);
                    prop_assert_eq!(block_on(store.entity_factors(s, e)).unwrap(), scanned);
                    for factor_type in [FactorType::Totp, FactorType::Push, FactorType::Passkeys] {
                        let scanned = state
                            .factors
                            .values()
                            .filter(|f| f.entity_sid() == e && f.factor_type() == factor_type)
                            .count();
                        prop_assert_eq!(
                            block_on(store.count_factors(e, factor_type)).unwrap(),
                            scanned
                        );
                    }
                    let factor_filters =
                        std::iter::once(None).chain(self.factors.iter().take(4).copied().map(Some));
                    for factor in factor_filters {
                        // Pending also an hour and more later, when the store starts the
                        // list past the challenges too old to be pending (created_since).
                        for (status, now) in [
                            (None, now),
                            (Some(ChallengeStatus::Pending), now),
                            (Some(ChallengeStatus::Pending), at(3_600 + 400)),
                            (Some(ChallengeStatus::Expired), now),
                        ] {
                            let filter = ChallengeFilter::new(factor, status);
                            let matching: Vec<&Challenge> = state
                                .challenges
                                .values()
                                .filter(|c| {
                                    c.service_sid() == s
                                        && c.entity_sid() == Some(e)
                                        && filter.matches(c, now)
                                })
                                .collect();
                            for order in [ListOrder::Asc, ListOrder::Desc] {
                                let pages = pages(order, |q| {
                                    block_on(store.list_challenges(s, e, &filter, q, now))
                                });
                                let expected = scanned_pages(&matching, order);
                                prop_assert_eq!(pages, expected);
                            }
                        }
                    }
                }
            }
            Ok(())
        }
    }

    /// Every item of a list, paging forward two at a time.
    fn list_all<T: Clone>(
        mut list: impl FnMut(&ListQuery) -> Result<Listing<T>, StoreError>,
    ) -> Vec<T> {
        let first = ListQuery::new(ListOrder::Asc, PageSize::new(2).unwrap());
        let mut page = list(&first).unwrap();
        let mut items = std::mem::take(&mut page.items);
        while let Some(token) = page.next_page_token.clone() {
            page = list(&first.clone().with_page_token(token)).unwrap();
            items.append(&mut page.items);
        }
        items
    }

    /// The pages of a list two at a time in `order`: forward from the first page, and
    /// back from the last one by its previous-page token.
    fn pages<T: Clone>(
        order: ListOrder,
        mut list: impl FnMut(&ListQuery) -> Result<Listing<T>, StoreError>,
    ) -> Vec<Listing<T>> {
        let first = ListQuery::new(order, PageSize::new(2).unwrap());
        let mut out = vec![list(&first).unwrap()];
        while let Some(token) = out.last().and_then(|p| p.next_page_token.clone()) {
            out.push(list(&first.clone().with_page_token(token)).unwrap());
        }
        if let Some(token) = out.last().and_then(|p| p.previous_page_token.clone()) {
            out.push(list(&first.with_page_token(token)).unwrap());
        }
        out
    }

    /// What the pre-index implementation answered: `paginate` over every matching
    /// record, paged as [`pages`] pages.
    fn scanned_pages<T: Clone + Listable>(items: &[&T], order: ListOrder) -> Vec<Listing<T>> {
        let owned: Vec<T> = items.iter().map(|&t| t.clone()).collect();
        pages(order, |query| {
            let page = paginate(
                &owned,
                |_| true,
                query.order,
                query.page_size,
                query.page_token.as_ref(),
            )
            .map_err(|_| StoreError::InvalidPageToken)?;
            Ok(Listing::new(
                page.items.into_iter().cloned().collect(),
                page.next_page_token,
                page.previous_page_token,
            ))
        })
    }

    fn scanned_list<T: Clone>(
        items: &[&T],
        date: impl Fn(&T) -> UnixTime,
        sid: impl Fn(&T) -> [u8; 16],
    ) -> Vec<T> {
        let mut sorted: Vec<T> = items.iter().map(|&t| t.clone()).collect();
        sorted.sort_by_key(|t| (date(t), sid(t)));
        sorted
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn indexes_match_a_scan_after_random_operations(
            seed in any::<u64>(),
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let mut world = World::new(seed);
            for op in &ops {
                world.apply(op);
                world.check()?;
            }
        }
    }

    /// Every way out of pending (approved, denied after failed attempts, expired)
    /// takes a challenge out of the pending index, which the random operations
    /// above reach only rarely.
    #[test]
    fn answered_challenges_leave_the_pending_index() {
        for (kind, how) in [(2, 0), (2, 1), (0, 2), (1, 2)] {
            let mut world = World::new(11);
            let mut ops = vec![
                Op::Entity {
                    service: 0,
                    identity: 0,
                },
                Op::Factor {
                    entity: 0,
                    kind,
                    quota: false,
                },
                Op::Verify {
                    factor: 0,
                    credential: 0,
                },
                Op::Challenge { factor: 0, secs: 5 },
            ];
            // Five failed attempts deny a challenge; one answer does the rest.
            let answers = if how == 1 { 5 } else { 1 };
            let secs = if how == 2 { 899 } else { 10 };
            ops.extend((0..answers).map(|_| Op::Answer {
                challenge: 0,
                factor: 0,
                how,
                secs,
            }));
            let entity = {
                world.apply(&ops[0]);
                world.entities[0].sid()
            };
            let pending = |world: &World| {
                world
                    .store
                    .read()
                    .index
                    .entity_pending
                    .get(&entity)
                    .map_or(0, BTreeSet::len)
            };
            for op in &ops[1..4] {
                world.apply(op);
                world.check().unwrap();
            }
            assert_eq!(
                pending(&world),
                1,
                "kind {kind}: the new challenge is pending"
            );
            for op in &ops[4..] {
                world.apply(op);
                world.check().unwrap();
            }
            let state = world.store.read();
            let challenge = state.challenges.values().next().unwrap();
            assert_ne!(
                challenge.state(),
                ChallengeState::Pending,
                "kind {kind}, how {how}"
            );
            drop(state);
            assert_eq!(pending(&world), 0, "kind {kind}, how {how}");
        }
    }

    #[test]
    fn a_deleted_service_leaves_no_index_behind() {
        let mut world = World::new(9);
        for op in [
            Op::Entity {
                service: 0,
                identity: 0,
            },
            Op::Factor {
                entity: 0,
                kind: 2,
                quota: false,
            },
            Op::Verify {
                factor: 0,
                credential: 0,
            },
            Op::Challenge { factor: 0, secs: 5 },
            Op::Discoverable {
                service: 0,
                secs: 6,
            },
            Op::Token {
                service: 0,
                identity: 0,
            },
            Op::Webhook { service: 0 },
            Op::DeleteService { service: 0 },
        ] {
            world.apply(&op);
            world.check().unwrap();
        }
        let state = world.store.read();
        assert!(state.index.by_service.is_empty(), "{:?}", state.index);
        assert!(state.index.entity_factors.is_empty());
        assert!(state.index.entity_challenges.is_empty());
        assert!(state.index.factor_challenges.is_empty());
        assert!(state.index.entity_pending.is_empty());
        assert!(state.index.expirations.is_empty());
        assert_eq!(state.index.services.len(), 1);
    }
}
