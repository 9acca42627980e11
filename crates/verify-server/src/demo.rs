//! The demo relying party behind the web page at `/`: a small backend, as a real
//! host would write one, that calls the engine directly for one demo service.
//!
//! **Unauthenticated, for local use.** Anyone who can reach these endpoints can
//! enroll and delete factors and answer challenges of any identity of the demo
//! service (they never touch other services, and the page never sees the API
//! secret). Turn it off with `--demo off` on any server others can reach.
//!
//! The demo service is found again after a restart by its friendly name
//! ([`DEMO_SERVICE_NAME`]); its passkeys relying party is set from `--base-url` on
//! every start (RP ID = the URL's host, origin = the URL's scheme, host and port).
//!
//! Endpoints (JSON in and out; errors are the API's JSON errors, with the API's
//! status and code and, for what a visitor of the page runs into (a wrong or reused
//! code, a lock, a limit, an expired request), a message in plain words that names
//! no sid: the page shows it as it is). The demo keeps no session: no cookie, nothing
//! server-side; being signed in is the page's state alone, and so is signing out.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `GET /demo/api/config` | | the demo service sid, RP ID and origin |
//! | `GET /demo/api/users/{identity}/factors` | | the identity's factors (empty when none) |
//! | `DELETE /demo/api/users/{identity}/factors/{sid}` | | deletes one |
//! | `POST /demo/api/passkeys/register` | `{identity}` | a passkey factor and its creation options |
//! | `POST /demo/api/passkeys/register/finish` | `{identity, factor_sid, credential}` | verifies it with `RegistrationResponseJSON` |
//! | `POST /demo/api/passkeys/signin` | `{identity?}` | a passkey challenge and its request options (no identity: usernameless) |
//! | `POST /demo/api/passkeys/signin/finish` | `{challenge_sid, credential}` | approves it with `AuthenticationResponseJSON` |
//! | `POST /demo/api/totp/enroll` | `{identity}` | a TOTP factor: secret and otpauth URI |
//! | `POST /demo/api/totp/verify` | `{identity, factor_sid, code}` | verifies it with a first code |
//! | `POST /demo/api/totp/signin` | `{identity, code}` | a challenge answered with the code |
//! | `POST /demo/api/qr` | `{text}` (an `otpauth://` URI) | the QR code as SVG |
//! | `POST /demo/api/push/token` | `{identity}` | an enrollment access token for the device pane |
//! | `POST /demo/api/push/challenge` | `{identity}` | a push challenge to the newest verified push factor |
//! | `GET /demo/api/users/{identity}/challenges/{sid}` | | a challenge's status |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use verify_engine::model::api::{ChallengeJson, FactorJson, RequestOptionsJson};
use verify_engine::model::{
    ChallengeFilter, ChallengeOutcome, ChallengeSid, ChallengeStatus, DetailField, Details, Factor,
    FactorSid, FactorStatus, FactorType, Identity, ListOrder, PageSize, PasskeysConfig,
    RelyingParty, ServiceSid,
};
use verify_engine::store::{ListQuery, Store};
use verify_engine::{NewChallengeRequest, NewTotpFactor, Resource, ServiceSettings, VerifyError};

use crate::AppState;
use crate::error::ApiError;

/// The friendly name of the demo service (how it is found again after a restart).
pub const DEMO_SERVICE_NAME: &str = "verify web demo";

/// The largest QR payload accepted (bytes): an otpauth URI is far shorter.
const MAX_QR_TEXT: usize = 1024;

/// The demo service and the relying party it was set up for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Demo {
    service: ServiceSid,
    rp_id: String,
    origin: String,
}

