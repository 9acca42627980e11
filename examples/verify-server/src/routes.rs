//! The `/v2/Services/...` routes and their handlers.

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;
use verify::model::json::{
    AccessTokenJson, ChallengeJson, EntityJson, FactorJson, ServiceJson, WebhookJson,
};
use verify::model::{
    ChallengeFilter, ChallengeSid, ChallengeStatus, DetailField, Details, FactorSid, FactorType,
    Field, Identity, NotificationPlatform, NotificationSid, ServiceSid, StringMap, TotpAlgorithm,
    TotpSecret, UnixTime, WebhookEventType, WebhookSid, WebhookStatus,
};
use verify::store::Store;
use verify::{NewChallengeRequest, NewPushFactor, NewTotpFactor, ServiceSettings};

use crate::AppState;
use crate::auth::{Caller, device_access, require_api_key};
use crate::delivery::{LoggingNotificationSender, NotificationSender, OutgoingNotification};
use crate::error::ApiError;
use crate::form::Form;
use crate::paging::Paging;

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
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> ApiResult {
    let value = serde_json::to_value(body).map_err(|_| ApiError {
        status: 500,
        code: verify::error::CODE_INTERNAL,
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

// ---- services -----------------------------------------------------------------

fn service_settings(form: &Form) -> Result<ServiceSettings, ApiError> {
    let mut settings = ServiceSettings::new();
    if let Some(name) = form.get("FriendlyName") {
        settings = settings.with_friendly_name(name);
    }
    let step = form.parsed::<u8>("Totp.TimeStep")?;
    let length = form.parsed::<u8>("Totp.CodeLength")?;
    let skew = form.parsed::<u8>("Totp.Skew")?;
    let issuer = form.get("Totp.Issuer");
    if step.is_some() || length.is_some() || skew.is_some() || issuer.is_some() {
        let defaults = verify::model::TotpParams::default();
        let params = verify::model::TotpParams::new(
            length.unwrap_or(defaults.code_length()),
            step.unwrap_or(defaults.time_step()),
            skew.unwrap_or(defaults.skew()),
        )?;
        settings = settings.with_totp(verify::model::service::TotpServiceConfig::new(
            issuer, params,
        )?);
    }
    if let Some(rp_id) = form.get("Passkeys.RelyingParty.Id") {
        let name = form.get("Passkeys.RelyingParty.Name").unwrap_or(rp_id);
        let mut origins = form.all("Passkeys.RelyingParty.Origins").to_vec();
        if origins.is_empty() {
            origins.push(format!("https://{rp_id}"));
        }
        let rp = verify::model::RelyingParty::new(rp_id, name, origins)?;
        let mut passkeys = verify::model::PasskeysConfig::new(rp);
        if let Some(v) = form.parsed("Passkeys.AuthenticatorAttachment")? {
            passkeys.authenticator_attachment = v;
        }
        if let Some(v) = form.parsed("Passkeys.DiscoverableCredentials")? {
            passkeys.discoverable_credentials = v;
        }
        if let Some(v) = form.parsed("Passkeys.UserVerification")? {
            passkeys.user_verification = v;
        }
        settings = settings.with_passkeys(passkeys);
    }
    Ok(settings)
}

async fn create_service<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let name = form.required("FriendlyName")?;
    let service = app
        .engine
        .create_service(name, &service_settings(&form)?)
        .await?;
    json(
        StatusCode::CREATED,
        &ServiceJson::new(&service, &app.engine.api_context()),
    )
}

async fn fetch_service<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
) -> ApiResult {
    require_api_key(&caller)?;
    let service = app.engine.fetch_service(service_sid(&sid)?).await?;
    json(
        StatusCode::OK,
        &ServiceJson::new(&service, &app.engine.api_context()),
    )
}

async fn list_services<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    require_api_key(&caller)?;
    let paging = Paging::from_form(&query(raw)?)?;
    let listing = app.engine.list_services(&paging.query).await?;
    let ctx = app.engine.api_context();
    let url = format!("{}/v2/Services", app.base_url);
    json(
        StatusCode::OK,
        &paging.respond(&url, "services", &[], &listing, |s| {
            value(&ServiceJson::new(s, &ctx))
        }),
    )
}

async fn update_service<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let service = app
        .engine
        .update_service(service_sid(&sid)?, &service_settings(&form)?)
        .await?;
    json(
        StatusCode::OK,
        &ServiceJson::new(&service, &app.engine.api_context()),
    )
}

async fn delete_service<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
) -> ApiResult {
    require_api_key(&caller)?;
    app.engine.delete_service(service_sid(&sid)?).await?;
    no_content()
}

// ---- entities -----------------------------------------------------------------

