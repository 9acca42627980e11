//! `.../Challenges/{sid}/Notifications`: re-sending a push challenge's notification.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify_engine::model::NotificationSid;
use verify_engine::store::Store;

use crate::auth::{Caller, require_api_key};
use crate::error::ApiError;
use crate::form::Form;
use crate::push::{OutgoingNotification, PushOutcome, send_once};

use super::{ApiResult, Shared, challenge_sid, identity, json, service_sid};

/// The longest (and default) notification `Ttl`, in seconds (docs/api.md, "Notifications").
const MAX_NOTIFICATION_TTL: u64 = 300;

/// `POST .../Challenges/{sid}/Notifications` (host only): re-sends the push
/// notification of a pending push challenge with `Ttl` 0..=300 s (default 300),
/// one attempt, through the state's [`crate::push::NotificationSender`]. A
/// factor with platform `none` (or a token the push service reported
/// unregistered) has nothing to send: the resource is still created (the device
/// polls). A push service that refuses answers 502, one that asks to retry 503.
/// Answers the Notification resource (201).
pub(super) async fn create_notification<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, c)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let ttl = form.parsed::<u64>("Ttl")?.unwrap_or(MAX_NOTIFICATION_TTL);
    if ttl > MAX_NOTIFICATION_TTL {
        return Err(ApiError::invalid(format!(
            "Ttl must be 0..={MAX_NOTIFICATION_TTL} seconds, got {ttl}"
        )));
    }
    let (service, identity, sid) = (service_sid(&sid)?, identity(&id)?, challenge_sid(&c)?);
    let delivery = app.engine.push_delivery(service, &identity, sid).await?;
    let challenge = app.engine.fetch_challenge(service, &identity, sid).await?;
    let Some(entity_sid) = challenge.entity_sid() else {
        return Err(ApiError::invalid("the challenge has no push factor"));
    };
    let notification_sid = NotificationSid::generate(&mut rand_core::OsRng);
    let now = app.now()?;
    if let Some(delivery) = delivery {
        let outgoing = OutgoingNotification::build(
            notification_sid,
            &delivery,
            std::time::Duration::from_secs(ttl),
            now,
        )?;
        match send_once(&app, service, &identity, &outgoing, 1).await {
            PushOutcome::Delivered { .. } | PushOutcome::NotSent { .. } => {}
            PushOutcome::Retry { after, reason } => {
                return Err(ApiError {
                    status: 503,
                    retry_after: after.map(|after| after.as_secs()),
                    code: verify_engine::error::CODE_INTERNAL,
                    message: format!("the push service asks to retry: {reason}"),
                });
            }
            PushOutcome::Unregistered { reason } | PushOutcome::Failed { reason, .. } => {
                return Err(ApiError {
                    status: 502,
                    retry_after: None,
                    code: verify_engine::error::CODE_INTERNAL,
                    message: format!("the push service refused the notification: {reason}"),
                });
            }
        }
    }
    let ctx = app.engine.api_context();
    let mut body = serde_json::json!({
        "sid": notification_sid.to_string(),
        "account_sid": ctx.account_sid.to_string(),
        "service_sid": service.to_string(),
        "entity_sid": entity_sid.to_string(),
        "identity": identity.to_string(),
        "challenge_sid": sid.to_string(),
        "priority": "high",
        "ttl": ttl,
        "date_created": now.to_string(),
    });
    if let Some(object) = body.as_object_mut() {
        object.insert(
            "url".to_owned(),
            Value::String(format!(
                "{}/v2/Services/{service}/Entities/{identity}/Challenges/{sid}/Notifications/{}",
                app.base_url, notification_sid
            )),
        );
    }
    json(StatusCode::CREATED, &body)
}