impl Demo {
    /// Finds the demo service (by [`DEMO_SERVICE_NAME`]) or creates it, and sets its
    /// passkeys relying party from the state's base URL: RP ID = its host, origin =
    /// its scheme, host and port.
    ///
    /// # Errors
    /// [`ApiError`] when the base URL has no host usable as an RP ID, or the engine
    /// fails (store, limits).
    pub async fn setup<S: Store + 'static>(app: &AppState<S>) -> Result<Self, ApiError> {
        let (origin, rp_id) = origin_and_host(&app.base_url)?;
        let service = match find_service(app).await? {
            Some(sid) => sid,
            None => app
                .engine
                .create_service(DEMO_SERVICE_NAME, &ServiceSettings::new())
                .await?
                .sid(),
        };
        let rp = RelyingParty::new(&rp_id, DEMO_SERVICE_NAME, vec![origin.clone()])?;
        let settings = ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp));
        app.engine.update_service(service, &settings).await?;
        Ok(Self {
            service,
            rp_id,
            origin,
        })
    }

    /// The demo service's sid.
    #[must_use]
    pub const fn service_sid(&self) -> ServiceSid {
        self.service
    }

    /// The passkeys relying party id (the base URL's host).
    #[must_use]
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// The origin the page must be opened at for passkeys to work.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// `(origin, host)` of an absolute `http(s)://host[:port][/...]` URL.
fn origin_and_host(base_url: &str) -> Result<(String, String), ApiError> {
    let (scheme, rest) = base_url
        .split_once("://")
        .ok_or_else(|| ApiError::invalid("--base-url must be an absolute http(s) URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if authority.starts_with('[') {
        return Err(ApiError::invalid(
            "--base-url: an IP address cannot be a WebAuthn RP ID; use a host name such as localhost",
        ));
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() || authority.contains('@') {
        return Err(ApiError::invalid("--base-url must name a host"));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(ApiError::invalid(
            "--base-url: an IP address cannot be a WebAuthn RP ID; use a host name such as localhost",
        ));
    }
    Ok((
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            authority.to_ascii_lowercase()
        ),
        host.to_ascii_lowercase(),
    ))
}

async fn find_service<S: Store + 'static>(
    app: &AppState<S>,
) -> Result<Option<ServiceSid>, ApiError> {
    let mut query = ListQuery::new(ListOrder::Asc, PageSize::new(1000)?);
    loop {
        let listing = app.engine.list_services(&query).await?;
        if let Some(found) = listing
            .items
            .iter()
            .find(|s| s.friendly_name().as_str() == DEMO_SERVICE_NAME)
        {
            return Ok(Some(found.sid()));
        }
        match listing.next_page_token {
            Some(token) => query = query.with_page_token(token),
            None => return Ok(None),
        }
    }
}

/// What the demo handlers share.
struct DemoState<S> {
    app: Arc<AppState<S>>,
    demo: Demo,
}

type Shared<S> = State<Arc<DemoState<S>>>;
type DemoResult = Result<Response, ApiError>;

/// The demo API routes (no authentication: see the module docs).
pub(crate) fn routes<S: Store + 'static>(app: Arc<AppState<S>>, demo: Demo) -> Router {
    let api = "/demo/api";
    Router::new()
        .route(&format!("{api}/config"), get(config::<S>))
        .route(
            &format!("{api}/users/{{identity}}/factors"),
            get(list_factors::<S>),
        )
        .route(
            &format!("{api}/users/{{identity}}/factors/{{factor}}"),
            delete(delete_factor::<S>),
        )
        .route(
            &format!("{api}/users/{{identity}}/challenges/{{challenge}}"),
            get(challenge_status::<S>),
        )
        .route(
            &format!("{api}/passkeys/register"),
            post(passkey_register::<S>),
        )
        .route(
            &format!("{api}/passkeys/register/finish"),
            post(passkey_register_finish::<S>),
        )
        .route(&format!("{api}/passkeys/signin"), post(passkey_signin::<S>))
        .route(
            &format!("{api}/passkeys/signin/finish"),
            post(passkey_signin_finish::<S>),
        )
        .route(&format!("{api}/totp/enroll"), post(totp_enroll::<S>))
        .route(&format!("{api}/totp/verify"), post(totp_verify::<S>))
        .route(&format!("{api}/totp/signin"), post(totp_signin::<S>))
        .route(&format!("{api}/qr"), post(qr_svg))
        .route(&format!("{api}/push/token"), post(push_token::<S>))
        .route(&format!("{api}/push/challenge"), post(push_challenge::<S>))
        .layer(axum::middleware::map_response(no_store))
        .with_state(Arc::new(DemoState { app, demo }))
}