async fn fetch_entity<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    let entity = app
        .engine
        .fetch_entity(service_sid(&sid)?, &identity(&id)?)
        .await?;
    json(
        StatusCode::OK,
        &EntityJson::new(&entity, &app.engine.api_context()),
    )
}

async fn delete_entity<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    app.engine
        .delete_entity(service_sid(&sid)?, &identity(&id)?)
        .await?;
    no_content()
}

// ---- factors ------------------------------------------------------------------

async fn create_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let form = Form::parse(&body)?;
    let service = service_sid(&sid)?;
    let identity = identity(&id)?;
    let ctx = app.engine.api_context();
    let factor_type: FactorType = form.required("FactorType")?.parse().map_err(|_| ApiError {
        status: 400,
        code: 60369,
        message: "FactorType must be push or totp".to_owned(),
    })?;
    let friendly_name = form.required("FriendlyName")?;
    let metadata = string_map(&form, "Metadata", Field::Metadata)?;
    match factor_type {
        FactorType::Totp => {
            require_api_key(&caller)?;
            let mut request = NewTotpFactor::new(friendly_name);
            if let Some(secret) = form.get("Binding.Secret") {
                request = request.with_secret(TotpSecret::from_base32(secret)?);
            }
            request.alg = form.parsed::<TotpAlgorithm>("Config.Alg")?;
            request.code_length = form.parsed("Config.CodeLength")?;
            request.time_step = form.parsed("Config.TimeStep")?;
            request.skew = form.parsed("Config.Skew")?;
            request.metadata = metadata;
            let created = app
                .engine
                .create_totp_factor(service, &identity, request)
                .await?;
            let body = FactorJson::created_totp(&created.factor, &ctx, &created.uri)
                .ok_or_else(|| ApiError::invalid("not a TOTP factor"))?;
            json(StatusCode::CREATED, &body)
        }
        FactorType::Push => {
            // The device creates its push factor with the enrollment access token.
            let Caller::Token(credential) = &caller else {
                return Err(ApiError::unauthorized());
            };
            let mut request = NewPushFactor::new(
                friendly_name,
                form.required("Binding.PublicKey")?,
                form.required("Config.AppId")?,
            );
            request.alg = form.get("Binding.Alg").unwrap_or("ES256").to_owned();
            if let Some(platform) =
                form.parsed::<NotificationPlatform>("Config.NotificationPlatform")?
                && platform != NotificationPlatform::None
            {
                request = request
                    .with_notifications(platform, form.required("Config.NotificationToken")?);
            }
            if let Some(version) = form.get("Config.SdkVersion") {
                request = request.with_sdk_version(version);
            }
            request.metadata = metadata;
            let factor = app
                .engine
                .create_push_factor(service, &identity, credential, request)
                .await?;
            let body = FactorJson::created_push(&factor, &ctx)
                .ok_or_else(|| ApiError::invalid("not a push factor"))?;
            json(StatusCode::CREATED, &body)
        }
        _ => Err(ApiError {
            status: 400,
            code: 60369,
            message: "create passkey factors with POST .../Passkeys/Factors".to_owned(),
        }),
    }
}

fn factor_sid(text: &str) -> Result<FactorSid, ApiError> {
    FactorSid::parse(text).map_err(|_| ApiError::invalid("FactorSid is malformed"))
}

async fn list_factors<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    require_api_key(&caller)?;
    let paging = Paging::from_form(&query(raw)?)?;
    let service = service_sid(&sid)?;
    let identity = identity(&id)?;
    let listing = app
        .engine
        .list_factors(service, &identity, &paging.query)
        .await?;
    let ctx = app.engine.api_context();
    let url = format!(
        "{}/v2/Services/{service}/Entities/{identity}/Factors",
        app.base_url
    );
    json(
        StatusCode::OK,
        &paging.respond(&url, "factors", &[], &listing, |f| {
            value(&FactorJson::new(f, &ctx))
        }),
    )
}

async fn fetch_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, f)): Path<(String, String, String)>,
) -> ApiResult {
    let (service, identity, factor) = (service_sid(&sid)?, identity(&id)?, factor_sid(&f)?);
    device_access(&app, &caller, service, &identity, Some(factor)).await?;
    let factor = app.engine.fetch_factor(service, &identity, factor).await?;
    json(
        StatusCode::OK,
        &FactorJson::new(&factor, &app.engine.api_context()),
    )
}

