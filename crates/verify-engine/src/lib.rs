#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod challenges;
pub mod clock;
mod config;
pub mod delivery;
mod devices;
mod engine;
pub mod error;
mod factors;
mod passkeys;
mod retention;
mod rng;
mod services;
mod signed_view;
mod webhooks;

pub use challenges::{
    ChallengeUpdate, NewChallengeRequest, NotApproved, PushDelivery, ServedChallenge,
};
#[cfg(feature = "std-clock")]
#[cfg_attr(docsrs, doc(cfg(feature = "std-clock")))]
pub use clock::SystemClock;
pub use clock::{Clock, ClockError, ManualClock};
pub use config::{DEFAULT_CONFLICT_RETRIES, EMBEDDED_ACCOUNT_SID, EngineConfig};
pub use delivery::{WebhookRequest, WebhookSecret};
pub use devices::DeviceAuth;
pub use engine::Verify;
pub use error::{Resource, VerifyError, WebhookError};
pub use factors::{CreatedTotpFactor, IssuedAccessToken, NewPushFactor, NewTotpFactor};
pub use passkeys::{CreatedPasskeyFactor, RequestedPasskeysConfig};
/// The `rand_core` version [`EngineRng`] is defined on (0.6, the one the RustCrypto
/// and ring stacks in the tree use), so a host names the traits without adding a
/// second `rand_core` to its own manifest. An RNG from `rand` 0.9 implements
/// rand_core 0.9's traits instead: use [`OsRng`] or
/// [`Verify::with_system_defaults`], which need neither.
pub use rand_core;
/// The operating system's RNG (getrandom), as [`Verify::with_system_defaults`] uses
/// it: pass it to [`Verify::new`] to pair it with another clock.
#[cfg(feature = "os-rng")]
#[cfg_attr(docsrs, doc(cfg(feature = "os-rng")))]
pub use rand_core::OsRng;
pub use retention::{DEFAULT_RETENTION, MIN_RETENTION, PRUNE_BATCH, Retention, RetentionTooShort};
pub use rng::EngineRng;
pub use services::{PushChanges, ServiceSettings, TotpChanges};
pub use webhooks::CreatedWebhook;

/// The crates the engine composes, for hosts that need their types.
pub use {
    verify_model as model, verify_push as push, verify_store as store, verify_totp as totp,
    verify_webauthn as webauthn,
};
