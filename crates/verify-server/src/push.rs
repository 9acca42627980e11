//! Push notifications to devices: the APNs and FCM credentials named by
//! `--push-credentials`, the [`NotificationSender`] that sends through them, the
//! delivery of a push challenge's notification from the outbox, and its counters.
//!
//! When a push challenge is created, the engine writes a `challenge.created`
//! event into the outbox in the same atomic write as the challenge. The outbox
//! task ([`crate::delivery::run`]) finds it, asks the engine for the challenge's
//! [`verify_engine::PushDelivery`] (nothing for platform `none`, or a token the push
//! service reported unregistered; nothing for a challenge no longer pending),
//! and sends it through the credential the service names
//! (`push.apn_credential_sid` / `push.fcm_credential_sid`), retrying 429 and 5xx
//! answers with backoff (honouring `Retry-After`) a bounded number of times. The
//! event is acknowledged only afterwards: a crash between commit and send sends
//! the notification after the restart (at most once more).
//!
//! An unregistered token (APNs 410 or `BadDeviceToken`, FCM `UNREGISTERED`)
//! marks the factor ([`verify_engine::Verify::invalidate_notification_token`]): nothing
//! more is sent to it until the device updates its configuration. Every outcome
//! is logged with the challenge sid and counted in [`PushMetrics`] (served at
//! `GET /metrics`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use verify_engine::model::{
    ChallengeSid, Event, FactorSid, Identity, NotificationPlatform, NotificationSid, ServiceSid,
    UnixTime,
};
use verify_engine::store::Store;
use verify_notify::{
    ApnsAuth, ApnsCredential, ApnsEnvironment, ApnsNotification, ApnsSender, FcmCredential,
    FcmSender, SendOutcome, SenderOptions,
};

use crate::AppState;
use crate::delivery::WebhookClient;

/// A push notification to hand to APNs or FCM (docs/push.md): built by the
/// server from the engine's [`verify_engine::PushDelivery`].
#[derive(Clone)]
#[non_exhaustive]
pub struct OutgoingNotification {
    /// The sid the notification is logged under (`NT…`; the Notification
    /// resource's sid when re-sent over the API).
    pub sid: NotificationSid,
    /// The challenge it announces.
    pub challenge_sid: ChallengeSid,
    /// The push factor (device) it goes to.
    pub factor_sid: FactorSid,
    /// The factor's `config.notification_platform` (`apn` or `fcm`).
    pub platform: NotificationPlatform,
    /// The APNs device token or FCM registration token.
    pub device_token: String,
    /// The service's credential reference for the platform, if any.
    pub credential_sid: Option<String>,
    /// How long APNs / FCM may keep trying to deliver it.
    pub ttl: Duration,
    /// The APNs `apns-expiration` (Unix seconds; 0: deliver once or never).
    pub apns_expiration: u64,
    /// What is sent: the APNs payload, or the FCM HTTP v1 message (which
    /// carries `device_token`).
    pub payload: serde_json::Value,
}

impl std::fmt::Debug for OutgoingNotification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingNotification")
            .field("sid", &self.sid)
            .field("challenge_sid", &self.challenge_sid)
            .field("factor_sid", &self.factor_sid)
            .field("platform", &self.platform)
            .field("device_token", &"<redacted>")
            .field("credential_sid", &self.credential_sid)
            .field("ttl", &self.ttl)
            .field("apns_expiration", &self.apns_expiration)
            .finish_non_exhaustive()
    }
}

