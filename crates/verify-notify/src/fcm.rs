//! FCM HTTP v1 with a Google service account (OAuth2 JWT bearer flow).

use std::fmt;
use std::time::{Duration, Instant};

use rsa::pkcs8::DecodePrivateKey as _;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::{CredentialError, SendOutcome, SenderOptions, client, https_origin, jwt};

const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const DEFAULT_ORIGIN: &str = "https://fcm.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Refresh the access token this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// A Google service account for FCM. The private key is zeroized on drop and redacted
/// in `Debug`.
#[derive(Clone)]
pub struct FcmCredential {
    project_id: String,
    client_email: String,
    token_uri: String,
    key: rsa::RsaPrivateKey,
}

impl fmt::Debug for FcmCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmCredential")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

fn field<'a>(json: &'a Value, name: &'static str) -> Result<&'a str, CredentialError> {
    json.get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .ok_or(CredentialError::MissingField { field: name })
}

impl FcmCredential {
    /// Parses a Google service-account JSON key file.
    ///
    /// # Errors
    /// [`CredentialError::Json`], [`CredentialError::MissingField`],
    /// [`CredentialError::WrongType`] or [`CredentialError::InvalidRsaKey`].
    pub fn from_service_account_json(bytes: &[u8]) -> Result<Self, CredentialError> {
        let mut json: Value =
            serde_json::from_slice(bytes).map_err(|error| CredentialError::Json {
                line: error.line(),
                column: error.column(),
            })?;
        let parsed = Self::from_json(&json);
        if let Some(Value::String(private_key)) = json.get_mut("private_key") {
            zeroize::Zeroize::zeroize(private_key);
        }
        parsed
    }

    fn from_json(json: &Value) -> Result<Self, CredentialError> {
        let kind = field(json, "type")?;
        if kind != "service_account" {
            return Err(CredentialError::WrongType {
                found: kind.chars().take(64).collect(),
            });
        }
        let project_id = field(json, "project_id")?.to_owned();
        let client_email = field(json, "client_email")?.to_owned();
        let private_key = field(json, "private_key")?;
        let token_uri = json
            .get("token_uri")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_TOKEN_URI)
            .to_owned();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_key)
            .map_err(|_| CredentialError::InvalidRsaKey)?;
        Ok(Self {
            project_id,
            client_email,
            token_uri,
            key,
        })
    }

    /// The Firebase project id.
    #[must_use]
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The service account's email (the assertion's `iss`).
    #[must_use]
    pub fn client_email(&self) -> &str {
        &self.client_email
    }
}

/// Sends messages through FCM HTTP v1, caching the OAuth2 access token.
pub struct FcmSender {
    client: reqwest::Client,
    send_url: String,
    token_url: String,
    client_email: String,
    signer: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    token: Mutex<Option<(zeroize::Zeroizing<String>, Instant)>>,
}

impl fmt::Debug for FcmSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmSender")
            .field("send_url", &self.send_url)
            .field("token_url", &self.token_url)
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

enum TokenError {
    Retry(Option<Duration>, String),
    Failed(Option<u16>, String),
}

impl From<TokenError> for SendOutcome {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Retry(after, reason) => Self::Retry { after, reason },
            TokenError::Failed(status, reason) => Self::Failed { status, reason },
        }
    }
}

impl FcmSender {
    /// A sender for `credential`.
    ///
    /// # Errors
    /// [`CredentialError`] when a URL or the options are unusable.
    pub fn new(
        credential: FcmCredential,
        options: &SenderOptions,
    ) -> Result<Self, CredentialError> {
        let origin = https_origin(options.base_url.as_deref().unwrap_or(DEFAULT_ORIGIN))?;
        let token_url = options
            .token_url
            .clone()
            .unwrap_or_else(|| credential.token_uri.clone());
        https_origin(&token_url)?;
        let project: String = percent_encode_segment(&credential.project_id);
        Ok(Self {
            client: client(options, None)?,
            send_url: format!("{origin}/v1/projects/{project}/messages:send"),
            token_url,
            client_email: credential.client_email.clone(),
            signer: rsa::pkcs1v15::SigningKey::new(credential.key),
            token: Mutex::new(None),
        })
    }

    /// The RS256 JWT bearer assertion for the token endpoint.
    fn assertion(&self, iat: u64) -> String {
        jwt::rs256(
            &self.signer,
            &json!({"alg": "RS256", "typ": "JWT"}),
            &json!({"iss": self.client_email, "scope": SCOPE, "aud": self.token_url,
                    "iat": iat, "exp": iat + 3600}),
        )
    }

    async fn access_token(&self, force: bool) -> Result<zeroize::Zeroizing<String>, TokenError> {
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && !force
            && Instant::now() < *expires
        {
            return Ok(token.clone());
        }
        let assertion = self.assertion(crate::unix_now());
        let form = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let response = self
            .client
            .post(&self.token_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .send()
            .await
            .map_err(|error| TokenError::Retry(None, format!("token endpoint: {error}")))?;
        let status = response.status().as_u16();
        let after = crate::retry_after(response.headers());
        let body = crate::json_answer(response).await;
        if status == 429 || status >= 500 {
            return Err(TokenError::Retry(
                after,
                format!("token endpoint: {status}"),
            ));
        }
        if status != 200 {
            let error = body.get("error").and_then(Value::as_str).unwrap_or("");
            return Err(TokenError::Failed(
                Some(status),
                format!("token endpoint refused the assertion: {error}"),
            ));
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                TokenError::Failed(Some(status), "token endpoint: no access_token".into())
            })?;
        let lifetime = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        let token = zeroize::Zeroizing::new(token.to_owned());
        let expires = Instant::now() + Duration::from_secs(lifetime).saturating_sub(EXPIRY_MARGIN);
        *cached = Some((token.clone(), expires));
        Ok(token)
    }