/// Demo answers carry secrets (TOTP secrets, tokens): never cache them.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        // serde's message names the field and the expected type, never the value.
        ApiError::invalid(format!("the JSON body is not as expected: {e}"))
    })
}

fn ok(status: StatusCode, value: Value) -> DemoResult {
    Ok((status, axum::Json(value)).into_response())
}

fn identity(text: &str) -> Result<Identity, ApiError> {
    Identity::parse(text).map_err(|error| {
        let mut api = ApiError::from(error);
        api.message = sentence(
            "the user name must be 8 to 64 letters and digits, with single dashes between \
             groups (never an email or a real name)",
        );
        api
    })
}

/// What a demo flow is doing, for the words of its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Passkey,
    Totp,
    Push,
    Manage,
}

/// An engine error as the page shows it: the API's status, code and `Retry-After`,
/// with the message in plain words for what a visitor runs into; any other error
/// keeps the engine's message (none names a sid).
fn plain(flow: Flow) -> impl Fn(VerifyError) -> ApiError {
    move |error| {
        let message = plain_message(&error, flow);
        let mut api = ApiError::from(error);
        if let Some(message) = message
            && api.status < 500
        {
            api.message = sentence(&message);
        }
        api
    }
}

/// `text` as a sentence: a capital first letter and a final full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// "1 attempt" / "4 attempts".
fn attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{n} attempts")
    }
}

