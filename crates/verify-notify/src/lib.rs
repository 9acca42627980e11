//! Sends the Verify push-challenge notification through Apple Push Notification service
//! (HTTP/2 provider API) and Firebase Cloud Messaging HTTP v1.
//!
//! Payloads come from `verify_push::ChallengeNotification` (`apns_payload()`,
//! `fcm_message(token)`); this crate only delivers them. The `a2` crate is not used:
//! its endpoints are fixed (no base URL for local fakes) and its certificate auth needs
//! OpenSSL.
//!
//! ```no_run
//! use verify_notify::{
//!     ApnsAuth, ApnsCredential, ApnsEnvironment, ApnsNotification, ApnsSender,
//!     FcmCredential, FcmSender, SendOutcome, SenderOptions,
//! };
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let options = SenderOptions::default();
//! let apns = ApnsSender::new(
//!     ApnsCredential::new(
//!         ApnsAuth::Token {
//!             key_p8_pem: std::fs::read("AuthKey_ABC123DEFG.p8")?,
//!             key_id: "ABC123DEFG".into(),
//!             team_id: "DEF123GHIJ".into(),
//!         },
//!         "com.example.app",
//!         ApnsEnvironment::Production,
//!     ),
//!     &options,
//! )?;
//! let payload = serde_json::json!({"aps": {"alert": "Approve login?"}});
//! match apns.send("a1b2c3", &ApnsNotification::new(&payload)).await {
//!     SendOutcome::Delivered { .. } => {}
//!     SendOutcome::Unregistered { .. } => { /* forget the device token */ }
//!     SendOutcome::Retry { after, .. } => { /* try again after `after` */ }
//!     _ => { /* configuration error: log, do not retry */ }
//! }
//! let fcm = FcmSender::new(
//!     FcmCredential::from_service_account_json(&std::fs::read("service-account.json")?)?,
//!     &options,
//! )?;
//! let message = serde_json::json!({"message": {"token": "t", "data": {}}});
//! let _outcome = fcm.send(&message).await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` on nightly: badges name the feature behind each item.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod apns;
mod fcm;
mod jwt;

use std::time::{Duration, SystemTime};

pub use apns::{
    ApnsAuth, ApnsCredential, ApnsEnvironment, ApnsNotification, ApnsPriority, ApnsSender,
};
pub use fcm::{FcmCredential, FcmSender};

/// What happened to one notification.
#[must_use]
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted by the service; `id` is the `apns-id` or the FCM message name.
    Delivered {
        /// The service's id for the notification.
        id: Option<String>,
    },
    /// The device token is no longer valid and must not be used again.
    Unregistered {
        /// The service's reason.
        reason: String,
    },
    /// A transient failure (429, 500, 503, transport errors): try again later.
    Retry {
        /// The delay from `Retry-After`, when the service gave one.
        after: Option<Duration>,
        /// What failed.
        reason: String,
    },
    /// Anything else (configuration errors): never retried.
    Failed {
        /// The HTTP status, if a response came back.
        status: Option<u16>,
        /// What failed.
        reason: String,
    },
}

