//! The APNs provider API client: `POST /3/device/{token}` over HTTP/2 with a
//! provider token (ES256 JWT from a `.p8` key) or a client certificate.
//!
//! Why not the `a2` crate: its endpoints are fixed (the tests point the sender at
//! a local fake) and its certificate authentication needs OpenSSL; reqwest
//! (already the webhook client, rustls) does HTTP/2 and client identities.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Mutex;

use super::{PushOutcome, jwt};

/// APNs' limit on a notification payload, in bytes.
pub const APNS_MAX_PAYLOAD: usize = 4096;
/// How long a provider token is reused: Apple refuses tokens older than an hour
/// and refreshing more often than every 20 minutes.
const PROVIDER_TOKEN_LIFETIME: Duration = Duration::from_secs(40 * 60);
const PRODUCTION: &str = "https://api.push.apple.com";
const SANDBOX: &str = "https://api.sandbox.push.apple.com";

/// How the server authenticates to APNs.
pub(crate) enum ApnsAuth {
    /// A TLS client certificate (set on the HTTP client).
    Certificate,
    /// A provider token signed with the team's `.p8` key.
    Token {
        key: Box<p256::ecdsa::SigningKey>,
        key_id: String,
        team_id: String,
        cached: Mutex<Option<(String, Instant)>>,
    },
}

/// One APNs credential: its HTTP/2 client, origin, topic and authentication.
pub(crate) struct ApnsSender {
    http: reqwest::Client,
    origin: String,
    topic: String,
    auth: ApnsAuth,
}

/// What an APNs credential is made of (read from the credentials file).
pub(crate) struct ApnsConfig<'a> {
    pub(crate) sandbox: bool,
    pub(crate) topic: String,
    pub(crate) base_url: Option<String>,
    pub(crate) extra_roots_pem: Option<&'a [u8]>,
    /// `(certificate chain PEM, private key PEM)`.
    pub(crate) certificate: Option<(Vec<u8>, Vec<u8>)>,
    /// `(.p8 PEM, key id, team id)`.
    pub(crate) token_key: Option<(Vec<u8>, String, String)>,
}

impl ApnsSender {
    pub(crate) fn new(config: ApnsConfig<'_>) -> Result<Self, String> {
        let mut builder = super::http_client(config.extra_roots_pem)?.http2_prior_knowledge();
        let auth = match (config.certificate, config.token_key) {
            (Some((certificate, key)), None) => {
                let mut pem = certificate;
                pem.push(b'\n');
                pem.extend_from_slice(&key);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                    "the certificate or its private key is not valid PEM".to_owned()
                })?;
                builder = builder.identity(identity);
                ApnsAuth::Certificate
            }
            (None, Some((pem, key_id, team_id))) => {
                use p256::pkcs8::DecodePrivateKey as _;
                let text = std::str::from_utf8(&pem)
                    .map_err(|_| "the .p8 key is not PEM text".to_owned())?;
                let key = p256::ecdsa::SigningKey::from_pkcs8_pem(text)
                    .map_err(|_| "the .p8 key is not a PKCS#8 P-256 private key".to_owned())?;
                let ten = |text: &str| {
                    text.len() == 10 && text.bytes().all(|b| b.is_ascii_alphanumeric())
                };
                if !ten(&key_id) || !ten(&team_id) {
                    return Err("key_id and team_id are 10 letters or digits".to_owned());
                }
                ApnsAuth::Token {
                    key: Box::new(key),
                    key_id,
                    team_id,
                    cached: Mutex::new(None),
                }
            }
            _ => return Err("either a certificate or a token key".to_owned()),
        };
        if config.topic.is_empty() {
            return Err("topic (the app's bundle id) is empty".to_owned());
        }
        let http = builder
            .build()
            .map_err(|error| format!("HTTP client: {error}"))?;
        let origin = config
            .base_url
            .unwrap_or_else(|| if config.sandbox { SANDBOX } else { PRODUCTION }.to_owned());
        Ok(Self {
            http,
            origin: origin.trim_end_matches('/').to_owned(),
            topic: config.topic,
            auth,
        })
    }

    async fn bearer(&self) -> Option<String> {
        let ApnsAuth::Token {
            key,
            key_id,
            team_id,
            cached,
        } = &self.auth
        else {
            return None;
        };
        let mut cached = cached.lock().await;
        if let Some((token, made)) = cached.as_ref()
            && made.elapsed() < PROVIDER_TOKEN_LIFETIME
        {
            return Some(token.clone());
        }
        let token = jwt::es256(
            key,
            &json!({"alg": "ES256", "kid": key_id}),
            &json!({"iss": team_id, "iat": jwt::unix_now()}),
        );
        *cached = Some((token.clone(), Instant::now()));
        Some(token)
    }

    async fn forget_bearer(&self) {
        if let ApnsAuth::Token { cached, .. } = &self.auth {
            *cached.lock().await = None;
        }
    }

    /// One attempt to send `payload` to `device_token`, expiring at
    /// `expiration` (Unix seconds; 0 = now or never).
    pub(crate) async fn send(
        &self,
        device_token: &str,
        payload: &serde_json::Value,
        expiration: u64,
    ) -> PushOutcome {
        let body = payload.to_string();
        if body.len() > APNS_MAX_PAYLOAD {
            return PushOutcome::Failed {
                status: None,
                reason: format!("payload of {} bytes exceeds {APNS_MAX_PAYLOAD}", body.len()),
            };
        }
        if device_token.is_empty() || !device_token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return PushOutcome::Unregistered {
                reason: "BadDeviceToken (not hex)".to_owned(),
            };
        }
        let mut request = self
            .http
            .post(format!("{}/3/device/{device_token}", self.origin))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", expiration.to_string())
            .header("content-type", "application/json")
            .body(body);
        if let Some(bearer) = self.bearer().await {
            request = request.header("authorization", format!("bearer {bearer}"));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return PushOutcome::Retry {
                    after: None,
                    reason: super::transport_error(&error),
                };
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if status == 200 {
            let id = headers
                .get("apns-id")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            return PushOutcome::Delivered { id };
        }
        let reason = super::bounded_body(response)
            .await
            .and_then(|body| serde_json::from_slice::<serde_json::Value>(&body).ok())
            .and_then(|body| body.get("reason")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("status {status}"));
        match (status, reason.as_str()) {
            (410, _) | (400, "BadDeviceToken") => PushOutcome::Unregistered { reason },
            (403, "ExpiredProviderToken") => {
                self.forget_bearer().await;
                PushOutcome::Retry {
                    after: None,
                    reason,
                }
            }
            (429 | 500 | 503, _) => PushOutcome::Retry {
                after: jwt::retry_after(&headers),
                reason,
            },
            _ => PushOutcome::Failed {
                status: Some(status),
                reason,
            },
        }
    }
}
