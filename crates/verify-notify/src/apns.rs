//! APNs HTTP/2 provider API.

use std::fmt;
use std::time::{Duration, Instant};

use p256::pkcs8::DecodePrivateKey as _;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{CredentialError, SendOutcome, SenderOptions, client, https_origin, jwt};

/// APNs' limit on a payload, in bytes.
const MAX_PAYLOAD: usize = 4096;
/// Reuse the provider JWT this long: Apple refuses refreshing more often than every
/// 20 minutes and rejects tokens older than an hour.
const JWT_LIFETIME: Duration = Duration::from_secs(50 * 60);

/// Which APNs environment to talk to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApnsEnvironment {
    /// `https://api.push.apple.com`.
    Production,
    /// `https://api.sandbox.push.apple.com` (development builds).
    Sandbox,
}

impl ApnsEnvironment {
    /// The service origin.
    #[must_use]
    pub const fn origin(self) -> &'static str {
        match self {
            Self::Production => "https://api.push.apple.com",
            Self::Sandbox => "https://api.sandbox.push.apple.com",
        }
    }
}

/// How the provider authenticates to APNs. Key material is zeroized on drop.
#[non_exhaustive]
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub enum ApnsAuth {
    /// Certificate-based: PEM certificate chain + PEM private key (as
    /// `openssl pkcs12 -in cert.p12 -out cert.pem -nodes` produces them).
    Certificate {
        /// The PEM certificate chain.
        certificate_pem: Vec<u8>,
        /// The PEM private key.
        private_key_pem: Vec<u8>,
    },
    /// Token-based: the `.p8` key (PKCS#8 PEM, P-256), its 10-character key id and the
    /// 10-character team id.
    Token {
        /// The `.p8` key.
        key_p8_pem: Vec<u8>,
        /// The key id.
        key_id: String,
        /// The team id.
        team_id: String,
    },
}

impl fmt::Debug for ApnsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate { .. } => f
                .debug_struct("Certificate")
                .field("certificate_pem", &"..")
                .field("private_key_pem", &"[redacted]")
                .finish(),
            Self::Token {
                key_id, team_id, ..
            } => f
                .debug_struct("Token")
                .field("key_p8_pem", &"[redacted]")
                .field("key_id", key_id)
                .field("team_id", team_id)
                .finish(),
        }
    }
}

/// An APNs credential: auth, topic (bundle id) and environment.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct ApnsCredential {
    /// How to authenticate.
    pub auth: ApnsAuth,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// Production or sandbox.
    pub environment: ApnsEnvironment,
}

impl ApnsCredential {
    /// A credential for `topic` in `environment`.
    #[must_use]
    pub fn new(auth: ApnsAuth, topic: impl Into<String>, environment: ApnsEnvironment) -> Self {
        Self {
            auth,
            topic: topic.into(),
            environment,
        }
    }
}

/// `apns-priority`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApnsPriority {
    /// 10: deliver immediately.
    #[default]
    Immediate,
    /// 5: deliver considering power.
    Normal,
}

impl ApnsPriority {
    const fn header(self) -> &'static str {
        match self {
            Self::Immediate => "10",
            Self::Normal => "5",
        }
    }
}

/// One APNs request's payload and headers.
#[non_exhaustive]
#[derive(Debug, Clone, Copy)]
pub struct ApnsNotification<'a> {
    /// The JSON payload (with `aps`).
    pub payload: &'a Value,
    /// `apns-expiration` in unix seconds; `None` sends 0 (deliver once, not stored).
    pub expiration: Option<u64>,
    /// `apns-priority`.
    pub priority: ApnsPriority,
    /// `apns-collapse-id`.
    pub collapse_id: Option<&'a str>,
}