impl OutgoingNotification {
    /// The notification of `delivery`, valid for `ttl` from `now`.
    ///
    /// # Errors
    /// [`verify_engine::VerifyError::Push`] when the payload cannot be built (a token or
    /// payload outside the push services' limits).
    pub fn build(
        sid: NotificationSid,
        delivery: &verify_engine::PushDelivery,
        ttl: Duration,
        now: UnixTime,
    ) -> Result<Self, verify_engine::VerifyError> {
        let payload = match delivery.platform {
            // Delivered at once (wakes the device), never after the challenge is useless.
            NotificationPlatform::Fcm => delivery.notification.fcm_message_high_priority(
                &delivery.device_token,
                u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX),
            ),
            _ => delivery.notification.apns_payload(),
        }
        .map_err(|error| verify_engine::VerifyError::Push(error.into()))?;
        let apns_expiration = if ttl.is_zero() {
            0
        } else {
            now.as_secs().saturating_add(ttl.as_secs())
        };
        Ok(Self {
            sid,
            challenge_sid: delivery.challenge_sid,
            factor_sid: delivery.factor_sid,
            platform: delivery.platform,
            device_token: delivery.device_token.clone(),
            credential_sid: delivery.credential_sid.clone(),
            ttl,
            apns_expiration,
            payload,
        })
    }

    /// The payload with the FCM device token replaced by `<redacted>`, for logs.
    #[must_use]
    pub fn redacted_payload(&self) -> serde_json::Value {
        let mut payload = self.payload.clone();
        if let Some(token) = payload
            .get_mut("message")
            .and_then(|message| message.get_mut("token"))
        {
            *token = serde_json::Value::String("<redacted>".to_owned());
        }
        payload
    }
}

/// What became of one attempt to send a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub enum PushOutcome {
    /// The push service accepted it.
    Delivered {
        /// The push service's id for it (`apns-id`, the FCM message name).
        id: Option<String>,
    },
    /// The push service says the token is no longer registered: do not send to
    /// it again.
    Unregistered {
        /// The push service's reason.
        reason: String,
    },
    /// Worth another attempt (429, 5xx, a transport failure).
    Retry {
        /// How long the push service asked to wait (`Retry-After`).
        after: Option<Duration>,
        /// Why.
        reason: String,
    },
    /// Refused for good (a credential or request the push service rejects).
    Failed {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// Why.
        reason: String,
    },
    /// Nothing was sent, by configuration: no sender, or no credential for the
    /// service and platform.
    NotSent {
        /// Why.
        reason: String,
    },
}

impl From<SendOutcome> for PushOutcome {
    fn from(outcome: SendOutcome) -> Self {
        match outcome {
            SendOutcome::Delivered { id } => Self::Delivered { id },
            SendOutcome::Unregistered { reason } => Self::Unregistered { reason },
            SendOutcome::Retry { after, reason } => Self::Retry { after, reason },
            SendOutcome::Failed { status, reason } => Self::Failed { status, reason },
            // A future outcome is not retried on a guess.
            other => Self::Failed {
                status: None,
                reason: format!("{other:?}"),
            },
        }
    }
}

impl PushOutcome {
    const fn label(&self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::Unregistered { .. } => "unregistered",
            Self::Retry { .. } => "retried",
            Self::Failed { .. } => "failed",
            Self::NotSent { .. } => "not_sent",
        }
    }
}

/// The future a [`NotificationSender`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = PushOutcome> + Send + 'a>>;

/// Hands push notifications to APNs / FCM. The server's is [`PushSenders`] (the
/// credentials of `--push-credentials`); without it, [`LoggingNotificationSender`].
/// Install another with [`crate::AppState::with_notification_sender`].
pub trait NotificationSender: Send + Sync {
    /// Makes one attempt to send `notification` (retries are the caller's).
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a>;
}

/// The sender without credentials: logs what it would send (the FCM token
/// redacted) and sends nothing ([`PushOutcome::NotSent`]); devices still find
/// pending challenges by polling.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct LoggingNotificationSender;

impl NotificationSender for LoggingNotificationSender {
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(
                notification_sid = %notification.sid,
                challenge_sid = %notification.challenge_sid,
                factor_sid = %notification.factor_sid,
                platform = %notification.platform,
                ttl_secs = notification.ttl.as_secs(),
                payload = %notification.redacted_payload(),
                "push notification NOT sent: no --push-credentials configured; \
                 this is the payload it would carry (the device can poll instead)"
            );
            PushOutcome::NotSent {
                reason: "no push credentials are configured".to_owned(),
            }
        })
    }
}

