//! Webhook delivery: drains the engine's outbox and POSTs each signed request
//! (Standard Webhooks headers built by the engine) to its `webhook_url`.
//!
//! Transport: [`WebhookClient`], a `reqwest` client over rustls (ring) for
//! `https://` and `http://` URLs. Server certificates are checked against the
//! Mozilla roots (webpki-roots) plus, optionally, the extra roots of a PEM file
//! ([`DeliveryOptions::ca_file`], the server's `--webhook-ca-file`) for private
//! receivers. Redirects are never followed (a 3xx answer is a failed attempt), no
//! proxy is used (the `HTTP(S)_PROXY` variables are ignored, so a proxy cannot
//! reach a destination the guard refuses), an attempt has a
//! connect timeout and a total timeout, and at most
//! [`DeliveryOptions::max_response_body`] bytes of the answer are read (and
//! discarded). A 2xx status is success. Each request is retried with exponential
//! backoff (1 s, 2 s, 4 s, ...) up to [`MAX_ATTEMPTS`] times with the same
//! `webhook-id`, then dropped with an error log; the outbox event is acknowledged
//! once all its requests are settled.
//!
//! Destinations (SSRF guard, see [`crate::ssrf`]): [`WebhookDestinations`]
//! checks a webhook URL when it is created or changed (the URL's host, then
//! every address its name resolves to, within [`CREATION_LOOKUP_TIMEOUT`]),
//! and the client checks again when it connects: an IP-literal host before the
//! request, a host name in the client's DNS resolver, which drops refused
//! addresses and fails when none is left. So a name whose DNS answer changes
//! after creation (DNS rebinding) still cannot reach loopback, a private
//! network or a metadata service. A refused destination is not retried. The
//! operator's exceptions are [`DeliveryOptions::allow_destinations`] (the
//! server's `--webhook-allow-destination`).
//!
//! Push notifications: the same drain sends the notification of each
//! `challenge.created` event (a push challenge was stored) through the state's
//! [`crate::push::NotificationSender`] before acknowledging it, with the same
//! attempts and backoff (honouring the push service's `Retry-After`); see
//! [`crate::push`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use verify_engine::WebhookRequest;
use verify_engine::model::EventType;
use verify_engine::store::Store;

use crate::AppState;
use crate::ssrf::{AllowList, Destination, Refused};

/// Delivery attempts per request (the default of [`DeliveryOptions::max_attempts`]).
pub const MAX_ATTEMPTS: u32 = 5;
/// How long one attempt may take in all: connecting, TLS, sending, the answer's
/// status and its (bounded) body (the default of [`DeliveryOptions::attempt_timeout`]).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting (TCP and TLS handshake) may take (the default of
/// [`DeliveryOptions::connect_timeout`]).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many bytes of a receiver's answer body are read at most (the default of
/// [`DeliveryOptions::max_response_body`]); the rest is not read.
pub const MAX_RESPONSE_BODY: usize = 16 * 1024;
/// The longest wait between two attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long the check of a new or changed webhook URL waits for DNS; a name
/// that does not resolve within it is accepted (see
/// [`WebhookDestinations::check_url`]).
pub const CREATION_LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The URL is not an absolute `http://` or `https://` URL with a host and
    /// without user info, or the method is not a valid HTTP method.
    #[error("unsupported webhook url or method (only http:// and https:// are delivered)")]
    UnsupportedUrl,
    /// Connecting failed: DNS, TCP, or the TLS handshake (an untrusted or
    /// mismatched server certificate lands here).
    #[error("connect failed: {detail}")]
    Connect {
        /// The transport's error chain.
        detail: String,
    },
    /// Sending the request or reading the answer failed after connecting.
    #[error("request failed: {detail}")]
    Request {
        /// The transport's error chain.
        detail: String,
    },
    /// The attempt took longer than its connect or total timeout.
    #[error("timed out")]
    Timeout,
    /// The receiver answered with a redirect, which is not followed.
    #[error("receiver answered redirect status {status} (redirects are not followed)")]
    Redirect {
        /// The 3xx status code.
        status: u16,
    },
    /// The receiver answered with a status that is neither 2xx nor 3xx.
    #[error("receiver answered status {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The destination is refused (see [`crate::ssrf`]): the URL's host, or
    /// every address its name resolved to. No connection was made.
    #[error("destination refused: {0}")]
    Refused(Refused),
}

