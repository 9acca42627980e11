//! [`Challenge`]: one sign-in or approval request, and its state machine
//! `pending → approved | denied | expired`.
//!
//! | transition | from | to | event | outcome |
//! |---|---|---|---|---|
//! | [`Challenge::create`] | — | pending | — | [`ChallengeOutcome::Created`] |
//! | [`Challenge::approve`] | pending | approved | `challenge.approved` | [`ChallengeOutcome::Approved`] |
//! | [`Challenge::deny`] | pending | denied | `challenge.denied` | [`ChallengeOutcome::Denied`] |
//! | [`Challenge::record_failed_attempt`] | pending | pending, attempts + 1 | — | [`ChallengeOutcome::Rejected`] |
//! | [`Challenge::record_reused_code`] | pending | pending, attempts + 1 | — | [`ChallengeOutcome::CodeAlreadyUsed`] |
//! | either of the above (5th) | pending | denied | `challenge.denied` | [`ChallengeOutcome::AttemptsExhausted`] |
//! | any of the above at `now >= expiration_date` | pending | expired | `challenge.expired` | [`ChallengeOutcome::Expired`] |
//! | [`Challenge::poll_expiry`] | pending, due | expired | `challenge.expired` | [`ChallengeOutcome::Expired`] |
//!
//! Rules:
//! - Approved, denied and expired are terminal: every transition on them is an `Err`
//!   ([`ModelError::ChallengeNotPending`], [`ModelError::ChallengeAttemptsExhausted`]
//!   (60308) or [`ModelError::ChallengeExpired`] (60323)), and `Err` means nothing
//!   changed.
//! - Expiry is checked first, from `now`: a pending challenge at or past its
//!   `expiration_date` reads as expired ([`Challenge::status_at`]) and any transition
//!   on it returns the `Expired` transition, which the store persists like any other.
//! - Each transition returns the new value with `version` + 1; the store writes it
//!   with compare-and-set on the old version, so two servers can never both approve.
//! - The cryptographic check (TOTP code, push signature, passkey assertion) happens in
//!   the factor's crate before [`Challenge::approve`]; a failed check is recorded with
//!   [`Challenge::record_failed_attempt`] (TOTP) or changes nothing (push: 60324).

use serde::{Deserialize, Serialize};

pub use crate::ceremony::PasskeyCeremony;
use crate::config::string_enum;
use crate::error::{Field, ModelError, check_len};
use crate::event::{Event, EventType};
use crate::factor::{Factor, FactorTransition, FactorType, next_version};
use crate::id::{ChallengeSid, EntitySid, FactorSid, ServiceSid};
use crate::identity::Identity;
use crate::limits::{DEFAULT_CHALLENGE_TTL, MAX_CHALLENGE_ATTEMPTS, MAX_CHALLENGE_TTL};
use crate::service::Entity;
use crate::text::{Details, StringMap};
use crate::time::UnixTime;
pub use crate::type_and_status::ChallengeStatus;

string_enum!(@from_str ChallengeStatus, Field::ChallengeStatus);

impl ChallengeStatus {
    /// Whether no transition leaves this status.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

string_enum!(
    /// A challenge's `responded_reason`.
    RespondedReason, Field::RespondedReason, {
        /// The default.
        None => "none",
        /// Approved without asking the user (silent device approval).
        NotNeeded => "not_needed",
        /// Answered without the user being asked.
        NotRequested => "not_requested",
    }
);

/// Why a challenge ended denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DenialCause {
    /// The user (device) denied it.
    Responded,
    /// [`MAX_CHALLENGE_ATTEMPTS`] wrong answers were recorded.
    AttemptsExhausted,
}

/// A challenge's state, with the data only that state has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChallengeState {
    /// Waiting for an answer.
    Pending,
    /// Approved at `date_responded`.
    Approved {
        /// When it was approved.
        date_responded: UnixTime,
    },
    /// Denied at `date_responded`.
    Denied {
        /// When it was denied.
        date_responded: UnixTime,
        /// Why.
        cause: DenialCause,
    },
    /// Expired (recorded by a transition at or after `expiration_date`).
    Expired,
}

impl ChallengeState {
    /// The stored status (without applying expiry: see [`Challenge::status_at`]).
    #[must_use]
    pub const fn status(self) -> ChallengeStatus {
        match self {
            Self::Pending => ChallengeStatus::Pending,
            Self::Approved { .. } => ChallengeStatus::Approved,
            Self::Denied { .. } => ChallengeStatus::Denied,
            Self::Expired => ChallengeStatus::Expired,
        }
    }
}

/// The `ttl` of a push notification re-send for a pending challenge: 0..=300 s,
/// default 300.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NotificationTtl(u64);

impl NotificationTtl {
    /// Checks `ttl` against 0..=[`MAX_NOTIFICATION_TTL`](crate::limits::MAX_NOTIFICATION_TTL)
    /// (whole seconds).
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] naming `notification.ttl`.
    pub const fn new(ttl: std::time::Duration) -> Result<Self, ModelError> {
        let max = crate::limits::MAX_NOTIFICATION_TTL.as_secs();
        let secs = ttl.as_secs();
        if secs > max {
            return Err(ModelError::ValueOutOfRange {
                field: Field::NotificationTtl,
                min: 0,
                max,
                value: secs,
            });
        }
        Ok(Self(secs))
    }

    /// The lifetime.
    #[must_use]
    pub const fn get(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

impl Default for NotificationTtl {
    fn default() -> Self {
        Self(crate::limits::MAX_NOTIFICATION_TTL.as_secs())
    }
}

impl<'de> Deserialize<'de> for NotificationTtl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let secs = u64::deserialize(deserializer)?;
        Self::new(std::time::Duration::from_secs(secs)).map_err(serde::de::Error::custom)
    }
}

