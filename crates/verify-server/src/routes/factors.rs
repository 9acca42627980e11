//! `.../Entities/{identity}/Factors`: TOTP and push factors, the SDK's factor update.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use verify::model::api::FactorJson;
use verify::model::{
    FactorSid, FactorType, Field, Identity, NotificationPlatform, ServiceSid, TotpAlgorithm,
    TotpSecret,
};
use verify::store::Store;
use verify::{NewPushFactor, NewTotpFactor};

use crate::AppState;
use crate::auth::{Caller, device_access, require_api_key};
use crate::error::ApiError;
use crate::form::Form;
use crate::paging::Paging;

use super::{
    ApiResult, Shared, factor_sid, identity, json, no_content, query, service_sid, string_map,
    value,
};

pub(super) async fn create_factor<S: Store + 'static>(
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

pub(super) async fn list_factors<S: Store + 'static>(
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

pub(super) async fn fetch_factor<S: Store + 'static>(
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

pub(super) async fn update_factor<S: Store + 'static>(
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

pub(super) async fn delete_factor<S: Store + 'static>(
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
