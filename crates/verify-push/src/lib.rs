#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod access_token;
pub mod approval;
mod b64;
pub mod binding;
pub mod crypto;
pub mod error;
pub mod factor;
#[doc(hidden)]
pub mod fuzzing;
pub mod jws;
pub mod notification;
pub mod number_match;
pub mod request;
pub mod strict_json;

pub use access_token::{
    AccessTokenKey, AccessTokenKeys, AccessTokenRequest, CheckedAccessToken, IssuedAccessToken,
};
pub use approval::{
    ChallengeToSign, Decision, MAX_AUTH_PAYLOAD, SIGNATURE_FIELDS_HEADER, SignatureFields,
    VerifiedAnswer, verify_answer,
};
pub use binding::{BINDING_ALG, DeviceKey};
pub use error::{
    AccessTokenError, ApprovalError, BindingError, Encoded, FactorError, JsonError, JwsError,
    NotificationError, PushError, RequestAuthError, SignatureFieldsError,
};
pub use factor::{FactorStatus, FactorToVerify, FactorVerified, verify_factor};
pub use jws::CompactJws;
pub use notification::ChallengeNotification;
pub use number_match::NumberMatch;
pub use request::{AuthenticatedRequest, RequestJwt, RequestPolicy, basic_token, http_date};
