//! `/v2/Services` and `/v2/Services/{sid}` (the entities under a service are in
//! `entities.rs`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use verify_engine::model::api::ServiceJson;
use verify_engine::store::Store;
use verify_engine::{PushChanges, ServiceSettings, TotpChanges};

use crate::auth::{Caller, require_api_key};
use crate::error::ApiError;
use crate::form::Form;
use crate::paging::Paging;

use super::{ApiResult, Shared, json, no_content, query, service_sid, value};

fn service_settings(form: &Form) -> Result<ServiceSettings, ApiError> {
    let mut settings = ServiceSettings::new();
    if let Some(name) = form.get("FriendlyName") {
        settings = settings.with_friendly_name(name);
    }
    // Each Totp.* and Push.* field on its own: an update naming one keeps the others
    // as stored (applied by the engine to the block it writes over).
    let mut totp = TotpChanges::default();
    totp.issuer = form.get("Totp.Issuer").map(str::to_owned);
    totp.code_length = form.parsed::<u8>("Totp.CodeLength")?;
    totp.time_step = form.parsed::<u8>("Totp.TimeStep")?;
    totp.skew = form.parsed::<u8>("Totp.Skew")?;
    if totp != TotpChanges::default() {
        settings = settings.with_totp_changes(totp);
    }
    let mut push = PushChanges::default();
    push.include_date = form.parsed::<bool>("Push.IncludeDate")?;
    push.apn_credential_sid = form.get("Push.ApnCredentialSid").map(str::to_owned);
    push.fcm_credential_sid = form.get("Push.FcmCredentialSid").map(str::to_owned);
    if push != PushChanges::default() {
        settings = settings.with_push_changes(push);
    }
    if let Some(rp_id) = form.get("Passkeys.RelyingParty.Id") {
        let name = form.get("Passkeys.RelyingParty.Name").unwrap_or(rp_id);
        // Repeated, or one comma-separated value (as the documents' curl and the
        // helper library send a list).
        let mut origins: Vec<String> = form
            .all("Passkeys.RelyingParty.Origins")
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(str::to_owned)
            .collect();
        if origins.is_empty() {
            origins.push(format!("https://{rp_id}"));
        }
        let rp = verify_engine::model::RelyingParty::new(rp_id, name, origins)?;
        let mut passkeys = verify_engine::model::PasskeysConfig::new(rp);
        if let Some(v) = form.parsed("Passkeys.AuthenticatorAttachment")? {
            passkeys.authenticator_attachment = v;
        }
        if let Some(v) = form.parsed("Passkeys.DiscoverableCredentials")? {
            passkeys.discoverable_credentials = v;
        }
        if let Some(v) = form.parsed("Passkeys.UserVerification")? {
            passkeys.user_verification = v;
        }
        if let Some(v) = form.parsed("Passkeys.AllowCredentials")? {
            passkeys.allow_credentials = v;
        }
        ceremony_options(form, &mut passkeys)?;
        restrictions(form, &mut passkeys)?;
        settings = settings.with_passkeys(passkeys);
    }
    Ok(settings)
}

/// The values of a list parameter, repeated or one comma-separated value (as
/// `Passkeys.RelyingParty.Origins`), each parsed; an empty list when absent.
fn parsed_list<T: std::str::FromStr>(form: &Form, name: &str) -> Result<Vec<T>, ApiError> {
    text_list(form, name)
        .iter()
        .map(|value| {
            value
                .parse::<T>()
                .map_err(|_| ApiError::invalid(format!("parameter {name} is malformed")))
        })
        .collect()
}

/// This server's extensions of the passkeys block: the creation options'
/// attestation conveyance, hints and attestation formats, and the registration
/// extensions (docs/api.md, "Services").
fn ceremony_options(
    form: &Form,
    passkeys: &mut verify_engine::model::PasskeysConfig,
) -> Result<(), ApiError> {
    use verify_engine::model::config::{
        AttestationFormats, CredProtect, PasskeyExtensions, PasskeyHints,
    };
    if let Some(v) = form.parsed("Passkeys.AttestationConveyance")? {
        passkeys.attestation_conveyance = v;
    }
    passkeys.hints = PasskeyHints::new(parsed_list(form, "Passkeys.Hints")?)?;
    passkeys.attestation_formats =
        AttestationFormats::new(parsed_list(form, "Passkeys.AttestationFormats")?)?;
    let cred_protect = CredProtect::from_parts(
        form.parsed("Passkeys.Extensions.CredProtect")?,
        form.parsed::<bool>("Passkeys.Extensions.EnforceCredProtect")?,
    )?;
    passkeys.extensions = PasskeyExtensions::new()
        .with_cred_props(
            form.parsed::<bool>("Passkeys.Extensions.CredProps")?
                .unwrap_or(false),
        )
        .with_cred_protect(cred_protect)
        .with_min_pin_length(
            form.parsed::<bool>("Passkeys.Extensions.MinPinLength")?
                .unwrap_or(false),
        );
    Ok(())
}

/// The values of a list parameter, repeated or one comma-separated value, unparsed.
fn text_list(form: &Form, name: &str) -> Vec<String> {
    form.all(name)
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}

/// This server's extensions of the passkeys block that restrict ceremonies:
/// backup-eligible credentials and AAGUIDs at registration, cross-origin
/// ceremonies and their top origins (docs/api.md, "Services").
fn restrictions(
    form: &Form,
    passkeys: &mut verify_engine::model::PasskeysConfig,
) -> Result<(), ApiError> {
    use verify_engine::model::Field;
    use verify_engine::model::config::{Aaguid, PasskeyRestrictions};
    let aaguids = |name: &str, field: Field| -> Result<Vec<Aaguid>, ApiError> {
        text_list(form, name)
            .iter()
            .map(|text| Aaguid::parse(field, text).map_err(ApiError::from))
            .collect()
    };
    passkeys.restrictions = PasskeyRestrictions::new_checked(
        form.parsed::<bool>("Passkeys.RefuseBackupEligible")?
            .unwrap_or(false),
        aaguids("Passkeys.AaguidAllowList", Field::AaguidAllowList)?,
        aaguids("Passkeys.AaguidDenyList", Field::AaguidDenyList)?,
        form.parsed::<bool>("Passkeys.AllowCrossOrigin")?
            .unwrap_or(false),
        text_list(form, "Passkeys.TopOrigins"),
    )?
    .with_related_origins(text_list(form, "Passkeys.RelatedOrigins"))?;
    Ok(())
}

pub(super) async fn create_service<S: Store + 'static>(
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

pub(super) async fn fetch_service<S: Store + 'static>(
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

pub(super) async fn list_services<S: Store + 'static>(
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

pub(super) async fn update_service<S: Store + 'static>(
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

pub(super) async fn delete_service<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
) -> ApiResult {
    require_api_key(&caller)?;
    app.engine.delete_service(service_sid(&sid)?).await?;
    no_content()
}
