#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod challenge;
pub mod config;
pub mod error;
pub mod event;
pub mod factor;
pub mod id;
pub mod identity;
pub mod limits;
pub mod secret;
pub mod text;
pub mod time;

pub use challenge::{
    ApproveInput, Challenge, ChallengeOutcome, ChallengeState, ChallengeStatus, ChallengeTarget,
    ChallengeTransition, NewChallenge, RespondedReason,
};
pub use error::{Field, ModelError};
pub use event::{Event, EventType};
pub use factor::{
    Factor, FactorKind, FactorOutcome, FactorStatus, FactorTransition, FactorType, NewFactor,
    VerificationProof,
};
pub use id::{
    AccessTokenSid, AccountSid, ChallengeSid, CredentialSid, EntitySid, FactorSid,
    NotificationSid, ServiceSid, WebhookSid,
};
pub use identity::Identity;
pub use secret::{SecretBytes, TotpSecret};
pub use text::{DetailField, Details, FriendlyName, StringMap};
pub use time::UnixTime;
