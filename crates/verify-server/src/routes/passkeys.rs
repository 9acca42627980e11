//! `/v2/Services/{sid}/Passkeys/...`: passkey factors and challenges, JSON bodies.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify_engine::RequestedPasskeysConfig;
use verify_engine::model::UnixTime;
use verify_engine::model::api::FactorJson;
use verify_engine::store::Store;

use crate::auth::{Caller, require_api_key};
use crate::error::ApiError;

use super::challenges::challenge_response;
use super::{ApiResult, Shared, challenge_sid, factor_sid, identity, json, service_sid};

//
// JSON bodies, as the documents send them. `VerifyFactor` and `ApproveChallenge`
// take the bare WebAuthn credential JSON: the engine finds the factor / challenge
// from the sid its WebAuthn challenge begins with (then compares the whole
// challenge in constant time). A caller that knows the row may still name it with
// `identity` + `factor_sid` (VerifyFactor) or `challenge_sid` (ApproveChallenge)
// beside the credential's own keys; the credential must then answer that row.

/// The largest passkeys JSON body (bytes): well above any real credential.
const MAX_PASSKEYS_JSON: usize = 32 * 1024;

fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.len() > MAX_PASSKEYS_JSON {
        return Err(ApiError::invalid("the JSON body is too large"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid("the body must be a JSON object")),
    }
}

