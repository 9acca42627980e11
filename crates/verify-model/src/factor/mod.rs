//! [`Factor`]: a passkey, an authenticator app (TOTP) or a push device, and its
//! state machine `unverified → verified`.
//!
//! | transition | from | to | event | errors |
//! |---|---|---|---|---|
//! | [`Factor::create`] | — | unverified | `factor.created` | limits of the input |
//! | [`Factor::verify`] | unverified | verified | `factor.verified` | already verified, expired, attempts exhausted (60310), type mismatch (60369), TOTP step reused |
//! | [`Factor::record_failed_verification`] | unverified | unverified, attempts + 1 | — | as above |
//! | [`Factor::record_totp_step`] | verified TOTP | same, `last_used_step` advanced | — | not verified (60318), step reused |
//! | [`Factor::record_passkey_use`] | verified passkey | same, sign count / backup state updated | — | not verified (60318) |
//! | [`Factor::rename`] | any | same, new friendly name | — | name limits |
//! | [`Factor::update_push_config`] | push | same, new app id / platform / token / SDK version | — | config limits, type mismatch |
//! | [`Factor::update_totp_config`] | TOTP | same, new algorithm / digits / period / skew, last used step converted to the new period | — | type mismatch |
//! | [`Factor::delete`] | any | (gone) | `factor.deleted` | — |
//!
//! Every transition takes `&self` and returns a new value with `version` + 1 (the
//! store's compare-and-set key) and the events it causes; `Err` means nothing
//! changed. An unverified factor older than its service's unverified-factor TTL
//! (1..=24 h, default 24 h) can no longer be verified and should be deleted.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ceremony::PasskeyRegistration;
use crate::config::{NotificationPlatform, PasskeysConfig, TotpAlgorithm, TotpParams, string_enum};
use crate::error::{Field, ModelError, check_len};
use crate::event::{Event, EventType};
use crate::guessing::{GuessPolicy, GuessState};
use crate::id::{EntitySid, FactorSid, ServiceSid};
use crate::identity::Identity;
use crate::limits::{
    DEFAULT_UNVERIFIED_FACTOR_TTL, MAX_FACTOR_CREATIONS_PER_DAY, MAX_FACTOR_FRIENDLY_NAME_LEN,
    MAX_FACTOR_VERIFICATION_ATTEMPTS, MAX_PASSKEY_FACTORS_PER_ENTITY,
    MAX_PASSKEY_FRIENDLY_NAME_LEN, MAX_PUSH_FACTORS_PER_ENTITY, MAX_TOTP_FACTORS_PER_ENTITY,
    MAX_UNVERIFIED_FACTOR_TTL, MIN_UNVERIFIED_FACTOR_TTL,
};
use crate::secret::TotpSecret;
use crate::text::{FriendlyName, StringMap};
use crate::time::UnixTime;
pub use crate::type_and_status::FactorType;

mod passkey;
mod push;
mod totp;

pub use passkey::{PasskeyCredential, PasskeyFactor};
pub use push::{PushBinding, PushConfig, PushFactor};
pub use totp::{TotpFactor, convert_last_step};

string_enum!(@from_str FactorType, Field::FactorType);

impl FactorType {
    /// How many factors of this type one entity may hold (60315).
    #[must_use]
    pub const fn max_per_entity(self) -> usize {
        match self {
            Self::Push => MAX_PUSH_FACTORS_PER_ENTITY,
            Self::Totp => MAX_TOTP_FACTORS_PER_ENTITY,
            Self::Passkeys => MAX_PASSKEY_FACTORS_PER_ENTITY,
        }
    }

    /// The longest friendly name a factor of this type may have.
    #[must_use]
    pub const fn max_friendly_name_len(self) -> usize {
        match self {
            Self::Push | Self::Totp => MAX_FACTOR_FRIENDLY_NAME_LEN,
            Self::Passkeys => MAX_PASSKEY_FRIENDLY_NAME_LEN,
        }
    }
}

