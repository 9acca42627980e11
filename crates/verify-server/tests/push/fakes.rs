//! Local fakes of APNs and FCM: HTTP/2 over TLS on 127.0.0.1 with a certificate
//! made at start. They check what the services' documentation requires and
//! answer what the test scripts: success, unregistered, 429 with `Retry-After`,
//! or 500.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, Version};
use serde_json::{Value, json};
use tokio_rustls::rustls;

/// What a fake answers to a request that passes its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Success,
    Unregistered,
    TooManyRequests { retry_after_secs: u64 },
    ServerError,
}

/// One request the fake accepted (passed its checks).
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) body: Value,
    pub(crate) answer: Answer,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    rejected: Vec<String>,
    answers: VecDeque<Answer>,
    default: Option<Answer>,
    token_requests: usize,
    issued: Vec<String>,
}

impl State {
    fn next_answer(&mut self) -> Answer {
        self.answers
            .pop_front()
            .unwrap_or(self.default.unwrap_or(Answer::Success))
    }
}

/// A running fake.
#[derive(Clone)]
pub(crate) struct Fake {
    state: Arc<Mutex<State>>,
    pub(crate) port: u16,
    /// The PEM of the certificate it serves (trust it as a root).
    pub(crate) ca_pem: String,
}

impl Fake {
    pub(crate) fn base_url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
    pub(crate) fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
    pub(crate) fn rejected(&self) -> Vec<String> {
        self.state.lock().unwrap().rejected.clone()
    }
    pub(crate) fn token_requests(&self) -> usize {
        self.state.lock().unwrap().token_requests
    }
    /// Answers `answers` in order, then the default.
    pub(crate) fn push_answers(&self, answers: &[Answer]) {
        self.state.lock().unwrap().answers.extend(answers);
    }
    pub(crate) fn set_default(&self, answer: Answer) {
        self.state.lock().unwrap().default = Some(answer);
    }
}

/// How the APNs fake authenticates the provider.
pub(crate) enum ApnsAuth {
    /// A bearer provider token signed by this key, with this key id and team id.
    Token {
        key: p256::ecdsa::VerifyingKey,
        key_id: String,
        team_id: String,
    },
    /// A TLS client certificate issued by this CA (PEM).
    ClientCertificate { ca_pem: String },
}

fn respond(status: u16, headers: &[(&'static str, String)], body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().unwrap());
    }
    response
}

fn tls_config(client_ca: Option<&str>) -> (rustls::ServerConfig, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            use rustls::pki_types::pem::PemObject as _;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    // HTTP/2 only, as APNs.
    config.alpn_protocols = vec![b"h2".to_vec()];
    (config, cert.pem())
}

type Handler =
    Arc<dyn Fn(Request<Bytes>, &mut State) -> Response<Full<Bytes>> + Send + Sync + 'static>;

async fn start(client_ca: Option<&str>, handler: Handler) -> Fake {
    let (config, ca_pem) = tls_config(client_ca);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Mutex::new(State::default()));
    let fake = Fake {
        state: Arc::clone(&state),
        port,
        ca_pem,
    };
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let state = Arc::clone(&state);
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(socket).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let state = Arc::clone(&state);
                    let handler = Arc::clone(&handler);
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let request = Request::from_parts(parts, body);
                        let response = handler(request, &mut state.lock().unwrap());
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
            });
        }
    });
    fake
}

fn verify_es256(token: &str, key: &p256::ecdsa::VerifyingKey) -> Option<(Value, Value)> {
    use p256::ecdsa::signature::Verifier as _;
    let (input, signature) = token.rsplit_once('.')?;
    let (header, claims) = input.split_once('.')?;
    let signature =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
    key.verify(input.as_bytes(), &signature).ok()?;
    Some((
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?,
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?,
    ))
}