// ---- delivery -------------------------------------------------------------------

/// Whether `error` says the challenge can no longer be notified (answered,
/// expired, deleted): nothing to send, and nothing to retry.
fn is_gone(error: &verify_engine::VerifyError) -> bool {
    matches!(
        error,
        verify_engine::VerifyError::NotFound { .. }
            | verify_engine::VerifyError::Model(
                verify_engine::model::ModelError::ChallengeNotPending { .. }
                    | verify_engine::model::ModelError::ChallengeExpired { .. }
                    | verify_engine::model::ModelError::FactorTypeMismatch { .. }
            )
    )
}

/// Sends the notification of the `challenge.created` event `event` with the
/// attempts and backoff of `client`, and settles it (logs, counts, marks an
/// unregistered token). A challenge no longer pending, or a factor without a
/// deliverable token, is skipped.
///
/// # Errors
/// [`verify_engine::VerifyError`] from the store: the event stays in the outbox.
pub(crate) async fn notify_created<S: Store + 'static>(
    app: &AppState<S>,
    event: &Event,
    client: &WebhookClient,
) -> Result<(), verify_engine::VerifyError> {
    let (Some(identity), Some(challenge_sid)) = (&event.identity, event.challenge_sid) else {
        return Ok(());
    };
    let service = event.service_sid;
    let delivery = match app
        .engine
        .push_delivery(service, identity, challenge_sid)
        .await
    {
        Ok(Some(delivery)) => delivery,
        Ok(None) => {
            tracing::info!(%challenge_sid, "push notification skipped: the factor has no deliverable token");
            return Ok(());
        }
        Err(error) if is_gone(&error) => {
            tracing::info!(%challenge_sid, %error, "push notification skipped: the challenge is no longer pending");
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    let now = app.clock.now()?;
    let ttl = Duration::from_secs(delivery.expires_at.as_secs().saturating_sub(now.as_secs()));
    if ttl.is_zero() {
        app.push_metrics.count(delivery.platform, "skipped");
        tracing::info!(%challenge_sid, "push notification skipped: the challenge has expired");
        return Ok(());
    }
    let outgoing = match OutgoingNotification::build(
        NotificationSid::generate(&mut rand_core::OsRng),
        &delivery,
        ttl,
        now,
    ) {
        Ok(outgoing) => outgoing,
        Err(error) => {
            // The payload cannot be built: no attempt could ever succeed.
            app.push_metrics.count(delivery.platform, "failed");
            tracing::error!(%challenge_sid, %error, "push notification not built");
            return Ok(());
        }
    };
    let mut attempt = 1_u32;
    loop {
        let outcome = send_once(app, service, identity, &outgoing, attempt).await;
        let PushOutcome::Retry { after, .. } = outcome else {
            return Ok(());
        };
        let waited = client.backoff(attempt).map(|wait| {
            after
                .map_or(wait, |after| wait.max(after))
                .min(crate::delivery::MAX_BACKOFF)
        });
        let expired = |wait: Duration| {
            app.clock.now().map_or(true, |now| {
                now.as_secs().saturating_add(wait.as_secs()) >= delivery.expires_at.as_secs()
            })
        };
        match waited {
            Some(wait) if !expired(wait) => tokio::time::sleep(wait).await,
            _ => {
                app.push_metrics.count(outgoing.platform, "dropped");
                tracing::error!(
                    challenge_sid = %outgoing.challenge_sid,
                    notification_sid = %outgoing.sid,
                    platform = %outgoing.platform,
                    attempts = attempt,
                    "push notification dropped: the retries ran out or the challenge expires first"
                );
                return Ok(());
            }
        }
        attempt = attempt.saturating_add(1);
    }
}

/// One attempt to send `outgoing` through the state's sender, settled: logged
/// with the challenge sid, counted, and an unregistered token marked on the
/// factor of `identity` in `service`.
pub(crate) async fn send_once<S: Store + 'static>(
    app: &AppState<S>,
    service: ServiceSid,
    identity: &Identity,
    outgoing: &OutgoingNotification,
    attempt: u32,
) -> PushOutcome {
    let outcome = app.push.send(outgoing).await;
    app.push_metrics.record(outgoing.platform, &outcome);
    let challenge_sid = outgoing.challenge_sid;
    let notification_sid = outgoing.sid;
    let platform = outgoing.platform;
    match &outcome {
        PushOutcome::Delivered { id } => tracing::info!(
            %challenge_sid, %notification_sid, %platform, attempt,
            id = id.as_deref().unwrap_or_default(),
            "push notification delivered"
        ),
        PushOutcome::Unregistered { reason } => {
            tracing::warn!(
                %challenge_sid, %notification_sid, %platform, %reason,
                "push notification refused: the device token is no longer registered; \
                 nothing more is sent to it until the device updates its factor"
            );
            if let Err(error) = app
                .engine
                .invalidate_notification_token(
                    service,
                    identity,
                    outgoing.factor_sid,
                    &outgoing.device_token,
                )
                .await
            {
                tracing::error!(%challenge_sid, factor_sid = %outgoing.factor_sid, %error, "marking the token unregistered failed");
            }
        }
        PushOutcome::Retry { after, reason } => tracing::warn!(
            %challenge_sid, %notification_sid, %platform, attempt, %reason,
            retry_after_secs = after.map(|after| after.as_secs()),
            "push notification attempt failed; retrying"
        ),
        PushOutcome::Failed { status, reason } => tracing::error!(
            %challenge_sid, %notification_sid, %platform, status, %reason,
            "push notification refused"
        ),
        PushOutcome::NotSent { reason } => tracing::warn!(
            %challenge_sid, %notification_sid, %platform, %reason,
            "push notification not sent"
        ),
    }
    outcome
}

// ---- credentials ----------------------------------------------------------------

/// Why `--push-credentials` could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushConfigError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The credentials file is not the documented JSON.
    #[error("{path}: {detail}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (never secret material).
        detail: String,
    },
    /// A credential entry is invalid.
    #[error("credential {sid}: {detail}")]
    Credential {
        /// The entry's sid.
        sid: String,
        /// What is wrong (never secret material).
        detail: String,
    },
}