string_enum!(
    /// A factor's `status`.
    FactorStatus, Field::FactorStatus, {
        /// Created, not yet proven.
        Unverified => "unverified",
        /// Proven once; usable for challenges.
        Verified => "verified",
    }
);

/// Checks that an entity holding `existing` factors of `factor_type` may create one
/// more.
///
/// # Errors
/// [`ModelError::TooManyFactors`] (60315) when `existing` has reached
/// [`FactorType::max_per_entity`].
pub const fn check_factor_quota(
    factor_type: FactorType,
    existing: usize,
) -> Result<(), ModelError> {
    let limit = factor_type.max_per_entity();
    if existing >= limit {
        Err(ModelError::TooManyFactors {
            factor_type,
            limit,
            count: existing,
        })
    } else {
        Ok(())
    }
}

/// Checks that an entity that created `created_last_24h` factors in the last 24
/// hours may create one more.
///
/// # Errors
/// [`ModelError::TooManyFactorCreations`] (60326) at
/// [`MAX_FACTOR_CREATIONS_PER_DAY`].
pub const fn check_daily_creations(created_last_24h: usize) -> Result<(), ModelError> {
    if created_last_24h >= MAX_FACTOR_CREATIONS_PER_DAY {
        Err(ModelError::TooManyFactorCreations {
            limit: MAX_FACTOR_CREATIONS_PER_DAY,
            count: created_last_24h,
        })
    } else {
        Ok(())
    }
}

/// How long an unverified factor stays verifiable: 1..=24 hours (default 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct UnverifiedFactorTtl(u64);

impl UnverifiedFactorTtl {
    /// Checks `ttl` against [`MIN_UNVERIFIED_FACTOR_TTL`]..=[`MAX_UNVERIFIED_FACTOR_TTL`]
    /// (whole seconds).
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] in seconds.
    pub const fn new(ttl: Duration) -> Result<Self, ModelError> {
        let secs = ttl.as_secs();
        let (min, max) = (
            MIN_UNVERIFIED_FACTOR_TTL.as_secs(),
            MAX_UNVERIFIED_FACTOR_TTL.as_secs(),
        );
        if secs < min || secs > max {
            return Err(ModelError::ValueOutOfRange {
                field: Field::UnverifiedFactorTtl,
                min,
                max,
                value: secs,
            });
        }
        Ok(Self(secs))
    }

    /// The lifetime.
    #[must_use]
    pub const fn get(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

impl Default for UnverifiedFactorTtl {
    fn default() -> Self {
        Self(DEFAULT_UNVERIFIED_FACTOR_TTL.as_secs())
    }
}

impl<'de> Deserialize<'de> for UnverifiedFactorTtl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let secs = u64::deserialize(deserializer)?;
        Self::new(Duration::from_secs(secs)).map_err(serde::de::Error::custom)
    }
}

/// The per-type data of a factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "factor_type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FactorKind {
    /// An authenticator app.
    Totp(TotpFactor),
    /// A push device.
    Push(PushFactor),
    /// A passkey.
    Passkeys(PasskeyFactor),
}

impl FactorKind {
    /// A TOTP factor with a secret (generate one with [`TotpSecret::generate`]), an
    /// algorithm and parameters (defaults: the service's, else sha1 / 6 / 30 / 1).
    #[must_use]
    pub const fn totp(secret: TotpSecret, alg: TotpAlgorithm, params: TotpParams) -> Self {
        Self::Totp(TotpFactor {
            secret,
            alg,
            params,
            last_used_step: None,
            guesses: GuessState::CLEAR,
        })
    }

    /// A push factor with the device's key and its configuration.
    #[must_use]
    pub const fn push(binding: PushBinding, config: PushConfig) -> Self {
        Self::Push(PushFactor {
            binding,
            config,
            notification_token_invalid: false,
        })
    }

    /// A passkey factor awaiting registration under `config`.
    #[must_use]
    pub const fn passkeys(config: PasskeysConfig) -> Self {
        Self::Passkeys(PasskeyFactor {
            config,
            credential: None,
            registration: None,
        })
    }