impl<'a> ApnsNotification<'a> {
    /// `payload` with priority 10, expiration 0 and no collapse id.
    #[must_use]
    pub const fn new(payload: &'a Value) -> Self {
        Self {
            payload,
            expiration: None,
            priority: ApnsPriority::Immediate,
            collapse_id: None,
        }
    }
    /// Sets the expiration (unix seconds).
    #[must_use]
    pub const fn with_expiration(mut self, unix_seconds: u64) -> Self {
        self.expiration = Some(unix_seconds);
        self
    }
    /// Sets the priority.
    #[must_use]
    pub const fn with_priority(mut self, priority: ApnsPriority) -> Self {
        self.priority = priority;
        self
    }
    /// Sets the collapse id.
    #[must_use]
    pub const fn with_collapse_id(mut self, collapse_id: &'a str) -> Self {
        self.collapse_id = Some(collapse_id);
        self
    }
}

struct TokenSigner {
    key: p256::ecdsa::SigningKey,
    key_id: String,
    team_id: String,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSigner {
    async fn bearer(&self, force: bool) -> String {
        let mut cached = self.cached.lock().await;
        if let Some((token, issued)) = cached.as_ref()
            && !force
            && issued.elapsed() < JWT_LIFETIME
        {
            return token.clone();
        }
        let token = jwt::es256(
            &self.key,
            &json!({"alg": "ES256", "kid": self.key_id}),
            &json!({"iss": self.team_id, "iat": crate::unix_now()}),
        );
        *cached = Some((token.clone(), Instant::now()));
        token
    }
}

/// Sends notifications to APNs.
pub struct ApnsSender {
    client: reqwest::Client,
    origin: String,
    topic: String,
    signer: Option<TokenSigner>,
}

impl fmt::Debug for ApnsSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApnsSender")
            .field("origin", &self.origin)
            .field("topic", &self.topic)
            .field("token_auth", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

fn valid_identifier(value: &str) -> bool {
    value.len() == 10 && value.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

impl ApnsSender {
    /// A sender for `credential`.
    ///
    /// # Errors
    /// [`CredentialError`] when the key, certificate, ids, topic or options are unusable.
    pub fn new(
        credential: ApnsCredential,
        options: &SenderOptions,
    ) -> Result<Self, CredentialError> {
        if credential.topic.is_empty() {
            return Err(CredentialError::EmptyTopic);
        }
        let origin = https_origin(
            options
                .base_url
                .as_deref()
                .unwrap_or(credential.environment.origin()),
        )?;
        let (identity, signer) = match &credential.auth {
            ApnsAuth::Certificate {
                certificate_pem,
                private_key_pem,
            } => {
                let mut pem = zeroize::Zeroizing::new(certificate_pem.clone());
                pem.push(b'\n');
                pem.extend_from_slice(private_key_pem);
                let identity = reqwest::Identity::from_pem(&pem)
                    .map_err(|_| CredentialError::InvalidCertificate)?;
                (Some(identity), None)
            }
            ApnsAuth::Token {
                key_p8_pem,
                key_id,
                team_id,
            } => {
                if !valid_identifier(key_id) {
                    return Err(CredentialError::InvalidIdentifier { what: "key id" });
                }
                if !valid_identifier(team_id) {
                    return Err(CredentialError::InvalidIdentifier { what: "team id" });
                }
                let text =
                    std::str::from_utf8(key_p8_pem).map_err(|_| CredentialError::InvalidP8Key)?;
                let key = p256::ecdsa::SigningKey::from_pkcs8_pem(text)
                    .map_err(|_| CredentialError::InvalidP8Key)?;
                (
                    None,
                    Some(TokenSigner {
                        key,
                        key_id: key_id.clone(),
                        team_id: team_id.clone(),
                        cached: Mutex::new(None),
                    }),
                )
            }
        };
        Ok(Self {
            client: client(options, identity)?,
            origin,
            topic: credential.topic,
            signer,
        })
    }

    /// Sends `notification` to the device with the hex `device_token`.
    pub async fn send(
        &self,
        device_token: &str,
        notification: &ApnsNotification<'_>,
    ) -> SendOutcome {
        if device_token.is_empty()
            || device_token.len() > 200
            || !device_token.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            return SendOutcome::Unregistered {
                reason: "BadDeviceToken (not a hex device token)".into(),
            };
        }
        let body = notification.payload.to_string();
        if body.len() > MAX_PAYLOAD {
            return SendOutcome::Failed {
                status: None,
                reason: format!(
                    "PayloadTooLarge ({} bytes, at most {MAX_PAYLOAD})",
                    body.len()
                ),
            };
        }
        let first = self.attempt(device_token, notification, &body, false).await;
        match first {
            Attempt::ExpiredProviderToken if self.signer.is_some() => {
                match self.attempt(device_token, notification, &body, true).await {
                    Attempt::Done(outcome) => outcome,
                    Attempt::ExpiredProviderToken => expired(),
                }
            }
            Attempt::ExpiredProviderToken => expired(),
            Attempt::Done(outcome) => outcome,
        }
    }

    async fn attempt(
        &self,
        device_token: &str,
        notification: &ApnsNotification<'_>,
        body: &str,
        refresh: bool,
    ) -> Attempt {
        let mut request = self
            .client
            .post(format!("{}/3/device/{device_token}", self.origin))
            .version(reqwest::Version::HTTP_2)
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", notification.priority.header())
            .header(
                "apns-expiration",
                notification.expiration.unwrap_or(0).to_string(),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        if let Some(collapse_id) = notification.collapse_id {
            request = request.header("apns-collapse-id", collapse_id);
        }
        if let Some(signer) = &self.signer {
            request = request.header(
                reqwest::header::AUTHORIZATION,
                format!("bearer {}", signer.bearer(refresh).await),
            );
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Attempt::Done(crate::transport_outcome(&error)),
        };
        let status = response.status().as_u16();
        let after = crate::retry_after(response.headers());
        let id = response
            .headers()
            .get("apns-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let reason = crate::json_answer(response)
            .await
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default();
        Attempt::Done(match (status, reason.as_str()) {
            (200, _) => SendOutcome::Delivered { id },
            (403, "ExpiredProviderToken") => return Attempt::ExpiredProviderToken,
            (410, _) | (400, "BadDeviceToken") => SendOutcome::Unregistered {
                reason: if reason.is_empty() {
                    "Unregistered".into()
                } else {
                    reason
                },
            },
            (429 | 500 | 503, _) => SendOutcome::Retry {
                after,
                reason: format!("{status} {reason}"),
            },
            _ => SendOutcome::Failed {
                status: Some(status),
                reason,
            },
        })
    }
}

fn expired() -> SendOutcome {
    SendOutcome::Failed {
        status: Some(403),
        reason: "ExpiredProviderToken".into(),
    }
}

enum Attempt {
    Done(SendOutcome),
    ExpiredProviderToken,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn token(key: &[u8], key_id: &str) -> ApnsCredential {
        ApnsCredential::new(
            ApnsAuth::Token {
                key_p8_pem: key.to_vec(),
                key_id: key_id.into(),
                team_id: "TEAM123456".into(),
            },
            "com.example.app",
            ApnsEnvironment::Sandbox,
        )
    }

    #[tokio::test]
    async fn provider_jwt_is_es256_and_cached() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use p256::ecdsa::signature::Verifier as _;
        use p256::pkcs8::EncodePrivateKey as _;
        let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        let pem = key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
        let sender = ApnsSender::new(
            token(pem.as_bytes(), "KEY1234567"),
            &SenderOptions::default(),
        )
        .unwrap();
        let signer = sender.signer.as_ref().unwrap();
        let first = signer.bearer(false).await;
        assert_eq!(signer.bearer(false).await, first);
        let parts: Vec<&str> = first.split('.').collect();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
        assert_eq!(claims["iss"], json!("TEAM123456"));
        let signature =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        key.verifying_key()
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn bad_p8_and_ids_are_refused_without_leaking() {
        let options = SenderOptions::default();
        let error = ApnsSender::new(
            token(
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "KEY1234567",
            ),
            &options,
        )
        .unwrap_err();
        assert_eq!(error, CredentialError::InvalidP8Key);
        assert!(!error.to_string().contains("AAAA"));
        let error = ApnsSender::new(token(b"x", "short"), &options).unwrap_err();
        assert_eq!(error, CredentialError::InvalidIdentifier { what: "key id" });
        let auth = format!("{:?}", token(b"secret-key", "KEY1234567").auth);
        assert!(!auth.contains("secret"), "{auth}");
    }
}
