//! Challenges: create (TOTP, push), fetch, list, answer with an `AuthPayload`, deny.

use serde_json::Value;
use verify_model::api::ChallengeJson;
use verify_model::factor::FactorKind;
use verify_model::list::ChallengeFilter;
use verify_model::{
    AnswerInput, Challenge, ChallengeKind, ChallengeOutcome, ChallengeSid, ChallengeState,
    ChallengeSubject, ChallengeTarget, Details, Factor, FactorSid, FactorType, Identity,
    ModelError, NewChallenge, NotificationPlatform, ServiceSid, StringMap, UnixTime,
};
use verify_push::{
    ChallengeNotification, ChallengeToSign, Decision, DeviceKey, PushError, verify_answer,
};
use verify_store::{ListQuery, Listing, Resource, Store};

use crate::devices::DeviceAuth;
use crate::engine::{Round, Verify, conflict, is_conflict};
use crate::error::VerifyError;
use crate::factors::{totp_config, totp_secret};

/// What the host's push sender needs for one challenge notification
/// ([`Verify::push_delivery`]).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushDelivery {
    /// The notification (payload builders for APNs and FCM).
    pub notification: ChallengeNotification,
    /// The challenge it announces.
    pub challenge_sid: ChallengeSid,
    /// The push factor (device) it goes to.
    pub factor_sid: FactorSid,
    /// The factor's `config.notification_platform` (`apn` or `fcm`).
    pub platform: NotificationPlatform,
    /// The device token (APNs) or registration token (FCM) to send to.
    pub device_token: String,
    /// The service's `push.apn_credential_sid` or `push.fcm_credential_sid` for
    /// this platform, if it names one.
    pub credential_sid: Option<String>,
    /// When the challenge expires: a notification arriving later is useless.
    pub expires_at: UnixTime,
}

impl std::fmt::Debug for PushDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The device token addresses one phone: kept out of logs.
        f.debug_struct("PushDelivery")
            .field("notification", &self.notification)
            .field("challenge_sid", &self.challenge_sid)
            .field("factor_sid", &self.factor_sid)
            .field("platform", &self.platform)
            .field("device_token", &"<redacted>")
            .field("credential_sid", &self.credential_sid)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A request to create a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NewChallengeRequest {
    /// `ExpirationDate` (default now + 5 min, at most now + 60 min).
    pub expiration_date: Option<UnixTime>,
    /// `Details` (required for push: the message shown to the user).
    pub details: Option<Details>,
    /// `HiddenDetails`.
    pub hidden_details: Option<StringMap>,
    /// `AuthPayload`: a TOTP code to check at creation (TOTP only).
    pub auth_payload: Option<String>,
}

impl NewChallengeRequest {
    /// A request with every optional field absent.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// With `Details`.
    #[must_use]
    pub fn with_details(mut self, details: Details) -> Self {
        self.details = Some(details);
        self
    }

    /// With `HiddenDetails`.
    #[must_use]
    pub fn with_hidden_details(mut self, hidden: StringMap) -> Self {
        self.hidden_details = Some(hidden);
        self
    }

    /// With an `ExpirationDate`.
    #[must_use]
    pub const fn with_expiration_date(mut self, date: UnixTime) -> Self {
        self.expiration_date = Some(date);
        self
    }

    /// With a TOTP code as `AuthPayload`.
    #[must_use]
    pub fn with_auth_payload(mut self, code: &str) -> Self {
        self.auth_payload = Some(code.to_owned());
        self
    }
}

