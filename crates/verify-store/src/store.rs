//! The [`Store`] trait and the values its methods take and return.

use verify_model::{
    AccessToken, AccessTokenSid, Challenge, ChallengeFilter, ChallengeSid, ChallengeTransition,
    Entity, EntitySid, Event, Factor, FactorSid, FactorTransition, FactorType, Identity, ListOrder,
    PageSize, PageToken, Service, ServiceSid, UnixTime, Webhook, WebhookSid,
};

use crate::error::StoreError;

/// How to page a list: order by `(date_created, sid)`, page size, and the token of
/// the page to return (the first page without one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListQuery {
    /// Ascending (default) or descending.
    pub order: ListOrder,
    /// Items per page (1..=1000, default 50).
    pub page_size: PageSize,
    /// The page to return: a token from an earlier [`Listing`] of the same list
    /// and order.
    pub page_token: Option<PageToken>,
}

impl ListQuery {
    /// The first page in `order` with `page_size` items.
    #[must_use]
    pub const fn new(order: ListOrder, page_size: PageSize) -> Self {
        Self {
            order,
            page_size,
            page_token: None,
        }
    }

    /// The same query for the page `token` names.
    #[must_use]
    pub fn with_page_token(mut self, token: PageToken) -> Self {
        self.page_token = Some(token);
        self
    }
}

/// One page of a list, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The token of the next page, when there are more items.
    pub next_page_token: Option<PageToken>,
    /// The token of the previous page, when there are earlier items.
    pub previous_page_token: Option<PageToken>,
}

impl<T> Listing<T> {
    /// A page of `items` with its neighbours' tokens.
    #[must_use]
    pub const fn new(
        items: Vec<T>,
        next_page_token: Option<PageToken>,
        previous_page_token: Option<PageToken>,
    ) -> Self {
        Self {
            items,
            next_page_token,
            previous_page_token,
        }
    }
}

/// The per-entity factor quotas a [`FactorInsert`] checks inside its atomic write,
/// so that concurrent creates cannot together exceed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FactorQuota {
    /// At most this many factors of the new factor's type per entity, the new one
    /// included (20 push, 100 TOTP: [`FactorType::max_per_entity`]).
    pub max_of_type: usize,
    /// Start of the creation-rate window (`now - 24 h`).
    pub window_start: UnixTime,
    /// At most this many factors created for the entity at or after `window_start`,
    /// the new one included, counting factors deleted since (100 per day).
    pub max_created_in_window: usize,
}

impl FactorQuota {
    /// A quota of `max_of_type` factors of the type, and `max_created_in_window`
    /// creations since `window_start`.
    #[must_use]
    pub const fn new(
        max_of_type: usize,
        window_start: UnixTime,
        max_created_in_window: usize,
    ) -> Self {
        Self {
            max_of_type,
            window_start,
            max_created_in_window,
        }
    }
}

/// One atomic factor creation: the factor, the quota to check, optionally the
/// enrollment access token it redeems (a compare-and-set on the token), and the
/// events (`factor.created`). All or nothing.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FactorInsert<'a> {
    /// The new factor (version 0).
    pub factor: &'a Factor,
    /// The quota to enforce, if any.
    pub quota: Option<FactorQuota>,
    /// The access token marked used by [`AccessToken::redeem`] (version + 1), written
    /// with a compare-and-set in the same transaction.
    pub redeemed_token: Option<&'a AccessToken>,
    /// Events for the outbox.
    pub events: &'a [Event],
}

impl<'a> FactorInsert<'a> {
    /// Inserts `factor` and writes `events`, with no quota and no token.
    #[must_use]
    pub const fn new(factor: &'a Factor, events: &'a [Event]) -> Self {
        Self {
            factor,
            quota: None,
            redeemed_token: None,
            events,
        }
    }