    /// Sends `message`, the full `{"message":{...}}` body.
    pub async fn send(&self, message: &Value) -> SendOutcome {
        let body = message.to_string();
        match self.attempt(&body, false).await {
            Ok(outcome) => outcome,
            Err(()) => self
                .attempt(&body, true)
                .await
                .unwrap_or_else(|()| SendOutcome::Failed {
                    status: Some(401),
                    reason: "UNAUTHENTICATED after refreshing the access token".into(),
                }),
        }
    }

    /// `Err(())` on 401: the caller refreshes the token once.
    async fn attempt(&self, body: &str, refresh: bool) -> Result<SendOutcome, ()> {
        let token = match self.access_token(refresh).await {
            Ok(token) => token,
            Err(error) => return Ok(error.into()),
        };
        let response = match self
            .client
            .post(&self.send_url)
            .bearer_auth(token.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return Ok(crate::transport_outcome(&error)),
        };
        let status = response.status().as_u16();
        if status == 401 {
            return Err(());
        }
        let after = crate::retry_after(response.headers());
        let body = crate::json_answer(response).await;
        Ok(outcome(status, after, &body))
    }
}

/// RFC 3986 unreserved characters stay; everything else in a path segment is
/// percent-encoded.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn percent_encode_segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// Maps an FCM v1 response to an outcome.
fn outcome(status: u16, after: Option<Duration>, body: &Value) -> SendOutcome {
    if status == 200 {
        return SendOutcome::Delivered {
            id: body.get("name").and_then(Value::as_str).map(str::to_owned),
        };
    }
    let error = body.get("error");
    let error_code = error
        .and_then(|error| error.get("details"))
        .and_then(Value::as_array)
        .and_then(|details| {
            details
                .iter()
                .find_map(|detail| detail.get("errorCode").and_then(Value::as_str))
        });
    let status_text = error
        .and_then(|error| error.get("status"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let reason = error_code.unwrap_or(status_text).to_owned();
    if error_code == Some("UNREGISTERED") {
        return SendOutcome::Unregistered { reason };
    }
    match status {
        429 | 500 | 503 => SendOutcome::Retry {
            after,
            reason: format!("{status} {reason}"),
        },
        _ => SendOutcome::Failed {
            status: Some(status),
            reason,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bad_service_accounts_are_refused() {
        let parse = FcmCredential::from_service_account_json;
        assert!(matches!(
            parse(b"{not json"),
            Err(CredentialError::Json { .. })
        ));
        assert_eq!(
            parse(br#"{"type":"service_account"}"#).unwrap_err(),
            CredentialError::MissingField {
                field: "project_id"
            }
        );
        assert_eq!(
            parse(br#"{"type":"authorized_user"}"#).unwrap_err(),
            CredentialError::WrongType {
                found: "authorized_user".into()
            }
        );
        let p256 = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
        let json = json!({"type": "service_account", "project_id": "p",
            "client_email": "a@p.iam.gserviceaccount.com", "private_key": p256});
        let error = parse(json.to_string().as_bytes()).unwrap_err();
        assert_eq!(error, CredentialError::InvalidRsaKey);
        assert!(!error.to_string().contains("MIGH"));
    }

    #[test]
    fn assertion_is_rs256_with_the_google_claims() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use rand_core::SeedableRng as _;
        use rsa::pkcs8::EncodePrivateKey as _;
        use rsa::signature::Verifier as _;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let json = json!({"type": "service_account", "project_id": "demo",
            "client_email": "a@demo.iam.gserviceaccount.com", "private_key": pem.as_str()});
        let credential =
            FcmCredential::from_service_account_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(credential.project_id(), "demo");
        assert!(!format!("{credential:?}").contains("PRIVATE"));
        let sender = FcmSender::new(credential, &SenderOptions::default()).unwrap();
        assert_eq!(sender.token_url, DEFAULT_TOKEN_URI);
        assert_eq!(
            sender.send_url,
            "https://fcm.googleapis.com/v1/projects/demo/messages:send"
        );
        let assertion = sender.assertion(1_000);
        let parts: Vec<&str> = assertion.split('.').collect();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            json!({"iss": "a@demo.iam.gserviceaccount.com", "scope": SCOPE,
            "aud": DEFAULT_TOKEN_URI, "iat": 1_000, "exp": 4_600})
        );
        let signature = rsa::pkcs1v15::Signature::try_from(
            URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice(),
        )
        .unwrap();
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key())
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn responses_map_to_outcomes() {
        let unregistered = json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
        assert_eq!(
            outcome(404, None, &unregistered),
            SendOutcome::Unregistered {
                reason: "UNREGISTERED".into()
            }
        );
        assert_eq!(
            outcome(200, None, &json!({"name": "projects/p/messages/1"})),
            SendOutcome::Delivered {
                id: Some("projects/p/messages/1".into())
            }
        );
        assert!(matches!(
            outcome(429, Some(Duration::from_secs(7)), &Value::Null),
            SendOutcome::Retry { after: Some(after), .. } if after == Duration::from_secs(7)
        ));
        assert!(matches!(
            outcome(400, None, &json!({"error": {"status": "INVALID_ARGUMENT"}})),
            SendOutcome::Failed {
                status: Some(400),
                ..
            }
        ));
        assert_eq!(percent_encode_segment("my-proj/x"), "my-proj%2Fx");
    }
}