/// What kind of challenge this is, with the data only that kind has.
///
/// Its serde form is tagged by `factor_type`, the field earlier records carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "factor_type")]
#[non_exhaustive]
pub enum ChallengeKind {
    /// A code from an authenticator app answers it.
    #[serde(rename = "totp")]
    Totp,
    /// A registered device signs the answer; `details` are shown to the user.
    #[serde(rename = "push")]
    Push {
        /// What the device shows (`details.message` is required for push).
        details: Details,
    },
    /// A WebAuthn assertion answers it.
    #[serde(rename = "passkeys")]
    Passkeys(PasskeyCeremony),
}

impl ChallengeKind {
    /// The factor type that answers this kind.
    #[must_use]
    pub const fn factor_type(&self) -> FactorType {
        match self {
            Self::Totp => FactorType::Totp,
            Self::Push { .. } => FactorType::Push,
            Self::Passkeys(_) => FactorType::Passkeys,
        }
    }
}

/// Whom a challenge asks: one factor of a known entity, any passkey of a known entity,
/// or (discoverable sign-in) whoever's passkey answers. An answered passkey challenge
/// names the factor that answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChallengeSubject {
    /// One factor of an entity.
    Factor {
        /// The entity.
        entity_sid: EntitySid,
        /// The entity's identity.
        identity: Identity,
        /// The factor.
        factor_sid: FactorSid,
    },
    /// Any verified passkey of an entity (until one answers).
    EntityPasskeys {
        /// The entity.
        entity_sid: EntitySid,
        /// The entity's identity.
        identity: Identity,
    },
    /// Any discoverable passkey of the service (until one answers).
    Discoverable,
}

impl ChallengeSubject {
    /// Whether the subject is still open (no factor named yet).
    #[must_use]
    pub const fn is_open(&self) -> bool {
        !matches!(self, Self::Factor { .. })
    }
}

/// What a challenge is for: a factor, any passkey of an entity, or a discoverable
/// (usernameless) passkey sign-in where the credential names the user.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ChallengeTarget<'a> {
    /// A verified factor of a known entity.
    Factor(&'a Factor),
    /// A passkey sign-in of a known entity that any of its verified passkeys may
    /// answer: the challenge holds the entity and identity, and its `factor_sid` is
    /// set to the passkey that approves it (as for a discoverable challenge). A
    /// factor of another entity is refused ([`ModelError::ChallengeFactorMismatch`]).
    EntityPasskeys(&'a Entity),
    /// A usernameless passkey sign-in for `service_sid`.
    DiscoverablePasskey(ServiceSid),
}

/// The request-side fields of [`Challenge::create`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NewChallenge {
    /// Requested `expiration_date` (default now + 5 min, at most now + 60 min).
    pub expiration_date: Option<UnixTime>,
    /// `details` shown to the user (required for push: `details.message`).
    pub details: Option<Details>,
    /// `hidden_details`, not shown to the user.
    pub hidden_details: Option<StringMap>,
    /// WebAuthn options and state, required for passkey challenges.
    pub passkey: Option<PasskeyCeremony>,
    /// The sid to create the challenge with, drawn by the caller with
    /// [`ChallengeSid::generate`] (e.g. to embed it in a WebAuthn challenge before
    /// the record exists); a fresh one from the RNG when `None`. The store's unique
    /// key on the sid refuses a duplicate.
    pub sid: Option<ChallengeSid>,
}

impl NewChallenge {
    /// An input with every optional field absent.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// With `details`.
    #[must_use]
    pub fn with_details(mut self, details: Details) -> Self {
        self.details = Some(details);
        self
    }

    /// With `hidden_details`.
    #[must_use]
    pub fn with_hidden_details(mut self, hidden_details: StringMap) -> Self {
        self.hidden_details = Some(hidden_details);
        self
    }

    /// With a requested `expiration_date`.
    #[must_use]
    pub const fn with_expiration_date(mut self, expiration_date: UnixTime) -> Self {
        self.expiration_date = Some(expiration_date);
        self
    }

    /// With the passkey ceremony.
    #[must_use]
    pub fn with_passkey(mut self, passkey: PasskeyCeremony) -> Self {
        self.passkey = Some(passkey);
        self
    }

    /// With a sid the caller drew first ([`ChallengeSid::generate`]).
    #[must_use]
    pub const fn with_sid(mut self, sid: ChallengeSid) -> Self {
        self.sid = Some(sid);
        self
    }
}

/// The input of [`Challenge::approve`] and [`Challenge::deny`]: the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnswerInput<'a> {
    /// The time of the answer.
    pub now: UnixTime,
    /// `responded_reason` to record (default `none`).
    pub responded_reason: RespondedReason,
    /// `metadata` sent by the device with its answer.
    pub metadata: Option<StringMap>,
    /// The factor that answered: required for a discoverable passkey challenge (it
    /// names the entity) and an entity's passkey challenge (it must be one of the
    /// entity's), and must match the challenge's factor otherwise.
    pub factor: Option<&'a Factor>,
}

