#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod challenges;
pub mod clock;
mod config;
pub mod delivery;
mod devices;
mod engine;
pub mod error;
mod factors;
mod passkeys;
mod rng;
mod services;
mod signed_view;
mod webhooks;

pub use challenges::{
    ChallengeUpdate, NewChallengeRequest, NotApproved, PushDelivery, ServedChallenge,
};
#[cfg(feature = "std-clock")]
pub use clock::SystemClock;
pub use clock::{Clock, ClockError, ManualClock};
pub use config::{DEFAULT_CONFLICT_RETRIES, EngineConfig};
pub use delivery::{WebhookRequest, WebhookSecret};
pub use devices::DeviceAuth;
pub use engine::Verify;
pub use error::{Resource, VerifyError, WebhookError};
pub use factors::{CreatedTotpFactor, IssuedAccessToken, NewPushFactor, NewTotpFactor};
pub use passkeys::{CreatedPasskeyFactor, RequestedPasskeysConfig};
pub use rng::EngineRng;
pub use services::{PushChanges, ServiceSettings, TotpChanges};
pub use webhooks::CreatedWebhook;

/// The crates the engine composes, for hosts that need their types.
pub use {
    verify_model as model, verify_push as push, verify_store as store, verify_totp as totp,
    verify_webauthn as webauthn,
};