/// A wait in seconds, in words.
fn wait(secs: u64) -> String {
    match secs {
        0 | 1 => "a second".to_owned(),
        2..=119 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// The factor type in a visitor's words, plural.
const fn kinds(factor_type: FactorType) -> &'static str {
    match factor_type {
        FactorType::Totp => "authenticator apps",
        FactorType::Push => "phones",
        _ => "passkeys",
    }
}

fn plain_message(error: &VerifyError, flow: Flow) -> Option<String> {
    use verify_engine::model::ModelError as M;
    use verify_engine::totp::TotpError;
    use verify_engine::webauthn::WebauthnError;
    let no_passkey = || "no passkey is set up for this user yet: add one first".to_owned();
    let later = || {
        error
            .retry_after_secs()
            .map_or_else(|| "a moment".to_owned(), wait)
    };
    let text = match error {
        VerifyError::FactorVerificationFailed { remaining } => match flow {
            Flow::Passkey => format!(
                "the passkey could not be checked; {} left",
                attempts(*remaining)
            ),
            _ => format!("that code did not match; {} left", attempts(*remaining)),
        },
        VerifyError::Totp(TotpError::StepAlreadyUsed { .. })
        | VerifyError::Model(M::TotpStepReused { .. }) => {
            "that code was already used: each code works once, so wait for the next one".to_owned()
        }
        VerifyError::Model(model) => match model {
            M::FactorVerificationAttemptsExhausted { .. } => match flow {
                Flow::Passkey => "too many failed attempts: add the passkey again".to_owned(),
                _ => {
                    "too many wrong codes: add the authenticator app again to start over".to_owned()
                }
            },
            M::FactorLocked { .. } => format!(
                "too many wrong codes: this authenticator app is locked; try again in {}",
                later()
            ),
            M::CodeChecksThrottled { .. } => format!(
                "too many wrong codes in a row: wait {} before the next one",
                later()
            ),
            M::TooManyPendingChallenges { limit, .. } => format!(
                "your phone already has {limit} requests waiting: answer one there, or wait {} \
                 for the oldest to expire",
                later()
            ),
            M::TooManyFactors {
                factor_type, limit, ..
            } => format!(
                "this user already has {limit} {}, the most allowed: delete one first",
                kinds(*factor_type)
            ),
            M::TooManyFactorCreations { .. } => "this user added too many sign-in methods in \
                 the last 24 hours: try again tomorrow, or pick another user name"
                .to_owned(),
            M::FactorExpired { .. } => {
                "this setup took too long and expired: start it again".to_owned()
            }
            M::FactorAlreadyVerified => "this is already set up".to_owned(),
            M::FactorNotVerified => match flow {
                Flow::Passkey => no_passkey(),
                Flow::Totp => "this authenticator app's setup was not finished: confirm it \
                     with a code first"
                    .to_owned(),
                _ => "its setup was not finished: finish it, or add it again".to_owned(),
            },
            M::ChallengeExpired { .. } => "the sign-in request expired: start again".to_owned(),
            M::ChallengeNotPending { .. } => {
                "this sign-in request was already answered: start again".to_owned()
            }
            M::ChallengeAttemptsExhausted { .. } => {
                "too many wrong answers: this sign-in was refused; start again".to_owned()
            }
            _ => return None,
        },
        VerifyError::NotFound { resource } => match resource {
            Resource::Challenge => "this sign-in request no longer exists: start again".to_owned(),
            Resource::Factor => match flow {
                Flow::Totp => "this authenticator app is no longer set up: add it again".to_owned(),
                _ => "not found: it was deleted, or belongs to another user".to_owned(),
            },
            Resource::Entity => match flow {
                Flow::Passkey => no_passkey(),
                _ => "this user has nothing set up yet".to_owned(),
            },
            _ => return None,
        },
        VerifyError::Webauthn(WebauthnError::CeremonyExpired { .. }) => {
            "the passkey prompt took too long: try again".to_owned()
        }
        VerifyError::Webauthn(inner) => format!("your passkey's answer was refused ({inner})"),
        VerifyError::AuthPayloadInvalid(_) if flow == Flow::Passkey => {
            "your passkey's answer was refused".to_owned()
        }
        _ => return None,
    };
    Some(text)
}

fn factor_sid(text: &str) -> Result<FactorSid, ApiError> {
    FactorSid::parse(text).map_err(|_| ApiError::invalid("factor_sid is malformed"))
}

fn challenge_sid(text: &str) -> Result<ChallengeSid, ApiError> {
    ChallengeSid::parse(text).map_err(|_| ApiError::invalid("challenge_sid is malformed"))
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|_| ApiError {
        status: 500,
        retry_after: None,
        code: verify_engine::error::CODE_INTERNAL,
        message: "a resource failed to serialize".to_owned(),
    })
}

/// The identity's factors, newest first (none when the entity does not exist).
async fn factors_of<S: Store + 'static>(
    state: &DemoState<S>,
    identity: &Identity,
) -> Result<Vec<Factor>, ApiError> {
    let query = ListQuery::new(ListOrder::Desc, PageSize::new(1000)?);
    match state
        .app
        .engine
        .list_factors(state.demo.service, identity, &query)
        .await
    {
        Ok(listing) => Ok(listing.items),
        Err(VerifyError::NotFound { .. }) => Ok(Vec::new()),
        Err(error) => Err(error.into()),
    }
}

async fn newest_verified<S: Store + 'static>(
    state: &DemoState<S>,
    identity: &Identity,
    factor_type: FactorType,
) -> Result<Factor, ApiError> {
    factors_of(state, identity)
        .await?
        .into_iter()
        .find(|f| f.factor_type() == factor_type && f.status() == FactorStatus::Verified)
        .ok_or_else(|| ApiError {
            status: 404,
            retry_after: None,
            code: verify_engine::error::CODE_NOT_FOUND,
            message: sentence(&match factor_type {
                FactorType::Totp => format!(
                    "no authenticator app is set up for {identity} yet: add one first, then \
                     sign in with a code from it"
                ),
                FactorType::Push => format!(
                    "no phone is set up for push approval for {identity} yet: set one up first"
                ),
                _ => format!(
                    "no {} are set up for {identity} yet: add one first",
                    kinds(factor_type)
                ),
            }),
        })
}