impl<'a> AnswerInput<'a> {
    /// An answer at `now` with reason `none` and no metadata.
    #[must_use]
    pub const fn new(now: UnixTime) -> Self {
        Self {
            now,
            responded_reason: RespondedReason::None,
            metadata: None,
            factor: None,
        }
    }

    /// With the answering factor.
    #[must_use]
    pub const fn with_factor(mut self, factor: &'a Factor) -> Self {
        self.factor = Some(factor);
        self
    }

    /// With a responded reason.
    #[must_use]
    pub const fn with_responded_reason(mut self, reason: RespondedReason) -> Self {
        self.responded_reason = reason;
        self
    }

    /// With device metadata.
    #[must_use]
    pub fn with_metadata(mut self, metadata: StringMap) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// What a challenge transition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeOutcome {
    /// The challenge was created.
    Created,
    /// Approved.
    Approved,
    /// Denied by the answer.
    Denied,
    /// A wrong answer was recorded; the challenge stays pending.
    Rejected {
        /// Failed attempts so far.
        failed_attempts: u32,
        /// Attempts left before the challenge is denied.
        remaining: u32,
    },
    /// The TOTP code was right for a time step the factor already used (a replayed
    /// or shared code, or one a concurrent request accepted first). It counts as a
    /// failed attempt, exactly as [`Rejected`](Self::Rejected) does, and the
    /// challenge stays pending; it is reported apart so that a user can be told the
    /// code was *already used* (wait for the next one) rather than *wrong*.
    CodeAlreadyUsed {
        /// Failed attempts so far, this one included.
        failed_attempts: u32,
        /// Attempts left before the challenge is denied.
        remaining: u32,
    },
    /// The last allowed wrong answer was recorded: the challenge is now denied (the
    /// engine answers 60308).
    AttemptsExhausted,
    /// The challenge was at or past its expiration date: it is now expired (the
    /// engine answers 60323). Nothing else in the input was applied.
    Expired,
}

/// Why an answer failed, for the outcome it is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailedAnswer {
    Wrong,
    AlreadyUsed,
}

/// The result of a challenge transition: the value to store (compare-and-set on the
/// old `version`), the events to write to the outbox, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "persist the new state and drain its events"]
#[non_exhaustive]
pub struct ChallengeTransition {
    /// The challenge after the transition.
    pub challenge: Challenge,
    /// Events to deliver.
    pub events: Vec<Event>,
    /// What happened.
    pub outcome: ChallengeOutcome,
}

/// The two writes of an answer that also changes the factor (a TOTP code is used
/// up; a passkey's counter advances). The store applies both compare-and-set writes
/// in one transaction, or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "persist both new states atomically and drain their events"]
#[non_exhaustive]
pub struct PairedTransition {
    /// The challenge's transition.
    pub challenge: ChallengeTransition,
    /// The factor's transition, when the factor changes.
    pub factor: Option<FactorTransition>,
}

/// A challenge: one verification attempt of an entity with a factor.
///
/// Built only by [`Challenge::create`] and changed only by its transitions, so every
/// field respects its limit. Its serde form is the storage record (it holds the
/// passkey ceremony and the attempt counter); API responses use
/// [`ChallengeJson`](crate::api::ChallengeJson). Deserializing a record re-checks
/// every invariant ([`ModelError::CorruptRecord`] otherwise) and reads the record
/// shape of release 0.1.0 as well (flat `factor_type`, `entity_sid`, `identity`,
/// `factor_sid`, `details` and a `passkey` of JSON trees).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    sid: ChallengeSid,
    service_sid: ServiceSid,
    subject: ChallengeSubject,
    kind: ChallengeKind,
    date_created: UnixTime,
    date_updated: UnixTime,
    expiration_date: UnixTime,
    state: ChallengeState,
    responded_reason: RespondedReason,
    hidden_details: Option<StringMap>,
    metadata: Option<StringMap>,
    failed_attempts: u32,
    version: u64,
}

/// The storage record as read, before its invariants are checked: today's shape
/// (`subject`, `kind`) or release 0.1.0's flat one.
#[derive(Deserialize)]
struct ChallengeRecord {
    sid: ChallengeSid,
    service_sid: ServiceSid,
    #[serde(default)]
    subject: Option<ChallengeSubject>,
    #[serde(default)]
    kind: Option<ChallengeKind>,
    // Release 0.1.0's fields, in place of `subject` and `kind` (not flattened:
    // serde's flatten buffers the whole record on every load).
    #[serde(default)]
    entity_sid: Option<EntitySid>,
    #[serde(default)]
    identity: Option<Identity>,
    #[serde(default)]
    factor_sid: Option<FactorSid>,
    #[serde(default)]
    factor_type: Option<FactorType>,
    #[serde(default)]
    details: Option<Details>,
    #[serde(default)]
    passkey: Option<LegacyPasskey>,
    date_created: UnixTime,
    date_updated: UnixTime,
    expiration_date: UnixTime,
    state: ChallengeState,
    responded_reason: RespondedReason,
    hidden_details: Option<StringMap>,
    metadata: Option<StringMap>,
    failed_attempts: u32,
    version: u64,
}

/// The fields of a release 0.1.0 record that today's `subject` and `kind` replace.
struct LegacyChallengeFields {
    entity_sid: Option<EntitySid>,
    identity: Option<Identity>,
    factor_sid: Option<FactorSid>,
    factor_type: Option<FactorType>,
    details: Option<Details>,
    passkey: Option<LegacyPasskey>,
}