/// A challenge after an operation that wrote it, and what happened.
///
/// A wrong TOTP code is an `Ok`: the attempt was recorded and the challenge stays
/// pending, which is a write the caller must see. So are a code already used
/// (`CodeAlreadyUsed`: a failed attempt too), the fifth failed attempt
/// (`AttemptsExhausted`: denied, the API answers 60308) and an answer after the
/// expiration date (`Expired`: recorded, the API answers 60323). The type is
/// `#[must_use]`, so `update_challenge(..).await?;` does not compile quietly.
///
/// To sign a user in, turn it into a `Result` with [`ChallengeUpdate::approved`]:
/// every refusal is then an [`Err(NotApproved)`](NotApproved), and `?` cannot
/// mistake one for a success.
///
/// ```
/// # fn sign_in(update: verify_engine::ChallengeUpdate) -> Result<(), Box<dyn std::error::Error>> {
/// use verify_engine::NotApproved;
/// match update.approved() {
///     Ok(challenge) => println!("signed in: {}", challenge.sid()),
///     Err(NotApproved::WrongCode { remaining }) => println!("wrong code, {remaining} tries left"),
///     Err(NotApproved::CodeAlreadyUsed { .. }) => println!("code already used: wait for the next one"),
///     Err(NotApproved::AttemptsExhausted) => println!("too many wrong codes: start again"),
///     Err(NotApproved::Expired) => println!("expired: start again"),
///     Err(other) => return Err(other.into()),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a wrong code is an Ok too: match on `outcome` (or call `is_approved`) before signing the user in"]
pub struct ChallengeUpdate {
    /// The challenge as written.
    pub challenge: Challenge,
    /// What the operation did.
    pub outcome: ChallengeOutcome,
    /// A passkey approval whose signature counter did not increase, accepted under
    /// the service's `warn` sign-count policy (the stored counter kept its higher
    /// value and the credential's regression count went up). Always `false`
    /// otherwise.
    pub sign_count_regressed: bool,
}

impl ChallengeUpdate {
    /// A written challenge and its outcome, with no sign-count warning.
    pub(crate) const fn written(challenge: Challenge, outcome: ChallengeOutcome) -> Self {
        Self {
            challenge,
            outcome,
            sign_count_regressed: false,
        }
    }

    /// Whether the challenge is now approved.
    #[must_use]
    pub const fn is_approved(&self) -> bool {
        matches!(self.outcome, ChallengeOutcome::Approved)
    }

    /// The passkey request options this challenge serves, for a challenge from
    /// [`Verify::create_passkey_challenge`]: their serde form is the
    /// `PublicKeyCredentialRequestOptionsJSON` the browser's
    /// `PublicKeyCredential.parseRequestOptionsFromJSON` takes (the API wraps it as
    /// `{"publicKey": ...}`). `None` for TOTP and push challenges.
    #[must_use]
    pub fn passkey_request_options(
        &self,
    ) -> Option<&verify_model::ceremony::PasskeyRequestOptions> {
        self.challenge.passkey().map(|ceremony| &ceremony.options)
    }

    /// The approved challenge, or why it is not approved.
    ///
    /// # Errors
    /// [`NotApproved`] for every outcome but `Approved`: a wrong or already used
    /// code, attempts exhausted, expired, denied, or a challenge that was only
    /// created (a push challenge waiting for its device, a TOTP challenge created
    /// without a code).
    pub fn approved(self) -> Result<Challenge, NotApproved> {
        match self.outcome {
            ChallengeOutcome::Approved => Ok(self.challenge),
            ChallengeOutcome::Rejected { remaining, .. } => {
                Err(NotApproved::WrongCode { remaining })
            }
            ChallengeOutcome::CodeAlreadyUsed { remaining, .. } => {
                Err(NotApproved::CodeAlreadyUsed { remaining })
            }
            ChallengeOutcome::AttemptsExhausted => Err(NotApproved::AttemptsExhausted),
            ChallengeOutcome::Expired => Err(NotApproved::Expired),
            ChallengeOutcome::Denied => Err(NotApproved::Denied),
            _ => Err(NotApproved::Pending),
        }
    }

    /// The error code for an outcome the API reports as an error: 60323 for
    /// `Expired`, 60308 for `AttemptsExhausted`,
    /// [`CODE_TOTP_CODE_ALREADY_USED`](crate::error::CODE_TOTP_CODE_ALREADY_USED)
    /// for `CodeAlreadyUsed`; `None` otherwise (a wrong code is answered with the
    /// pending challenge, as the service does).
    #[must_use]
    pub const fn code(&self) -> Option<u32> {
        match self.outcome {
            ChallengeOutcome::Expired => Some(60323),
            ChallengeOutcome::AttemptsExhausted => Some(60308),
            ChallengeOutcome::CodeAlreadyUsed { .. } => {
                Some(crate::error::CODE_TOTP_CODE_ALREADY_USED)
            }
            _ => None,
        }
    }
}