    /// Also enforce `quota` atomically.
    #[must_use]
    pub const fn with_quota(mut self, quota: FactorQuota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Also write the redeemed access token (compare-and-set on its version).
    #[must_use]
    pub const fn redeeming(mut self, token: &'a AccessToken) -> Self {
        self.redeemed_token = Some(token);
        self
    }
}

/// An event in the outbox with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxEvent {
    /// Assigned by the store, never reused, and only growing: an event numbered
    /// after another has a higher number, so a reader paging with `after` never
    /// skips one. Within one write, in slice order; an event of a write that
    /// completed before another began, below that one's. (Concurrent writes: in
    /// either order. The SQL stores' docs say when they number: in the write, or
    /// on PostgreSQL when the outbox is read.)
    pub sequence: u64,
    /// The event.
    pub event: Event,
}

impl OutboxEvent {
    /// An event with its sequence number.
    #[must_use]
    pub const fn new(sequence: u64, event: Event) -> Self {
        Self { sequence, event }
    }
}

/// Storage for the verify engine.
///
/// # Contract
///
/// - **Reads** return values as last written (`Ok(None)` when absent). Reads are
///   scoped to a service: a record of another service is absent.
/// - **Inserts** fail with [`StoreError::Duplicate`] on any unique key: the sid of
///   every record, `(service, identity)` for entities, `(service, credential id)`
///   for passkey factors. Nothing is written then.
/// - **Updates** are compare-and-set: `update_x(&new, events)` writes `new` only if
///   the stored row's version is `new.version() - 1` (the model's transitions bump
///   the version by one), else [`StoreError::Conflict`]; a missing row is
///   [`StoreError::NotFound`]. Immutable fields (sid, service, entity, type,
///   `date_created`) must not change ([`StoreError::InvalidWrite`]); the one
///   exception is a usernameless passkey challenge, whose entity, identity and
///   factor go from unset to set when it is approved (to an existing factor of that
///   entity). In SQL:
///   `UPDATE t SET ..., version = $new WHERE sid = $sid AND version = $new - 1`,
///   zero rows -> conflict or not found.
/// - **Deletes** take the version the caller read and are compare-and-set too.
/// - **Events** passed to a write go to the outbox in the same transaction as the
///   write: both happen or neither does. Every method that takes `events` is one
///   transaction.
/// - **Errors** mean nothing was written.
///
/// Every future is `Send`, so the engine runs on any multi-threaded executor.
/// Implementations must not hold a lock across an `.await` they do not control.
pub trait Store: Send + Sync {
    // ---- services --------------------------------------------------------------