impl DeliveryError {
    fn from_transport(error: reqwest::Error) -> Self {
        // The guarded resolver's refusal travels inside the connect error.
        if let Some(refused) = refusal_in(&error) {
            return Self::Refused(refused);
        }
        if error.is_timeout() {
            return Self::Timeout;
        }
        let connect = error.is_connect();
        // The URL is logged beside the error already.
        let detail = error_chain(&error.without_url());
        if connect {
            Self::Connect { detail }
        } else {
            Self::Request { detail }
        }
    }
}

/// The [`Refused`] somewhere in `error`'s source chain.
fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        current = error.source();
    }
    None
}

/// Why a [`WebhookClient`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookClientError {
    /// The CA file could not be read.
    #[error("reading CA file {path}: {source}")]
    CaFileRead {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The CA file holds no PEM `CERTIFICATE` block.
    #[error("CA file {path} holds no PEM certificate")]
    CaFileEmpty {
        /// The file.
        path: PathBuf,
    },
    /// The CA file's PEM is malformed, or a certificate in it is not a usable
    /// trust anchor.
    #[error("CA file {path}: {detail}")]
    CaFileInvalid {
        /// The file.
        path: PathBuf,
        /// What the TLS library said.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {detail}")]
    Build {
        /// What the HTTP library said.
        detail: String,
    },
}

/// How webhooks are delivered: timeouts, limits, retries and extra trust roots.
///
/// Start from [`DeliveryOptions::default`] and set the fields to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryOptions {
    /// A PEM file of extra trusted root certificates, added to the built-in
    /// Mozilla roots (for receivers with a private CA or a self-signed
    /// certificate). `None` by default.
    pub ca_file: Option<PathBuf>,
    /// Connect timeout (TCP and TLS handshake) of one attempt.
    pub connect_timeout: Duration,
    /// Total timeout of one attempt.
    pub attempt_timeout: Duration,
    /// How many bytes of an answer's body are read at most.
    pub max_response_body: usize,
    /// Attempts per request (at least 1 is made).
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each further
    /// failure, capped at 60 s.
    pub first_backoff: Duration,
    /// Destinations allowed although they are not public (see
    /// [`crate::ssrf::AllowList`]); empty by default: only public destinations.
    pub allow_destinations: AllowList,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            ca_file: None,
            connect_timeout: CONNECT_TIMEOUT,
            attempt_timeout: ATTEMPT_TIMEOUT,
            max_response_body: MAX_RESPONSE_BODY,
            max_attempts: MAX_ATTEMPTS,
            first_backoff: Duration::from_secs(1),
            allow_destinations: AllowList::default(),
        }
    }
}

/// Where webhooks may be sent: the operator's [`AllowList`] and the DNS
/// resolver, shared by the check of a URL at creation
/// ([`WebhookDestinations::check_url`]) and the delivery client's connect-time
/// check.
#[derive(Clone)]
pub struct WebhookDestinations {
    allow: AllowList,
    resolver: Arc<dyn Resolve>,
}

impl std::fmt::Debug for WebhookDestinations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDestinations")
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

impl Default for WebhookDestinations {
    /// Only public destinations, with the system's DNS.
    fn default() -> Self {
        Self::new(AllowList::default())
    }
}

impl WebhookDestinations {
    /// Public destinations plus `allow`, resolving names with the system's
    /// resolver (`getaddrinfo`, as reqwest does by default).
    #[must_use]
    pub fn new(allow: AllowList) -> Self {
        Self::with_resolver(allow, Arc::new(SystemResolver))
    }

    /// Public destinations plus `allow`, resolving names with `resolver` (a
    /// custom DNS, or a fixed answer in tests).
    #[must_use]
    pub fn with_resolver(allow: AllowList, resolver: Arc<dyn Resolve>) -> Self {
        Self { allow, resolver }
    }

    /// The operator's exceptions.
    #[must_use]
    pub const fn allow_list(&self) -> &AllowList {
        &self.allow
    }