/// The `--push-credentials` file: `{"credentials": [ ... ]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    credentials: Vec<CredentialEntry>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum CredentialEntry {
    Apn {
        sid: String,
        topic: String,
        environment: Environment,
        #[serde(default)]
        certificate_file: Option<PathBuf>,
        #[serde(default)]
        private_key_file: Option<PathBuf>,
        #[serde(default)]
        token_key_file: Option<PathBuf>,
        #[serde(default)]
        key_id: Option<String>,
        #[serde(default)]
        team_id: Option<String>,
        #[serde(flatten)]
        endpoint: Endpoint,
    },
    Fcm {
        sid: String,
        service_account_file: PathBuf,
        #[serde(default)]
        token_url: Option<String>,
        #[serde(flatten)]
        endpoint: Endpoint,
    },
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Environment {
    Production,
    Sandbox,
}

/// Where a credential's push service is: overrides for tests and private relays.
#[derive(Deserialize, Default)]
struct Endpoint {
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    ca_file: Option<PathBuf>,
}

/// The longest credentials file read, in bytes.
pub const MAX_CREDENTIALS_FILE: u64 = 1024 * 1024;

/// Whether `sid` is a credential sid: `CR` and 32 hex digits.
fn is_credential_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("CR") && sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

fn read(path: &Path) -> Result<Vec<u8>, PushConfigError> {
    let error = |source| PushConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(error)?.len();
    if size > MAX_CREDENTIALS_FILE {
        return Err(PushConfigError::Format {
            path: path.to_owned(),
            detail: format!("larger than {MAX_CREDENTIALS_FILE} bytes"),
        });
    }
    std::fs::read(path).map_err(error)
}

