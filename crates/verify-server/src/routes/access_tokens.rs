//! `/v2/Services/{sid}/AccessTokens` and `/v2/Services/{sid}/AccessTokens/{sid}`:
//! push enrollment tokens.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify_engine::model::api::AccessTokenJson;
use verify_engine::model::{AccessTokenSid, FactorType};
use verify_engine::store::Store;

use crate::auth::{Caller, require_api_key};
use crate::error::ApiError;
use crate::form::Form;

use super::{ApiResult, Shared, identity, json, service_sid, value};

pub(super) async fn create_access_token<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let identity = identity(form.required("Identity")?)?;
    let factor_type: FactorType = form.required("FactorType")?.parse().map_err(|_| ApiError {
        status: 400,
        retry_after: None,
        code: 60369,
        message: "FactorType must be push".to_owned(),
    })?;
    if factor_type != FactorType::Push {
        return Err(ApiError {
            status: 400,
            retry_after: None,
            code: 60369,
            message: "access tokens enroll push factors only".to_owned(),
        });
    }
    let ttl = form
        .parsed::<u64>("Ttl")?
        .map(std::time::Duration::from_secs);
    let issued = app
        .engine
        .create_access_token(
            service_sid(&sid)?,
            &identity,
            form.get("FactorFriendlyName"),
            ttl,
        )
        .await?;
    let mut body = value(&AccessTokenJson::new(
        &issued.token,
        &app.engine.api_context(),
    ));
    if let Some(object) = body.as_object_mut() {
        // The credential the device presents as `Basic base64("token:" + token)`.
        object.insert(
            "token".to_owned(),
            Value::String(issued.credential().to_owned()),
        );
    }
    json(StatusCode::CREATED, &body)
}

/// The AccessToken resource as fetched: the creation's fields with `token: null`.
/// The token is a single-use bearer credential handed out once, at creation; a
/// fetch never shows it again (docs/api.md, "Deviations").
pub(super) async fn fetch_access_token<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, token)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    let service = service_sid(&sid)?;
    let token = AccessTokenSid::parse(&token)
        .map_err(|_| ApiError::invalid("AccessTokenSid is malformed"))?;
    let token = app.engine.fetch_access_token(service, token).await?;
    let ctx = app.engine.api_context();
    let body = serde_json::json!({
        "sid": token.sid(),
        "account_sid": ctx.account_sid,
        "service_sid": token.service_sid(),
        "entity_identity": token.identity(),
        "factor_type": token.factor_type(),
        "factor_friendly_name": token.factor_friendly_name().map(|n| n.as_str()),
        "ttl": token.ttl().as_secs(),
        "date_created": token.date_created(),
        "token": Value::Null,
        "url": format!(
            "{}/v2/Services/{}/AccessTokens/{}",
            app.base_url,
            token.service_sid(),
            token.sid()
        ),
    });
    json(StatusCode::OK, &body)
}