async fn update_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, f)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let form = Form::parse(&body)?;
    let (service, identity, factor) = (service_sid(&sid)?, identity(&id)?, factor_sid(&f)?);
    device_access(&app, &caller, service, &identity, Some(factor)).await?;
    let mut updated = None;
    if let Some(payload) = form.get("AuthPayload") {
        updated = Some(
            app.engine
                .verify_factor(service, &identity, factor, payload)
                .await?,
        );
    }
    if let Some(name) = form.get("FriendlyName") {
        updated = Some(
            app.engine
                .rename_factor(service, &identity, factor, name)
                .await?,
        );
    }
    if let Some(config) = push_config_update(&app, &form, service, &identity, factor).await? {
        updated = Some(config);
    }
    let Some(factor) = updated else {
        return Err(ApiError::invalid(
            "nothing to update: send AuthPayload, FriendlyName or Config.*",
        ));
    };
    json(
        StatusCode::OK,
        &FactorJson::new(&factor, &app.engine.api_context()),
    )
}

/// The SDK's factor update (`Config.AppId`, `Config.NotificationPlatform`,
/// `Config.NotificationToken`, `Config.SdkVersion`): absent fields keep the factor's
/// current values; `None` when the form has none of them.
async fn push_config_update<S: Store + 'static>(
    app: &AppState<S>,
    form: &Form,
    service: ServiceSid,
    identity: &Identity,
    sid: FactorSid,
) -> Result<Option<verify::model::Factor>, ApiError> {
    let app_id = form.get("Config.AppId");
    let platform = form.parsed::<NotificationPlatform>("Config.NotificationPlatform")?;
    let token = form.get("Config.NotificationToken");
    let sdk_version = form.get("Config.SdkVersion");
    if app_id.is_none() && platform.is_none() && token.is_none() && sdk_version.is_none() {
        return Ok(None);
    }
    let current = app.engine.fetch_factor(service, identity, sid).await?;
    let verify::model::factor::FactorKind::Push(push) = current.kind() else {
        return Err(ApiError::invalid("Config.* updates apply to push factors"));
    };
    let config = push.config();
    let platform = platform.unwrap_or(config.notification_platform());
    let token = if platform == NotificationPlatform::None {
        None
    } else {
        token.or(config.notification_token())
    };
    let factor = app
        .engine
        .update_push_factor_config(
            service,
            identity,
            sid,
            app_id.unwrap_or(config.app_id()),
            platform,
            token,
            sdk_version.or(config.sdk_version()),
        )
        .await?;
    Ok(Some(factor))
}

async fn delete_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, f)): Path<(String, String, String)>,
) -> ApiResult {
    let (service, identity, factor) = (service_sid(&sid)?, identity(&id)?, factor_sid(&f)?);
    // The push SDKs' `deleteFactor` signs this call with the factor's own key.
    device_access(&app, &caller, service, &identity, Some(factor)).await?;
    app.engine.delete_factor(service, &identity, factor).await?;
    no_content()
}

// ---- challenges ---------------------------------------------------------------

fn challenge_sid(text: &str) -> Result<ChallengeSid, ApiError> {
    ChallengeSid::parse(text).map_err(|_| ApiError {
        status: 400,
        code: 60364,
        message: "ChallengeSid is malformed".to_owned(),
    })
}

fn details(form: &Form) -> Result<Option<Details>, ApiError> {
    let message = form.get("Details.Message");
    let fields = form.all("Details.Fields");
    if message.is_none() && fields.is_empty() {
        return Ok(None);
    }
    let mut parsed = Vec::new();
    for text in fields {
        let field: DetailField = serde_json::from_str(text).map_err(|_| {
            ApiError::invalid("Details.Fields must be JSON objects {\"label\", \"value\"}")
        })?;
        parsed.push(field);
    }
    Ok(Some(Details::new(message.unwrap_or_default(), parsed)?))
}

async fn create_challenge<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let factor = factor_sid(form.required("FactorSid")?)?;
    let mut request = NewChallengeRequest::new();
    if let Some(date) = form.get("ExpirationDate") {
        request = request.with_expiration_date(UnixTime::parse_rfc3339(date)?);
    }
    if let Some(details) = details(&form)? {
        request = request.with_details(details);
    }
    if let Some(hidden) = string_map(&form, "HiddenDetails", Field::HiddenDetails)? {
        request = request.with_hidden_details(hidden);
    }
    if let Some(code) = form.get("AuthPayload") {
        request = request.with_auth_payload(code);
    }
    let update = app
        .engine
        .create_challenge(service_sid(&sid)?, &identity(&id)?, factor, request)
        .await?;
    challenge_response(&app, StatusCode::CREATED, &update)
}