/// The APNs and FCM senders of the credentials file, by credential sid.
pub struct PushSenders {
    apns: HashMap<String, ApnsSender>,
    fcm: HashMap<String, FcmSender>,
}

impl std::fmt::Debug for PushSenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (apns, fcm) = self.credential_sids();
        f.debug_struct("PushSenders")
            .field("apns", &apns)
            .field("fcm", &fcm)
            .finish()
    }
}

impl PushSenders {
    /// Loads the credentials file at `path` (docs/push.md): every file it names
    /// is read now (relative paths from the file's directory), every key parsed.
    ///
    /// # Errors
    /// [`PushConfigError`] naming the file or credential and what is wrong.
    pub fn from_file(path: &Path) -> Result<Self, PushConfigError> {
        let text = read(path)?;
        let file: CredentialsFile =
            serde_json::from_slice(&text).map_err(|error| PushConfigError::Format {
                path: path.to_owned(),
                detail: error.to_string(),
            })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        let mut senders = Self {
            apns: HashMap::new(),
            fcm: HashMap::new(),
        };
        for entry in file.credentials {
            senders.add(base, entry)?;
        }
        Ok(senders)
    }

    /// The credential sids loaded, APNs then FCM, each sorted.
    #[must_use]
    pub fn credential_sids(&self) -> (Vec<&str>, Vec<&str>) {
        let mut apns: Vec<&str> = self.apns.keys().map(String::as_str).collect();
        let mut fcm: Vec<&str> = self.fcm.keys().map(String::as_str).collect();
        apns.sort_unstable();
        fcm.sort_unstable();
        (apns, fcm)
    }

    fn add(&mut self, base: &Path, entry: CredentialEntry) -> Result<(), PushConfigError> {
        let (sid, endpoint) = match &entry {
            CredentialEntry::Apn { sid, endpoint, .. }
            | CredentialEntry::Fcm { sid, endpoint, .. } => (sid.clone(), endpoint),
        };
        let invalid = |detail: String| PushConfigError::Credential {
            sid: sid.clone(),
            detail,
        };
        if !is_credential_sid(&sid) {
            return Err(invalid(
                "the sid must be CR followed by 32 hex digits".into(),
            ));
        }
        if self.apns.contains_key(&sid) || self.fcm.contains_key(&sid) {
            return Err(invalid("listed twice".into()));
        }
        let mut options = SenderOptions::new();
        if let Some(url) = &endpoint.base_url {
            options = options.with_base_url(url.clone());
        }
        if let Some(ca) = &endpoint.ca_file {
            options = options.with_extra_root_certificates_pem(read(&base.join(ca))?);
        }
        match entry {
            CredentialEntry::Apn {
                topic,
                environment,
                certificate_file,
                private_key_file,
                token_key_file,
                key_id,
                team_id,
                ..
            } => {
                let auth = match (
                    certificate_file,
                    private_key_file,
                    token_key_file,
                    key_id,
                    team_id,
                ) {
                    (Some(certificate), Some(key), None, None, None) => ApnsAuth::Certificate {
                        certificate_pem: read(&base.join(certificate))?,
                        private_key_pem: read(&base.join(key))?,
                    },
                    (None, None, Some(key), Some(key_id), Some(team_id)) => ApnsAuth::Token {
                        key_p8_pem: read(&base.join(key))?,
                        key_id,
                        team_id,
                    },
                    _ => {
                        return Err(invalid(
                            "an apn credential has either certificate_file and \
                             private_key_file, or token_key_file, key_id and team_id"
                                .into(),
                        ));
                    }
                };
                let environment = match environment {
                    Environment::Production => ApnsEnvironment::Production,
                    Environment::Sandbox => ApnsEnvironment::Sandbox,
                };
                let sender =
                    ApnsSender::new(ApnsCredential::new(auth, topic, environment), &options)
                        .map_err(|error| invalid(error.to_string()))?;
                self.apns.insert(sid, sender);
            }
            CredentialEntry::Fcm {
                service_account_file,
                token_url,
                ..
            } => {
                if let Some(url) = token_url {
                    options = options.with_token_url(url);
                }
                let json = read(&base.join(service_account_file))?;
                let credential = FcmCredential::from_service_account_json(&json)
                    .map_err(|error| invalid(error.to_string()))?;
                let sender = FcmSender::new(credential, &options)
                    .map_err(|error| invalid(error.to_string()))?;
                self.fcm.insert(sid, sender);
            }
        }
        Ok(())
    }
}

