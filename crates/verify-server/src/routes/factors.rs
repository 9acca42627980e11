//! `.../Entities/{identity}/Factors`: TOTP and push factors, the SDK's factor update.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use verify_engine::model::api::FactorJson;
use verify_engine::model::factor::PushConfig;
use verify_engine::model::{
    Factor, FactorKind, FactorSid, FactorType, Field, Identity, NotificationPlatform, ServiceSid,
    TotpAlgorithm, TotpParams, TotpSecret,
};
use verify_engine::store::Store;
use verify_engine::{NewPushFactor, NewTotpFactor};

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
        retry_after: None,
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
            retry_after: None,
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
    // With Config.*, the factor is read first: parameters of the other factor type
    // and values outside the model's limits are refused before anything is written
    // (a verification or rename sent beside them included).
    let config = ConfigUpdate::from_form(&form)?;
    let push_current = match config {
        ConfigUpdate::None => None,
        ConfigUpdate::Totp(_) | ConfigUpdate::Push(_) => {
            let current = app.engine.fetch_factor(service, &identity, factor).await?;
            check_config(&current, &config, form.get("FriendlyName"))?
        }
    };
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
    match (&config, push_current) {
        (ConfigUpdate::Totp(totp), _) => {
            updated = Some(
                app.engine
                    .update_totp_factor_config(
                        service,
                        &identity,
                        factor,
                        totp.alg,
                        totp.code_length,
                        totp.time_step,
                        totp.skew,
                    )
                    .await?,
            );
        }
        (ConfigUpdate::Push(push), Some(current)) => {
            updated =
                Some(push_config_update(&app, push, &current, service, &identity, factor).await?);
        }
        _ => {}
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

/// The TOTP parameters of the factor update, for messages.
const TOTP_CONFIG: &str = "Config.Alg, Config.CodeLength, Config.TimeStep and Config.Skew";
/// The push parameters of the factor update, for messages.
const PUSH_CONFIG: &str =
    "Config.AppId, Config.NotificationPlatform, Config.NotificationToken and Config.SdkVersion";

/// The `Config.*` of a factor update, parsed: TOTP or push parameters, never both.
enum ConfigUpdate<'a> {
    None,
    Totp(TotpConfigUpdate),
    Push(PushConfigUpdate<'a>),
}

/// `Config.Alg`, `Config.CodeLength`, `Config.TimeStep`, `Config.Skew`: each `None`
/// keeps the factor's value (the ranges are the model's, checked by the engine).
struct TotpConfigUpdate {
    alg: Option<TotpAlgorithm>,
    code_length: Option<u8>,
    time_step: Option<u8>,
    skew: Option<u8>,
}

/// The SDK's `Config.AppId`, `Config.NotificationPlatform`,
/// `Config.NotificationToken`, `Config.SdkVersion`.
struct PushConfigUpdate<'a> {
    app_id: Option<&'a str>,
    platform: Option<NotificationPlatform>,
    token: Option<&'a str>,
    sdk_version: Option<&'a str>,
}

impl<'a> ConfigUpdate<'a> {
    fn from_form(form: &'a Form) -> Result<Self, ApiError> {
        let totp = TotpConfigUpdate {
            alg: form.parsed("Config.Alg")?,
            code_length: form.parsed("Config.CodeLength")?,
            time_step: form.parsed("Config.TimeStep")?,
            skew: form.parsed("Config.Skew")?,
        };
        let push = PushConfigUpdate {
            app_id: form.get("Config.AppId"),
            platform: form.parsed("Config.NotificationPlatform")?,
            token: form.get("Config.NotificationToken"),
            sdk_version: form.get("Config.SdkVersion"),
        };
        let has_totp = totp.alg.is_some()
            || totp.code_length.is_some()
            || totp.time_step.is_some()
            || totp.skew.is_some();
        let has_push = push.app_id.is_some()
            || push.platform.is_some()
            || push.token.is_some()
            || push.sdk_version.is_some();
        match (has_totp, has_push) {
            (false, false) => Ok(Self::None),
            (true, false) => Ok(Self::Totp(totp)),
            (false, true) => Ok(Self::Push(push)),
            (true, true) => Err(ApiError::invalid(format!(
                "{TOTP_CONFIG} (TOTP) and {PUSH_CONFIG} (push) cannot be sent together"
            ))),
        }
    }
}