    /// Checks a webhook URL being created or changed: its host (an IP literal,
    /// or a loopback or metadata name) and, for a name, every address it
    /// resolves to; any refused address refuses the URL (a name with such an
    /// address among its answers is a misconfiguration or an attack).
    ///
    /// A name that does not resolve (or not within
    /// [`CREATION_LOOKUP_TIMEOUT`]) is accepted: its DNS may not exist yet,
    /// and the delivery client checks the addresses again when it connects. A
    /// URL that is not an `http(s)://` URL with a host is left to the engine's
    /// validation (and could not be delivered anyway).
    ///
    /// # Errors
    /// [`Refused`] naming the host and the rule.
    pub async fn check_url(&self, url: &str) -> Result<(), Refused> {
        let Ok(url) = reqwest::Url::parse(url) else {
            return Ok(());
        };
        let host = match url.host_str() {
            Some(host) if matches!(url.scheme(), "http" | "https") => host,
            _ => return Ok(()),
        };
        let Destination::Name(name) = self.allow.check_host(host)? else {
            return Ok(());
        };
        let addresses = match tokio::time::timeout(CREATION_LOOKUP_TIMEOUT, self.lookup(&name))
            .await
        {
            Ok(Ok(addresses)) => addresses,
            Ok(Err(error)) => {
                tracing::debug!(host = %name, %error, "webhook host does not resolve; accepted, checked again at delivery");
                return Ok(());
            }
            Err(_) => {
                tracing::debug!(host = %name, "webhook host lookup timed out; accepted, checked again at delivery");
                return Ok(());
            }
        };
        for address in addresses {
            self.allow.check_resolved(&name, address)?;
        }
        Ok(())
    }

    async fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, BoxError> {
        let parsed: Name = name.parse()?;
        let addresses = self.resolver.resolve(parsed).await?;
        Ok(addresses.map(|address| address.ip()).collect())
    }