/// Why a [`ChallengeUpdate`] is not an approval ([`ChallengeUpdate::approved`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotApproved {
    /// The code did not match; the challenge stays pending.
    #[error("the code did not match ({remaining} attempts left)")]
    WrongCode {
        /// Attempts left before the challenge is denied.
        remaining: u32,
    },
    /// The code was right for a time step already used (codes are single-use);
    /// a failed attempt, and the challenge stays pending.
    #[error("the code was already used: wait for the next one ({remaining} attempts left)")]
    CodeAlreadyUsed {
        /// Attempts left before the challenge is denied.
        remaining: u32,
    },
    /// The last allowed failed attempt: the challenge is denied (60308).
    #[error("too many failed attempts: the challenge is denied")]
    AttemptsExhausted,
    /// The challenge expired before it was answered (60323).
    #[error("the challenge expired")]
    Expired,
    /// The answer denied the challenge (a push answer of `denied`).
    #[error("the challenge was denied")]
    Denied,
    /// Nothing was answered yet: the challenge was created and waits for its answer.
    #[error("the challenge waits for its answer")]
    Pending,
}

/// A push challenge as served to the device: the resource JSON and the value of
/// the `Twilio-Verify-Signature-Fields` response header.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServedChallenge {
    /// The challenge resource JSON.
    pub json: Value,
    /// The `Twilio-Verify-Signature-Fields` header value.
    pub signature_fields: String,
}

/// The model's error for acting on a challenge that is no longer pending, if it
/// is not (`None` for a pending one, even if due: expiry is a transition).
fn terminal_error(challenge: &Challenge, now: UnixTime) -> Option<ModelError> {
    if challenge.state() == ChallengeState::Pending {
        return None;
    }
    challenge.record_failed_attempt(now).err()
}