fn verify_rs256(token: &str, key: &rsa::RsaPublicKey) -> Option<(Value, Value)> {
    use rsa::signature::Verifier as _;
    let (input, signature) = token.rsplit_once('.')?;
    let (header, claims) = input.split_once('.')?;
    let signature =
        rsa::pkcs1v15::Signature::try_from(URL_SAFE_NO_PAD.decode(signature).ok()?.as_slice())
            .ok()?;
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
        .verify(input.as_bytes(), &signature)
        .ok()?;
    Some((
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?,
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?,
    ))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn header<'a>(request: &'a Request<Bytes>, name: &str) -> Option<&'a str> {
    request.headers().get(name)?.to_str().ok()
}

/// Checks an APNs request as Apple's "Sending notification requests to APNs"
/// describes it; `Err((status, reason))` is Apple's answer to a bad one.
fn check_apns(
    request: &Request<Bytes>,
    topic: &str,
    auth: &ApnsAuth,
) -> Result<Value, (u16, &'static str)> {
    if request.version() != Version::HTTP_2 {
        return Err((400, "BadPath"));
    }
    if request.method() != hyper::Method::POST {
        return Err((405, "MethodNotAllowed"));
    }
    let token = request
        .uri()
        .path()
        .strip_prefix("/3/device/")
        .ok_or((404, "BadPath"))?;
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err((400, "BadDeviceToken"));
    }
    match header(request, "apns-topic") {
        None => return Err((400, "MissingTopic")),
        Some(sent) if sent != topic => return Err((400, "BadTopic")),
        Some(_) => {}
    }
    if header(request, "apns-push-type") != Some("alert") {
        return Err((400, "InvalidPushType"));
    }
    if !matches!(header(request, "apns-priority"), Some("10" | "5")) {
        return Err((400, "BadPriority"));
    }
    if header(request, "apns-expiration").is_none_or(|v| v.parse::<u64>().is_err()) {
        return Err((400, "BadExpirationDate"));
    }
    if let ApnsAuth::Token {
        key,
        key_id,
        team_id,
    } = auth
    {
        let bearer = header(request, "authorization")
            .and_then(|v| v.strip_prefix("bearer "))
            .ok_or((403, "MissingProviderToken"))?;
        let (jwt_header, claims) =
            verify_es256(bearer, key).ok_or((403, "InvalidProviderToken"))?;
        let fresh = claims["iat"]
            .as_u64()
            .is_some_and(|iat| iat + 3600 > now() && iat <= now() + 60);
        if jwt_header["alg"] != "ES256"
            || jwt_header["kid"] != key_id.as_str()
            || claims["iss"] != team_id.as_str()
        {
            return Err((403, "InvalidProviderToken"));
        }
        if !fresh {
            return Err((403, "ExpiredProviderToken"));
        }
    }
    if request.body().len() > 4096 {
        return Err((413, "PayloadTooLarge"));
    }
    let body: Value = serde_json::from_slice(request.body()).map_err(|_| (400, "BadMessageId"))?;
    if !body["aps"].is_object() {
        return Err((400, "PayloadEmpty"));
    }
    Ok(body)
}

/// The APNs fake for `topic`.
pub(crate) async fn apns(topic: &str, auth: ApnsAuth) -> Fake {
    let topic = topic.to_owned();
    let client_ca = match &auth {
        ApnsAuth::ClientCertificate { ca_pem } => Some(ca_pem.clone()),
        ApnsAuth::Token { .. } => None,
    };
    let handler: Handler =
        Arc::new(
            move |request, state| match check_apns(&request, &topic, &auth) {
                Err((status, reason)) => {
                    state.rejected.push(format!("{status} {reason}"));
                    respond(status, &[], json!({"reason": reason}))
                }
                Ok(body) => {
                    let answer = state.next_answer();
                    state.received.push(Received {
                        path: request.uri().path().to_owned(),
                        headers: request.headers().clone(),
                        body,
                        answer,
                    });
                    let id = (
                        "apns-id",
                        format!("00000000-0000-0000-0000-{:012}", state.received.len()),
                    );
                    match answer {
                        Answer::Success => respond(200, &[id], Value::Null),
                        Answer::Unregistered => respond(
                            410,
                            &[id],
                            json!({"reason": "Unregistered", "timestamp": now() * 1000}),
                        ),
                        Answer::TooManyRequests { retry_after_secs } => respond(
                            429,
                            &[id, ("retry-after", retry_after_secs.to_string())],
                            json!({"reason": "TooManyRequests"}),
                        ),
                        Answer::ServerError => {
                            respond(500, &[id], json!({"reason": "InternalServerError"}))
                        }
                    }
                }
            },
        );
    start(client_ca.as_deref(), handler).await
}

