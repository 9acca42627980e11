//! [`Event`]s: what a state change emits, for the host's outbox and webhooks.

use serde::{Deserialize, Serialize};

use crate::challenge::ChallengeStatus;
use crate::config::string_enum;
use crate::error::{Field, ModelError};
use crate::factor::FactorType;
use crate::id::{ChallengeSid, EntitySid, FactorSid, ServiceSid};
use crate::identity::Identity;
use crate::time::UnixTime;

string_enum!(
    /// The kind of an [`Event`], spelled as the webhook `type`.
    EventType, Field::EventType, {
        /// A factor was created (unverified).
        FactorCreated => "factor.created",
        /// A factor went from unverified to verified.
        FactorVerified => "factor.verified",
        /// A factor was deleted.
        FactorDeleted => "factor.deleted",
        /// A challenge was approved.
        ChallengeApproved => "challenge.approved",
        /// A challenge was denied (by the user, or after too many failed attempts).
        ChallengeDenied => "challenge.denied",
        /// A pending challenge passed its expiration date.
        ChallengeExpired => "challenge.expired",
        /// A push challenge was created: its notification to the device is due. Not
        /// a webhook event type (see [`EventType::is_webhook`]): it stays in the
        /// outbox for the host's push sender, which sends the notification after
        /// the challenge is stored.
        ChallengeCreated => "challenge.created",
        /// A TOTP factor was locked after too many consecutive wrong codes (this
        /// server's extension; see [`GuessPolicy`](crate::guessing::GuessPolicy)).
        /// Written with the failed attempt that started the lock.
        FactorLocked => "factor.locked",
    }
);

impl EventType {
    /// Every event type, in the order above.
    pub const ALL: [Self; 8] = [
        Self::FactorCreated,
        Self::FactorVerified,
        Self::FactorDeleted,
        Self::ChallengeApproved,
        Self::ChallengeDenied,
        Self::ChallengeExpired,
        Self::ChallengeCreated,
        Self::FactorLocked,
    ];

    /// The event types a webhook can subscribe to and is delivered, in the order
    /// above: every type but [`EventType::ChallengeCreated`].
    pub const WEBHOOK: [Self; 7] = [
        Self::FactorCreated,
        Self::FactorVerified,
        Self::FactorDeleted,
        Self::ChallengeApproved,
        Self::ChallengeDenied,
        Self::ChallengeExpired,
        Self::FactorLocked,
    ];

    /// Whether webhooks can subscribe to this type (and are delivered its events).
    #[must_use]
    pub const fn is_webhook(self) -> bool {
        !matches!(self, Self::ChallengeCreated)
    }
}

/// One state change, returned by the transition that caused it. The engine writes
/// events to an outbox in the same atomic write as the new state, and the host drains
/// the outbox to deliver webhooks.
///
/// Its JSON is the webhook delivery payload minus what the deliverer adds (`uuid`,
/// `account_sid`): `type`, `service_sid`, `entity_sid`, `entity_identity`,
/// `factor_sid`, `factor_type`, `challenge_sid` and `challenge_status` where relevant,
/// and `date_created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The service.
    pub service_sid: ServiceSid,
    /// The entity, when known (a discoverable passkey challenge that expired
    /// unanswered has none).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entity_sid: Option<EntitySid>,
    /// The entity's identity, when known.
    #[serde(
        rename = "entity_identity",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub identity: Option<Identity>,
    /// The factor, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub factor_sid: Option<FactorSid>,
    /// The factor type.
    pub factor_type: FactorType,
    /// The challenge, for challenge events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub challenge_sid: Option<ChallengeSid>,
    /// The challenge's new status, for challenge events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub challenge_status: Option<ChallengeStatus>,
    /// When it happened (the `now` of the transition).
    #[serde(rename = "date_created")]
    pub time: UnixTime,
}