    /// The connect-time resolution of `name`: its addresses without the refused
    /// ones.
    async fn resolve_allowed(&self, name: &str) -> Result<Vec<SocketAddr>, BoxError> {
        // The client checks the URL's host before sending; checked here too in
        // case a name reaches the resolver another way.
        self.allow.check_host(name)?;
        let parsed: Name = name.parse()?;
        let mut allowed = Vec::new();
        let mut refused = None;
        for address in self.resolver.resolve(parsed).await? {
            match self.allow.check_resolved(name, address.ip()) {
                Ok(()) => allowed.push(address),
                Err(refusal) => {
                    tracing::warn!(host = name, address = %address.ip(), rule = %refusal.rule, "webhook host resolved to a refused address; skipped");
                    refused.get_or_insert(refusal);
                }
            }
        }
        match refused {
            Some(refusal) if allowed.is_empty() => Err(Box::new(refusal)),
            _ => Ok(allowed),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The system resolver (`getaddrinfo` on a blocking thread, through tokio).
#[derive(Debug, Clone, Copy)]
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// The delivery client's resolver: [`WebhookDestinations`]' resolver with the
/// refused addresses dropped, so the check holds for the addresses actually
/// connected to.
struct GuardedResolver(Arc<WebhookDestinations>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let destinations = Arc::clone(&self.0);
        Box::pin(async move {
            let addresses = destinations.resolve_allowed(name.as_str()).await?;
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// The webhook HTTP client: cheap to clone (clones share one connection pool).
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    destinations: Arc<WebhookDestinations>,
    max_response_body: usize,
    max_attempts: u32,
    first_backoff: Duration,
}

impl WebhookClient {
    /// A client with `options`, reading [`DeliveryOptions::ca_file`] if set,
    /// resolving names with the system's resolver.
    ///
    /// # Errors
    /// [`WebhookClientError`] when the CA file cannot be read, holds no
    /// certificate or a malformed one, or the client cannot be built.
    pub fn new(options: &DeliveryOptions) -> Result<Self, WebhookClientError> {
        Self::with_resolver(options, Arc::new(SystemResolver))
    }

    /// [`WebhookClient::new`] resolving names with `resolver` (whose answers
    /// still pass the destination check).
    ///
    /// # Errors
    /// As [`WebhookClient::new`].
    pub fn with_resolver(
        options: &DeliveryOptions,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Self, WebhookClientError> {
        let destinations = Arc::new(WebhookDestinations::with_resolver(
            options.allow_destinations.clone(),
            resolver,
        ));
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // No proxy: a proxy would resolve and connect on its own, past the
            // guarded resolver.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(Arc::clone(&destinations))))
            .connect_timeout(options.connect_timeout)
            .timeout(options.attempt_timeout)
            .user_agent(concat!("verify-server/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path).map_err(|source| WebhookClientError::CaFileRead {
                path: path.clone(),
                source,
            })?;
            let roots = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
                WebhookClientError::CaFileInvalid {
                    path: path.clone(),
                    detail: error.to_string(),
                }
            })?;
            if roots.is_empty() {
                return Err(WebhookClientError::CaFileEmpty { path: path.clone() });
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let http = builder.build().map_err(|error| match &options.ca_file {
            // With the roots parsed, a failure here is a certificate the trust
            // store refuses.
            Some(path) => WebhookClientError::CaFileInvalid {
                path: path.clone(),
                detail: error_chain(&error),
            },
            None => WebhookClientError::Build {
                detail: error_chain(&error),
            },
        })?;
        Ok(Self {
            http,
            destinations,
            max_response_body: options.max_response_body,
            max_attempts: options.max_attempts.max(1),
            first_backoff: options.first_backoff,
        })
    }

    async fn send(
        &self,
        url: &str,
        method: &str,
        headers: &[(&'static str, String)],
        body: &[u8],
    ) -> Result<u16, DeliveryError> {
        let url = parse_url(url)?;
        // reqwest calls the (guarded) resolver for names only: an IP literal,
        // and a refused name, are checked here.
        self.destinations
            .allow
            .check_host(url.host_str().unwrap_or_default())
            .map_err(DeliveryError::Refused)?;
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| DeliveryError::UnsupportedUrl)?;
        let mut request = self.http.request(method, url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let mut response = request
            .send()
            .await
            .map_err(DeliveryError::from_transport)?;
        let status = response.status().as_u16();
        // Read (and discard) a bounded part of the body, so that a well-behaved
        // receiver's connection can be reused; a failure here does not change the
        // outcome, which the status has decided.
        let mut read = 0_usize;
        while read < self.max_response_body {
            match response.chunk().await {
                Ok(Some(chunk)) => read = read.saturating_add(chunk.len()),
                Ok(None) | Err(_) => break,
            }
        }
        match status {
            200..=299 => Ok(status),
            300..=399 => Err(DeliveryError::Redirect { status }),
            _ => Err(DeliveryError::Status { status }),
        }
    }

    /// The wait after failed attempt `attempt` (1-based) with this client's
    /// options; `None` after the last attempt.
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Option<Duration> {
        backoff_with(self.first_backoff, self.max_attempts, attempt)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

fn parse_url(url: &str) -> Result<reqwest::Url, DeliveryError> {
    let url = reqwest::Url::parse(url).map_err(|_| DeliveryError::UnsupportedUrl)?;
    let supported = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    if supported {
        Ok(url)
    } else {
        Err(DeliveryError::UnsupportedUrl)
    }
}

/// Sends `request` once with `client`.
///
/// # Errors
/// [`DeliveryError`] for an unsupported URL, a connect (or TLS) failure, a
/// transport failure, a timeout, a redirect or a non-2xx status.
pub async fn post(client: &WebhookClient, request: &WebhookRequest) -> Result<u16, DeliveryError> {
    client
        .send(
            &request.url,
            request.method,
            &request.headers,
            &request.body,
        )
        .await
}

/// The wait after failed attempt `attempt` (1-based) with the default options:
/// 1 s, 2 s, 4 s, ... capped at 60 s; `None` after the last attempt.
#[must_use]
pub fn backoff(attempt: u32) -> Option<Duration> {
    backoff_with(Duration::from_secs(1), MAX_ATTEMPTS, attempt)
}

fn backoff_with(first: Duration, max_attempts: u32, attempt: u32) -> Option<Duration> {
    if attempt >= max_attempts {
        return None;
    }
    let factor = 1_u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    Some(first.saturating_mul(factor).min(MAX_BACKOFF))
}

async fn deliver_with_retries(client: &WebhookClient, request: &WebhookRequest) {
    let id = request.header("webhook-id").unwrap_or_default().to_owned();
    for attempt in 1..=client.max_attempts {
        match post(client, request).await {
            Ok(status) => {
                tracing::info!(webhook_id = %id, url = %request.url, status, attempt, "webhook delivered");
                return;
            }
            Err(error @ DeliveryError::Refused(_)) => {
                // Not retried: the same check would refuse it again.
                tracing::error!(webhook_id = %id, url = %request.url, attempt, %error, "webhook dropped: destination refused");
                return;
            }
            Err(error) => {
                tracing::warn!(webhook_id = %id, url = %request.url, attempt, %error, "webhook delivery failed");
                if let Some(wait) = client.backoff(attempt) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    tracing::error!(webhook_id = %id, url = %request.url, attempts = client.max_attempts, "webhook dropped after retries");
}

/// Drains the outbox once with `client`: every pending event's webhook requests
/// are delivered (with retries), a `challenge.created` event's push notification
/// is sent (with the same attempts and backoff), and then the event is
/// acknowledged. Returns how many events were handled.
///
/// # Errors
/// [`verify_engine::VerifyError`] from the store (the event stays in the outbox and is
/// handled again by the next drain).
pub async fn drain_once<S: Store + 'static>(
    app: &AppState<S>,
    client: &WebhookClient,
) -> Result<usize, verify_engine::VerifyError> {
    let events = app.engine.peek_events(None, 100).await?;
    for event in &events {
        if event.event.event_type == EventType::ChallengeCreated {
            crate::push::notify_created(app, &event.event, client).await?;
        }
        let requests = app.engine.webhook_requests(event).await?;
        tracing::debug!(
            sequence = event.sequence,
            requests = requests.len(),
            "delivering outbox event"
        );
        for request in &requests {
            deliver_with_retries(client, request).await;
        }
        app.engine.ack_events(event.sequence).await?;
    }
    Ok(events.len())
}

/// Decides whether this process delivers the outbox now, when several processes
/// share one database: exactly one of them should, or every event goes out once
/// per process.
pub trait DeliveryLeader: Send + Sync + 'static {
    /// Whether this process holds (or has just taken) the right to deliver. Called
    /// before every drain.
    fn lead(&self) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + '_>>;
}

/// PostgreSQL's advisory lock as the [`DeliveryLeader`]
/// ([`verify_store_sql::PgStore::try_delivery_lease`]): the process that holds it
/// delivers; the others try again before each drain and take over within one poll
/// interval of the holder's exit (its session ends, and the lock with it).
/// Between a lost connection and the next check two processes may both deliver a
/// batch: deliveries are at least once, and a retried delivery keeps its
/// `webhook-id` for the receiver to drop the duplicate.
pub struct PgDeliveryLeader {
    store: verify_store_sql::PgStore,
    lease: tokio::sync::Mutex<Option<verify_store_sql::DeliveryLease>>,
}

impl PgDeliveryLeader {
    /// A leader that competes for `store`'s delivery lease.
    #[must_use]
    pub fn new(store: verify_store_sql::PgStore) -> Self {
        Self {
            store,
            lease: tokio::sync::Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for PgDeliveryLeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDeliveryLeader").finish_non_exhaustive()
    }
}

impl DeliveryLeader for PgDeliveryLeader {
    fn lead(&self) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            let mut lease = self.lease.lock().await;
            if let Some(held) = lease.as_mut() {
                if held.still_held().await {
                    return true;
                }
                tracing::warn!("outbox delivery lease lost (database connection): trying again");
                *lease = None;
            }
            match self.store.try_delivery_lease().await {
                Ok(Some(taken)) => {
                    tracing::info!(
                        "this process now delivers the outbox (PostgreSQL advisory lock)"
                    );
                    *lease = Some(taken);
                    true
                }
                Ok(None) => false,
                Err(error) => {
                    tracing::warn!(%error, "could not try for the outbox delivery lease");
                    false
                }
            }
        })
    }
}

/// The delivery task: drains the outbox with `client` every `interval` until
/// the process ends.
pub async fn run<S: Store + 'static>(
    app: Arc<AppState<S>>,
    client: WebhookClient,
    interval: Duration,
    leader: Option<Arc<dyn DeliveryLeader>>,
) {
    loop {
        if let Some(leader) = &leader
            && !leader.lead().await
        {
            tokio::time::sleep(interval).await;
            continue;
        }
        match drain_once(&app, &client).await {
            Ok(0) => tokio::time::sleep(interval).await,
            Ok(count) => tracing::info!(events = count, "outbox drained"),
            Err(error) => {
                tracing::error!(%error, "outbox drain failed");
                tokio::time::sleep(interval).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// Quick timeouts; loopback allowed, as the receivers here listen on it.
    fn quick() -> DeliveryOptions {
        DeliveryOptions {
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(5),
            allow_destinations: allow(&["127.0.0.0/8"]),
            ..DeliveryOptions::default()
        }
    }

    fn allow(entries: &[&str]) -> AllowList {
        AllowList::new(entries.iter().map(|entry| entry.parse().unwrap()))
    }

    /// A resolver answering every name with `addresses` (port 0).
    struct Fixed(Vec<IpAddr>);

    impl Resolve for Fixed {
        fn resolve(&self, _: Name) -> Resolving {
            let addresses: Vec<SocketAddr> =
                self.0.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
            Box::pin(async move {
                let addresses: Addrs = Box::new(addresses.into_iter());
                Ok(addresses)
            })
        }
    }

    fn fixed(addresses: &[&str]) -> Arc<Fixed> {
        Arc::new(Fixed(
            addresses.iter().map(|ip| ip.parse().unwrap()).collect(),
        ))
    }

    /// A loopback listener that must see no connection.
    fn untouched_listener() -> (std::net::TcpListener, u16) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    #[track_caller]
    fn assert_untouched(listener: &std::net::TcpListener) {
        assert_eq!(
            listener.accept().map_err(|error| error.kind()).err(),
            Some(std::io::ErrorKind::WouldBlock),
            "a connection reached the listener"
        );
    }

    /// A one-shot receiver on loopback: reads the request head, writes `answer`
    /// and then keeps the connection open until `hold` ends.
    async fn receiver(answer: &'static [u8], hold: bool) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0_u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(answer).await;
            if hold {
                // Endless body: the client must stop reading on its own.
                let chunk = [b'x'; 4096];
                while socket.write_all(&chunk).await.is_ok() {}
            }
        });
        port
    }

    #[test]
    fn backoff_doubles_and_stops_after_the_last_attempt() {
        let waits: Vec<_> = (1..=MAX_ATTEMPTS).map(backoff).collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(4)),
                Some(Duration::from_secs(8)),
                None
            ]
        );
        assert_eq!(backoff(MAX_ATTEMPTS + 7), None);
        assert_eq!(
            backoff_with(Duration::from_secs(1), 40, 30),
            Some(MAX_BACKOFF)
        );
        let mut options = quick();
        options.max_attempts = 3;
        options.first_backoff = Duration::from_millis(10);
        let client = WebhookClient::new(&options).unwrap();
        assert_eq!(
            (1..=4).map(|a| client.backoff(a)).collect::<Vec<_>>(),
            vec![
                Some(Duration::from_millis(10)),
                Some(Duration::from_millis(20)),
                None,
                None
            ]
        );
    }

    #[tokio::test]
    async fn a_non_2xx_answer_is_a_failed_attempt() {
        let client = WebhookClient::new(&quick()).unwrap();
        let port = receiver(b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n", false).await;
        let url = format!("http://127.0.0.1:{port}/hook");
        let sent = client
            .send(
                &url,
                "POST",
                &[("content-type", "application/json".to_owned())],
                b"{}",
            )
            .await;
        assert!(
            matches!(sent, Err(DeliveryError::Status { status: 500 })),
            "{sent:?}"
        );
        // Nobody listens any more: a connect error, not a panic.
        let sent = client.send(&url, "POST", &[], b"{}").await;
        assert!(
            matches!(sent, Err(DeliveryError::Connect { .. })),
            "{sent:?}"
        );
    }

    #[tokio::test]
    async fn a_2xx_answer_is_delivered() {
        let client = WebhookClient::new(&quick()).unwrap();
        let port = receiver(b"HTTP/1.1 204 No Content\r\n\r\n", false).await;
        let sent = client
            .send(&format!("http://127.0.0.1:{port}/hook"), "POST", &[], b"{}")
            .await;
        assert!(matches!(sent, Ok(204)), "{sent:?}");
    }

    #[tokio::test]
    async fn redirects_are_failures_and_not_followed() {
        // Where the redirect points: must see no connection.
        let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        target.set_nonblocking(true).unwrap();
        let target_port = target.local_addr().unwrap().port();
        let answer = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{target_port}/elsewhere\r\ncontent-length: 0\r\n\r\n"
        );
        let answer: &'static [u8] = Box::leak(answer.into_bytes().into_boxed_slice());
        let port = receiver(answer, false).await;
        let client = WebhookClient::new(&quick()).unwrap();
        let sent = client
            .send(&format!("http://127.0.0.1:{port}/hook"), "POST", &[], b"{}")
            .await;
        assert!(
            matches!(sent, Err(DeliveryError::Redirect { status: 307 })),
            "{sent:?}"
        );
        assert_eq!(
            target.accept().map_err(|error| error.kind()).err(),
            Some(std::io::ErrorKind::WouldBlock),
            "the redirect was followed"
        );
    }

    #[tokio::test]
    async fn the_answer_body_is_read_only_up_to_the_bound() {
        // A 200 with an endless body: the attempt ends after the bound, not at
        // the timeout.
        let port = receiver(
            b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000000\r\n\r\n",
            true,
        )
        .await;
        let mut options = quick();
        options.attempt_timeout = Duration::from_secs(60);
        let client = WebhookClient::new(&options).unwrap();
        let sent = client
            .send(&format!("http://127.0.0.1:{port}/hook"), "POST", &[], b"{}")
            .await;
        assert!(matches!(sent, Ok(200)), "{sent:?}");
    }

    #[tokio::test]
    async fn a_silent_receiver_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            // Never answer; keep the socket open until the test ends.
            std::future::pending::<()>().await;
            drop(socket);
        });
        let mut options = quick();
        options.attempt_timeout = Duration::from_millis(300);
        let client = WebhookClient::new(&options).unwrap();
        let sent = client
            .send(&format!("http://127.0.0.1:{port}/hook"), "POST", &[], b"{}")
            .await;
        assert!(matches!(sent, Err(DeliveryError::Timeout)), "{sent:?}");
        held.abort();
    }

    #[tokio::test]
    async fn forbidden_literal_hosts_are_refused_before_connecting() {
        let (listener, port) = untouched_listener();
        let strict = WebhookClient::new(&DeliveryOptions::default()).unwrap();
        for host in [
            "127.0.0.1".to_owned(),
            "2130706433".to_owned(),
            "0x7f.1".to_owned(),
            "[::ffff:127.0.0.1]".to_owned(),
            "[::1]".to_owned(),
            "0.0.0.0".to_owned(),
            "169.254.169.254".to_owned(),
            "localhost".to_owned(),
            "metadata.google.internal".to_owned(),
        ] {
            let sent = strict
                .send(&format!("http://{host}:{port}/hook"), "POST", &[], b"{}")
                .await;
            assert!(
                matches!(sent, Err(DeliveryError::Refused(_))),
                "{host}: {sent:?}"
            );
        }
        assert_untouched(&listener);
        // The same URL with loopback allowed is delivered (to a live receiver).
        let port = receiver(b"HTTP/1.1 204 No Content\r\n\r\n", false).await;
        let allowed = WebhookClient::new(&quick()).unwrap();
        let sent = allowed
            .send(
                &format!("http://2130706433:{port}/hook"),
                "POST",
                &[],
                b"{}",
            )
            .await;
        assert!(matches!(sent, Ok(204)), "{sent:?}");
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_refused_address_is_not_connected_to() {
        // DNS rebinding: whatever the name resolved to when the webhook was
        // created, at connect time it answers loopback.
        let (listener, port) = untouched_listener();
        let client =
            WebhookClient::with_resolver(&DeliveryOptions::default(), fixed(&["127.0.0.1", "::1"]))
                .unwrap();
        let sent = client
            .send(
                &format!("http://rebind.test:{port}/hook"),
                "POST",
                &[],
                b"{}",
            )
            .await;
        let Err(DeliveryError::Refused(refused)) = sent else {
            panic!("{sent:?}");
        };
        assert_eq!(refused.rule, crate::ssrf::Rule::Loopback);
        assert_eq!(refused.judged, crate::ssrf::Judged::Resolved);
        assert_untouched(&listener);
        // Metadata, even for a name the operator trusts.
        let options = DeliveryOptions {
            allow_destinations: allow(&["rebind.test"]),
            ..DeliveryOptions::default()
        };
        let client = WebhookClient::with_resolver(&options, fixed(&["169.254.169.254"])).unwrap();
        let sent = client
            .send("http://rebind.test/latest/meta-data/", "POST", &[], b"{}")
            .await;
        assert!(matches!(sent, Err(DeliveryError::Refused(_))), "{sent:?}");
    }

    #[tokio::test]
    async fn refused_addresses_are_dropped_and_the_allowed_ones_used() {
        let port = receiver(b"HTTP/1.1 204 No Content\r\n\r\n", false).await;
        // 10.0.0.1 (refused) first: only 127.0.0.1 (allowed) is tried.
        let client =
            WebhookClient::with_resolver(&quick(), fixed(&["10.0.0.1", "127.0.0.1"])).unwrap();
        let sent = client
            .send(
                &format!("http://mixed.test:{port}/hook"),
                "POST",
                &[],
                b"{}",
            )
            .await;
        assert!(matches!(sent, Ok(204)), "{sent:?}");
    }

    #[tokio::test]
    async fn an_allow_listed_name_is_resolved_by_the_system() {
        let port = receiver(b"HTTP/1.1 204 No Content\r\n\r\n", false).await;
        let mut options = quick();
        options.allow_destinations = allow(&["localhost"]);
        let client = WebhookClient::new(&options).unwrap();
        let sent = client
            .send(&format!("http://localhost:{port}/hook"), "POST", &[], b"{}")
            .await;
        assert!(matches!(sent, Ok(204)), "{sent:?}");
    }

    #[tokio::test]
    async fn the_creation_check_resolves_names() {
        let public = WebhookDestinations::with_resolver(
            AllowList::default(),
            fixed(&["93.184.216.34", "2606:4700::1111"]),
        );
        assert_eq!(public.check_url("https://hooks.test/verify").await, Ok(()));
        // Any refused address among the answers refuses the URL.
        let mixed = WebhookDestinations::with_resolver(
            AllowList::default(),
            fixed(&["93.184.216.34", "10.0.0.1"]),
        );
        let refused = mixed
            .check_url("https://hooks.test/verify")
            .await
            .unwrap_err();
        assert_eq!(refused.rule, crate::ssrf::Rule::Private);
        // A name that does not resolve is accepted (checked again at delivery).
        let nothing = WebhookDestinations::with_resolver(AllowList::default(), fixed(&[]));
        assert_eq!(nothing.check_url("https://later.test/").await, Ok(()));
        // Literals and names need no DNS; other URLs are the engine's to judge.
        assert!(nothing.check_url("http://10.0.0.1/").await.is_err());
        assert!(nothing.check_url("http://metadata/").await.is_err());
        assert_eq!(nothing.check_url("ftp://10.0.0.1/").await, Ok(()));
        assert_eq!(nothing.check_url("not a url").await, Ok(()));
    }

    #[test]
    fn only_absolute_http_and_https_urls_without_user_info() {
        assert!(parse_url("http://127.0.0.1:9000/hook?x=1").is_ok());
        assert!(parse_url("https://example.test").is_ok());
        for bad in [
            "ftp://example.test/",
            "http://user@example.test/",
            "https://user:pw@example.test/",
            "/hook",
            "https://",
            "file:///etc/passwd",
            "",
        ] {
            assert!(
                matches!(parse_url(bad), Err(DeliveryError::UnsupportedUrl)),
                "{bad}"
            );
        }
    }

    #[test]
    fn ca_files_are_checked_when_the_client_is_built() {
        let dir = std::env::temp_dir();
        let mut options = DeliveryOptions {
            ca_file: Some(dir.join("verify-server-no-such-ca-file.pem")),
            ..DeliveryOptions::default()
        };
        assert!(matches!(
            WebhookClient::new(&options),
            Err(WebhookClientError::CaFileRead { .. })
        ));
        let empty = dir.join(format!("verify-server-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, b"no pem here\n").unwrap();
        options.ca_file = Some(empty.clone());
        let built = WebhookClient::new(&options);
        std::fs::remove_file(&empty).unwrap();
        assert!(
            matches!(built, Err(WebhookClientError::CaFileEmpty { .. })),
            "{built:?}"
        );
        let garbage = dir.join(format!("verify-server-bad-ca-{}.pem", std::process::id()));
        std::fs::write(
            &garbage,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        options.ca_file = Some(garbage.clone());
        let built = WebhookClient::new(&options);
        std::fs::remove_file(&garbage).unwrap();
        assert!(
            matches!(built, Err(WebhookClientError::CaFileInvalid { .. })),
            "{built:?}"
        );
    }
}