/// A credential or option that cannot be used. Never includes secret material.
#[non_exhaustive]
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// The service-account file is not JSON (position only, no content).
    #[error("service account JSON is malformed at line {line}, column {column}")]
    Json {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// A required field is missing or not a string.
    #[error("service account JSON lacks the string field `{field}`")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// The service-account `type` is not `service_account`.
    #[error("service account JSON has type {found:?}, expected \"service_account\"")]
    WrongType {
        /// The type found.
        found: String,
    },
    /// The service-account private key is not a PKCS#8 RSA PEM key.
    #[error("service account private_key is not a PKCS#8 RSA private key")]
    InvalidRsaKey,
    /// The APNs `.p8` key is not a PKCS#8 P-256 PEM key.
    #[error("APNs key is not a PKCS#8 P-256 private key (.p8)")]
    InvalidP8Key,
    /// The APNs key id or team id is not 10 alphanumeric characters.
    #[error("APNs {what} must be 10 alphanumeric characters")]
    InvalidIdentifier {
        /// `key id` or `team id`.
        what: &'static str,
    },
    /// The APNs topic is empty.
    #[error("APNs topic (bundle id) is empty")]
    EmptyTopic,
    /// The APNs client certificate or its key could not be loaded.
    #[error("APNs client certificate or private key is not valid PEM")]
    InvalidCertificate,
    /// An extra root certificate is not valid PEM.
    #[error("extra root certificate is not valid PEM")]
    InvalidRootCertificate,
    /// A base or token URL is not an absolute https URL.
    #[error("URL {url:?} is not an absolute https:// URL")]
    InvalidUrl {
        /// The URL.
        url: String,
    },
    /// The HTTP client could not be built.
    #[error("HTTP client: {reason}")]
    Client {
        /// What failed.
        reason: String,
    },
}

/// Transport options shared by both senders.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// Overrides the service origin, e.g. `https://127.0.0.1:PORT`.
    pub base_url: Option<String>,
    /// FCM: overrides the service account's `token_uri`.
    pub token_url: Option<String>,
    /// PEM roots trusted in addition to the web PKI roots (a local fake's CA).
    pub extra_root_certificates_pem: Option<Vec<u8>>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            base_url: None,
            token_url: None,
            extra_root_certificates_pem: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl SenderOptions {
    /// The defaults: the real services, 10 s connect and 30 s request timeouts.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`Self::base_url`].
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Sets [`Self::token_url`].
    #[must_use]
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }
    /// Sets [`Self::extra_root_certificates_pem`].
    #[must_use]
    pub fn with_extra_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_root_certificates_pem = Some(pem.into());
        self
    }
}

/// Checks `url` is an absolute https URL and strips a trailing `/`.
fn https_origin(url: &str) -> Result<String, CredentialError> {
    let invalid = || CredentialError::InvalidUrl {
        url: url.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid())?;
    if parsed.scheme() != "https" || parsed.host_str().is_none() {
        return Err(invalid());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A reqwest client: rustls, no redirects, no proxy, timeouts, optional extra roots.
fn client(
    options: &SenderOptions,
    identity: Option<reqwest::Identity>,
) -> Result<reqwest::Client, CredentialError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout);
    if let Some(pem) = &options.extra_root_certificates_pem {
        let roots = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|_| CredentialError::InvalidRootCertificate)?;
        if roots.is_empty() {
            return Err(CredentialError::InvalidRootCertificate);
        }
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
    }
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    builder.build().map_err(|error| CredentialError::Client {
        reason: error.to_string(),
    })
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (relative to `now`;
/// a date in the past gives zero).
#[must_use]
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// The most of a push service's answer that is read, in bytes: their JSON
/// answers are a few hundred bytes; a longer one is not parsed.
const MAX_ANSWER: usize = 16 * 1024;

/// The JSON body of a push service's answer (`Null` when it is not JSON, is
/// longer than [`MAX_ANSWER`], or cannot be read).
async fn json_answer(mut response: reqwest::Response) -> serde_json::Value {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len().saturating_add(chunk.len()) <= MAX_ANSWER => {
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Ok(Some(_)) | Err(_) => return serde_json::Value::Null,
        }
    }
    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
}

fn transport_outcome(error: &reqwest::Error) -> SendOutcome {
    if error.is_builder() {
        SendOutcome::Failed {
            status: None,
            reason: format!("request: {error}"),
        }
    } else {
        SendOutcome::Retry {
            after: None,
            reason: format!("transport: {error}"),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:40:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn urls_must_be_https() {
        assert_eq!(
            https_origin("https://127.0.0.1:8443/").unwrap(),
            "https://127.0.0.1:8443"
        );
        assert!(https_origin("http://example.com").is_err());
        assert!(https_origin("not a url").is_err());
    }
}
