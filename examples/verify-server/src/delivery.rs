//! Webhook delivery: drains the engine's outbox and POSTs each signed request
//! (Standard Webhooks headers built by the engine) to its `webhook_url`.
//!
//! Transport: a minimal HTTP/1.1 `POST` over a tokio `TcpStream`, for `http://`
//! URLs only (no TLS in this example: put a TLS-terminating proxy in front of an
//! `https://` receiver, or replace [`post`] with your HTTP client). A 2xx status
//! is success. Each request is retried with exponential backoff (1 s, 2 s, 4 s, ...)
//! up to [`MAX_ATTEMPTS`] times with the same `webhook-id`, then dropped with an
//! error log; the outbox event is acknowledged once all its requests are settled.
//!
//! Push notifications: [`NotificationSender`] is the seam where a host plugs in its
//! APNs / FCM client. This server has none: the default
//! [`LoggingNotificationSender`] logs the payload it would send and sends nothing
//! (devices still find pending challenges by polling). Install a sender with
//! `router(state).layer(axum::Extension(sender))` where `sender` is an
//! `Arc<dyn NotificationSender>`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use verify::WebhookRequest;
use verify::model::{ChallengeSid, FactorSid, NotificationPlatform, NotificationSid};
use verify::store::Store;

use crate::AppState;

/// Delivery attempts per request.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long one attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The URL is not `http://host[:port]/path`.
    #[error("unsupported webhook url (only http:// is delivered by this example)")]
    UnsupportedUrl,
    /// Connecting, writing or reading failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The attempt took longer than [`ATTEMPT_TIMEOUT`].
    #[error("timed out")]
    Timeout,
    /// The receiver answered with a non-2xx status (or no parseable status line).
    #[error("receiver answered status {status:?}")]
    Status {
        /// The status code, when one was read.
        status: Option<u16>,
    },
}

fn split_url(url: &str) -> Result<(String, String, String), DeliveryError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or(DeliveryError::UnsupportedUrl)?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest
            .split_at_checked(at)
            .ok_or(DeliveryError::UnsupportedUrl)?,
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(DeliveryError::UnsupportedUrl);
    }
    let address = if authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((address, authority.to_owned(), path.to_owned()))
}

/// Sends `request` once.
///
/// # Errors
/// [`DeliveryError`] for an unsupported URL, an I/O failure, a timeout or a
/// non-2xx status.
pub async fn post(request: &WebhookRequest) -> Result<u16, DeliveryError> {
    send(
        &request.url,
        request.method,
        &request.headers,
        &request.body,
    )
    .await
}

async fn send(
    url: &str,
    method: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> Result<u16, DeliveryError> {
    let (address, host, path) = split_url(url)?;
    let attempt = async {
        let mut stream = TcpStream::connect(&address).await?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await?;
        let mut buffer = vec![0_u8; 1024];
        let read = stream.read(&mut buffer).await?;
        let line = buffer.get(..read).unwrap_or_default();
        let status = std::str::from_utf8(line)
            .ok()
            .and_then(|text| text.strip_prefix("HTTP/1."))
            .and_then(|text| text.get(2..5))
            .and_then(|code| code.parse::<u16>().ok());
        match status {
            Some(code) if (200..300).contains(&code) => Ok(code),
            status => Err(DeliveryError::Status { status }),
        }
    };
    tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
        .await
        .map_err(|_| DeliveryError::Timeout)?
}

/// The wait after failed attempt `attempt` (1-based): 1 s, 2 s, 4 s, ... capped at
/// 60 s; `None` after the last attempt.
#[must_use]
pub fn backoff(attempt: u32) -> Option<Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let secs = 1_u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs.min(60)))
}