    /// A passkey factor awaiting registration under `config`, keeping the WebAuthn
    /// crate's registration state so a later request can finish the ceremony.
    #[must_use]
    pub const fn passkeys_registering(
        config: PasskeysConfig,
        registration: PasskeyRegistration,
    ) -> Self {
        Self::Passkeys(PasskeyFactor {
            config,
            credential: None,
            registration: Some(registration),
        })
    }

    /// The factor type.
    #[must_use]
    pub const fn factor_type(&self) -> FactorType {
        match self {
            Self::Totp(_) => FactorType::Totp,
            Self::Push(_) => FactorType::Push,
            Self::Passkeys(_) => FactorType::Passkeys,
        }
    }
}

/// The input of [`Factor::create`] besides the per-type data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewFactor {
    /// The service.
    pub service_sid: ServiceSid,
    /// The entity (created implicitly with its first factor).
    pub entity_sid: EntitySid,
    /// The entity's identity.
    pub identity: Identity,
    /// The friendly name (checked against the type's limit at creation).
    pub friendly_name: String,
    /// `metadata`, set by the device.
    pub metadata: Option<StringMap>,
    /// How long the factor stays verifiable (the service's setting).
    pub unverified_ttl: UnverifiedFactorTtl,
    /// The sid to create the factor with, drawn by the caller with
    /// [`FactorSid::generate`] (e.g. to embed it in a WebAuthn challenge before the
    /// record exists); a fresh one from the RNG when `None`. The store's unique key
    /// on the sid refuses a duplicate.
    pub sid: Option<FactorSid>,
}

impl NewFactor {
    /// An input with no metadata and the default unverified TTL (24 h).
    #[must_use]
    pub fn new(
        service_sid: ServiceSid,
        entity_sid: EntitySid,
        identity: Identity,
        friendly_name: &str,
    ) -> Self {
        Self {
            service_sid,
            entity_sid,
            identity,
            friendly_name: friendly_name.to_owned(),
            metadata: None,
            unverified_ttl: UnverifiedFactorTtl::default(),
            sid: None,
        }
    }

    /// The same input with a sid the caller drew first ([`FactorSid::generate`]).
    #[must_use]
    pub const fn with_sid(mut self, sid: FactorSid) -> Self {
        self.sid = Some(sid);
        self
    }

    /// The same input with `metadata`.
    #[must_use]
    pub fn with_metadata(mut self, metadata: StringMap) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The same input with the service's unverified-factor TTL.
    #[must_use]
    pub const fn with_unverified_ttl(mut self, ttl: UnverifiedFactorTtl) -> Self {
        self.unverified_ttl = ttl;
        self
    }
}

/// What a verification proved, passed to [`Factor::verify`]. The cryptographic check
/// happened in the factor's crate; the model records its result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationProof {
    /// A correct TOTP code for this time step (recorded as `last_used_step`).
    TotpStep(u64),
    /// A valid device signature over the factor sid.
    PushSignature,
    /// A valid registration; its credential record.
    Passkey(PasskeyCredential),
}

impl VerificationProof {
    const fn factor_type(&self) -> FactorType {
        match self {
            Self::TotpStep(_) => FactorType::Totp,
            Self::PushSignature => FactorType::Push,
            Self::Passkey(_) => FactorType::Passkeys,
        }
    }
}

/// What a factor transition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FactorOutcome {
    /// The factor was created.
    Created,
    /// The factor is now verified.
    Verified,
    /// A failed verification was recorded; `remaining` more are allowed.
    Rejected {
        /// Failed attempts so far.
        failed_attempts: u32,
        /// Attempts left before 60310.
        remaining: u32,
    },
    /// The factor's usage data or name changed.
    Updated,
    /// The factor was deleted.
    Deleted,
}

/// The result of a factor transition: the value to store (compare-and-set on the old
/// `version`), the events to write to the outbox, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "persist the new state and drain its events"]
#[non_exhaustive]
pub struct FactorTransition {
    /// The factor after the transition (`version` + 1).
    pub factor: Factor,
    /// Events to deliver.
    pub events: Vec<Event>,
    /// What happened.
    pub outcome: FactorOutcome,
}