/// The routing keys a credential body may carry beside the credential's own members
/// (`keys`), read without building the rest of the body: the credential itself is
/// handed to the engine as received.
fn routing_keys(
    body: &[u8],
    keys: &'static [&'static str],
) -> Result<serde_json::Map<String, Value>, ApiError> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};

    struct Keys(&'static [&'static str]);

    impl<'de> Visitor<'de> for Keys {
        type Value = serde_json::Map<String, Value>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = serde_json::Map::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if self.0.contains(&key.as_ref()) {
                    found.insert(key.into_owned(), map.next_value::<Value>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    if body.len() > MAX_PASSKEYS_JSON {
        return Err(ApiError::invalid("the JSON body is too large"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    deserializer
        .deserialize_map(Keys(keys))
        .and_then(|found| deserializer.end().map(|()| found))
        .map_err(|_| ApiError::invalid("the body must be a JSON object"))
}

fn take_str(
    map: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::invalid(format!("{key} must be a string"))),
    }
}

fn required_str(map: &mut serde_json::Map<String, Value>, key: &str) -> Result<String, ApiError> {
    take_str(map, key)?
        .ok_or_else(|| ApiError::invalid(format!("missing required parameter {key}")))
}

pub(super) async fn passkeys_create_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let mut map = json_object(&body)?;
    // Without an identity the engine creates the entity with a fresh one (the
    // response's `identity`).
    let identity = take_str(&mut map, "identity")?
        .map(|id| identity(&id))
        .transpose()?;
    let friendly_name = required_str(&mut map, "friendly_name")?;
    let config = match map.remove("config") {
        None | Some(Value::Null) => None,
        Some(Value::Object(config)) => Some(requested_config(config)?),
        Some(_) => return Err(ApiError::invalid("config must be a JSON object")),
    };
    let created = app
        .engine
        .create_passkey_factor_with(
            service_sid(&sid)?,
            identity.as_ref(),
            &friendly_name,
            config.as_ref(),
        )
        .await?;
    let body =
        FactorJson::created_passkey(&created.factor, &app.engine.api_context(), created.options)
            .ok_or_else(|| ApiError::invalid("not a passkey factor"))?;
    json(StatusCode::CREATED, &body)
}

/// The documents' per-factor `config` (`relying_party` {`id`, `name`, `origins`},
/// `authenticator_attachment`, `discoverable_credentials`, `user_verification`):
/// read here, compared with the service's configuration by the engine. A member
/// outside the documents' list is refused rather than silently ignored, since the
/// caller meant it to configure the passkey.
fn requested_config(
    mut config: serde_json::Map<String, Value>,
) -> Result<RequestedPasskeysConfig, ApiError> {
    fn parsed<T: std::str::FromStr>(
        map: &mut serde_json::Map<String, Value>,
        key: &str,
    ) -> Result<Option<T>, ApiError> {
        take_str(map, key)?
            .map(|text| {
                text.parse()
                    .map_err(|_| ApiError::invalid(format!("config.{key} is not a known value")))
            })
            .transpose()
    }
    let mut requested = RequestedPasskeysConfig::default();
    match config.remove("relying_party") {
        None | Some(Value::Null) => {}
        Some(Value::Object(mut rp)) => {
            requested.relying_party_id = take_str(&mut rp, "id")?;
            requested.relying_party_name = take_str(&mut rp, "name")?;
            requested.relying_party_origins = match rp.remove("origins") {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) => Some(
                    items
                        .into_iter()
                        .map(|item| match item {
                            Value::String(origin) => Ok(origin),
                            _ => Err(ApiError::invalid(
                                "config.relying_party.origins must be strings",
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "config.relying_party.origins must be an array",
                    ));
                }
            };
            if let Some(key) = rp.keys().next() {
                return Err(ApiError::invalid(format!(
                    "config.relying_party.{key} is not supported"
                )));
            }
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "config.relying_party must be a JSON object",
            ));
        }
    }
    requested.authenticator_attachment = parsed(&mut config, "authenticator_attachment")?;
    requested.discoverable_credentials = parsed(&mut config, "discoverable_credentials")?;
    requested.user_verification = parsed(&mut config, "user_verification")?;
    if let Some(key) = config.keys().next() {
        return Err(ApiError::invalid(format!("config.{key} is not supported")));
    }
    Ok(requested)
}

pub(super) async fn passkeys_verify_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let service = service_sid(&sid)?;
    let mut named = routing_keys(&body, &["identity", "factor_sid"])?;
    let named = (
        take_str(&mut named, "identity")?,
        take_str(&mut named, "factor_sid")?,
    );
    // The credential is the body as received: the engine parses it once.
    let factor = match named {
        (None, None) => {
            app.engine
                .verify_passkey_factor_response(service, &body)
                .await?
        }
        (Some(id), Some(factor)) => {
            app.engine
                .verify_passkey_factor(service, &identity(&id)?, factor_sid(&factor)?, &body)
                .await?
        }
        _ => {
            return Err(ApiError::invalid(
                "identity and factor_sid go together (or send the bare credential)",
            ));
        }
    };
    json(
        StatusCode::OK,
        &FactorJson::new(&factor, &app.engine.api_context()),
    )
}

pub(super) async fn passkeys_create_challenge<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let mut map = json_object(&body)?;
    let identity = take_str(&mut map, "identity")?
        .map(|id| identity(&id))
        .transpose()?;
    let factor = take_str(&mut map, "factor_sid")?
        .map(|f| factor_sid(&f))
        .transpose()?;
    let expiration = take_str(&mut map, "expiration_date")?
        .map(|date| UnixTime::parse_rfc3339(&date))
        .transpose()?;
    let update = app
        .engine
        .create_passkey_challenge(service_sid(&sid)?, identity.as_ref(), factor, expiration)
        .await?;
    challenge_response(&app, StatusCode::CREATED, &update)
}

pub(super) async fn passkeys_approve_challenge<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let service = service_sid(&sid)?;
    let named = take_str(
        &mut routing_keys(&body, &["challenge_sid"])?,
        "challenge_sid",
    )?;
    // The credential is the body as received: the engine parses it once.
    let update = match named {
        None => {
            app.engine
                .approve_passkey_challenge_response(service, &body)
                .await?
        }
        Some(challenge) => {
            app.engine
                .approve_passkey_challenge(service, challenge_sid(&challenge)?, &body)
                .await?
        }
    };
    challenge_response(&app, StatusCode::OK, &update)
}