impl PushConfigUpdate<'_> {
    /// The configuration after the update: the fields given replace `current`'s,
    /// absent ones keep their values; switching the platform to `none` drops the
    /// token.
    fn merged<'c>(&'c self, current: &'c PushConfig) -> PushValues<'c> {
        let platform = self.platform.unwrap_or(current.notification_platform());
        PushValues {
            app_id: self.app_id.unwrap_or(current.app_id()),
            platform,
            token: if platform == NotificationPlatform::None {
                None
            } else {
                self.token.or(current.notification_token())
            },
            sdk_version: self.sdk_version.or(current.sdk_version()),
        }
    }
}

/// A push factor's configuration as the update writes it.
struct PushValues<'c> {
    app_id: &'c str,
    platform: NotificationPlatform,
    token: Option<&'c str>,
    sdk_version: Option<&'c str>,
}

/// Checks `config` against the factor `current` before anything is written: the
/// parameters must be of its type, and the values it would hold afterwards
/// within the model's limits (as is `friendly_name`, sent beside them). Answers
/// the push configuration the update starts from (`None` for TOTP).
fn check_config(
    current: &Factor,
    config: &ConfigUpdate<'_>,
    friendly_name: Option<&str>,
) -> Result<Option<PushConfig>, ApiError> {
    let at = current.date_updated();
    let push = match (config, current.kind()) {
        (ConfigUpdate::None, _) => return Ok(None),
        (ConfigUpdate::Totp(update), FactorKind::Totp(totp)) => {
            let params = totp.params();
            TotpParams::new(
                update.code_length.unwrap_or(params.code_length()),
                update.time_step.unwrap_or(params.time_step()),
                update.skew.unwrap_or(params.skew()),
            )?;
            None
        }
        (ConfigUpdate::Push(update), FactorKind::Push(push)) => {
            let values = update.merged(push.config());
            let _dry_run = current.update_push_config(
                values.app_id,
                values.platform,
                values.token,
                values.sdk_version,
                at,
            )?;
            Some(push.config().clone())
        }
        (ConfigUpdate::Totp(_), _) => {
            return Err(ApiError::invalid(format!(
                "{TOTP_CONFIG} apply to TOTP factors, not to {} factors",
                current.factor_type()
            )));
        }
        (ConfigUpdate::Push(_), _) => {
            return Err(ApiError::invalid(format!(
                "{PUSH_CONFIG} apply to push factors, not to {} factors",
                current.factor_type()
            )));
        }
    };
    if let Some(name) = friendly_name {
        let _dry_run = current.rename(name, at)?;
    }
    Ok(push)
}

/// The SDK's push factor update from `current` (see [`PushConfigUpdate::merged`]).
async fn push_config_update<S: Store + 'static>(
    app: &AppState<S>,
    update: &PushConfigUpdate<'_>,
    current: &PushConfig,
    service: ServiceSid,
    identity: &Identity,
    sid: FactorSid,
) -> Result<Factor, ApiError> {
    let values = update.merged(current);
    let factor = app
        .engine
        .update_push_factor_config(
            service,
            identity,
            sid,
            values.app_id,
            values.platform,
            values.token,
            values.sdk_version,
        )
        .await?;
    Ok(factor)
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

/// `POST .../Factors/{factor}/Unlock` (this server's extension, host only): clears
/// a TOTP factor's run of wrong codes and its lock (docs/security-model.md,
/// "TOTP guessing budget"). Answers the factor.
pub(super) async fn unlock_factor<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, f)): Path<(String, String, String)>,
) -> ApiResult {
    // A device must not lift the lock that protects its own factor.
    require_api_key(&caller)?;
    let (service, identity, factor) = (service_sid(&sid)?, identity(&id)?, factor_sid(&f)?);
    let factor = app.engine.unlock_factor(service, &identity, factor).await?;
    json(
        StatusCode::OK,
        &FactorJson::new(&factor, &app.engine.api_context()),
    )
}