// ---- config and factors -------------------------------------------------------

async fn config<S: Store + 'static>(State(state): Shared<S>) -> DemoResult {
    ok(
        StatusCode::OK,
        json!({
            "service_sid": state.demo.service.to_string(),
            "rp_id": state.demo.rp_id,
            "origin": state.demo.origin,
            "api": "/v2",
        }),
    )
}

async fn list_factors<S: Store + 'static>(
    State(state): Shared<S>,
    Path(id): Path<String>,
) -> DemoResult {
    let identity = identity(&id)?;
    let ctx = state.app.engine.api_context();
    let factors = factors_of(&state, &identity)
        .await?
        .iter()
        .map(|f| to_value(&FactorJson::new(f, &ctx)))
        .collect::<Result<Vec<_>, _>>()?;
    ok(StatusCode::OK, json!({ "factors": factors }))
}

async fn delete_factor<S: Store + 'static>(
    State(state): Shared<S>,
    Path((id, f)): Path<(String, String)>,
) -> DemoResult {
    state
        .app
        .engine
        .delete_factor(state.demo.service, &identity(&id)?, factor_sid(&f)?)
        .await
        .map_err(plain(Flow::Manage))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn challenge_status<S: Store + 'static>(
    State(state): Shared<S>,
    Path((id, c)): Path<(String, String)>,
) -> DemoResult {
    let challenge = state
        .app
        .engine
        .fetch_challenge(state.demo.service, &identity(&id)?, challenge_sid(&c)?)
        .await
        .map_err(plain(Flow::Manage))?;
    let now = state.app.now()?;
    let view = to_value(&ChallengeJson::new(
        &challenge,
        &state.app.engine.api_context(),
        now,
    ))?;
    ok(StatusCode::OK, json!({ "challenge": view }))
}

// ---- passkeys -------------------------------------------------------------------

#[derive(Deserialize)]
struct IdentityBody {
    identity: String,
}

#[derive(Deserialize)]
struct OptionalIdentityBody {
    #[serde(default)]
    identity: Option<String>,
}

#[derive(Deserialize)]
struct RegisterFinish {
    identity: String,
    factor_sid: String,
    credential: Value,
}

#[derive(Deserialize)]
struct SigninFinish {
    challenge_sid: String,
    credential: Value,
}

async fn passkey_register<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: IdentityBody = body(&bytes)?;
    let identity = identity(&request.identity)?;
    let created = state
        .app
        .engine
        .create_passkey_factor(state.demo.service, &identity, "Demo passkey")
        .await
        .map_err(plain(Flow::Passkey))?;
    ok(
        StatusCode::CREATED,
        json!({
            "factor_sid": created.factor.sid().to_string(),
            "options": created.options,
        }),
    )
}

async fn passkey_register_finish<S: Store + 'static>(
    State(state): Shared<S>,
    bytes: Bytes,
) -> DemoResult {
    let request: RegisterFinish = body(&bytes)?;
    let identity = identity(&request.identity)?;
    let factor = factor_sid(&request.factor_sid)?;
    if !request.credential.is_object() {
        return Err(ApiError::invalid(
            "credential must be the RegistrationResponseJSON object",
        ));
    }
    let factor = state
        .app
        .engine
        .verify_passkey_factor(
            state.demo.service,
            &identity,
            factor,
            &request.credential.to_string(),
        )
        .await
        .map_err(plain(Flow::Passkey))?;
    let view = to_value(&FactorJson::new(&factor, &state.app.engine.api_context()))?;
    ok(StatusCode::OK, json!({ "factor": view }))
}

