//! `/v2/Services/{sid}/Webhooks`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify_engine::model::api::WebhookJson;
use verify_engine::model::limits::DEFAULT_WEBHOOK_SECRET_OVERLAP;
use verify_engine::model::{Webhook, WebhookEventType, WebhookStatus};
use verify_engine::store::Store;

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

/// The documents' `Version` (`v1` legacy, `v2` default): this server builds only
/// `v2` payloads, so `v1` (or anything else) is refused; `true` when `v2` was sent.
fn check_version(form: &Form) -> Result<bool, ApiError> {
    match form.get("Version") {
        None => Ok(false),
        Some(Webhook::VERSION) => Ok(true),
        Some("v1") => Err(ApiError::invalid(
            "Version v1 (the legacy payload) is not served: only v2",
        )),
        Some(_) => Err(ApiError::invalid("Version must be v2")),
    }
}

/// Refuses a `WebhookUrl` whose destination is not public (see
/// [`crate::ssrf`]): the message names the host and the rule, never the rest
/// of the URL (its path or query may carry a token).
async fn check_destination<S: Store + 'static>(
    app: &crate::AppState<S>,
    url: &str,
) -> Result<(), ApiError> {
    app.webhook_destinations()
        .check_url(url)
        .await
        .map_err(|refused| {
            ApiError::invalid(format!(
                "WebhookUrl: {refused}; webhooks are delivered only to public addresses \
                 (the server's operator can allow a destination with --webhook-allow-destination)"
            ))
        })
}

pub(super) async fn create_webhook<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    check_version(&form)?;
    let status = form.parsed::<WebhookStatus>("Status")?;
    let service = service_sid(&sid)?;
    let friendly_name = form.required("FriendlyName")?;
    let event_types = event_types(&form)?;
    let webhook_url = form.required("WebhookUrl")?;
    // Last, as it may wait for DNS.
    check_destination(&app, webhook_url).await?;
    let created = app
        .engine
        .create_webhook(service, friendly_name, event_types, webhook_url)
        .await?;
    let mut webhook = created.webhook;
    if status == Some(WebhookStatus::Disabled) {
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
    let (service, webhook) = (service_sid(&sid)?, webhook_sid(&w)?);
    let friendly_name = form.get("FriendlyName");
    let event_types = if form.all("EventTypes").is_empty() {
        None
    } else {
        Some(event_types(&form)?)
    };
    let webhook_url = form.get("WebhookUrl");
    let status = form.parsed::<WebhookStatus>("Status")?;
    let version = check_version(&form)?;
    if let Some(url) = webhook_url {
        check_destination(&app, url).await?;
    }
    let webhook = if friendly_name.is_none()
        && event_types.is_none()
        && webhook_url.is_none()
        && status.is_none()
    {
        if !version {
            return Err(ApiError::invalid(
                "nothing to update: send FriendlyName, EventTypes, WebhookUrl, Status or Version",
            ));
        }
        // `Version=v2` alone asks for what the webhook already is.
        app.engine.fetch_webhook(service, webhook).await?
    } else {
        app.engine
            .update_webhook(
                service,
                webhook,
                friendly_name,
                event_types,
                webhook_url,
                status,
            )
            .await?
    };
    json(
        StatusCode::OK,
        &WebhookJson::new(&webhook, &app.engine.api_context()),
    )
}

/// `POST .../Webhooks/{sid}/RotateSecret` (this server's extension, host only): a
/// fresh signing secret, shown once in `secret` as at creation. The old one keeps
/// signing deliveries beside it for `OverlapSecs` (default a day, at most 7 days;
/// `0` stops it at once) so receivers can switch; `previous_secret_expires` says
/// until when.
pub(super) async fn rotate_webhook_secret<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, w)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let overlap = form.parsed::<u64>("OverlapSecs")?.map_or(
        DEFAULT_WEBHOOK_SECRET_OVERLAP,
        std::time::Duration::from_secs,
    );
    let rotated = app
        .engine
        .rotate_webhook_secret(service_sid(&sid)?, webhook_sid(&w)?, overlap)
        .await?;
    let mut body = value(&WebhookJson::new(
        &rotated.webhook,
        &app.engine.api_context(),
    ));
    if let Some(object) = body.as_object_mut() {
        object.insert(
            "secret".to_owned(),
            Value::String(rotated.secret.to_whsec().to_string()),
        );
        object.insert(
            "previous_secret_expires".to_owned(),
            rotated
                .webhook
                .previous_secret()
                .map_or(Value::Null, |previous| value(&previous.expires_at())),
        );
    }
    json(StatusCode::OK, &body)
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