fn challenge_response<S: Store + 'static>(
    app: &AppState<S>,
    status: StatusCode,
    update: &verify::ChallengeUpdate,
) -> ApiResult {
    if let Some(code) = update.code() {
        return Err(ApiError {
            status: verify::error::status_of_code(code),
            code,
            message: format!(
                "challenge {} was not approved: {:?}",
                update.challenge.sid(),
                update.outcome
            ),
        });
    }
    let now = app.now()?;
    json(
        status,
        &ChallengeJson::new(&update.challenge, &app.engine.api_context(), now),
    )
}

async fn fetch_challenge<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, c)): Path<(String, String, String)>,
) -> ApiResult {
    let (service, identity, sid) = (service_sid(&sid)?, identity(&id)?, challenge_sid(&c)?);
    device_access(&app, &caller, service, &identity, None).await?;
    let challenge = app.engine.fetch_challenge(service, &identity, sid).await?;
    if challenge.factor_type() == FactorType::Push {
        // As the device fetches it to sign: the JSON exactly as served, and the
        // `Twilio-Verify-Signature-Fields` header naming the signed keys.
        let served = app
            .engine
            .serve_push_challenge(service, &identity, sid)
            .await?;
        let mut response = json(StatusCode::OK, &served.json)?;
        if let Ok(value) = axum::http::HeaderValue::from_str(&served.signature_fields) {
            response
                .headers_mut()
                .insert("Twilio-Verify-Signature-Fields", value);
        }
        return Ok(response);
    }
    json(
        StatusCode::OK,
        &ChallengeJson::new(&challenge, &app.engine.api_context(), app.now()?),
    )
}

async fn list_challenges<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let service = service_sid(&sid)?;
    let identity = identity(&id)?;
    device_access(&app, &caller, service, &identity, None).await?;
    let form = query(raw)?;
    let paging = Paging::from_form(&form)?;
    let factor = form.get("FactorSid").map(factor_sid).transpose()?;
    let status = form.parsed::<ChallengeStatus>("Status")?;
    let filter = ChallengeFilter::new(factor, status);
    let listing = app
        .engine
        .list_challenges(service, &identity, &filter, &paging.query)
        .await?;
    let ctx = app.engine.api_context();
    let now = app.now()?;
    let url = format!(
        "{}/v2/Services/{service}/Entities/{identity}/Challenges",
        app.base_url
    );
    json(
        StatusCode::OK,
        &paging.respond(&url, "challenges", &filter.query_pairs(), &listing, |c| {
            value(&ChallengeJson::new(c, &ctx, now))
        }),
    )
}

async fn update_challenge<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, c)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let (service, identity) = (service_sid(&sid)?, identity(&id)?);
    device_access(&app, &caller, service, &identity, None).await?;
    let form = Form::parse(&body)?;
    let payload = form.required("AuthPayload")?;
    let metadata = string_map(&form, "Metadata", Field::Metadata)?;
    let update = app
        .engine
        .update_challenge(service, &identity, challenge_sid(&c)?, payload, metadata)
        .await?;
    challenge_response(&app, StatusCode::OK, &update)
}

// ---- access tokens --------------------------------------------------------------

async fn create_access_token<S: Store + 'static>(
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
        code: 60369,
        message: "FactorType must be push".to_owned(),
    })?;
    if factor_type != FactorType::Push {
        return Err(ApiError {
            status: 400,
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

// ---- webhooks -----------------------------------------------------------------

fn webhook_sid(text: &str) -> Result<WebhookSid, ApiError> {
    WebhookSid::parse(text).map_err(|_| ApiError::invalid("WebhookSid is malformed"))
}

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

async fn create_webhook<S: Store + 'static>(
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

async fn fetch_webhook<S: Store + 'static>(
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

async fn list_webhooks<S: Store + 'static>(
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

async fn update_webhook<S: Store + 'static>(
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

async fn delete_webhook<S: Store + 'static>(
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

/// The longest (and default) notification `Ttl`, in seconds (docs/api.md, "Notifications").
const MAX_NOTIFICATION_TTL: u64 = 300;

/// `POST .../Challenges/{sid}/Notifications` (host only): re-sends the push
/// notification of a pending push challenge with `Ttl` 0..=300 s (default 300).
/// The notification is built by the engine and handed to the
/// [`NotificationSender`] installed on the router, by default the
/// [`LoggingNotificationSender`], which logs it and sends nothing. A factor with
/// platform `none` has nothing to send: the resource is still created (the device
/// polls). Answers the Notification resource (201).
async fn create_notification<S: Store + 'static>(
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

// ---- passkeys -----------------------------------------------------------------
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

async fn passkeys_create_factor<S: Store + 'static>(
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

async fn passkeys_verify_factor<S: Store + 'static>(
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

async fn passkeys_create_challenge<S: Store + 'static>(
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

async fn passkeys_approve_challenge<S: Store + 'static>(
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
