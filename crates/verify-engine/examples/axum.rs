//! The whole embedding in one axum app: the engine built once with the system clock
//! and the OS RNG, shared by the handlers, an authenticator-app (TOTP) enrollment and
//! sign-in, and every refusal answered as JSON with the engine's status and code.
//!
//! ```sh
//! cargo run -p verify-engine --example axum            # listens on 127.0.0.1:3000
//! curl -s localhost:3000/enroll -H 'content-type: application/json' -d '{"user": "alice-0001"}'
//! # scan the otpauth:// URI into an authenticator app, then with its code:
//! curl -s localhost:3000/verify -H 'content-type: application/json' -d '{"user": "alice-0001", "code": "123456"}'
//! curl -s localhost:3000/sign-in -H 'content-type: application/json' -d '{"user": "alice-0001", "code": "654321"}'
//! ```
//!
//! `ADDR=127.0.0.1:0` picks a free port (printed at start). Your own app keeps
//! users, sessions and its database; this example keeps the factor sid of each user
//! in a map where your app would keep it in its user table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use verify_engine::model::{FactorSid, Identity, ServiceSid};
use verify_engine::store::MemoryStore;
use verify_engine::{
    EngineConfig, NewChallengeRequest, NewTotpFactor, NotApproved, ServiceSettings, Verify,
    VerifyError,
};

/// What the handlers share: the engine, the service made at start-up, and each user's
/// TOTP factor (your user table).
struct App {
    verify: Verify<MemoryStore>,
    service: ServiceSid,
    factors: Mutex<HashMap<String, FactorSid>>,
}

#[derive(Deserialize)]
struct Enroll {
    user: String,
}

#[derive(Deserialize)]
struct WithCode {
    user: String,
    code: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Production setup: system clock and OS RNG (the default features). MemoryStore
    // forgets everything on exit; verify-store-sql's SQLite or PostgreSQL stores keep it.
    let verify = Verify::with_system_defaults(MemoryStore::new(), EngineConfig::default());
    // The service by name: found on a persistent store after a restart, created on
    // the first start (or keep its sid in your configuration).
    let service = verify
        .ensure_service("Owl Bank", &ServiceSettings::new())
        .await?
        .sid();
    let app = Arc::new(App {
        verify,
        service,
        factors: Mutex::new(HashMap::new()),
    });
    let router = Router::new()
        .route("/enroll", post(enroll))
        .route("/verify", post(verify_factor))
        .route("/sign-in", post(sign_in))
        .with_state(app);
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}

/// Starts an authenticator-app enrollment: the otpauth URI for the QR code.
async fn enroll(State(app): State<Arc<App>>, Json(body): Json<Enroll>) -> Result<Response, Error> {
    let user = Identity::parse(&body.user)?;
    let created = app
        .verify
        .create_totp_factor(app.service, &user, NewTotpFactor::new(&body.user))
        .await?;
    app.factors()?.insert(body.user, created.factor.sid());
    // The URI holds the secret: send it once, over TLS, and never log it.
    Ok(Json(json!({ "otpauth_uri": created.uri.as_str() })).into_response())
}

/// Finishes the enrollment with the first code the app shows.
async fn verify_factor(
    State(app): State<Arc<App>>,
    Json(body): Json<WithCode>,
) -> Result<Response, Error> {
    let (user, factor) = app.user_factor(&body.user)?;
    let factor = app
        .verify
        .verify_factor(app.service, &user, factor, &body.code)
        .await?;
    Ok(Json(json!({ "status": factor.status() })).into_response())
}

/// Signs in with a code. Only `Ok` from `approved()` is a sign-in.
async fn sign_in(
    State(app): State<Arc<App>>,
    Json(body): Json<WithCode>,
) -> Result<Response, Error> {
    let (user, factor) = app.user_factor(&body.user)?;
    let request = NewChallengeRequest::new().with_auth_payload(&body.code);
    let update = app
        .verify
        .create_challenge(app.service, &user, factor, request)
        .await?;
    match update.approved() {
        // Here your app starts the session.
        Ok(_challenge) => Ok(Json(json!({ "signed_in": true })).into_response()),
        Err(refused) => Err(Error::Refused(refused)),
    }
}

impl App {
    fn factors(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, FactorSid>>, Error> {
        self.factors.lock().map_err(|_| Error::Unavailable)
    }

    fn user_factor(&self, user: &str) -> Result<(Identity, FactorSid), Error> {
        let identity = Identity::parse(user)?;
        let factor = self
            .factors()?
            .get(user)
            .copied()
            .ok_or(Error::NotEnrolled)?;
        Ok((identity, factor))
    }
}

/// Every way a request fails, answered as `{"code", "message"}` JSON.
enum Error {
    /// The engine refused the operation: its HTTP status and stable code.
    Verify(VerifyError),
    /// The code did not sign the user in.
    Refused(NotApproved),
    /// The user has no authenticator app yet.
    NotEnrolled,
    /// The user map's lock was poisoned by a panic elsewhere.
    Unavailable,
}

impl From<VerifyError> for Error {
    fn from(error: VerifyError) -> Self {
        Self::Verify(error)
    }
}

impl From<verify_engine::model::ModelError> for Error {
    fn from(error: verify_engine::model::ModelError) -> Self {
        Self::Verify(error.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Self::Verify(error) => (
                StatusCode::from_u16(error.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                Some(error.code()),
                error.to_string(),
            ),
            // A wrong code or one already used is the user's to retry (the message
            // says which); attempts exhausted or expired means starting over.
            Self::Refused(refused) => (StatusCode::UNAUTHORIZED, None, refused.to_string()),
            Self::NotEnrolled => (StatusCode::NOT_FOUND, None, "enroll first".to_owned()),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "try again".to_owned(),
            ),
        };
        (status, Json(json!({ "code": code, "message": message }))).into_response()
    }
}
