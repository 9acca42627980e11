//! `/v2/Services/{sid}/Passkeys/...`: passkey factors and challenges, JSON bodies.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify::model::UnixTime;
use verify::model::api::FactorJson;
use verify::store::Store;

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
    let identity = identity(&required_str(&mut map, "identity")?)?;
    let friendly_name = required_str(&mut map, "friendly_name")?;
    if map.get("config").is_some_and(|config| !config.is_null()) {
        return Err(ApiError::invalid(
            "per-factor config is not supported: set Passkeys.* on the service",
        ));
    }
    let created = app
        .engine
        .create_passkey_factor(service_sid(&sid)?, &identity, &friendly_name)
        .await?;
    let body =
        FactorJson::created_passkey(&created.factor, &app.engine.api_context(), created.options)
            .ok_or_else(|| ApiError::invalid("not a passkey factor"))?;
    json(StatusCode::CREATED, &body)
}

pub(super) async fn passkeys_verify_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let mut map = json_object(&body)?;
    let service = service_sid(&sid)?;
    let named = (
        take_str(&mut map, "identity")?,
        take_str(&mut map, "factor_sid")?,
    );
    let credential = Value::Object(map).to_string();
    let factor = match named {
        (None, None) => {
            app.engine
                .verify_passkey_factor_response(service, &credential)
                .await?
        }
        (Some(id), Some(factor)) => {
            app.engine
                .verify_passkey_factor(service, &identity(&id)?, factor_sid(&factor)?, &credential)
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
    let mut map = json_object(&body)?;
    let service = service_sid(&sid)?;
    let named = take_str(&mut map, "challenge_sid")?;
    let credential = Value::Object(map).to_string();
    let update = match named {
        None => {
            app.engine
                .approve_passkey_challenge_response(service, &credential)
                .await?
        }
        Some(challenge) => {
            app.engine
                .approve_passkey_challenge(service, challenge_sid(&challenge)?, &credential)
                .await?
        }
    };
    challenge_response(&app, StatusCode::OK, &update)
}
