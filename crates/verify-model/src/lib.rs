#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod access_token;
pub mod api;
mod b64url;
pub mod ceremony;
pub mod challenge;
pub mod config;
pub mod error;
pub mod event;
pub mod factor;
pub mod guessing;
pub mod id;
pub mod identity;
pub mod limits;
pub mod list;
mod macros;
pub mod secret;
pub mod service;
pub mod text;
pub mod time;
mod time_text;
mod type_and_status;
pub mod url;
pub mod webhook;

pub use access_token::{AccessToken, NewAccessToken};
pub use api::ApiContext;
pub use challenge::{
    AnswerInput, Challenge, ChallengeKind, ChallengeOutcome, ChallengeState, ChallengeStatus,
    ChallengeSubject, ChallengeTarget, ChallengeTransition, NewChallenge, PairedTransition,
    RespondedReason,
};
pub use config::{
    AllowCredentials, AuthenticatorAttachment, DiscoverableCredentials, NotificationPlatform,
    PasskeyPolicy, PasskeysConfig, RelyingParty, SignCountRegression, TotpAlgorithm, TotpParams,
    UserVerification,
};
pub use error::{Field, ModelError};
pub use event::{Event, EventType};
pub use factor::{
    CodeCheck, Factor, FactorKind, FactorOutcome, FactorStatus, FactorTransition, FactorType,
    NewFactor, VerificationProof,
};
pub use guessing::{GuessPolicy, GuessState};
pub use id::{
    AccessTokenSid, AccountSid, ChallengeSid, CredentialSid, EntitySid, FactorSid, NotificationSid,
    ServiceSid, WebhookSid,
};
pub use identity::Identity;
pub use list::{ChallengeFilter, ListMeta, ListOrder, Page, PageSize, PageToken, paginate};
pub use secret::{SecretBytes, TotpSecret};
pub use service::{Entity, Service};
pub use text::{DetailField, Details, FriendlyName, StringMap};
pub use time::UnixTime;
pub use url::BaseUrl;
pub use webhook::{Webhook, WebhookEventType, WebhookStatus};