/// The FCM fake for `project_id`, whose token endpoint (`/token`) trusts
/// assertions of `client_email` signed by `key`.
pub(crate) async fn fcm(project_id: &str, client_email: &str, key: rsa::RsaPublicKey) -> Fake {
    let project_id = project_id.to_owned();
    let client_email = client_email.to_owned();
    let port_cell: Arc<Mutex<u16>> = Arc::new(Mutex::new(0));
    let port_for_handler = Arc::clone(&port_cell);
    let handler: Handler = Arc::new(move |request, state| {
        let path = request.uri().path().to_owned();
        if path == "/token" {
            state.token_requests += 1;
            let form: Vec<(String, String)> =
                serde_urlencoded::from_bytes(request.body()).unwrap_or_default();
            let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            let audience = format!(
                "https://localhost:{}/token",
                port_for_handler.lock().unwrap()
            );
            let valid = field("grant_type").as_deref()
                == Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
                && field("assertion")
                    .and_then(|a| verify_rs256(&a, &key))
                    .is_some_and(|(header, claims)| {
                        let iat = claims["iat"].as_u64().unwrap_or(0);
                        let exp = claims["exp"].as_u64().unwrap_or(0);
                        header["alg"] == "RS256"
                            && claims["iss"] == client_email.as_str()
                            && claims["aud"] == audience.as_str()
                            && claims["scope"].as_str().is_some_and(|s| {
                                s.split(' ').any(|s| {
                                    s == "https://www.googleapis.com/auth/firebase.messaging"
                                })
                            })
                            && exp > now()
                            && exp > iat
                            && exp - iat <= 3600
                    });
            if !valid {
                state.rejected.push("token: invalid_grant".to_owned());
                return respond(400, &[], json!({"error": "invalid_grant"}));
            }
            let token = format!("fake-access-{}", state.token_requests);
            state.issued.push(token.clone());
            return respond(
                200,
                &[],
                json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
            );
        }
        if path != format!("/v1/projects/{project_id}/messages:send")
            || request.method() != hyper::Method::POST
        {
            state.rejected.push(format!("404 {path}"));
            return respond(
                404,
                &[],
                json!({"error": {"code": 404, "status": "NOT_FOUND"}}),
            );
        }
        let authorized = header(&request, "authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| state.issued.iter().any(|i| i == t));
        if !authorized {
            state.rejected.push("401 UNAUTHENTICATED".to_owned());
            return respond(
                401,
                &[],
                json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
            );
        }
        let body: Value = serde_json::from_slice(request.body()).unwrap_or_default();
        let shaped = body["message"]["token"].as_str().is_some()
            && body["message"]["data"]
                .as_object()
                .is_some_and(|d| d.values().all(Value::is_string));
        if !shaped {
            state.rejected.push("400 INVALID_ARGUMENT".to_owned());
            return respond(
                400,
                &[],
                json!({"error": {"code": 400, "status": "INVALID_ARGUMENT"}}),
            );
        }
        let answer = state.next_answer();
        state.received.push(Received {
            path,
            headers: request.headers().clone(),
            body,
            answer,
        });
        let n = state.received.len();
        match answer {
            Answer::Success => respond(
                200,
                &[],
                json!({"name": format!("projects/{project_id}/messages/{n}")}),
            ),
            Answer::Unregistered => respond(
                404,
                &[],
                json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}),
            ),
            Answer::TooManyRequests { retry_after_secs } => respond(
                429,
                &[("retry-after", retry_after_secs.to_string())],
                json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED"}]}}),
            ),
            Answer::ServerError => respond(
                500,
                &[],
                json!({"error": {"code": 500, "status": "INTERNAL"}}),
            ),
        }
    });
    let fake = start(None, handler).await;
    *port_cell.lock().unwrap() = fake.port;
    fake
}