    /// Inserts a new service.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the sid exists.
    fn insert_service(
        &self,
        service: &Service,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The service `sid`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_service(
        &self,
        sid: ServiceSid,
    ) -> impl Future<Output = Result<Option<Service>, StoreError>> + Send;

    /// A page of all services.
    ///
    /// # Errors
    /// [`StoreError::InvalidPageToken`] for a token of the other order;
    /// [`StoreError::Backend`].
    fn list_services(
        &self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing<Service>, StoreError>> + Send;

    /// Compare-and-set update of a service.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::InvalidWrite`].
    fn update_service(
        &self,
        service: &Service,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a service at `expected_version` with everything in it: entities,
    /// factors, challenges, access tokens and webhooks. Outbox events already written
    /// stay.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`].
    fn delete_service(
        &self,
        sid: ServiceSid,
        expected_version: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ---- entities --------------------------------------------------------------

    /// Inserts a new entity. Racing first factors of one identity: one insert wins,
    /// the others get [`StoreError::Duplicate`] with [`UniqueKey::Identity`] and
    /// read the winner with [`Store::get_entity_by_identity`].
    ///
    /// # Errors
    /// [`StoreError::Duplicate`]; [`StoreError::NotFound`] when the service does not
    /// exist.
    ///
    /// [`UniqueKey::Identity`]: crate::UniqueKey::Identity
    fn insert_entity(&self, entity: &Entity)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The entity `sid` of `service`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
    ) -> impl Future<Output = Result<Option<Entity>, StoreError>> + Send;

    /// The entity of `service` named `identity`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_entity_by_identity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> impl Future<Output = Result<Option<Entity>, StoreError>> + Send;

    /// A page of a service's entities, ordered by `(date_created, sid)`.
    ///
    /// # Errors
    /// [`StoreError::InvalidPageToken`] for a token of the other order;
    /// [`StoreError::Backend`].
    fn list_entities(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing<Entity>, StoreError>> + Send;

    /// Deletes an entity with its factors and challenges, and writes `events` (one
    /// `factor.deleted` per factor). `factors` lists the entity's factors with the
    /// versions the caller read: if the stored set differs (a factor was created,
    /// changed or deleted since), nothing is deleted and the result is
    /// [`StoreError::Conflict`], so every deleted factor has its event.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Conflict`].
    fn delete_entity(
        &self,
        service: ServiceSid,
        sid: EntitySid,
        factors: &[(FactorSid, u64)],
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ---- factors ---------------------------------------------------------------

    /// Inserts a new factor (see [`FactorInsert`]): checks the quota, redeems the
    /// access token and writes the events, atomically.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] (sid; credential id); [`StoreError::NotFound`] when the
    /// entity (or the redeemed token) does not exist; [`StoreError::QuotaExceeded`];
    /// [`StoreError::Conflict`] when the token was redeemed concurrently.
    fn insert_factor(
        &self,
        insert: FactorInsert<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The factor `sid` of `service`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
    ) -> impl Future<Output = Result<Option<Factor>, StoreError>> + Send;

    /// The verified passkey factor of `service` whose credential id is
    /// `credential_id` (usernameless sign-in).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn find_factor_by_credential_id(
        &self,
        service: ServiceSid,
        credential_id: &[u8],
    ) -> impl Future<Output = Result<Option<Factor>, StoreError>> + Send;

    /// Every factor of an entity, oldest first (at most a few hundred by the quotas).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn entity_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
    ) -> impl Future<Output = Result<Vec<Factor>, StoreError>> + Send;

    /// A page of an entity's factors.
    ///
    /// # Errors
    /// [`StoreError::InvalidPageToken`] for a token of the other order;
    /// [`StoreError::Backend`].
    fn list_factors(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing<Factor>, StoreError>> + Send;

    /// How many factors of `factor_type` the entity has now.
    ///
    /// # Errors
    /// [`StoreError::Backend`] only.
    fn count_factors(
        &self,
        entity: EntitySid,
        factor_type: FactorType,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// How many factors were created for the entity at or after `since`, including
    /// factors deleted since.
    ///
    /// # Errors
    /// [`StoreError::Backend`] only.
    fn count_factor_creations_since(
        &self,
        entity: EntitySid,
        since: UnixTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Compare-and-set update of a factor (verification, TOTP step, sign count,
    /// rename, config) with its events. A passkey credential id that another factor
    /// of the service holds is [`StoreError::Duplicate`].
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::Duplicate`],
    /// [`StoreError::InvalidWrite`].
    fn update_factor(
        &self,
        factor: &Factor,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a factor at `expected_version` with its challenges, and writes
    /// `events` (`factor.deleted`).
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`].
    fn delete_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
        expected_version: u64,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ---- challenges ------------------------------------------------------------

    /// Inserts a new challenge. Its factor (when it names one) must exist.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`]; [`StoreError::NotFound`] for a missing factor or
    /// service.
    fn insert_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The challenge `sid` of `service`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
    ) -> impl Future<Output = Result<Option<Challenge>, StoreError>> + Send;

    /// A page of an entity's challenges matching `filter` (its status read at `now`:
    /// a pending challenge past its expiration date is `expired`).
    ///
    /// # Errors
    /// [`StoreError::InvalidPageToken`] for a token of the other order;
    /// [`StoreError::Backend`].
    fn list_challenges(
        &self,
        service: ServiceSid,
        entity: EntitySid,
        filter: &ChallengeFilter,
        query: &ListQuery,
        now: UnixTime,
    ) -> impl Future<Output = Result<Listing<Challenge>, StoreError>> + Send;

    /// Compare-and-set update of a challenge (a denial, a failed attempt, expiry,
    /// an approval that does not change the factor) with its events.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::InvalidWrite`].
    fn update_challenge(
        &self,
        challenge: &Challenge,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Two compare-and-set updates in one transaction: the transitions of a challenge
    /// and its factor (an approval that uses up a TOTP step or advances a passkey
    /// sign count), each record with its events, the challenge's first. Both
    /// versions must match or nothing is written. The challenge must name the
    /// factor (`challenge.factor_sid() == Some(factor.sid())`).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] naming whichever record changed,
    /// [`StoreError::NotFound`], [`StoreError::InvalidWrite`].
    fn update_challenge_and_factor(
        &self,
        challenge: &ChallengeTransition,
        factor: &FactorTransition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ---- access tokens ---------------------------------------------------------

    /// Inserts a new enrollment access token.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`]; [`StoreError::NotFound`] for a missing service.
    fn insert_access_token(
        &self,
        token: &AccessToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The access token `sid` of `service`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_access_token(
        &self,
        service: ServiceSid,
        sid: AccessTokenSid,
    ) -> impl Future<Output = Result<Option<AccessToken>, StoreError>> + Send;

    /// Compare-and-set update of an access token (redeemed without creating a
    /// factor; with a factor, use [`FactorInsert::redeeming`]).
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::InvalidWrite`].
    fn update_access_token(
        &self,
        token: &AccessToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ---- webhooks --------------------------------------------------------------

    /// Inserts a new webhook.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`]; [`StoreError::NotFound`] for a missing service.
    fn insert_webhook(
        &self,
        webhook: &Webhook,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The webhook `sid` of `service`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] / [`StoreError::Backend`] only.
    fn get_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
    ) -> impl Future<Output = Result<Option<Webhook>, StoreError>> + Send;

    /// A page of a service's webhooks.
    ///
    /// # Errors
    /// [`StoreError::InvalidPageToken`]; [`StoreError::Backend`].
    fn list_webhooks(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Listing<Webhook>, StoreError>> + Send;

    /// Compare-and-set update of a webhook.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::InvalidWrite`].
    fn update_webhook(
        &self,
        webhook: &Webhook,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a webhook at `expected_version`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`].
    fn delete_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
        expected_version: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // ---- outbox ----------------------------------------------------------------

    /// Up to `limit` undelivered events with a sequence above `after` (all when
    /// `None`), in sequence order, without removing them (at-least-once delivery:
    /// deliver, then [`Store::ack_events`]).
    ///
    /// # Errors
    /// [`StoreError::Backend`] only.
    fn peek_events(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEvent>, StoreError>> + Send;

    /// Removes every event with a sequence at or below `through`; returns how many
    /// were removed. Acknowledging twice is harmless.
    ///
    /// # Errors
    /// [`StoreError::Backend`] only.
    fn ack_events(&self, through: u64) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Removes and returns up to `limit` of the oldest events, in sequence order.
    /// Concurrent drains never return one event twice (at-most-once delivery).
    ///
    /// # Errors
    /// [`StoreError::Backend`] only.
    fn drain_events(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEvent>, StoreError>> + Send;

    // ---- retention -------------------------------------------------------------

    /// Removes up to `limit` challenges whose expiration date is at or before
    /// `cutoff` (answered ones, and pending ones past their expiry whether or not
    /// their expiry was written), oldest expiration first, and every factor creation
    /// time before `cutoff` that the daily creation quota kept. Returns how many
    /// challenges were removed; call again while it returns `limit`.
    ///
    /// Pass a cutoff at least a day in the past, or the daily quota would forget
    /// creations it still counts (the engine's `prune_expired` takes a retention of
    /// at least a day). A host that wants every `challenge.expired` event expires
    /// challenges before they are pruned.
    ///
    /// # Errors
    /// [`StoreError::Backend`] only.
    fn prune_expired(
        &self,
        cutoff: UnixTime,
        limit: usize,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}
