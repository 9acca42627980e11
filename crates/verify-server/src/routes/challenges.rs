//! `.../Entities/{identity}/Challenges`: create, fetch, list and answer challenges.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use verify_engine::NewChallengeRequest;
use verify_engine::model::api::ChallengeJson;
use verify_engine::model::{
    ChallengeFilter, ChallengeOutcome, ChallengeStatus, DetailField, Details, FactorType, Field,
    UnixTime,
};
use verify_engine::store::Store;

use crate::AppState;
use crate::auth::{Caller, DeviceAccess, device_access, require_api_key};
use crate::error::ApiError;
use crate::form::Form;
use crate::paging::Paging;

use super::{
    ApiResult, Shared, challenge_sid, factor_sid, identity, json, query, service_sid, string_map,
    value,
};

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

pub(super) async fn create_challenge<S: Store + 'static>(
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

pub(super) fn challenge_response<S: Store + 'static>(
    app: &AppState<S>,
    status: StatusCode,
    update: &verify_engine::ChallengeUpdate,
) -> ApiResult {
    if let Some(code) = update.code() {
        return Err(ApiError {
            status: verify_engine::error::status_of_code(code),
            retry_after: None,
            code,
            message: match update.outcome {
                ChallengeOutcome::CodeAlreadyUsed { remaining, .. } => format!(
                    "TOTP code already used: codes are single-use, wait for the next one \
                     (challenge {} stays pending; {remaining} attempts left)",
                    update.challenge.sid()
                ),
                _ => format!(
                    "challenge {} was not approved: {:?}",
                    update.challenge.sid(),
                    update.outcome
                ),
            },
        });
    }
    let now = app.now()?;
    json(
        status,
        &ChallengeJson::new(&update.challenge, &app.engine.api_context(), now),
    )
}

pub(super) async fn fetch_challenge<S: Store + 'static>(
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

pub(super) async fn list_challenges<S: Store + 'static>(
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

pub(super) async fn update_challenge<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id, c)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let (service, identity) = (service_sid(&sid)?, identity(&id)?);
    let access = device_access(&app, &caller, service, &identity, None).await?;
    let form = Form::parse(&body)?;
    let payload = form.required("AuthPayload")?;
    let metadata = string_map(&form, "Metadata", Field::Metadata)?;
    let sid = challenge_sid(&c)?;
    let update = match access {
        DeviceAccess::Host => {
            app.engine
                .update_challenge(service, &identity, sid, payload, metadata)
                .await?
        }
        // The factor and key that authenticated the request answer it.
        DeviceAccess::Device(device) => {
            app.engine
                .update_challenge_as_device(&device, sid, payload, metadata)
                .await?
        }
    };
    challenge_response(&app, StatusCode::OK, &update)
}
