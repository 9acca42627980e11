//! The FCM HTTP v1 client: an OAuth 2 access token from a signed service-account
//! assertion (cached until shortly before it expires), then
//! `POST /v1/projects/{project_id}/messages:send`.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::{PushOutcome, jwt};

const FCM_ORIGIN: &str = "https://fcm.googleapis.com";
const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// An access token is renewed this long before Google says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct ServiceAccount {
    #[serde(rename = "type")]
    kind: String,
    project_id: String,
    client_email: String,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// One FCM credential.
pub(crate) struct FcmSender {
    http: reqwest::Client,
    send_url: String,
    token_url: String,
    client_email: String,
    key: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    cached: Mutex<Option<(String, Instant)>>,
}

impl FcmSender {
    /// A sender for the service account `json`.
    pub(crate) fn new(
        json: &[u8],
        base_url: Option<String>,
        token_url: Option<String>,
        extra_roots_pem: Option<&[u8]>,
    ) -> Result<Self, String> {
        use rsa::pkcs8::DecodePrivateKey as _;
        let account: ServiceAccount = serde_json::from_slice(json)
            .map_err(|error| format!("the service account JSON: {error}"))?;
        if account.kind != "service_account" {
            return Err(format!(
                "the service account JSON has type {:?}, not \"service_account\"",
                account.kind
            ));
        }
        let project_ok = !account.project_id.is_empty()
            && account
                .project_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !project_ok {
            return Err("project_id is not a Firebase project id".to_owned());
        }
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&account.private_key)
            .map_err(|_| "private_key is not a PKCS#8 RSA private key".to_owned())?;
        let http = super::http_client(extra_roots_pem)?
            .build()
            .map_err(|error| format!("HTTP client: {error}"))?;
        let origin = base_url.unwrap_or_else(|| FCM_ORIGIN.to_owned());
        Ok(Self {
            http,
            send_url: format!(
                "{}/v1/projects/{}/messages:send",
                origin.trim_end_matches('/'),
                account.project_id
            ),
            token_url: token_url
                .or(account.token_uri)
                .unwrap_or_else(|| GOOGLE_TOKEN_URL.to_owned()),
            client_email: account.client_email,
            key: rsa::pkcs1v15::SigningKey::new(key),
            cached: Mutex::new(None),
        })
    }

    async fn access_token(&self) -> Result<String, PushOutcome> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let now = jwt::unix_now();
        let assertion = jwt::rs256(
            &self.key,
            &json!({"alg": "RS256", "typ": "JWT"}),
            &json!({
                "iss": self.client_email,
                "scope": SCOPE,
                "aud": self.token_url,
                "iat": now,
                "exp": now.saturating_add(3600),
            }),
        );
        let form = format!(
            "grant_type={}&assertion={assertion}",
            percent_encoding::utf8_percent_encode(
                "urn:ietf:params:oauth:grant-type:jwt-bearer",
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        let response = self
            .http
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|error| PushOutcome::Retry {
                after: None,
                reason: format!("token endpoint: {}", super::transport_error(&error)),
            })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = super::bounded_body(response).await.unwrap_or_default();
        if status != 200 {
            let reason = format!(
                "token endpoint answered {status}: {}",
                String::from_utf8_lossy(body.get(..200).unwrap_or(&body))
            );
            return Err(if status == 429 || status >= 500 {
                PushOutcome::Retry {
                    after: jwt::retry_after(&headers),
                    reason,
                }
            } else {
                PushOutcome::Failed {
                    status: Some(status),
                    reason,
                }
            });
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|error| PushOutcome::Failed {
                status: Some(status),
                reason: format!("token endpoint answer: {error}"),
            })?;
        let lifetime = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN);
        *cached = Some((answer.access_token.clone(), Instant::now() + lifetime));
        Ok(answer.access_token)
    }

    /// One attempt to send the HTTP v1 `message` (`{"message": {...}}`).
    pub(crate) async fn send(&self, message: &serde_json::Value) -> PushOutcome {
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let response = match self
            .http
            .post(&self.send_url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(message.to_string())
            .send()
            .await
        {
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
        let body: serde_json::Value = super::bounded_body(response)
            .await
            .and_then(|body| serde_json::from_slice(&body).ok())
            .unwrap_or_default();
        if status == 200 {
            return PushOutcome::Delivered {
                id: body
                    .get("name")
                    .and_then(|name| name.as_str())
                    .map(str::to_owned),
            };
        }
        let error_code = body
            .pointer("/error/details")
            .and_then(|details| details.as_array())
            .into_iter()
            .flatten()
            .find_map(|detail| detail.get("errorCode").and_then(|code| code.as_str()))
            .or_else(|| {
                body.pointer("/error/status")
                    .and_then(|status| status.as_str())
            })
            .unwrap_or_default()
            .to_owned();
        let reason = if error_code.is_empty() {
            format!("status {status}")
        } else {
            error_code.clone()
        };
        match (status, error_code.as_str()) {
            (_, "UNREGISTERED") | (404, _) => PushOutcome::Unregistered { reason },
            (401, _) => {
                *self.cached.lock().await = None;
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