async fn deliver_with_retries(request: &WebhookRequest) {
    let id = request.header("webhook-id").unwrap_or_default().to_owned();
    for attempt in 1..=MAX_ATTEMPTS {
        match post(request).await {
            Ok(status) => {
                tracing::info!(webhook_id = %id, url = %request.url, status, attempt, "webhook delivered");
                return;
            }
            Err(error) => {
                tracing::warn!(webhook_id = %id, url = %request.url, attempt, %error, "webhook delivery failed");
                if let Some(wait) = backoff(attempt) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    tracing::error!(webhook_id = %id, url = %request.url, attempts = MAX_ATTEMPTS, "webhook dropped after retries");
}

/// Drains the outbox once: every pending event's requests are delivered (with
/// retries) and the event is acknowledged. Returns how many events were handled.
///
/// # Errors
/// [`verify::VerifyError`] from the store.
pub async fn drain_once<S: Store + 'static>(
    app: &AppState<S>,
) -> Result<usize, verify::VerifyError> {
    let events = app.engine.peek_events(None, 100).await?;
    for event in &events {
        let requests = app.engine.webhook_requests(event).await?;
        tracing::debug!(
            sequence = event.sequence,
            requests = requests.len(),
            "delivering outbox event"
        );
        for request in &requests {
            deliver_with_retries(request).await;
        }
        app.engine.ack_events(event.sequence).await?;
    }
    Ok(events.len())
}

/// The delivery task: drains the outbox every `interval` until the process ends.
pub async fn run<S: Store + 'static>(app: Arc<AppState<S>>, interval: Duration) {
    loop {
        match drain_once(&app).await {
            Ok(0) => tokio::time::sleep(interval).await,
            Ok(count) => tracing::info!(events = count, "outbox drained"),
            Err(error) => {
                tracing::error!(%error, "outbox drain failed");
                tokio::time::sleep(interval).await;
            }
        }
    }
}

// ---- push notifications ---------------------------------------------------------

/// A push notification to hand to APNs or FCM (SPEC §7): built by the server from
/// the engine's [`verify::push::ChallengeNotification`] and the factor's
/// notification configuration.
#[derive(Clone)]
#[non_exhaustive]
pub struct OutgoingNotification {
    /// The Notification resource's sid (`NT…`).
    pub sid: NotificationSid,
    /// The challenge it announces.
    pub challenge_sid: ChallengeSid,
    /// The push factor (device) it goes to.
    pub factor_sid: FactorSid,
    /// The factor's `config.notification_platform`.
    pub platform: NotificationPlatform,
    /// The factor's `config.notification_token` (the APNs device token or FCM
    /// registration token), when it has one.
    pub device_token: Option<String>,
    /// How long APNs / FCM may keep trying to deliver it (0..=300 s).
    pub ttl: Duration,
    /// What would be sent: the APNs payload, or the FCM HTTP v1 message (which
    /// carries `device_token`); `None` for platform `none`.
    pub payload: Option<serde_json::Value>,
}

impl std::fmt::Debug for OutgoingNotification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingNotification")
            .field("sid", &self.sid)
            .field("challenge_sid", &self.challenge_sid)
            .field("factor_sid", &self.factor_sid)
            .field("platform", &self.platform)
            .field(
                "device_token",
                &self.device_token.as_ref().map(|_| "<redacted>"),
            )
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl OutgoingNotification {
    /// The payload with the FCM device token replaced by `<redacted>`, for logs.
    #[must_use]
    pub fn redacted_payload(&self) -> Option<serde_json::Value> {
        let mut payload = self.payload.clone()?;
        if let Some(token) = payload
            .get_mut("message")
            .and_then(|message| message.get_mut("token"))
        {
            *token = serde_json::Value::String("<redacted>".to_owned());
        }
        Some(payload)
    }
}

/// Why a notification could not be handed over.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationSendError {
    /// The push service refused or could not be reached.
    #[error("push service: {0}")]
    Service(String),
}

/// The future a [`NotificationSender`] returns.
pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), NotificationSendError>> + Send + 'a>>;

/// Hands push notifications to APNs / FCM: implement it with your push client and
/// install it as an `axum::Extension<Arc<dyn NotificationSender>>` on the router.
pub trait NotificationSender: Send + Sync {
    /// Sends (or queues) `notification`.
    ///
    /// # Errors
    /// [`NotificationSendError`] when the push service refuses it.
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a>;
}

/// The default sender: logs what it would send and sends nothing (this server has
/// no APNs / FCM credentials).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct LoggingNotificationSender;

impl NotificationSender for LoggingNotificationSender {
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a> {
        Box::pin(async move {
            let payload = notification
                .redacted_payload()
                .map_or_else(String::new, |payload| payload.to_string());
            tracing::info!(
                notification_sid = %notification.sid,
                challenge_sid = %notification.challenge_sid,
                factor_sid = %notification.factor_sid,
                platform = %notification.platform,
                ttl_secs = notification.ttl.as_secs(),
                %payload,
                "push notification NOT sent: no APNs/FCM sender is configured; \
                 this is the payload it would carry (the device can poll instead)"
            );
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[tokio::test]
    async fn a_non_2xx_answer_is_a_failed_attempt() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0_u8; 2048];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        let url = format!("http://127.0.0.1:{port}/hook");
        let sent = send(
            &url,
            "POST",
            &[("content-type", "application/json".to_owned())],
            b"{}",
        )
        .await;
        assert!(
            matches!(sent, Err(DeliveryError::Status { status: Some(500) })),
            "{sent:?}"
        );
        // Nobody listens any more: an I/O error, not a panic.
        assert!(matches!(
            send(&url, "POST", &[], b"{}").await,
            Err(DeliveryError::Io(_))
        ));
    }

    #[test]
    fn urls_split_into_address_host_and_path() {
        let (address, host, path) = split_url("http://127.0.0.1:9000/hook?x=1").unwrap();
        assert_eq!(
            (address.as_str(), host.as_str(), path.as_str()),
            ("127.0.0.1:9000", "127.0.0.1:9000", "/hook?x=1")
        );
        let (address, _, path) = split_url("http://example.test").unwrap();
        assert_eq!((address.as_str(), path.as_str()), ("example.test:80", "/"));
        assert!(matches!(
            split_url("https://example.test/"),
            Err(DeliveryError::UnsupportedUrl)
        ));
        assert!(matches!(
            split_url("http://user@example.test/"),
            Err(DeliveryError::UnsupportedUrl)
        ));
    }
}
