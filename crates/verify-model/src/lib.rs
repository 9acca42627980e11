//! The resource model of verify (work in progress: see the crate README).
#![forbid(unsafe_code)]

pub mod error;
pub mod id;
pub mod time;

pub use error::ModelError;
pub use id::{
    AccessTokenSid, ChallengeSid, EntitySid, FactorSid, NotificationSid, ServiceSid, WebhookSid,
};
pub use time::UnixTime;