/// Release 0.1.0's passkey ceremony: the served options as `{"publicKey": ...}` and
/// the WebAuthn crate's state, of which only the user handle is not also in the
/// options (the expiry is now the challenge's own).
#[derive(Deserialize)]
struct LegacyPasskey {
    options: LegacyOptions,
    state: LegacyAuthState,
}

#[derive(Deserialize)]
struct LegacyOptions {
    #[serde(rename = "publicKey")]
    public_key: crate::ceremony::PasskeyRequestOptions,
}

#[derive(Deserialize)]
struct LegacyAuthState {
    #[serde(default, with = "crate::b64url::option")]
    user_handle: Option<Vec<u8>>,
}

impl LegacyChallengeFields {
    fn into_shape(self) -> Result<(ChallengeSubject, ChallengeKind), &'static str> {
        let subject = match (self.entity_sid, self.identity, self.factor_sid) {
            (Some(entity_sid), Some(identity), Some(factor_sid)) => ChallengeSubject::Factor {
                entity_sid,
                identity,
                factor_sid,
            },
            (Some(entity_sid), Some(identity), None) => ChallengeSubject::EntityPasskeys {
                entity_sid,
                identity,
            },
            (None, None, None) => ChallengeSubject::Discoverable,
            _ => return Err("factor and entity known, except for an open passkey challenge"),
        };
        let kind = match (self.factor_type, self.details, self.passkey) {
            (Some(FactorType::Totp), None, None) => ChallengeKind::Totp,
            (Some(FactorType::Push), Some(details), None) => ChallengeKind::Push { details },
            (Some(FactorType::Passkeys), None, Some(passkey)) => ChallengeKind::Passkeys(
                PasskeyCeremony::new(passkey.options.public_key, passkey.state.user_handle),
            ),
            _ => return Err("a factor type with exactly the data of its kind"),
        };
        Ok((subject, kind))
    }
}

impl<'de> Deserialize<'de> for Challenge {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = ChallengeRecord::deserialize(deserializer)?;
        let corrupt = |rule| {
            serde::de::Error::custom(ModelError::CorruptRecord {
                resource: "challenge",
                rule,
            })
        };
        let (subject, kind) = match (r.subject, r.kind) {
            (Some(subject), Some(kind)) => (subject, kind),
            (None, None) => LegacyChallengeFields {
                entity_sid: r.entity_sid,
                identity: r.identity,
                factor_sid: r.factor_sid,
                factor_type: r.factor_type,
                details: r.details,
                passkey: r.passkey,
            }
            .into_shape()
            .map_err(corrupt)?,
            _ => return Err(corrupt("subject and kind stored together")),
        };
        let challenge = Self {
            sid: r.sid,
            service_sid: r.service_sid,
            subject,
            kind,
            date_created: r.date_created,
            date_updated: r.date_updated,
            expiration_date: r.expiration_date,
            state: r.state,
            responded_reason: r.responded_reason,
            hidden_details: r.hidden_details,
            metadata: r.metadata,
            failed_attempts: r.failed_attempts,
            version: r.version,
        };
        challenge
            .check_invariants()
            .map_err(serde::de::Error::custom)?;
        Ok(challenge)
    }
}

impl Challenge {
    /// The invariants every constructor and transition keeps that the types do not.
    fn check_invariants(&self) -> Result<(), ModelError> {
        let corrupt = |rule| ModelError::CorruptRecord {
            resource: "challenge",
            rule,
        };
        if self.expiration_date <= self.date_created
            || self.expiration_date > self.date_created.saturating_add(MAX_CHALLENGE_TTL)
        {
            return Err(corrupt("expiration_date within the allowed lifetime"));
        }
        if self.date_updated < self.date_created
            || self.date_responded().is_some_and(|d| d < self.date_created)
        {
            return Err(corrupt("dates after date_created"));
        }
        let exhausted = matches!(
            self.state,
            ChallengeState::Denied {
                cause: DenialCause::AttemptsExhausted,
                ..
            }
        );
        if self.failed_attempts > MAX_CHALLENGE_ATTEMPTS
            || exhausted != (self.failed_attempts == MAX_CHALLENGE_ATTEMPTS)
        {
            return Err(corrupt("denied exactly when the attempts are exhausted"));
        }
        let answered = matches!(
            self.state,
            ChallengeState::Approved { .. }
                | ChallengeState::Denied {
                    cause: DenialCause::Responded,
                    ..
                }
        );
        match (&self.kind, &self.subject) {
            (_, ChallengeSubject::Factor { .. }) => {}
            (ChallengeKind::Passkeys(ceremony), subject) if !answered => {
                // The identified user's handle exactly when an entity is known.
                let identified = matches!(subject, ChallengeSubject::EntityPasskeys { .. });
                if identified == ceremony.is_discoverable() {
                    return Err(corrupt("a user handle exactly for an identified sign-in"));
                }
            }
            _ => {
                return Err(corrupt(
                    "factor and entity known, except for an open passkey challenge",
                ));
            }
        }
        Ok(())
    }