impl NotificationSender for PushSenders {
    fn send<'a>(&'a self, notification: &'a OutgoingNotification) -> SendFuture<'a> {
        Box::pin(async move {
            let Some(sid) = notification.credential_sid.as_deref() else {
                return PushOutcome::NotSent {
                    reason: format!(
                        "the service names no {} credential (Push.{}CredentialSid)",
                        notification.platform,
                        if notification.platform == NotificationPlatform::Fcm {
                            "Fcm"
                        } else {
                            "Apn"
                        }
                    ),
                };
            };
            match notification.platform {
                NotificationPlatform::Apn => match self.apns.get(sid) {
                    Some(sender) => {
                        let request = ApnsNotification::new(&notification.payload)
                            .with_expiration(notification.apns_expiration);
                        sender
                            .send(&notification.device_token, &request)
                            .await
                            .into()
                    }
                    None => PushOutcome::NotSent {
                        reason: format!("no apn credential {sid} in --push-credentials"),
                    },
                },
                NotificationPlatform::Fcm => match self.fcm.get(sid) {
                    Some(sender) => sender.send(&notification.payload).await.into(),
                    None => PushOutcome::NotSent {
                        reason: format!("no fcm credential {sid} in --push-credentials"),
                    },
                },
                _ => PushOutcome::NotSent {
                    reason: "platform none has no push service".to_owned(),
                },
            }
        })
    }
}

// ---- counters -------------------------------------------------------------------

const OUTCOMES: [&str; 7] = [
    "delivered",
    "unregistered",
    "retried",
    "failed",
    "not_sent",
    "dropped",
    "skipped",
];
const PLATFORMS: [&str; 2] = ["apn", "fcm"];

/// Push outcomes counted by platform since the process started, served at
/// `GET /metrics` in the Prometheus text format as
/// `verify_push_notifications_total{platform,outcome}`.
///
/// Outcomes: `delivered`, `unregistered`, `retried` (an attempt answered 429 /
/// 5xx), `failed` (refused for good), `not_sent` (no credential), `dropped`
/// (the retries ran out, or the challenge expired while retrying), `skipped`
/// (the challenge was no longer pending, or the factor has no deliverable token;
/// counted under platform `apn` or `fcm` when known, else not at all).
#[derive(Debug, Default)]
pub struct PushMetrics {
    counts: [[AtomicU64; OUTCOMES.len()]; PLATFORMS.len()],
}

impl PushMetrics {
    fn counter(&self, platform: NotificationPlatform, outcome: &str) -> Option<&AtomicU64> {
        let row = match platform {
            NotificationPlatform::Apn => 0,
            NotificationPlatform::Fcm => 1,
            _ => return None,
        };
        let column = OUTCOMES.iter().position(|label| *label == outcome)?;
        self.counts.get(row)?.get(column)
    }