/// A reserved TOTP code check ([`Factor::reserve_code_check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "store the reservation before comparing the code"]
#[non_exhaustive]
pub struct CodeCheck {
    /// The factor with the check counted as failed (`version` + 1): store it first.
    pub transition: FactorTransition,
    /// `factor.locked`, when this check, if wrong, starts a lock: write it with the
    /// failed attempt (it is not written when the code is correct).
    pub lock_event: Option<Event>,
}

/// A factor: a passkey, an authenticator app or a push device of one entity.
///
/// Every field is checked at construction ([`Factor::create`]) and on every
/// transition, so an invalid factor cannot exist. Its serde form is the **storage
/// record** (it contains the TOTP secret); API responses use
/// [`FactorJson`](crate::api::FactorJson), which never does. Deserializing a record
/// re-checks every limit and invariant ([`ModelError::CorruptRecord`] otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    sid: FactorSid,
    service_sid: ServiceSid,
    entity_sid: EntitySid,
    identity: Identity,
    friendly_name: FriendlyName,
    status: FactorStatus,
    kind: FactorKind,
    metadata: Option<StringMap>,
    date_created: UnixTime,
    date_updated: UnixTime,
    verification_deadline: UnixTime,
    failed_verification_attempts: u32,
    version: u64,
}

/// The storage record as read, before its invariants are checked.
#[derive(Deserialize)]
struct FactorRecord {
    sid: FactorSid,
    service_sid: ServiceSid,
    entity_sid: EntitySid,
    identity: Identity,
    friendly_name: FriendlyName,
    status: FactorStatus,
    kind: FactorKind,
    metadata: Option<StringMap>,
    date_created: UnixTime,
    date_updated: UnixTime,
    verification_deadline: UnixTime,
    failed_verification_attempts: u32,
    version: u64,
}

impl<'de> Deserialize<'de> for Factor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = FactorRecord::deserialize(deserializer)?;
        let factor = Self {
            sid: r.sid,
            service_sid: r.service_sid,
            entity_sid: r.entity_sid,
            identity: r.identity,
            friendly_name: r.friendly_name,
            status: r.status,
            kind: r.kind,
            metadata: r.metadata,
            date_created: r.date_created,
            date_updated: r.date_updated,
            verification_deadline: r.verification_deadline,
            failed_verification_attempts: r.failed_verification_attempts,
            version: r.version,
        };
        factor
            .check_invariants()
            .map_err(serde::de::Error::custom)?;
        Ok(factor)
    }
}

pub(crate) fn next_version(version: u64) -> Result<u64, ModelError> {
    version.checked_add(1).ok_or(ModelError::VersionExhausted)
}