async fn passkey_signin<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: OptionalIdentityBody = body(&bytes)?;
    let identity = request
        .identity
        .filter(|id| !id.is_empty())
        .map(|id| identity(&id))
        .transpose()?;
    let update = state
        .app
        .engine
        .create_passkey_challenge(state.demo.service, identity.as_ref(), None, None)
        .await
        .map_err(plain(Flow::Passkey))?;
    let options = update
        .challenge
        .passkey()
        .map(RequestOptionsJson::of)
        .ok_or_else(|| ApiError::invalid("not a passkey challenge"))?;
    ok(
        StatusCode::CREATED,
        json!({
            "challenge_sid": update.challenge.sid().to_string(),
            "options": options,
        }),
    )
}

async fn passkey_signin_finish<S: Store + 'static>(
    State(state): Shared<S>,
    bytes: Bytes,
) -> DemoResult {
    let request: SigninFinish = body(&bytes)?;
    let challenge = challenge_sid(&request.challenge_sid)?;
    if !request.credential.is_object() {
        return Err(ApiError::invalid(
            "credential must be the AuthenticationResponseJSON object",
        ));
    }
    let update = state
        .app
        .engine
        .approve_passkey_challenge(
            state.demo.service,
            challenge,
            &request.credential.to_string(),
        )
        .await
        .map_err(plain(Flow::Passkey))?;
    answered(&state, &update)
}

/// The answer to a sign-in: approved, or the service's error for the outcome.
fn answered<S: Store + 'static>(
    state: &DemoState<S>,
    update: &verify_engine::ChallengeUpdate,
) -> DemoResult {
    // The words name no sid: the page shows them to the visitor as they are.
    if let Some(code) = update.code() {
        let reason = match update.outcome {
            ChallengeOutcome::AttemptsExhausted => {
                "too many wrong codes: this sign-in was refused; wait for a new code and try \
                 again"
                    .to_owned()
            }
            ChallengeOutcome::CodeAlreadyUsed { remaining, .. } => format!(
                "that code was already used: each code works once, so wait for the next one \
                 ({} left)",
                attempts(remaining)
            ),
            _ => "the sign-in request expired: start again".to_owned(),
        };
        return Err(ApiError {
            status: verify_engine::error::status_of_code(code),
            retry_after: None,
            code,
            message: sentence(&reason),
        });
    }
    if !update.is_approved() {
        let message = sentence(&match update.outcome {
            ChallengeOutcome::Rejected { remaining, .. } => {
                format!("that code did not match; {} left", attempts(remaining))
            }
            ChallengeOutcome::Denied => "the sign-in was denied".to_owned(),
            _ => "the sign-in was not approved: start again".to_owned(),
        });
        return Err(ApiError {
            status: 403,
            retry_after: None,
            code: 60324,
            message,
        });
    }
    let now = state.app.now()?;
    let view = to_value(&ChallengeJson::new(
        &update.challenge,
        &state.app.engine.api_context(),
        now,
    ))?;
    ok(
        StatusCode::OK,
        json!({
            "identity": update.challenge.identity().map(Identity::as_str),
            "challenge": view,
        }),
    )
}

// ---- TOTP -----------------------------------------------------------------------

#[derive(Deserialize)]
struct TotpVerify {
    identity: String,
    factor_sid: String,
    code: String,
}

#[derive(Deserialize)]
struct TotpSignin {
    identity: String,
    code: String,
}

#[derive(Deserialize)]
struct QrBody {
    text: String,
}