    /// Creates a pending challenge with a fresh sid (or the one of
    /// [`NewChallenge::with_sid`]). A push challenge's transition carries one
    /// [`EventType::ChallengeCreated`] event: its notification is due.
    ///
    /// # Errors
    /// - [`ModelError::FactorNotVerified`] (60318) for an unverified factor;
    /// - [`ModelError::ExpirationOutOfRange`] unless `now < expiration_date <= now +`
    ///   [`MAX_CHALLENGE_TTL`];
    /// - [`ModelError::MissingField`] for a push challenge without `details`, or a
    ///   passkey challenge without its ceremony;
    /// - [`ModelError::UnexpectedField`] for a ceremony on a non-passkey challenge.
    pub fn create<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        target: ChallengeTarget<'_>,
        input: NewChallenge,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<ChallengeTransition, ModelError> {
        let (service_sid, subject, factor_type) = match target {
            ChallengeTarget::Factor(factor) => {
                factor.check_usable()?;
                (
                    factor.service_sid(),
                    ChallengeSubject::Factor {
                        entity_sid: factor.entity_sid(),
                        identity: factor.identity().clone(),
                        factor_sid: factor.sid(),
                    },
                    factor.factor_type(),
                )
            }
            ChallengeTarget::EntityPasskeys(entity) => (
                entity.service_sid(),
                ChallengeSubject::EntityPasskeys {
                    entity_sid: entity.sid(),
                    identity: entity.identity().clone(),
                },
                FactorType::Passkeys,
            ),
            ChallengeTarget::DiscoverablePasskey(service_sid) => (
                service_sid,
                ChallengeSubject::Discoverable,
                FactorType::Passkeys,
            ),
        };
        let latest = now.saturating_add(MAX_CHALLENGE_TTL);
        let expiration_date = match input.expiration_date {
            None => now.saturating_add(DEFAULT_CHALLENGE_TTL),
            Some(requested) if requested > now && requested <= latest => requested,
            Some(requested) => {
                return Err(ModelError::ExpirationOutOfRange {
                    now,
                    latest,
                    requested,
                });
            }
        };
        let kind = match (factor_type, input.details, input.passkey) {
            (FactorType::Totp, None, None) => ChallengeKind::Totp,
            (FactorType::Push, Some(details), None) => ChallengeKind::Push { details },
            (FactorType::Push, None, _) => {
                return Err(ModelError::MissingField {
                    field: Field::DetailsMessage,
                });
            }
            (FactorType::Passkeys, None, Some(ceremony)) => {
                match (&subject, ceremony.is_discoverable()) {
                    (ChallengeSubject::Discoverable, false) => {
                        return Err(ModelError::UnexpectedField {
                            field: Field::PasskeyUserHandle,
                        });
                    }
                    (ChallengeSubject::EntityPasskeys { .. }, true) => {
                        return Err(ModelError::MissingField {
                            field: Field::PasskeyUserHandle,
                        });
                    }
                    _ => {}
                }
                ChallengeKind::Passkeys(ceremony)
            }
            (FactorType::Passkeys, None, None) => {
                return Err(ModelError::MissingField {
                    field: Field::FactorType,
                });
            }
            // Details are what a push device shows; no other kind shows them.
            (FactorType::Totp | FactorType::Passkeys, Some(_), _) => {
                return Err(ModelError::UnexpectedField {
                    field: Field::DetailsMessage,
                });
            }
            (FactorType::Totp | FactorType::Push, _, Some(_)) => {
                return Err(ModelError::UnexpectedField {
                    field: Field::FactorType,
                });
            }
        };
        let challenge = Self {
            sid: input.sid.unwrap_or_else(|| ChallengeSid::generate(rng)),
            service_sid,
            subject,
            kind,
            date_created: now,
            date_updated: now,
            expiration_date,
            state: ChallengeState::Pending,
            responded_reason: RespondedReason::None,
            hidden_details: input.hidden_details,
            metadata: None,
            failed_attempts: 0,
            version: 0,
        };
        challenge.check_invariants()?;
        // A push challenge's notification is sent from the outbox, after the
        // challenge is stored: a crash between the two loses nothing.
        let events = if challenge.factor_type() == FactorType::Push {
            vec![challenge.event(EventType::ChallengeCreated, now)]
        } else {
            Vec::new()
        };
        Ok(ChallengeTransition {
            challenge,
            events,
            outcome: ChallengeOutcome::Created,
        })
    }

    /// The status as read at `now`: a pending challenge at or past its expiration
    /// date reads `expired`. Terminal statuses never change.
    #[must_use]
    pub fn status_at(&self, now: UnixTime) -> ChallengeStatus {
        match self.state {
            ChallengeState::Pending if now >= self.expiration_date => ChallengeStatus::Expired,
            state => state.status(),
        }
    }

    /// When a pending challenge expires (the host may schedule a
    /// [`Challenge::poll_expiry`] then; nothing requires it).
    #[must_use]
    pub const fn expires_at(&self) -> UnixTime {
        self.expiration_date
    }