impl Factor {
    /// Creates an unverified factor with a fresh sid (or the one of
    /// [`NewFactor::with_sid`]), emitting `factor.created`.
    ///
    /// Check the entity's quotas first with [`check_factor_quota`] and
    /// [`check_daily_creations`].
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] / [`ModelError::InvalidCharacters`] when the
    /// friendly name breaks its type's limit (64, or 255 for passkeys).
    pub fn create<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        input: NewFactor,
        kind: FactorKind,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<FactorTransition, ModelError> {
        let factor_type = kind.factor_type();
        let friendly_name = FriendlyName::new(
            Field::FactorFriendlyName,
            &input.friendly_name,
            factor_type.max_friendly_name_len(),
        )?;
        let factor = Self {
            sid: input.sid.unwrap_or_else(|| FactorSid::generate(rng)),
            service_sid: input.service_sid,
            entity_sid: input.entity_sid,
            identity: input.identity,
            friendly_name,
            status: FactorStatus::Unverified,
            kind,
            metadata: input.metadata,
            date_created: now,
            date_updated: now,
            verification_deadline: now.saturating_add(input.unverified_ttl.get()),
            failed_verification_attempts: 0,
            version: 0,
        };
        let event = factor.event(EventType::FactorCreated, now);
        Ok(FactorTransition {
            factor,
            events: vec![event],
            outcome: FactorOutcome::Created,
        })
    }

    /// The invariants every constructor and transition keeps.
    fn check_invariants(&self) -> Result<(), ModelError> {
        let corrupt = |rule| ModelError::CorruptRecord {
            resource: "factor",
            rule,
        };
        let factor_type = self.factor_type();
        check_len(
            Field::FactorFriendlyName,
            self.friendly_name.as_str().chars().count(),
            1,
            factor_type.max_friendly_name_len(),
        )?;
        if self.failed_verification_attempts > MAX_FACTOR_VERIFICATION_ATTEMPTS {
            return Err(corrupt("failed verification attempts within the limit"));
        }
        if self.date_updated < self.date_created || self.verification_deadline < self.date_created {
            return Err(corrupt("dates after date_created"));
        }
        let verified = self.status == FactorStatus::Verified;
        match &self.kind {
            FactorKind::Totp(totp) if !verified && totp.last_used_step.is_some() => {
                Err(corrupt("an unverified TOTP factor has no used step"))
            }
            FactorKind::Passkeys(passkey) => match &passkey.credential {
                Some(credential) if verified => credential.check(),
                None if !verified => Ok(()),
                _ => Err(corrupt(
                    "a passkey factor has a credential exactly when verified",
                )),
            },
            FactorKind::Totp(_) | FactorKind::Push(_) => Ok(()),
        }
    }

    fn event(&self, event_type: EventType, now: UnixTime) -> Event {
        Event {
            event_type,
            service_sid: self.service_sid,
            entity_sid: Some(self.entity_sid),
            identity: Some(self.identity.clone()),
            factor_sid: Some(self.sid),
            factor_type: self.factor_type(),
            challenge_sid: None,
            challenge_status: None,
            time: now,
        }
    }

    fn bumped(&self, now: UnixTime) -> Result<Self, ModelError> {
        let mut next = self.clone();
        next.version = next_version(self.version)?;
        next.date_updated = now.max(self.date_updated);
        Ok(next)
    }

    /// Checks the factor may still be verified at `now`.
    fn check_verifiable(&self, now: UnixTime) -> Result<(), ModelError> {
        if self.status == FactorStatus::Verified {
            return Err(ModelError::FactorAlreadyVerified);
        }
        if now >= self.verification_deadline {
            return Err(ModelError::FactorExpired {
                expired_at: self.verification_deadline,
                now,
            });
        }
        if self.failed_verification_attempts >= MAX_FACTOR_VERIFICATION_ATTEMPTS {
            return Err(ModelError::FactorVerificationAttemptsExhausted {
                limit: MAX_FACTOR_VERIFICATION_ATTEMPTS,
            });
        }
        Ok(())
    }

    /// `unverified → verified`, recording what the proof carries (the TOTP step, the
    /// passkey credential record), and emitting `factor.verified`.
    ///
    /// # Errors
    /// [`ModelError::FactorAlreadyVerified`]; [`ModelError::FactorExpired`] past the
    /// verification deadline; [`ModelError::FactorVerificationAttemptsExhausted`]
    /// (60310) after [`MAX_FACTOR_VERIFICATION_ATTEMPTS`] failures;
    /// [`ModelError::FactorTypeMismatch`] (60369) when the proof is for another type.
    pub fn verify(
        &self,
        proof: VerificationProof,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        self.check_verifiable(now)?;
        let mut next = self.bumped(now)?;
        match (&mut next.kind, proof) {
            (FactorKind::Totp(totp), VerificationProof::TotpStep(step)) => totp.advance(step)?,
            (FactorKind::Push(_), VerificationProof::PushSignature) => {}
            (FactorKind::Passkeys(passkey), VerificationProof::Passkey(credential)) => {
                credential.check()?;
                passkey.credential = Some(credential);
                passkey.registration = None;
            }
            (kind, proof) => {
                return Err(ModelError::FactorTypeMismatch {
                    expected: proof.factor_type(),
                    got: kind.factor_type(),
                });
            }
        }
        next.status = FactorStatus::Verified;
        let event = next.event(EventType::FactorVerified, now);
        Ok(FactorTransition {
            factor: next,
            events: vec![event],
            outcome: FactorOutcome::Verified,
        })
    }

    /// Records a failed verification (wrong code, bad signature, bad attestation).
    ///
    /// # Errors
    /// As [`Factor::verify`] for a factor that can no longer be verified.
    pub fn record_failed_verification(
        &self,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        self.check_verifiable(now)?;
        let mut next = self.bumped(now)?;
        next.failed_verification_attempts = self.failed_verification_attempts.saturating_add(1);
        Ok(FactorTransition {
            outcome: FactorOutcome::Rejected {
                failed_attempts: next.failed_verification_attempts,
                remaining: MAX_FACTOR_VERIFICATION_ATTEMPTS
                    .saturating_sub(next.failed_verification_attempts),
            },
            factor: next,
            events: Vec::new(),
        })
    }

    /// Checks the factor can be challenged: it must be verified.
    ///
    /// # Errors
    /// [`ModelError::FactorNotVerified`] (60318).
    pub fn check_usable(&self) -> Result<(), ModelError> {
        if self.status == FactorStatus::Verified {
            Ok(())
        } else {
            Err(ModelError::FactorNotVerified)
        }
    }

    /// Records the time step of an accepted TOTP code, so that code and every earlier
    /// one are refused from now on.
    ///
    /// # Errors
    /// [`ModelError::FactorNotVerified`]; [`ModelError::FactorTypeMismatch`] for a
    /// non-TOTP factor; [`ModelError::TotpStepReused`] when `step` is at or below
    /// the last used step.
    pub fn record_totp_step(
        &self,
        step: u64,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        self.check_usable()?;
        let mut next = self.bumped(now)?;
        let FactorKind::Totp(totp) = &mut next.kind else {
            return Err(self.mismatch(FactorType::Totp));
        };
        totp.advance(step)?;
        // A correct code ends the run of wrong ones.
        totp.guesses = GuessState::CLEAR;
        Ok(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        })
    }

    /// Counts one code check of a verified TOTP factor as failed *before* the code
    /// is compared (see [`crate::guessing`]): store the returned factor
    /// (compare-and-set) first, then compare. A correct code clears the count
    /// ([`Factor::record_totp_step`]); for a wrong one, write
    /// [`CodeCheck::lock_event`] with the failed attempt.
    ///
    /// # Errors
    /// [`ModelError::FactorLocked`] (60202) or [`ModelError::CodeChecksThrottled`]
    /// (20429) while a lock or backoff delay runs; [`ModelError::FactorNotVerified`];
    /// [`ModelError::FactorTypeMismatch`] for a factor that is not TOTP.
    pub fn reserve_code_check(
        &self,
        policy: &GuessPolicy,
        now: UnixTime,
    ) -> Result<CodeCheck, ModelError> {
        self.check_usable()?;
        self.check_code_checks_allowed(now)?;
        let mut next = self.bumped(now)?;
        let FactorKind::Totp(totp) = &mut next.kind else {
            return Err(self.mismatch(FactorType::Totp));
        };
        let (guesses, starts_lock) = totp.guesses.after_failure(policy, now);
        totp.guesses = guesses;
        let lock_event = starts_lock.then(|| next.event(EventType::FactorLocked, now));
        Ok(CodeCheck {
            transition: FactorTransition {
                factor: next,
                events: Vec::new(),
                outcome: FactorOutcome::Updated,
            },
            lock_event,
        })
    }

    /// Refuses while the factor's guessing budget makes code checks wait (a lock or
    /// a backoff delay); `Ok` for factors that are not TOTP.
    ///
    /// # Errors
    /// [`ModelError::FactorLocked`] (60202), [`ModelError::CodeChecksThrottled`] (20429).
    pub fn check_code_checks_allowed(&self, now: UnixTime) -> Result<(), ModelError> {
        match &self.kind {
            FactorKind::Totp(totp) => totp.guesses.check_allowed(now),
            _ => Ok(()),
        }
    }

    /// Clears a TOTP factor's run of wrong codes and any lock (the host's decision,
    /// after it has re-established who the user is).
    ///
    /// # Errors
    /// [`ModelError::FactorTypeMismatch`] for a factor that is not TOTP.
    pub fn unlock_code_checks(&self, now: UnixTime) -> Result<FactorTransition, ModelError> {
        let mut next = self.bumped(now)?;
        let FactorKind::Totp(totp) = &mut next.kind else {
            return Err(self.mismatch(FactorType::Totp));
        };
        totp.guesses = GuessState::CLEAR;
        Ok(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        })
    }

    /// Records a passkey assertion's signature counter and backup state. The counter
    /// never goes down: a value at or below the stored one (which the WebAuthn
    /// crate's counter policy already judged acceptable, `warn`) leaves the stored
    /// one and is counted in `sign_count_regressions` (both zero is no regression:
    /// the authenticator keeps no counter).
    ///
    /// # Errors
    /// [`ModelError::FactorNotVerified`]; [`ModelError::FactorTypeMismatch`] for a
    /// non-passkey factor.
    pub fn record_passkey_use(
        &self,
        sign_count: u32,
        backup_state: bool,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        self.check_usable()?;
        let mut next = self.bumped(now)?;
        let FactorKind::Passkeys(PasskeyFactor {
            credential: Some(credential),
            ..
        }) = &mut next.kind
        else {
            return Err(self.mismatch(FactorType::Passkeys));
        };
        let stored = credential.sign_count;
        if (stored != 0 || sign_count != 0) && sign_count <= stored {
            credential.sign_count_regressions = credential.sign_count_regressions.saturating_add(1);
        }
        credential.sign_count = stored.max(sign_count);
        credential.backup_state = backup_state;
        Ok(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        })
    }

    /// Replaces a push factor's app id, notification platform and token, and SDK
    /// version (the SDK's factor update), keeping its `credential_sid`.
    ///
    /// # Errors
    /// [`ModelError::FactorTypeMismatch`] for a non-push factor; the checks of
    /// [`PushConfig::new`].
    pub fn update_push_config(
        &self,
        app_id: &str,
        notification_platform: NotificationPlatform,
        notification_token: Option<&str>,
        sdk_version: Option<&str>,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        let mut next = self.bumped(now)?;
        let FactorKind::Push(push) = &mut next.kind else {
            return Err(self.mismatch(FactorType::Push));
        };
        push.config = PushConfig::new(
            app_id,
            notification_platform,
            notification_token,
            sdk_version,
            push.config.credential_sid,
        )?;
        // A new configuration is the device's word that its token is current.
        push.notification_token_invalid = false;
        Ok(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        })
    }

    /// Records that the push service answered that `token` is no longer
    /// registered (APNs 410 or `BadDeviceToken`, FCM `UNREGISTERED`): no
    /// notification goes to it until the device updates its configuration.
    /// `Ok(None)` when there is nothing to record: not a push factor, the token
    /// already changed (the device registered a new one meanwhile), or it is
    /// already marked.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn invalidate_notification_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<Option<FactorTransition>, ModelError> {
        let FactorKind::Push(current) = &self.kind else {
            return Ok(None);
        };
        if current.notification_token_invalid || current.config.notification_token() != Some(token)
        {
            return Ok(None);
        }
        let mut next = self.bumped(now)?;
        if let FactorKind::Push(push) = &mut next.kind {
            push.notification_token_invalid = true;
        }
        Ok(Some(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        }))
    }

    /// Replaces a TOTP factor's algorithm and parameters (`Config.Alg`,
    /// `Config.CodeLength`, `Config.TimeStep`, `Config.Skew`), keeping its secret.
    ///
    /// Replay protection survives a new time step: the last accepted code's window
    /// ended at `(last_used_step + 1) × old_period`; the last used step becomes the
    /// last window of the new period that **begins before** that instant, so every
    /// code from a window that overlaps an already accepted one stays refused
    /// (a conservative conversion: it may refuse the first new-period window that
    /// partly overlaps, never accept a replay).
    ///
    /// The authenticator app holds its own copy of the parameters: the host must
    /// re-enroll it (a new otpauth URI) for codes to match after a change.
    ///
    /// # Errors
    /// [`ModelError::FactorTypeMismatch`] for a non-TOTP factor;
    /// [`ModelError::VersionExhausted`].
    pub fn update_totp_config(
        &self,
        alg: TotpAlgorithm,
        params: TotpParams,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        let mut next = self.bumped(now)?;
        let FactorKind::Totp(totp) = &mut next.kind else {
            return Err(self.mismatch(FactorType::Totp));
        };
        let old_period = totp.params.time_step();
        totp.last_used_step = totp
            .last_used_step
            .map(|step| convert_last_step(step, old_period, params.time_step()));
        totp.alg = alg;
        totp.params = params;
        Ok(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        })
    }

    /// Renames the factor.
    ///
    /// # Errors
    /// The friendly-name limits of [`Factor::create`].
    pub fn rename(
        &self,
        friendly_name: &str,
        now: UnixTime,
    ) -> Result<FactorTransition, ModelError> {
        let name = FriendlyName::new(
            Field::FactorFriendlyName,
            friendly_name,
            self.factor_type().max_friendly_name_len(),
        )?;
        let mut next = self.bumped(now)?;
        next.friendly_name = name;
        Ok(FactorTransition {
            factor: next,
            events: Vec::new(),
            outcome: FactorOutcome::Updated,
        })
    }

    /// Deletes the factor: the store removes it (and its challenges) and writes the
    /// `factor.deleted` event. The returned `factor` is the last state, version + 1.
    ///
    /// # Errors
    /// [`ModelError::VersionExhausted`] only.
    pub fn delete(&self, now: UnixTime) -> Result<FactorTransition, ModelError> {
        let next = self.bumped(now)?;
        let event = next.event(EventType::FactorDeleted, now);
        Ok(FactorTransition {
            factor: next,
            events: vec![event],
            outcome: FactorOutcome::Deleted,
        })
    }

    fn mismatch(&self, expected: FactorType) -> ModelError {
        ModelError::FactorTypeMismatch {
            expected,
            got: self.factor_type(),
        }
    }

    /// The sid.
    #[must_use]
    pub const fn sid(&self) -> FactorSid {
        self.sid
    }

    /// The service.
    #[must_use]
    pub const fn service_sid(&self) -> ServiceSid {
        self.service_sid
    }

    /// The entity.
    #[must_use]
    pub const fn entity_sid(&self) -> EntitySid {
        self.entity_sid
    }

    /// The entity's identity.
    #[must_use]
    pub const fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The friendly name.
    #[must_use]
    pub const fn friendly_name(&self) -> &FriendlyName {
        &self.friendly_name
    }

    /// The status.
    #[must_use]
    pub const fn status(&self) -> FactorStatus {
        self.status
    }

    /// The factor type.
    #[must_use]
    pub const fn factor_type(&self) -> FactorType {
        self.kind.factor_type()
    }

    /// The per-type data.
    #[must_use]
    pub const fn kind(&self) -> &FactorKind {
        &self.kind
    }

    /// `metadata`.
    #[must_use]
    pub const fn metadata(&self) -> Option<&StringMap> {
        self.metadata.as_ref()
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

    /// When an unverified factor stops being verifiable.
    #[must_use]
    pub const fn verification_deadline(&self) -> UnixTime {
        self.verification_deadline
    }

    /// Whether the factor is unverified and past its verification deadline at `now`
    /// (unusable; the host should delete it).
    #[must_use]
    pub fn is_expired_unverified(&self, now: UnixTime) -> bool {
        self.status == FactorStatus::Unverified && now >= self.verification_deadline
    }

    /// Failed verification attempts so far.
    #[must_use]
    pub const fn failed_verification_attempts(&self) -> u32 {
        self.failed_verification_attempts
    }

    /// The compare-and-set version: 0 at creation, + 1 per transition.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }
}