impl<S: Store> Verify<S> {
    /// Creates a challenge for the verified factor `factor_sid` of `identity`. With
    /// a TOTP code as `auth_payload`, the code is checked at once (see
    /// [`Verify::update_challenge`] for what a wrong code does).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`]: `FactorNotVerified`
    /// (60318), `FactorLocked` (60202) / `CodeChecksThrottled` (20429) for a TOTP
    /// factor whose guessing budget makes checks wait, `ExpirationOutOfRange`,
    /// `MissingField` (push without details),
    /// `UnexpectedField` (an `auth_payload` for push or passkeys); for passkeys the
    /// errors of [`Verify::create_passkey_challenge`].
    pub async fn create_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        factor_sid: FactorSid,
        request: NewChallengeRequest,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let now = self.now()?;
        let factor = self.load_factor(service, identity, factor_sid).await?;
        match factor.factor_type() {
            FactorType::Passkeys => {
                // A passkey challenge carries its WebAuthn options, nothing else of
                // the request: refuse what would otherwise be dropped.
                let unexpected = if request.auth_payload.is_some() {
                    Some(verify_model::Field::AuthPayload)
                } else if request.details.is_some() {
                    Some(verify_model::Field::DetailsMessage)
                } else if request.hidden_details.is_some() {
                    Some(verify_model::Field::HiddenDetails)
                } else {
                    None
                };
                if let Some(field) = unexpected {
                    return Err(ModelError::UnexpectedField { field }.into());
                }
                return self
                    .create_passkey_challenge(
                        service,
                        Some(identity),
                        Some(factor_sid),
                        request.expiration_date,
                    )
                    .await;
            }
            FactorType::Push if request.auth_payload.is_some() => {
                return Err(ModelError::UnexpectedField {
                    field: verify_model::Field::AuthPayload,
                }
                .into());
            }
            _ => {}
        }
        // No TOTP challenge is created while the factor's guessing budget makes code
        // checks wait: creating challenges is the way around a per-challenge limit.
        factor.check_code_checks_allowed(now)?;
        if factor.factor_type() == FactorType::Push {
            self.check_pending_push_challenges(&factor, now).await?;
        }
        let mut input = NewChallenge::new();
        if let Some(date) = request.expiration_date {
            input = input.with_expiration_date(date);
        }
        if let Some(details) = request.details {
            input = input.with_details(details);
        }
        if let Some(hidden) = request.hidden_details {
            input = input.with_hidden_details(hidden);
        }
        if let Some(code) = &request.auth_payload {
            // Refuse a payload of the wrong length before anything is written.
            check_totp_payload_len(code)?;
        }
        let created = self.with_rng(|rng| {
            Challenge::create(ChallengeTarget::Factor(&factor), input, now, rng)
        })??;
        self.store
            .insert_challenge(&created.challenge, &created.events)
            .await?;
        match request.auth_payload {
            Some(code) => {
                self.answer_totp(created.challenge, factor, &code, now)
                    .await
            }
            None => Ok(ChallengeUpdate::written(created.challenge, created.outcome)),
        }
    }

    /// The challenge `sid` of `identity`. A pending challenge found past its
    /// expiration date is recorded as expired first (writing `challenge.expired`).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (60391); [`VerifyError::Store`].
    pub async fn fetch_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
    ) -> Result<Challenge, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Challenge, move || async move {
            let challenge = self.load_challenge(service, identity, sid).await?;
            let Some(expired) = challenge.poll_expiry(now)? else {
                return Ok(Round::Done(challenge));
            };
            let written = self
                .store
                .update_challenge(&expired.challenge, &expired.events)
                .await;
            Round::written(written, expired.challenge)
        })
        .await
    }

    /// A page of the challenges of `identity` matching `filter` (status read at
    /// now: a pending challenge past its expiration date lists as expired).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (entity); [`VerifyError::Store`].
    pub async fn list_challenges(
        &self,
        service: ServiceSid,
        identity: &Identity,
        filter: &ChallengeFilter,
        query: &ListQuery,
    ) -> Result<Listing<Challenge>, VerifyError> {
        let now = self.now()?;
        let entity = self.load_entity(service, identity).await?;
        Ok(self
            .store
            .list_challenges(service, entity.sid(), filter, query, now)
            .await?)
    }

    /// The push challenge `sid` as the device fetches it to sign: the resource JSON
    /// and the signature-fields header.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] `FactorTypeMismatch` for a
    /// challenge that is not a push challenge.
    pub async fn serve_push_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
    ) -> Result<ServedChallenge, VerifyError> {
        let now = self.now()?;
        let challenge = self.load_challenge(service, identity, sid).await?;
        if challenge.factor_type() != FactorType::Push {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Push,
                got: challenge.factor_type(),
            }
            .into());
        }
        let json = serde_json::to_value(ChallengeJson::new(&challenge, &self.api_context(), now))
            .map_err(|_| VerifyError::Inconsistent {
            resource: Resource::Challenge,
            rule: "a challenge serializes to JSON",
        })?;
        Ok(ServedChallenge {
            json,
            signature_fields: self.config.push_signature_fields.header_value(),
        })
    }

    /// The push notification for the pending push challenge `sid` (the host sends
    /// it through APNs or FCM with [`ChallengeNotification::apns_payload`] /
    /// [`ChallengeNotification::fcm_message`], to the factor's
    /// `notification_token`). Devices that miss it still find the challenge by
    /// polling pending challenges.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`]: `FactorTypeMismatch` for
    /// a challenge that is not push, `ChallengeNotPending` / `ChallengeExpired` for
    /// one that can no longer be answered.
    pub async fn push_notification(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
    ) -> Result<ChallengeNotification, VerifyError> {
        let now = self.now()?;
        let challenge = self.load_challenge(service, identity, sid).await?;
        notification_of(&challenge, now)
    }

    /// Everything a push sender needs to notify the device of the pending push
    /// challenge `sid`: the notification, the factor's platform and deliverable
    /// token, the service's credential reference for that platform, and the
    /// challenge's expiry. `Ok(None)` when there is nothing to send: platform
    /// `none`, or a token the push service reported unregistered.
    ///
    /// # Errors
    /// The errors of [`Verify::push_notification`] (a challenge no longer pending
    /// is `ChallengeNotPending` / `ChallengeExpired`: do not send).
    pub async fn push_delivery(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
    ) -> Result<Option<PushDelivery>, VerifyError> {
        let now = self.now()?;
        let challenge = self.load_challenge(service, identity, sid).await?;
        let notification = notification_of(&challenge, now)?;
        let Some(factor_sid) = challenge.factor_sid() else {
            return Ok(None);
        };
        let factor = self.load_factor(service, identity, factor_sid).await?;
        let FactorKind::Push(push) = factor.kind() else {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Push,
                got: factor.factor_type(),
            }
            .into());
        };
        let Some(device_token) = push.deliverable_token() else {
            return Ok(None);
        };
        let platform = push.config().notification_platform();
        let settings = self.load_service(service).await?;
        let credential_sid = match platform {
            NotificationPlatform::Apn => settings.push().apn_credential_sid.clone(),
            NotificationPlatform::Fcm => settings.push().fcm_credential_sid.clone(),
            _ => return Ok(None),
        };
        Ok(Some(PushDelivery {
            notification,
            challenge_sid: sid,
            factor_sid,
            platform,
            device_token: device_token.to_owned(),
            credential_sid,
            expires_at: challenge.expiration_date(),
        }))
    }

    /// Answers the challenge `sid` with an `AuthPayload`: a TOTP code, or the push
    /// device's signed approve/deny (compact JWS over the served signature fields
    /// and `status`). `metadata` is the device's (push only).
    ///
    /// - TOTP: a correct, unused code approves and uses up its time step (one atomic
    ///   write of challenge and factor). A wrong, malformed or reused code is a
    ///   failed attempt (`Ok`, outcome `Rejected`, still pending); the fifth denies
    ///   the challenge (`AttemptsExhausted`). Losing the approval write to a
    ///   concurrent request is [`VerifyError::Conflict`] and is never retried: the
    ///   code's step was used by the other request.
    /// - Push: a bad signature or payload changes nothing (60324); a good one moves
    ///   the challenge to the signed status.
    /// - Past the expiration date the challenge is recorded as expired (`Ok`,
    ///   outcome `Expired`) and the payload is not looked at.
    ///
    /// # Errors
    /// [`VerifyError::AuthPayloadInvalid`] (60324); [`VerifyError::Model`] for a
    /// terminal challenge (`ChallengeNotPending`, `ChallengeExpired` 60323,
    /// `ChallengeAttemptsExhausted` 60308) or a payload out of its length;
    /// for a TOTP challenge `FactorLocked` (60202) or `CodeChecksThrottled` (20429)
    /// while the factor's guessing budget makes checks wait (the code was not
    /// compared; [`VerifyError::retry_after_secs`] says for how long);
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`].
    pub async fn update_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
        auth_payload: &str,
        metadata: Option<StringMap>,
    ) -> Result<ChallengeUpdate, VerifyError> {
        self.answer_challenge(service, identity, sid, auth_payload, metadata, None)
            .await
    }

    /// [`Verify::update_challenge`] by an authenticated device (the push SDK's
    /// answer, its request JWT checked by [`Verify::authenticate_device`]): the
    /// challenge must belong to the device's identity, and when it is the device's
    /// own factor's challenge, the factor and key loaded to authenticate the request
    /// are the ones the signature is checked with (not loaded and parsed again).
    ///
    /// # Errors
    /// As [`Verify::update_challenge`].
    pub async fn update_challenge_as_device(
        &self,
        device: &DeviceAuth,
        sid: ChallengeSid,
        auth_payload: &str,
        metadata: Option<StringMap>,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let factor = &device.factor;
        self.answer_challenge(
            factor.service_sid(),
            factor.identity(),
            sid,
            auth_payload,
            metadata,
            Some(device),
        )
        .await
    }

    async fn answer_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
        auth_payload: &str,
        metadata: Option<StringMap>,
        device: Option<&DeviceAuth>,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let now = self.now()?;
        let challenge = self.load_challenge(service, identity, sid).await?;
        // The kind decides first: a passkey challenge is answered by a WebAuthn
        // assertion, through its own operation, whatever its subject.
        if let ChallengeKind::Passkeys(_) = challenge.kind() {
            return Err(VerifyError::WrongOperationForKind {
                kind: FactorType::Passkeys,
                operation: "the challenge update (AuthPayload)",
                use_instead: "Passkeys/ApproveChallenge",
            });
        }
        // A finished or due challenge answers so whatever the payload (its length
        // included): the payload is not looked at.
        if let Some(error) = terminal_error(&challenge, now) {
            return Err(error.into());
        }
        if let Some(expired) = self.expire_if_due(&challenge, now).await? {
            return Ok(expired);
        }
        challenge.check_auth_payload(auth_payload)?;
        let ChallengeSubject::Factor { factor_sid, .. } = challenge.subject() else {
            return Err(VerifyError::Inconsistent {
                resource: Resource::Challenge,
                rule: "a TOTP or push challenge names its factor",
            });
        };
        let factor_sid = *factor_sid;
        match challenge.kind() {
            ChallengeKind::Push { .. } => {
                if let Some(device) = device.filter(|d| d.factor_sid() == factor_sid) {
                    return self
                        .answer_push(
                            challenge,
                            &device.factor,
                            &device.key,
                            auth_payload,
                            metadata,
                            now,
                        )
                        .await;
                }
                let factor = self.load_factor(service, identity, factor_sid).await?;
                let key = push_key(&factor)?;
                self.answer_push(challenge, &factor, &key, auth_payload, metadata, now)
                    .await
            }
            ChallengeKind::Totp => {
                let factor = self.load_factor(service, identity, factor_sid).await?;
                self.answer_totp(challenge, factor, auth_payload, now).await
            }
            // Passkey challenges were sent to their own operation above.
            _ => Err(VerifyError::WrongOperationForKind {
                kind: challenge.factor_type(),
                operation: "the challenge update (AuthPayload)",
                use_instead: "Passkeys/ApproveChallenge",
            }),
        }
    }

    /// Denies the pending challenge `sid` on the host's behalf (the user said "not
    /// me" in the host's own UI). Retried on a concurrent update.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] for a terminal challenge;
    /// [`VerifyError::Conflict`] when the retries run out.
    pub async fn deny_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Challenge, move || async move {
            let challenge = self.load_challenge(service, identity, sid).await?;
            let denied = challenge.deny(&AnswerInput::new(now))?;
            let written = self
                .store
                .update_challenge(&denied.challenge, &denied.events)
                .await;
            Round::written(
                written,
                ChallengeUpdate::written(denied.challenge, denied.outcome),
            )
        })
        .await
    }

    /// Records expiry if due; `Some(update)` when it was.
    pub(crate) async fn expire_if_due(
        &self,
        challenge: &Challenge,
        now: UnixTime,
    ) -> Result<Option<ChallengeUpdate>, VerifyError> {
        let Some(expired) = challenge.poll_expiry(now)? else {
            return Ok(None);
        };
        let written = self
            .store
            .update_challenge(&expired.challenge, &expired.events)
            .await;
        if is_conflict(&written) {
            return Err(conflict(Resource::Challenge));
        }
        written?;
        Ok(Some(ChallengeUpdate::written(
            expired.challenge,
            expired.outcome,
        )))
    }

    /// Refuses a new push challenge while the factor has
    /// [`MAX_PENDING_PUSH_CHALLENGES`](verify_model::limits::MAX_PENDING_PUSH_CHALLENGES)
    /// pending ones (one indexed page of the factor's pending challenges).
    async fn check_pending_push_challenges(
        &self,
        factor: &Factor,
        now: UnixTime,
    ) -> Result<(), VerifyError> {
        use verify_model::limits::MAX_PENDING_PUSH_CHALLENGES;
        let page = verify_model::list::PageSize::new(
            u64::try_from(MAX_PENDING_PUSH_CHALLENGES).unwrap_or(u64::MAX),
        )?;
        let pending = self
            .store
            .list_challenges(
                factor.service_sid(),
                factor.entity_sid(),
                &ChallengeFilter::new(
                    Some(factor.sid()),
                    Some(verify_model::ChallengeStatus::Pending),
                ),
                &ListQuery::new(verify_model::list::ListOrder::Asc, page),
                now,
            )
            .await?;
        if pending.items.len() < MAX_PENDING_PUSH_CHALLENGES {
            return Ok(());
        }
        let soonest = pending
            .items
            .iter()
            .map(Challenge::expiration_date)
            .min()
            .unwrap_or(now);
        Err(ModelError::TooManyPendingChallenges {
            limit: MAX_PENDING_PUSH_CHALLENGES,
            retry_after_secs: soonest.saturating_duration_since(now).as_secs().max(1),
        }
        .into())
    }

    /// Checks a TOTP code for `challenge` under the factor's guessing budget: the
    /// check is counted on the factor first (a compare-and-set write, so
    /// concurrent guesses are serialized there and each sees the others'
    /// failures), then the code is compared; a correct code clears the count in
    /// the approval's paired write, a wrong one is the challenge's failed attempt
    /// (with `factor.locked` when it starts a lock).
    async fn answer_totp(
        &self,
        challenge: Challenge,
        factor: Factor,
        code: &str,
        now: UnixTime,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let (factor, lock_event) = self.reserve_code_check(factor, now).await?;
        let FactorKind::Totp(totp) = factor.kind() else {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Totp,
                got: factor.factor_type(),
            }
            .into());
        };
        let config = totp_config(totp.alg(), totp.params())?;
        let checked = verify_totp::check(
            &totp_secret(totp)?,
            &config,
            code,
            now,
            totp.last_used_step(),
        );
        match checked {
            Ok(found) => {
                self.approve_totp_step(challenge, factor, found.step(), lock_event, now)
                    .await
            }
            Err(error) if error.counts_as_attempt() => {
                let reused = matches!(error, verify_totp::TotpError::StepAlreadyUsed { .. });
                self.record_challenge_failure(challenge, reused, lock_event, now)
                    .await
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Counts one code check on `factor` before the code is compared, reloading
    /// and re-deciding on a conflict (every round re-reads the budget, so a lock
    /// another request started is seen). Returns the stored factor and the
    /// `factor.locked` event to write if the code turns out wrong.
    async fn reserve_code_check(
        &self,
        factor: Factor,
        now: UnixTime,
    ) -> Result<(Factor, Option<verify_model::Event>), VerifyError> {
        let (service, sid) = (factor.service_sid(), factor.sid());
        let policy = self.config.code_guess_policy;
        self.cas_retry_from(Resource::Factor, factor, move |loaded| async move {
            let factor = match loaded {
                Some(factor) => factor,
                None => self.reload_factor(service, sid).await?,
            };
            let check = factor.reserve_code_check(&policy, now)?;
            let written = self
                .store
                .update_factor(&check.transition.factor, &check.transition.events)
                .await;
            Round::written(written, (check.transition.factor, check.lock_event))
        })
        .await
    }

    /// Approves `challenge` with the accepted TOTP `step` and clears the factor's
    /// run of wrong codes, in one paired write. On a conflict (a concurrent check
    /// counted on the factor, or the challenge changed) both are reloaded and the
    /// decision is taken again on them: the code is not compared again, but the
    /// step must still be unused and the challenge still pending. A step found used
    /// by then is the challenge's failed attempt, written with `lock_event` (the
    /// check stays counted as a failure).
    async fn approve_totp_step(
        &self,
        challenge: Challenge,
        factor: Factor,
        step: u64,
        lock_event: Option<verify_model::Event>,
        now: UnixTime,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let lock_event = &lock_event;
        let (service, challenge_sid, factor_sid) =
            (challenge.service_sid(), challenge.sid(), factor.sid());
        self.cas_retry_from(
            Resource::Challenge,
            (challenge, factor),
            move |loaded| async move {
                let (challenge, factor) = match loaded {
                    Some(both) => both,
                    None => (
                        self.reload_challenge(service, challenge_sid).await?,
                        self.reload_factor(service, factor_sid).await?,
                    ),
                };
                if let Some(error) = terminal_error(&challenge, now) {
                    return Err(error.into());
                }
                let mut paired = challenge.approve_totp(&factor, step, now)?;
                if paired.factor.is_none()
                    && matches!(
                        paired.challenge.outcome,
                        ChallengeOutcome::Rejected { .. }
                            | ChallengeOutcome::CodeAlreadyUsed { .. }
                            | ChallengeOutcome::AttemptsExhausted
                    )
                {
                    paired.challenge.events.extend(lock_event.iter().cloned());
                }
                let written = self.write_paired(&paired).await;
                Round::written(
                    written,
                    ChallengeUpdate::written(paired.challenge.challenge, paired.challenge.outcome),
                )
            },
        )
        .await
    }

    /// Writes a failed attempt (with `extra_event`, the `factor.locked` of the
    /// check that failed, if any), reloading and re-recording on a conflict
    /// (recording a failure is safe to re-run). `reused`: the code was right for a
    /// step the factor already used, reported as
    /// [`ChallengeOutcome::CodeAlreadyUsed`].
    async fn record_challenge_failure(
        &self,
        challenge: Challenge,
        reused: bool,
        extra_event: Option<verify_model::Event>,
        now: UnixTime,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let (service, sid) = (challenge.service_sid(), challenge.sid());
        let extra_event = &extra_event;
        self.cas_retry_from(Resource::Challenge, challenge, move |loaded| async move {
            let challenge = match loaded {
                Some(challenge) => challenge,
                None => self.reload_challenge(service, sid).await?,
            };
            let mut failed = if reused {
                challenge.record_reused_code(now)?
            } else {
                challenge.record_failed_attempt(now)?
            };
            failed.events.extend(extra_event.iter().cloned());
            let written = self
                .store
                .update_challenge(&failed.challenge, &failed.events)
                .await;
            Round::written(
                written,
                ChallengeUpdate::written(failed.challenge, failed.outcome),
            )
        })
        .await
    }

    async fn answer_push(
        &self,
        challenge: Challenge,
        factor: &Factor,
        key: &DeviceKey,
        auth_payload: &str,
        metadata: Option<StringMap>,
        now: UnixTime,
    ) -> Result<ChallengeUpdate, VerifyError> {
        // The signed fields are fixed for the challenge's lifetime, so the view
        // rebuilt now equals the one the device was served; only those fields are
        // serialized.
        let served = ChallengeJson::new(&challenge, &self.api_context(), now);
        let fields = &self.config.push_signature_fields;
        let Ok(signed) = crate::signed_view::signed_fields(&served, fields) else {
            return Err(VerifyError::Inconsistent {
                resource: Resource::Challenge,
                rule: "a challenge view serializes as a struct",
            });
        };
        let view = ChallengeToSign::from_served(&signed, fields.clone())?;
        let answer =
            verify_answer(key, &view, auth_payload).map_err(VerifyError::AuthPayloadInvalid)?;
        let (service, sid) = (challenge.service_sid(), challenge.sid());
        let (answer, metadata) = (&answer, &metadata);
        self.cas_retry_from(Resource::Challenge, challenge, move |loaded| async move {
            // The signed answer stays valid for this challenge; re-deciding on the
            // reloaded state refuses it if another answer got there first.
            let current = match loaded {
                Some(challenge) => challenge,
                None => self.reload_challenge(service, sid).await?,
            };
            let mut input = AnswerInput::new(now).with_factor(factor);
            if let Some(metadata) = &metadata {
                input = input.with_metadata(metadata.clone());
            }
            let transition = match answer.decision() {
                Decision::Approved => current.approve(&input)?,
                _ => current.deny(&input)?,
            };
            let written = self
                .store
                .update_challenge(&transition.challenge, &transition.events)
                .await;
            Round::written(
                written,
                ChallengeUpdate::written(transition.challenge, transition.outcome),
            )
        })
        .await
    }
}

/// The device key of a push factor, parsed from its stored binding.
fn push_key(factor: &Factor) -> Result<DeviceKey, VerifyError> {
    let FactorKind::Push(push) = factor.kind() else {
        return Err(ModelError::FactorTypeMismatch {
            expected: FactorType::Push,
            got: factor.factor_type(),
        }
        .into());
    };
    Ok(DeviceKey::from_spki_der(push.binding().spki_der()).map_err(PushError::from)?)
}

/// A TOTP `AuthPayload` at creation: 3..=8 characters.
fn check_totp_payload_len(code: &str) -> Result<(), ModelError> {
    use verify_model::limits::{MAX_TOTP_AUTH_PAYLOAD_LEN, MIN_TOTP_AUTH_PAYLOAD_LEN};
    let length = code.chars().count();
    if (MIN_TOTP_AUTH_PAYLOAD_LEN..=MAX_TOTP_AUTH_PAYLOAD_LEN).contains(&length) {
        Ok(())
    } else {
        Err(ModelError::LengthOutOfRange {
            field: verify_model::Field::AuthPayload,
            min: MIN_TOTP_AUTH_PAYLOAD_LEN,
            max: MAX_TOTP_AUTH_PAYLOAD_LEN,
            length,
        })
    }
}

/// The notification of the pending push challenge `challenge` at `now`.
fn notification_of(
    challenge: &Challenge,
    now: UnixTime,
) -> Result<ChallengeNotification, VerifyError> {
    if let Some(error) = terminal_error(challenge, now) {
        return Err(error.into());
    }
    if challenge.status_at(now) != verify_model::ChallengeStatus::Pending {
        return Err(ModelError::ChallengeExpired {
            expired_at: challenge.expiration_date(),
            now,
        }
        .into());
    }
    let (FactorType::Push, Some(factor_sid), Some(details)) = (
        challenge.factor_type(),
        challenge.factor_sid(),
        challenge.details(),
    ) else {
        return Err(ModelError::FactorTypeMismatch {
            expected: FactorType::Push,
            got: challenge.factor_type(),
        }
        .into());
    };
    ChallengeNotification::new(challenge.sid(), factor_sid, details.message())
        .map_err(|error| VerifyError::Push(error.into()))
}
