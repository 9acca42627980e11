//! `.../Challenges/{sid}/Notifications`: re-sending a push challenge's notification.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use verify::model::{NotificationPlatform, NotificationSid};
use verify::store::Store;

use crate::auth::{Caller, require_api_key};
use crate::delivery::{LoggingNotificationSender, NotificationSender, OutgoingNotification};
use crate::error::ApiError;
use crate::form::Form;

use super::{ApiResult, Shared, challenge_sid, identity, json, service_sid};

/// The longest (and default) notification `Ttl`, in seconds (docs/api.md, "Notifications").
const MAX_NOTIFICATION_TTL: u64 = 300;

/// `POST .../Challenges/{sid}/Notifications` (host only): re-sends the push
/// notification of a pending push challenge with `Ttl` 0..=300 s (default 300).
/// The notification is built by the engine and handed to the
/// [`NotificationSender`] installed on the router, by default the
/// [`LoggingNotificationSender`], which logs it and sends nothing. A factor with
/// platform `none` has nothing to send: the resource is still created (the device
/// polls). Answers the Notification resource (201).
pub(super) async fn create_notification<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, c)): Path<(String, String, String)>,
    sender: Option<Extension<Arc<dyn NotificationSender>>>,
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
    let notification = app
        .engine
        .push_notification(service, &identity, sid)
        .await?;
    let challenge = app.engine.fetch_challenge(service, &identity, sid).await?;
    let (Some(factor_sid), Some(entity_sid)) = (challenge.factor_sid(), challenge.entity_sid())
    else {
        return Err(ApiError::invalid("the challenge has no push factor"));
    };
    let factor = app
        .engine
        .fetch_factor(service, &identity, factor_sid)
        .await?;
    let verify::model::factor::FactorKind::Push(push) = factor.kind() else {
        return Err(ApiError::invalid(
            "the challenge's factor is not a push factor",
        ));
    };
    let platform = push.config().notification_platform();
    let device_token = push.config().notification_token().map(str::to_owned);
    let payload = match (platform, device_token.as_deref()) {
        (NotificationPlatform::Apn, Some(_)) => Some(notification.apns_payload()),
        (NotificationPlatform::Fcm, Some(token)) => Some(notification.fcm_message(token)),
        _ => None,
    }
    .transpose()
    .map_err(|error| verify::VerifyError::Push(error.into()))?;
    let outgoing = OutgoingNotification {
        sid: NotificationSid::generate(&mut rand_core::OsRng),
        challenge_sid: sid,
        factor_sid,
        platform,
        device_token,
        ttl: std::time::Duration::from_secs(ttl),
        payload,
    };
    let sent = match &sender {
        Some(Extension(sender)) => sender.send(&outgoing).await,
        None => LoggingNotificationSender.send(&outgoing).await,
    };
    if let Err(error) = sent {
        tracing::error!(%error, notification_sid = %outgoing.sid, "push notification failed");
        return Err(ApiError {
            status: 502,
            code: verify::error::CODE_INTERNAL,
            message: format!("the push service refused the notification: {error}"),
        });
    }
    let ctx = app.engine.api_context();
    let mut body = serde_json::json!({
        "sid": outgoing.sid.to_string(),
        "account_sid": ctx.account_sid.to_string(),
        "service_sid": service.to_string(),
        "entity_sid": entity_sid.to_string(),
        "identity": identity.to_string(),
        "challenge_sid": sid.to_string(),
        "priority": "high",
        "ttl": ttl,
        "date_created": app.now()?.to_string(),
    });
    if let Some(object) = body.as_object_mut() {
        object.insert(
            "url".to_owned(),
            Value::String(format!(
                "{}/v2/Services/{service}/Entities/{identity}/Challenges/{sid}/Notifications/{}",
                app.base_url, outgoing.sid
            )),
        );
    }
    json(StatusCode::CREATED, &body)
}
