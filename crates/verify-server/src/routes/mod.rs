//! The `/v2/Services/...` routes and their handlers.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;
use verify_engine::model::{
    ChallengeSid, FactorSid, Field, Identity, ServiceSid, StringMap, WebhookSid,
};
use verify_engine::store::Store;

use crate::AppState;
use crate::error::ApiError;
use crate::form::Form;

mod access_tokens;
mod challenges;
mod entities;
mod factors;
mod notifications;
mod passkeys;
mod services;
mod webhooks;
pub(crate) mod well_known;

use access_tokens::{create_access_token, fetch_access_token};
use challenges::{create_challenge, fetch_challenge, list_challenges, update_challenge};
use entities::{create_entity, delete_entity, fetch_entity, list_entities};
use factors::{
    create_factor, delete_factor, fetch_factor, list_factors, unlock_factor, update_factor,
};
use notifications::create_notification;
use passkeys::{
    passkeys_approve_challenge, passkeys_create_challenge, passkeys_create_factor,
    passkeys_verify_factor,
};
use services::{create_service, delete_service, fetch_service, list_services, update_service};
use webhooks::{
    create_webhook, delete_webhook, fetch_webhook, list_webhooks, rotate_webhook_secret,
    update_webhook,
};

type Shared<S> = State<Arc<AppState<S>>>;
type ApiResult = Result<Response, ApiError>;

/// The API routes (authentication is applied by [`crate::router`]).
pub(crate) fn routes<S: Store + 'static>() -> Router<Arc<AppState<S>>> {
    let svc = "/v2/Services/{service}";
    let ent = "/v2/Services/{service}/Entities/{identity}";
    Router::new()
        .route(
            "/v2/Services",
            post(create_service::<S>).get(list_services::<S>),
        )
        .route(
            svc,
            get(fetch_service::<S>)
                .post(update_service::<S>)
                .delete(delete_service::<S>),
        )
        .route(
            &format!("{svc}/Entities"),
            post(create_entity::<S>).get(list_entities::<S>),
        )
        .route(ent, get(fetch_entity::<S>).delete(delete_entity::<S>))
        .route(
            &format!("{ent}/Factors"),
            post(create_factor::<S>).get(list_factors::<S>),
        )
        .route(
            &format!("{ent}/Factors/{{factor}}"),
            get(fetch_factor::<S>)
                .post(update_factor::<S>)
                .delete(delete_factor::<S>),
        )
        .route(
            &format!("{ent}/Factors/{{factor}}/Unlock"),
            post(unlock_factor::<S>),
        )
        .route(
            &format!("{ent}/Challenges"),
            post(create_challenge::<S>).get(list_challenges::<S>),
        )
        .route(
            &format!("{ent}/Challenges/{{challenge}}"),
            get(fetch_challenge::<S>).post(update_challenge::<S>),
        )
        .route(
            &format!("{ent}/Challenges/{{challenge}}/Notifications"),
            post(create_notification::<S>),
        )
        .route(
            &format!("{svc}/AccessTokens"),
            post(create_access_token::<S>),
        )
        .route(
            &format!("{svc}/AccessTokens/{{token}}"),
            get(fetch_access_token::<S>),
        )
        .route(
            &format!("{svc}/Webhooks"),
            post(create_webhook::<S>).get(list_webhooks::<S>),
        )
        .route(
            &format!("{svc}/Webhooks/{{webhook}}"),
            get(fetch_webhook::<S>)
                .post(update_webhook::<S>)
                .delete(delete_webhook::<S>),
        )
        .route(
            &format!("{svc}/Webhooks/{{webhook}}/RotateSecret"),
            post(rotate_webhook_secret::<S>),
        )
        .route(
            &format!("{svc}/Passkeys/Factors"),
            post(passkeys_create_factor::<S>),
        )
        .route(
            &format!("{svc}/Passkeys/VerifyFactor"),
            post(passkeys_verify_factor::<S>),
        )
        .route(
            &format!("{svc}/Passkeys/Challenges"),
            post(passkeys_create_challenge::<S>),
        )
        .route(
            &format!("{svc}/Passkeys/ApproveChallenge"),
            post(passkeys_approve_challenge::<S>),
        )
        .route("/metrics", get(metrics::<S>))
}

/// `GET /metrics` (host only): the push notification counters in the Prometheus
/// text format ([`crate::push::PushMetrics`]).
async fn metrics<S: Store + 'static>(State(app): Shared<S>, caller: crate::Caller) -> ApiResult {
    crate::auth::require_api_key(&caller)?;
    Ok((
        StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.push_metrics().render(),
    )
        .into_response())
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> ApiResult {
    let value = serde_json::to_value(body).map_err(|_| ApiError {
        status: 500,
        retry_after: None,
        code: verify_engine::error::CODE_INTERNAL,
        message: "a resource failed to serialize".to_owned(),
    })?;
    Ok((status, axum::Json(value)).into_response())
}

fn value<T: Serialize>(body: &T) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

fn service_sid(text: &str) -> Result<ServiceSid, ApiError> {
    ServiceSid::parse(text).map_err(|_| ApiError::invalid("ServiceSid is malformed"))
}

fn identity(text: &str) -> Result<Identity, ApiError> {
    Ok(Identity::parse(text)?)
}

fn query(raw: Option<String>) -> Result<Form, ApiError> {
    Form::parse(raw.unwrap_or_default().as_bytes())
}

fn string_map(form: &Form, name: &str, field: Field) -> Result<Option<StringMap>, ApiError> {
    form.get(name)
        .map(|text| StringMap::parse_json(field, text))
        .transpose()
        .map_err(ApiError::from)
}

fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn factor_sid(text: &str) -> Result<FactorSid, ApiError> {
    FactorSid::parse(text).map_err(|_| ApiError::invalid("FactorSid is malformed"))
}

fn challenge_sid(text: &str) -> Result<ChallengeSid, ApiError> {
    ChallengeSid::parse(text).map_err(|_| ApiError {
        status: 400,
        retry_after: None,
        code: 60364,
        message: "ChallengeSid is malformed".to_owned(),
    })
}

fn webhook_sid(text: &str) -> Result<WebhookSid, ApiError> {
    WebhookSid::parse(text).map_err(|_| ApiError::invalid("WebhookSid is malformed"))
}