    /// The `Expired` transition if the challenge is pending and due at `now`, else
    /// `None`. Calling it early or twice is harmless.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn poll_expiry(&self, now: UnixTime) -> Result<Option<ChallengeTransition>, ModelError> {
        if self.state == ChallengeState::Pending && now >= self.expiration_date {
            self.expire(now).map(Some)
        } else {
            Ok(None)
        }
    }

    fn expire(&self, now: UnixTime) -> Result<ChallengeTransition, ModelError> {
        let mut next = self.bumped(now)?;
        next.state = ChallengeState::Expired;
        let event = next.event(EventType::ChallengeExpired, now);
        Ok(ChallengeTransition {
            challenge: next,
            events: vec![event],
            outcome: ChallengeOutcome::Expired,
        })
    }

    /// Refuses terminal states; returns the expiry transition when pending and due.
    /// Checks, without building a transition, that an answer may still be recorded at
    /// `now`: the challenge is pending (an expired, approved or denied challenge is
    /// refused with the error its answer would get). A pending challenge past its
    /// expiration date passes: the answer's own transition expires it.
    ///
    /// # Errors
    /// [`ModelError::ChallengeExpired`], [`ModelError::ChallengeAttemptsExhausted`],
    /// [`ModelError::ChallengeNotPending`].
    pub fn check_answerable(&self, now: UnixTime) -> Result<(), ModelError> {
        match self.state {
            ChallengeState::Pending => Ok(()),
            _ => self.precheck(now).map(|_| ()),
        }
    }

    fn precheck(&self, now: UnixTime) -> Result<Option<ChallengeTransition>, ModelError> {
        match self.state {
            ChallengeState::Pending => self.poll_expiry(now),
            ChallengeState::Expired => Err(ModelError::ChallengeExpired {
                expired_at: self.expiration_date,
                now,
            }),
            ChallengeState::Denied {
                cause: DenialCause::AttemptsExhausted,
                ..
            } => Err(ModelError::ChallengeAttemptsExhausted {
                limit: MAX_CHALLENGE_ATTEMPTS,
            }),
            state @ (ChallengeState::Approved { .. } | ChallengeState::Denied { .. }) => {
                Err(ModelError::ChallengeNotPending {
                    status: state.status(),
                })
            }
        }
    }

    fn bumped(&self, now: UnixTime) -> Result<Self, ModelError> {
        let mut next = self.clone();
        next.version = next_version(self.version)?;
        next.date_updated = now.max(self.date_updated);
        Ok(next)
    }

    fn event(&self, event_type: EventType, now: UnixTime) -> Event {
        Event {
            event_type,
            service_sid: self.service_sid,
            entity_sid: self.entity_sid(),
            identity: self.identity().cloned(),
            factor_sid: self.factor_sid(),
            factor_type: self.factor_type(),
            challenge_sid: Some(self.sid),
            challenge_status: Some(self.state.status()),
            time: now,
        }
    }

    fn answered(
        &self,
        input: &AnswerInput<'_>,
        state: ChallengeState,
        event_type: EventType,
        outcome: ChallengeOutcome,
    ) -> Result<ChallengeTransition, ModelError> {
        if let Some(expired) = self.precheck(input.now)? {
            return Ok(expired);
        }
        let mut next = self.bumped(input.now)?;
        if let Some(factor) = input.factor {
            next.bind_factor(factor)?;
        } else if self.subject.is_open() {
            return Err(ModelError::MissingField {
                field: Field::FactorType,
            });
        }
        next.state = state;
        next.responded_reason = input.responded_reason;
        if let Some(metadata) = &input.metadata {
            next.metadata = Some(metadata.clone());
        }
        let event = next.event(event_type, input.now);
        Ok(ChallengeTransition {
            challenge: next,
            events: vec![event],
            outcome,
        })
    }

    fn bind_factor(&mut self, factor: &Factor) -> Result<(), ModelError> {
        factor.check_usable()?;
        let expected = self.factor_type();
        if factor.factor_type() != expected {
            return Err(ModelError::FactorTypeMismatch {
                expected,
                got: factor.factor_type(),
            });
        }
        let belongs = factor.service_sid() == self.service_sid
            && match &self.subject {
                ChallengeSubject::Factor { factor_sid, .. } => *factor_sid == factor.sid(),
                ChallengeSubject::EntityPasskeys { entity_sid, .. } => {
                    *entity_sid == factor.entity_sid()
                }
                ChallengeSubject::Discoverable => true,
            };
        if !belongs {
            return Err(ModelError::ChallengeFactorMismatch);
        }
        self.subject = ChallengeSubject::Factor {
            entity_sid: factor.entity_sid(),
            identity: factor.identity().clone(),
            factor_sid: factor.sid(),
        };
        Ok(())
    }

    /// `pending → approved`, emitting `challenge.approved`. At or past the expiration
    /// date it returns the `Expired` transition instead.
    ///
    /// # Errors
    /// [`ModelError::ChallengeNotPending`], [`ModelError::ChallengeExpired`] (60323) or
    /// [`ModelError::ChallengeAttemptsExhausted`] (60308) for a terminal challenge;
    /// [`ModelError::MissingField`] when a discoverable passkey challenge is approved
    /// without naming the factor; [`ModelError::ChallengeFactorMismatch`] /
    /// [`ModelError::FactorTypeMismatch`] when the named factor is not this
    /// challenge's; [`ModelError::FactorNotVerified`] for an unverified factor.
    pub fn approve(&self, input: &AnswerInput<'_>) -> Result<ChallengeTransition, ModelError> {
        self.answered(
            input,
            ChallengeState::Approved {
                date_responded: input.now,
            },
            EventType::ChallengeApproved,
            ChallengeOutcome::Approved,
        )
    }

    /// `pending → denied` by the answer, emitting `challenge.denied`. At or past the
    /// expiration date it returns the `Expired` transition instead.
    ///
    /// # Errors
    /// As [`Challenge::approve`].
    pub fn deny(&self, input: &AnswerInput<'_>) -> Result<ChallengeTransition, ModelError> {
        self.answered(
            input,
            ChallengeState::Denied {
                date_responded: input.now,
                cause: DenialCause::Responded,
            },
            EventType::ChallengeDenied,
            ChallengeOutcome::Denied,
        )
    }

    /// Answers a TOTP challenge with the time step at which `verify-totp` found the
    /// code correct: the factor's `last_used_step` advances and the challenge is
    /// approved. A step at or below the last used one is a replayed code: it is
    /// recorded as a failed attempt (no factor change), as a wrong code is. At or past
    /// the expiration date it returns the `Expired` transition only.
    ///
    /// # Errors
    /// As [`Challenge::approve`]; [`ModelError::FactorTypeMismatch`] for a non-TOTP
    /// factor.
    pub fn approve_totp(
        &self,
        factor: &Factor,
        step: u64,
        now: UnixTime,
    ) -> Result<PairedTransition, ModelError> {
        if let Some(expired) = self.precheck(now)? {
            return Ok(PairedTransition {
                challenge: expired,
                factor: None,
            });
        }
        if factor.factor_type() != FactorType::Totp || !matches!(self.kind, ChallengeKind::Totp) {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Totp,
                got: factor.factor_type(),
            });
        }
        match factor.record_totp_step(step, now) {
            Ok(factor_transition) => Ok(PairedTransition {
                challenge: self.approve(&AnswerInput::new(now).with_factor(factor))?,
                factor: Some(factor_transition),
            }),
            Err(ModelError::TotpStepReused { .. }) => Ok(PairedTransition {
                challenge: self.record_reused_code(now)?,
                factor: None,
            }),
            Err(other) => Err(other),
        }
    }

    /// Answers a passkey challenge after `verify-webauthn` accepted the assertion:
    /// the factor's sign count and backup state are recorded and the challenge is
    /// approved (binding the factor for a discoverable challenge). The factor's
    /// transition is `None` when the use changes nothing it records (a sign count
    /// of 0 that stays 0, the same backup state): there is nothing to write. At or
    /// past the expiration date it returns the `Expired` transition only.
    ///
    /// # Errors
    /// As [`Challenge::approve`] and [`Factor::record_passkey_use`].
    pub fn approve_passkey(
        &self,
        factor: &Factor,
        sign_count: u32,
        backup_state: bool,
        now: UnixTime,
    ) -> Result<PairedTransition, ModelError> {
        if let Some(expired) = self.precheck(now)? {
            return Ok(PairedTransition {
                challenge: expired,
                factor: None,
            });
        }
        let challenge = self.approve(&AnswerInput::new(now).with_factor(factor))?;
        let used = factor.record_passkey_use(sign_count, backup_state, now)?;
        // A use that moves nothing the credential records (a synced passkey's sign
        // count stays 0, its backup state unchanged) would rewrite the factor for a
        // new version and date only: the challenge is written alone.
        let moved = used.factor.kind() != factor.kind();
        Ok(PairedTransition {
            challenge,
            factor: moved.then_some(used),
        })
    }

    /// Records a wrong answer (a wrong TOTP code). The challenge stays pending until
    /// the [`MAX_CHALLENGE_ATTEMPTS`]th, which denies it (`challenge.denied`,
    /// [`ChallengeOutcome::AttemptsExhausted`]). At or past the expiration date it
    /// returns the `Expired` transition instead.
    ///
    /// # Errors
    /// As [`Challenge::approve`] for a terminal challenge.
    pub fn record_failed_attempt(&self, now: UnixTime) -> Result<ChallengeTransition, ModelError> {
        self.record_failure(now, FailedAnswer::Wrong)
    }

    /// Records a TOTP code that was right for a time step the factor already used:
    /// a failed attempt exactly as [`Challenge::record_failed_attempt`] records
    /// one (the same limit, the same denial at the last attempt), whose outcome is
    /// [`ChallengeOutcome::CodeAlreadyUsed`] while the challenge stays pending.
    ///
    /// # Errors
    /// As [`Challenge::record_failed_attempt`].
    pub fn record_reused_code(&self, now: UnixTime) -> Result<ChallengeTransition, ModelError> {
        self.record_failure(now, FailedAnswer::AlreadyUsed)
    }

    fn record_failure(
        &self,
        now: UnixTime,
        answer: FailedAnswer,
    ) -> Result<ChallengeTransition, ModelError> {
        if let Some(expired) = self.precheck(now)? {
            return Ok(expired);
        }
        let mut next = self.bumped(now)?;
        next.failed_attempts = self.failed_attempts.saturating_add(1);
        if next.failed_attempts >= MAX_CHALLENGE_ATTEMPTS {
            next.state = ChallengeState::Denied {
                date_responded: now,
                cause: DenialCause::AttemptsExhausted,
            };
            let event = next.event(EventType::ChallengeDenied, now);
            return Ok(ChallengeTransition {
                challenge: next,
                events: vec![event],
                outcome: ChallengeOutcome::AttemptsExhausted,
            });
        }
        let (failed_attempts, remaining) = (
            next.failed_attempts,
            MAX_CHALLENGE_ATTEMPTS.saturating_sub(next.failed_attempts),
        );
        Ok(ChallengeTransition {
            outcome: match answer {
                FailedAnswer::Wrong => ChallengeOutcome::Rejected {
                    failed_attempts,
                    remaining,
                },
                FailedAnswer::AlreadyUsed => ChallengeOutcome::CodeAlreadyUsed {
                    failed_attempts,
                    remaining,
                },
            },
            challenge: next,
            events: Vec::new(),
        })
    }

    /// Checks an `AuthPayload`'s length for this challenge's factor type: TOTP 3..=8
    /// characters, push at most 5456. Call before any cryptographic work.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] naming `auth_payload`.
    pub fn check_auth_payload(&self, payload: &str) -> Result<(), ModelError> {
        use crate::limits::{
            MAX_PUSH_AUTH_PAYLOAD_LEN, MAX_TOTP_AUTH_PAYLOAD_LEN, MIN_TOTP_AUTH_PAYLOAD_LEN,
        };
        let length = payload.chars().count();
        match self.kind {
            ChallengeKind::Totp => check_len(
                Field::AuthPayload,
                length,
                MIN_TOTP_AUTH_PAYLOAD_LEN,
                MAX_TOTP_AUTH_PAYLOAD_LEN,
            ),
            ChallengeKind::Push { .. } => {
                check_len(Field::AuthPayload, length, 1, MAX_PUSH_AUTH_PAYLOAD_LEN)
            }
            ChallengeKind::Passkeys(_) => Ok(()),
        }
    }

    /// The sid.
    #[must_use]
    pub const fn sid(&self) -> ChallengeSid {
        self.sid
    }

    /// The service.
    #[must_use]
    pub const fn service_sid(&self) -> ServiceSid {
        self.service_sid
    }

    /// Whom the challenge asks.
    #[must_use]
    pub const fn subject(&self) -> &ChallengeSubject {
        &self.subject
    }

    /// The kind, with its data.
    #[must_use]
    pub const fn kind(&self) -> &ChallengeKind {
        &self.kind
    }

    /// The entity (none for an unanswered discoverable passkey challenge).
    #[must_use]
    pub const fn entity_sid(&self) -> Option<EntitySid> {
        match &self.subject {
            ChallengeSubject::Factor { entity_sid, .. }
            | ChallengeSubject::EntityPasskeys { entity_sid, .. } => Some(*entity_sid),
            ChallengeSubject::Discoverable => None,
        }
    }

    /// The entity's identity, when known.
    #[must_use]
    pub const fn identity(&self) -> Option<&Identity> {
        match &self.subject {
            ChallengeSubject::Factor { identity, .. }
            | ChallengeSubject::EntityPasskeys { identity, .. } => Some(identity),
            ChallengeSubject::Discoverable => None,
        }
    }

    /// The factor, when known.
    #[must_use]
    pub const fn factor_sid(&self) -> Option<FactorSid> {
        match &self.subject {
            ChallengeSubject::Factor { factor_sid, .. } => Some(*factor_sid),
            ChallengeSubject::EntityPasskeys { .. } | ChallengeSubject::Discoverable => None,
        }
    }

    /// The factor type.
    #[must_use]
    pub const fn factor_type(&self) -> FactorType {
        self.kind.factor_type()
    }

    /// The stored state (see [`Challenge::status_at`] for the status as read).
    #[must_use]
    pub const fn state(&self) -> ChallengeState {
        self.state
    }

    /// `date_created`.
    #[must_use]
    pub const fn date_created(&self) -> UnixTime {
        self.date_created
    }

    /// `date_updated`.
    #[must_use]
    pub const fn date_updated(&self) -> UnixTime {
        self.date_updated
    }

    /// `date_responded`: when it was approved or denied.
    #[must_use]
    pub const fn date_responded(&self) -> Option<UnixTime> {
        match self.state {
            ChallengeState::Approved { date_responded }
            | ChallengeState::Denied { date_responded, .. } => Some(date_responded),
            ChallengeState::Pending | ChallengeState::Expired => None,
        }
    }

    /// `expiration_date`.
    #[must_use]
    pub const fn expiration_date(&self) -> UnixTime {
        self.expiration_date
    }

    /// `responded_reason`.
    #[must_use]
    pub const fn responded_reason(&self) -> RespondedReason {
        self.responded_reason
    }

    /// `details` (push challenges only).
    #[must_use]
    pub const fn details(&self) -> Option<&Details> {
        match &self.kind {
            ChallengeKind::Push { details } => Some(details),
            ChallengeKind::Totp | ChallengeKind::Passkeys(_) => None,
        }
    }

    /// `hidden_details`.
    #[must_use]
    pub const fn hidden_details(&self) -> Option<&StringMap> {
        self.hidden_details.as_ref()
    }

    /// `metadata` (set by the device when it answers).
    #[must_use]
    pub const fn metadata(&self) -> Option<&StringMap> {
        self.metadata.as_ref()
    }

    /// The passkey ceremony (passkey challenges only).
    #[must_use]
    pub const fn passkey(&self) -> Option<&PasskeyCeremony> {
        match &self.kind {
            ChallengeKind::Passkeys(ceremony) => Some(ceremony),
            ChallengeKind::Totp | ChallengeKind::Push { .. } => None,
        }
    }

    /// Failed attempts so far.
    #[must_use]
    pub const fn failed_attempts(&self) -> u32 {
        self.failed_attempts
    }

    /// The compare-and-set version: 0 at creation, + 1 per transition.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }
}