async fn totp_enroll<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: IdentityBody = body(&bytes)?;
    let identity = identity(&request.identity)?;
    let created = state
        .app
        .engine
        .create_totp_factor(
            state.demo.service,
            &identity,
            NewTotpFactor::new(identity.as_str()),
        )
        .await
        .map_err(plain(Flow::Totp))?;
    let view = FactorJson::created_totp(
        &created.factor,
        &state.app.engine.api_context(),
        &created.uri,
    )
    .ok_or_else(|| ApiError::invalid("not a TOTP factor"))?;
    let view = to_value(&view)?;
    ok(
        StatusCode::CREATED,
        json!({
            "factor_sid": created.factor.sid().to_string(),
            "secret": view.pointer("/binding/secret").cloned().unwrap_or(Value::Null),
            "uri": view.pointer("/binding/uri").cloned().unwrap_or(Value::Null),
        }),
    )
}

async fn totp_verify<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: TotpVerify = body(&bytes)?;
    let factor = state
        .app
        .engine
        .verify_factor(
            state.demo.service,
            &identity(&request.identity)?,
            factor_sid(&request.factor_sid)?,
            request.code.trim(),
        )
        .await
        .map_err(plain(Flow::Totp))?;
    let view = to_value(&FactorJson::new(&factor, &state.app.engine.api_context()))?;
    ok(StatusCode::OK, json!({ "factor": view }))
}

async fn totp_signin<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: TotpSignin = body(&bytes)?;
    let identity = identity(&request.identity)?;
    let factor = newest_verified(&state, &identity, FactorType::Totp).await?;
    let code = request.code.trim();
    // A wrong code leaves its challenge pending: answer that one again rather than
    // open a new challenge per guess, so the per-challenge attempt limit applies.
    let filter = ChallengeFilter::new(Some(factor.sid()), Some(ChallengeStatus::Pending));
    let query = ListQuery::new(ListOrder::Desc, PageSize::new(1)?);
    let pending = state
        .app
        .engine
        .list_challenges(state.demo.service, &identity, &filter, &query)
        .await
        .map_err(plain(Flow::Totp))?
        .items
        .into_iter()
        .next();
    let update = match pending {
        Some(challenge) => state
            .app
            .engine
            .update_challenge(state.demo.service, &identity, challenge.sid(), code, None)
            .await
            .map_err(plain(Flow::Totp))?,
        None => state
            .app
            .engine
            .create_challenge(
                state.demo.service,
                &identity,
                factor.sid(),
                NewChallengeRequest::new().with_auth_payload(code),
            )
            .await
            .map_err(plain(Flow::Totp))?,
    };
    answered(&state, &update)
}

/// `POST /demo/api/qr`: an `otpauth://` URI as a QR code (SVG).
async fn qr_svg(bytes: Bytes) -> DemoResult {
    let request: QrBody = body(&bytes)?;
    let svg = qr_code_svg(&request.text)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml"),
        )],
        svg,
    )
        .into_response())
}

/// The QR code of an `otpauth://` URI as an SVG document.
///
/// # Errors
/// [`ApiError::invalid`] for text that is not an `otpauth://` URI, longer than
/// 1024 bytes, or that does not fit a QR code.
pub fn qr_code_svg(text: &str) -> Result<String, ApiError> {
    if !text.starts_with("otpauth://") {
        return Err(ApiError::invalid("text must be an otpauth:// URI"));
    }
    if text.len() > MAX_QR_TEXT {
        return Err(ApiError::invalid(format!(
            "text is {} bytes; at most {MAX_QR_TEXT}",
            text.len()
        )));
    }
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| ApiError::invalid(format!("no QR code for this text: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(232, 232)
        .quiet_zone(true)
        .build())
}

// ---- push -----------------------------------------------------------------------

async fn push_token<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: IdentityBody = body(&bytes)?;
    let identity = identity(&request.identity)?;
    let issued = state
        .app
        .engine
        .create_access_token(
            state.demo.service,
            &identity,
            Some("Demo browser device"),
            None,
        )
        .await
        .map_err(plain(Flow::Push))?;
    ok(
        StatusCode::CREATED,
        json!({
            "service_sid": state.demo.service.to_string(),
            "identity": identity.as_str(),
            "token": issued.credential(),
        }),
    )
}

