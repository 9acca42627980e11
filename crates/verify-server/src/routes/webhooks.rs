//! `/v2/Services/{sid}/Webhooks`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify::model::api::WebhookJson;
use verify::model::{WebhookEventType, WebhookStatus};
use verify::store::Store;

use crate::auth::{Caller, require_api_key};
use crate::error::ApiError;
use crate::form::Form;
use crate::paging::Paging;

use super::{ApiResult, Shared, json, no_content, query, service_sid, value, webhook_sid};

fn event_types(form: &Form) -> Result<Vec<WebhookEventType>, ApiError> {
    form.all("EventTypes")
        .iter()
        .flat_map(|text| text.split(','))
        .map(|text| {
            serde_json::from_value(Value::String(text.trim().to_owned()))
                .map_err(|_| ApiError::invalid(format!("EventTypes: unknown event type {text:?}")))
        })
        .collect()
}

pub(super) async fn create_webhook<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let created = app
        .engine
        .create_webhook(
            service_sid(&sid)?,
            form.required("FriendlyName")?,
            event_types(&form)?,
            form.required("WebhookUrl")?,
        )
        .await?;
    let mut webhook = created.webhook;
    if form.get("Status") == Some("disabled") {
        webhook = app
            .engine
            .update_webhook_status(
                webhook.service_sid(),
                webhook.sid(),
                WebhookStatus::Disabled,
            )
            .await?;
    }
    let mut body = value(&WebhookJson::new(&webhook, &app.engine.api_context()));
    if let Some(object) = body.as_object_mut() {
        // Shown once: the Standard Webhooks signing secret (`whsec_...`).
        object.insert(
            "secret".to_owned(),
            Value::String(created.secret.to_whsec().to_string()),
        );
    }
    json(StatusCode::CREATED, &body)
}

pub(super) async fn fetch_webhook<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, w)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    let webhook = app
        .engine
        .fetch_webhook(service_sid(&sid)?, webhook_sid(&w)?)
        .await?;
    json(
        StatusCode::OK,
        &WebhookJson::new(&webhook, &app.engine.api_context()),
    )
}

pub(super) async fn list_webhooks<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    require_api_key(&caller)?;
    let paging = Paging::from_form(&query(raw)?)?;
    let service = service_sid(&sid)?;
    let listing = app.engine.list_webhooks(service, &paging.query).await?;
    let ctx = app.engine.api_context();
    let url = format!("{}/v2/Services/{service}/Webhooks", app.base_url);
    json(
        StatusCode::OK,
        &paging.respond(&url, "webhooks", &[], &listing, |w| {
            value(&WebhookJson::new(w, &ctx))
        }),
    )
}

pub(super) async fn update_webhook<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, w)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let status = form
        .parsed::<WebhookStatus>("Status")?
        .ok_or_else(|| ApiError::invalid("only Status (enabled | disabled) can be updated"))?;
    let webhook = app
        .engine
        .update_webhook_status(service_sid(&sid)?, webhook_sid(&w)?, status)
        .await?;
    json(
        StatusCode::OK,
        &WebhookJson::new(&webhook, &app.engine.api_context()),
    )
}

pub(super) async fn delete_webhook<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, w)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    app.engine
        .delete_webhook(service_sid(&sid)?, webhook_sid(&w)?)
        .await?;
    no_content()
}