    /// Counts one `outcome` (one of the labels above) for `platform`.
    pub(crate) fn count(&self, platform: NotificationPlatform, outcome: &str) {
        if let Some(counter) = self.counter(platform, outcome) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count of `outcome` for `platform` (0 for an unknown label).
    #[must_use]
    pub fn get(&self, platform: NotificationPlatform, outcome: &str) -> u64 {
        self.counter(platform, outcome)
            .map_or(0, |counter| counter.load(Ordering::Relaxed))
    }

    /// The Prometheus text exposition of the counters.
    #[must_use]
    pub fn render(&self) -> String {
        let mut text = String::from(
            "# HELP verify_push_notifications_total Push notification outcomes by platform.\n\
             # TYPE verify_push_notifications_total counter\n",
        );
        for (platform, row) in PLATFORMS.iter().zip(&self.counts) {
            for (outcome, counter) in OUTCOMES.iter().zip(row) {
                let _ = writeln!(
                    text,
                    "verify_push_notifications_total{{platform=\"{platform}\",outcome=\"{outcome}\"}} {}",
                    counter.load(Ordering::Relaxed)
                );
            }
        }
        text
    }

    pub(crate) fn record(&self, platform: NotificationPlatform, outcome: &PushOutcome) {
        self.count(platform, outcome.label());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_sids_are_cr_and_32_hex() {
        assert!(is_credential_sid("CR0123456789abcdef0123456789ABCDEF"));
        assert!(!is_credential_sid("CR0123456789abcdef0123456789abcde"));
        assert!(!is_credential_sid("XX0123456789abcdef0123456789abcdef"));
        assert!(!is_credential_sid("CR0123456789abcdef0123456789abcdeg"));
    }

    #[test]
    fn counters_render_as_prometheus_text() {
        let metrics = PushMetrics::default();
        metrics.count(NotificationPlatform::Apn, "delivered");
        metrics.count(NotificationPlatform::Apn, "delivered");
        metrics.count(NotificationPlatform::Fcm, "unregistered");
        metrics.count(NotificationPlatform::None, "delivered");
        metrics.count(NotificationPlatform::Apn, "no such outcome");
        assert_eq!(metrics.get(NotificationPlatform::Apn, "delivered"), 2);
        assert_eq!(metrics.get(NotificationPlatform::Fcm, "unregistered"), 1);
        assert_eq!(metrics.get(NotificationPlatform::Fcm, "delivered"), 0);
        let text = metrics.render();
        assert!(text.contains(
            "verify_push_notifications_total{platform=\"apn\",outcome=\"delivered\"} 2\n"
        ));
        assert!(text.contains(
            "verify_push_notifications_total{platform=\"fcm\",outcome=\"unregistered\"} 1\n"
        ));
        assert_eq!(
            text.lines().filter(|line| !line.starts_with('#')).count(),
            OUTCOMES.len() * PLATFORMS.len()
        );
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn credentials_files_are_checked_on_load() {
        let dir = std::env::temp_dir().join(format!("verify-push-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            (r#"{"credentials": [], "extra": 1}"#, "unknown field"),
            (
                r#"{"credentials": [{"type": "gcm", "sid": "x"}]}"#,
                "unknown variant",
            ),
            (
                r#"{"credentials": [{"type": "apn", "sid": "CR1", "topic": "t", "environment": "sandbox", "token_key_file": "k.p8", "key_id": "K", "team_id": "T"}]}"#,
                "32 hex digits",
            ),
            (
                r#"{"credentials": [{"type": "apn", "sid": "CR0123456789abcdef0123456789abcdef", "topic": "t", "environment": "sandbox", "token_key_file": "k.p8"}]}"#,
                "either certificate_file",
            ),
            (
                r#"{"credentials": [{"type": "apn", "sid": "CR0123456789abcdef0123456789abcdef", "topic": "t", "environment": "staging", "token_key_file": "k.p8", "key_id": "K", "team_id": "T"}]}"#,
                "unknown variant",
            ),
            (
                r#"{"credentials": [{"type": "fcm", "sid": "CR0123456789abcdef0123456789abcdef", "service_account_file": "missing.json"}]}"#,
                "missing.json",
            ),
        ];
        for (text, expected) in cases {
            let path = write(&dir, "push.json", text);
            let error = PushSenders::from_file(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let path = write(&dir, "push.json", r#"{"credentials": []}"#);
        let senders = PushSenders::from_file(&path).unwrap();
        assert_eq!(senders.credential_sids(), (vec![], vec![]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