async fn push_challenge<S: Store + 'static>(State(state): Shared<S>, bytes: Bytes) -> DemoResult {
    let request: IdentityBody = body(&bytes)?;
    let identity = identity(&request.identity)?;
    let factor = newest_verified(&state, &identity, FactorType::Push).await?;
    let details = Details::new(
        "Sign in to the verify web demo?",
        vec![
            DetailField::new("User", identity.as_str())?,
            DetailField::new("Site", &state.demo.origin)?,
        ],
    )?;
    let update = state
        .app
        .engine
        .create_challenge(
            state.demo.service,
            &identity,
            factor.sid(),
            NewChallengeRequest::new().with_details(details),
        )
        .await
        .map_err(plain(Flow::Push))?;
    let now = state.app.now()?;
    let view = to_value(&ChallengeJson::new(
        &update.challenge,
        &state.app.engine.api_context(),
        now,
    ))?;
    ok(StatusCode::CREATED, json!({ "challenge": view }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_host_of_base_urls() {
        assert_eq!(
            origin_and_host("http://localhost:8080").unwrap(),
            ("http://localhost:8080".to_owned(), "localhost".to_owned())
        );
        assert_eq!(
            origin_and_host("https://Verify.Example.com/base").unwrap(),
            (
                "https://verify.example.com".to_owned(),
                "verify.example.com".to_owned()
            )
        );
        assert!(origin_and_host("localhost:8080").is_err());
        assert!(origin_and_host("http://[::1]:8080").is_err());
        assert!(origin_and_host("http://127.0.0.1:8080").is_err());
        assert!(origin_and_host("http://user@host").is_err());
        assert!(origin_and_host("http://").is_err());
    }

    #[test]
    fn errors_in_plain_words() {
        use verify_engine::model::{ModelError, UnixTime};
        let said = |error: VerifyError, flow| plain(flow)(error).message;
        assert_eq!(
            said(
                VerifyError::FactorVerificationFailed { remaining: 1 },
                Flow::Totp
            ),
            "That code did not match; 1 attempt left."
        );
        assert_eq!(
            said(
                VerifyError::FactorVerificationFailed { remaining: 3 },
                Flow::Passkey
            ),
            "The passkey could not be checked; 3 attempts left."
        );
        let throttled = VerifyError::Model(ModelError::CodeChecksThrottled {
            until: UnixTime::from_secs(100),
            retry_after_secs: 5,
        });
        let api = plain(Flow::Totp)(throttled);
        assert_eq!(
            (api.status, api.code, api.retry_after),
            (429, 20429, Some(5))
        );
        assert_eq!(
            api.message,
            "Too many wrong codes in a row: wait 5 seconds before the next one."
        );
        let locked = VerifyError::Model(ModelError::FactorLocked {
            until: UnixTime::from_secs(1000),
            retry_after_secs: 900,
        });
        assert_eq!(
            said(locked, Flow::Totp),
            "Too many wrong codes: this authenticator app is locked; try again in 15 minutes."
        );
        // What a visitor does not run into keeps the engine's words.
        let engine_words = VerifyError::PasskeysNotConfigured.to_string();
        assert_eq!(
            said(VerifyError::PasskeysNotConfigured, Flow::Passkey),
            engine_words
        );
        assert_eq!(sentence("  already fine. "), "Already fine.");
        assert_eq!(sentence(""), ".");
        assert_eq!(wait(1), "a second");
        assert_eq!(wait(61), "61 seconds");
        assert_eq!(wait(121), "3 minutes");
    }

    #[test]
    fn qr_only_for_otpauth_uris() {
        let svg = qr_code_svg("otpauth://totp/Demo:user-0001?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(qr_code_svg("https://example.com").is_err());
        assert!(qr_code_svg(&format!("otpauth://{}", "a".repeat(2000))).is_err());
    }
}
