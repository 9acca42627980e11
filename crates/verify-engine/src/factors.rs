//! Factors (TOTP, push) and push enrollment access tokens.

use std::time::Duration;

use verify_model::config::{NotificationPlatform, TotpAlgorithm, TotpParams};
use verify_model::factor::{
    FactorKind, PushBinding, PushConfig, TotpFactor, check_daily_creations, check_factor_quota,
};
use verify_model::limits::MAX_FACTOR_CREATIONS_PER_DAY;
use verify_model::{
    AccessToken, AccessTokenSid, CredentialSid, Factor, FactorSid, FactorType, Identity,
    ModelError, NewAccessToken, NewFactor, Service, ServiceSid, StringMap, TotpSecret, UnixTime,
    VerificationProof,
};
use verify_push::{DeviceKey, FactorError, PushError};
use verify_store::{FactorInsert, FactorQuota, ListQuery, Listing, Resource, Store, StoreError};
use zeroize::Zeroizing;

use crate::engine::{Round, Verify, conflict, is_conflict};
use crate::error::VerifyError;

/// The window of the daily factor-creation limit (60326).
const CREATION_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A request to create a TOTP factor (`Binding.Secret`, `Config.*`): every `None`
/// takes the service's default (else sha1 / 6 digits / 30 s / skew 1), and the
/// secret is generated when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewTotpFactor {
    /// `FriendlyName`: the otpauth account name (1..=64).
    pub friendly_name: String,
    /// `Binding.Secret`, when the host brings one.
    pub secret: Option<TotpSecret>,
    /// `Config.Alg`.
    pub alg: Option<TotpAlgorithm>,
    /// `Config.CodeLength` (3..=8).
    pub code_length: Option<u8>,
    /// `Config.TimeStep` (20..=60).
    pub time_step: Option<u8>,
    /// `Config.Skew` (0..=2).
    pub skew: Option<u8>,
    /// `Metadata`.
    pub metadata: Option<StringMap>,
}

impl NewTotpFactor {
    /// A factor named `friendly_name` with every default.
    #[must_use]
    pub fn new(friendly_name: &str) -> Self {
        Self {
            friendly_name: friendly_name.to_owned(),
            secret: None,
            alg: None,
            code_length: None,
            time_step: None,
            skew: None,
            metadata: None,
        }
    }

    /// With the host's secret.
    #[must_use]
    pub fn with_secret(mut self, secret: TotpSecret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// With an algorithm.
    #[must_use]
    pub const fn with_alg(mut self, alg: TotpAlgorithm) -> Self {
        self.alg = Some(alg);
        self
    }

    /// With parameters (each `Some` overrides the service's default).
    #[must_use]
    pub const fn with_params(
        mut self,
        code_length: Option<u8>,
        time_step: Option<u8>,
        skew: Option<u8>,
    ) -> Self {
        self.code_length = code_length;
        self.time_step = time_step;
        self.skew = skew;
        self
    }
}

/// A created TOTP factor and its otpauth URI (the QR code's content). The URI holds
/// the secret: show it once; it is zeroized on drop. Later reads never return it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedTotpFactor {
    /// The unverified factor.
    pub factor: Factor,
    /// `otpauth://totp/{issuer}:{account}?secret=...`.
    pub uri: Zeroizing<String>,
    /// The secret as unpadded base32.
    secret_base32: Zeroizing<String>,
}

impl CreatedTotpFactor {
    /// The secret as unpadded base32, for users who type it into their app instead
    /// of scanning [`CreatedTotpFactor::uri`]. Zeroized on drop; show it once.
    #[must_use]
    pub fn secret_base32(&self) -> &str {
        &self.secret_base32
    }
}

/// A request to create a push factor, as the device sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewPushFactor {
    /// `FriendlyName` (ignored when the access token fixes one).
    pub friendly_name: String,
    /// `Binding.PublicKey`: standard base64 of the P-256 SPKI DER.
    pub public_key: String,
    /// `Binding.Alg`: `ES256`.
    pub alg: String,
    /// `Config.AppId`.
    pub app_id: String,
    /// `Config.NotificationPlatform`.
    pub notification_platform: NotificationPlatform,
    /// `Config.NotificationToken` (omitted for `none`).
    pub notification_token: Option<String>,
    /// `Config.SdkVersion`.
    pub sdk_version: Option<String>,
    /// `Metadata`.
    pub metadata: Option<StringMap>,
}

impl NewPushFactor {
    /// A request with the device's binding and app id, platform `none`.
    #[must_use]
    pub fn new(friendly_name: &str, public_key: &str, app_id: &str) -> Self {
        Self {
            friendly_name: friendly_name.to_owned(),
            public_key: public_key.to_owned(),
            alg: verify_push::BINDING_ALG.to_owned(),
            app_id: app_id.to_owned(),
            notification_platform: NotificationPlatform::None,
            notification_token: None,
            sdk_version: None,
            metadata: None,
        }
    }

    /// With a notification platform and token.
    #[must_use]
    pub fn with_notifications(mut self, platform: NotificationPlatform, token: &str) -> Self {
        self.notification_platform = platform;
        self.notification_token = Some(token.to_owned());
        self
    }

    /// With the SDK version.
    #[must_use]
    pub fn with_sdk_version(mut self, version: &str) -> Self {
        self.sdk_version = Some(version.to_owned());
        self
    }
}

/// A minted enrollment access token and the credential to hand to the app.
#[non_exhaustive]
pub struct IssuedAccessToken {
    /// The stored token (its value is secret: see [`AccessToken::token`]).
    pub token: AccessToken,
    credential: Zeroizing<String>,
}

impl IssuedAccessToken {
    /// What the device presents when it creates its factor: `{sid}.{token}` (the
    /// sid lets the engine find the stored token; the token is checked in constant
    /// time). Secret: send it to the app once.
    #[must_use]
    pub fn credential(&self) -> &str {
        &self.credential
    }
}

impl std::fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("sid", &self.token.sid())
            .field("credential", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The verify-totp configuration of a stored TOTP factor.
pub(crate) fn totp_config(
    alg: TotpAlgorithm,
    params: TotpParams,
) -> Result<verify_totp::TotpConfig, verify_totp::TotpError> {
    Ok(verify_totp::TotpConfig::new(
        alg.into(),
        verify_totp::Digits::new(params.code_length())?,
        verify_totp::Period::new(u32::from(params.time_step()))?,
        verify_totp::Skew::new(params.skew())?,
    ))
}

/// The verify-totp secret of a stored TOTP factor.
pub(crate) fn totp_secret(
    totp: &TotpFactor,
) -> Result<verify_totp::Secret, verify_totp::TotpError> {
    verify_totp::Secret::from_bytes(totp.secret().expose_secret().to_vec())
}

/// The outcome of a factor verification that was written.
fn verification_failed(factor: &Factor) -> VerifyError {
    VerifyError::FactorVerificationFailed {
        remaining: verify_model::limits::MAX_FACTOR_VERIFICATION_ATTEMPTS
            .saturating_sub(factor.failed_verification_attempts()),
    }
}

impl<S: Store> Verify<S> {
    /// Creates an unverified TOTP factor for `identity` (creating the entity with its
    /// first factor), returning it with its otpauth URI. Verify it with the first
    /// code ([`Verify::verify_factor`]).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (service); [`VerifyError::Model`] for limits
    /// (60315 too many factors, 60326 too many creations today, name, parameters);
    /// [`VerifyError::Totp`] when the URI cannot be built.
    pub async fn create_totp_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        request: NewTotpFactor,
    ) -> Result<CreatedTotpFactor, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let defaults = service.totp().params;
        let params = TotpParams::new(
            request.code_length.unwrap_or(defaults.code_length()),
            request.time_step.unwrap_or(defaults.time_step()),
            request.skew.unwrap_or(defaults.skew()),
        )?;
        let alg = request.alg.unwrap_or(service.totp().alg());
        let secret = match request.secret {
            Some(secret) => secret,
            None => self.with_rng(|rng| TotpSecret::generate(rng))?,
        };
        let config = totp_config(alg, params)?;
        let key_secret = verify_totp::Secret::from_bytes(secret.expose_secret().to_vec())?;
        let uri = verify_totp::KeyUri::new(
            key_secret,
            service.totp_issuer(),
            &request.friendly_name,
            &config,
        )?
        .to_uri();
        let secret_base32 = secret.to_base32();
        let factor = self
            .insert_new_factor(
                &service,
                identity,
                &request.friendly_name,
                FactorKind::totp(secret, alg, params),
                request.metadata,
                None,
                None,
                now,
            )
            .await?;
        Ok(CreatedTotpFactor {
            factor,
            uri,
            secret_base32,
        })
    }

    /// Mints a push enrollment access token for `identity` (single use, TTL 60..=300
    /// s, default 60 s), optionally fixing the factor's friendly name.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (service); [`VerifyError::Model`] for the TTL or
    /// name.
    pub async fn create_access_token(
        &self,
        service: ServiceSid,
        identity: &Identity,
        factor_friendly_name: Option<&str>,
        ttl: Option<Duration>,
    ) -> Result<IssuedAccessToken, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let mut input = NewAccessToken::new(service.sid(), identity.clone());
        if let Some(name) = factor_friendly_name {
            input = input.with_factor_friendly_name(name);
        }
        if let Some(ttl) = ttl {
            input = input.with_ttl(ttl);
        }
        let token = self.with_rng(|rng| AccessToken::issue(input, now, rng))??;
        self.store.insert_access_token(&token).await?;
        let credential = Zeroizing::new(format!("{}.{}", token.sid(), token.token().as_str()));
        Ok(IssuedAccessToken { token, credential })
    }

    /// The access token `sid` of `service` (used, expired or not: the resource, not
    /// its secret value, which only [`Verify::create_access_token`] hands out).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] for a missing service or a token that is not this
    /// service's.
    pub async fn fetch_access_token(
        &self,
        service: ServiceSid,
        sid: AccessTokenSid,
    ) -> Result<AccessToken, VerifyError> {
        let service = self.load_service(service).await?;
        self.store
            .get_access_token(service.sid(), sid)
            .await?
            .ok_or(VerifyError::NotFound {
                resource: Resource::AccessToken,
            })
    }

    /// Creates an unverified push factor for `identity` from the device's request,
    /// redeeming the enrollment `credential` ([`IssuedAccessToken::credential`]) in
    /// the same atomic write: a token enrolls at most one factor. The device then
    /// verifies the factor by signing its sid ([`Verify::verify_factor`]).
    ///
    /// # Errors
    /// [`VerifyError::Model`] with `AccessTokenInvalid` / `AccessTokenExpired` /
    /// `AccessTokenUsed` (401) for a credential that is wrong, expired, used, or for
    /// another identity; [`VerifyError::Push`] for a binding that is not a P-256 key;
    /// [`VerifyError::Model`] for the limits of the request.
    pub async fn create_push_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        credential: &str,
        request: NewPushFactor,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let invalid = || VerifyError::Model(ModelError::AccessTokenInvalid);
        let (sid, presented) = credential.split_once('.').ok_or_else(invalid)?;
        let sid = AccessTokenSid::parse(sid).map_err(|_| invalid())?;
        let token = self
            .store
            .get_access_token(service.sid(), sid)
            .await?
            .ok_or_else(invalid)?;
        let redeemed = token.redeem(presented, now)?;
        if token.identity() != identity || token.factor_type() != FactorType::Push {
            return Err(invalid());
        }
        // The key must be a point on P-256, not only SPKI-shaped.
        DeviceKey::from_binding(&request.public_key, &request.alg)?;
        let binding = PushBinding::from_base64(&request.public_key)?;
        let credential_sid = self.with_rng(|rng| CredentialSid::generate(rng))?;
        let config = PushConfig::new(
            &request.app_id,
            request.notification_platform,
            request.notification_token.as_deref(),
            request.sdk_version.as_deref(),
            credential_sid,
        )?;
        let friendly_name = token
            .factor_friendly_name()
            .map_or(request.friendly_name.as_str(), |name| name.as_str())
            .to_owned();
        self.insert_new_factor(
            &service,
            identity,
            &friendly_name,
            FactorKind::push(binding, config),
            request.metadata,
            Some(&redeemed),
            None,
            now,
        )
        .await
    }

    /// Deletes the entity's unverified factors past their verification deadline
    /// (unusable, and otherwise counted against the per-entity quota for ever), each
    /// with its `factor.deleted` event. Lazy: run when a factor is created, which is
    /// when the quota is counted. Bounded by the entity's factors (at most the
    /// per-type quotas). A factor changed or deleted concurrently is left to that
    /// writer.
    async fn remove_expired_unverified(
        &self,
        service: ServiceSid,
        entity: verify_model::EntitySid,
        now: UnixTime,
    ) -> Result<(), VerifyError> {
        let factors = self.store.entity_factors(service, entity).await?;
        for factor in factors.iter().filter(|f| f.is_expired_unverified(now)) {
            let deleted = factor.delete(now)?;
            match self
                .store
                .delete_factor(service, factor.sid(), factor.version(), &deleted.events)
                .await
            {
                Ok(()) => {}
                Err(error)
                    if error.is_conflict() || matches!(error, StoreError::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Checks the quotas, creates the factor and inserts it (with the quota check
    /// repeated inside the store's atomic write, and the token redeemed there).
    #[expect(
        clippy::too_many_arguments,
        reason = "internal helper of the create operations"
    )]
    pub(crate) async fn insert_new_factor(
        &self,
        service: &Service,
        identity: &Identity,
        friendly_name: &str,
        kind: FactorKind,
        metadata: Option<StringMap>,
        token: Option<&AccessToken>,
        sid: Option<FactorSid>,
        now: UnixTime,
    ) -> Result<Factor, VerifyError> {
        let entity = self
            .entity_for_new_factor(service.sid(), identity, now)
            .await?;
        self.remove_expired_unverified(service.sid(), entity.sid(), now)
            .await?;
        let factor_type = kind.factor_type();
        check_factor_quota(
            factor_type,
            self.store.count_factors(entity.sid(), factor_type).await?,
        )?;
        let window_start = now.saturating_sub(CREATION_WINDOW);
        check_daily_creations(
            self.store
                .count_factor_creations_since(entity.sid(), window_start)
                .await?,
        )?;
        let mut input =
            NewFactor::new(service.sid(), entity.sid(), identity.clone(), friendly_name)
                .with_unverified_ttl(service.unverified_factor_ttl());
        if let Some(metadata) = metadata {
            input = input.with_metadata(metadata);
        }
        if let Some(sid) = sid {
            input = input.with_sid(sid);
        }
        let created = self.with_rng(|rng| Factor::create(input, kind, now, rng))??;
        let quota = FactorQuota::new(
            factor_type.max_per_entity(),
            window_start,
            MAX_FACTOR_CREATIONS_PER_DAY,
        );
        let mut insert = FactorInsert::new(&created.factor, &created.events).with_quota(quota);
        if let Some(token) = token {
            insert = insert.redeeming(token);
        }
        match self.store.insert_factor(insert).await {
            Ok(()) => Ok(created.factor),
            Err(StoreError::Conflict {
                resource: Resource::AccessToken,
                ..
            }) => Err(ModelError::AccessTokenUsed.into()),
            Err(StoreError::QuotaExceeded {
                kind: verify_store::QuotaKind::FactorsOfType,
                limit,
                count,
            }) => Err(ModelError::TooManyFactors {
                factor_type,
                limit,
                count,
            }
            .into()),
            Err(StoreError::QuotaExceeded { limit, count, .. }) => {
                Err(ModelError::TooManyFactorCreations { limit, count }.into())
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Verifies an unverified TOTP or push factor with its proof: the first TOTP
    /// code, or the device's DER signature over the factor sid (standard base64).
    /// A wrong proof records a failed attempt (5 allowed: then 60310).
    ///
    /// A conflict on the success write is not retried: it means another request
    /// changed the factor (verified it, or recorded a failure) in between.
    ///
    /// # Errors
    /// [`VerifyError::FactorVerificationFailed`] (60311; the attempt was recorded);
    /// [`VerifyError::Model`]: `FactorVerificationAttemptsExhausted` (60310),
    /// `FactorExpired` (the unverified factor is past its lifetime),
    /// `FactorAlreadyVerified`; [`VerifyError::NotFound`];
    /// for passkeys (the payload is the `RegistrationResponseJSON`) the errors of
    /// [`Verify::verify_passkey_factor`];
    /// [`VerifyError::Conflict`].
    pub async fn verify_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        factor_sid: FactorSid,
        auth_payload: &str,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        let factor = self.load_factor(service, identity, factor_sid).await?;
        // Refuses a factor that can no longer be verified before any cryptography
        // (already verified, expired, attempts exhausted).
        let failure = factor.record_failed_verification(now)?;
        let proof = match factor.kind() {
            FactorKind::Totp(totp) => {
                let config = totp_config(totp.alg(), totp.params())?;
                match verify_totp::check(&totp_secret(totp)?, &config, auth_payload, now, None) {
                    Ok(found) => Some(VerificationProof::TotpStep(found.step())),
                    Err(error) if error.counts_as_attempt() => None,
                    Err(error) => return Err(error.into()),
                }
            }
            FactorKind::Push(push) => {
                let key =
                    DeviceKey::from_spki_der(push.binding().spki_der()).map_err(PushError::from)?;
                let device = verify_push::FactorToVerify::new(
                    factor.sid(),
                    &key,
                    verify_push::FactorStatus::Unverified,
                    factor.date_created(),
                );
                match verify_push::verify_factor(&device, auth_payload, now) {
                    Ok(_) => Some(VerificationProof::PushSignature),
                    Err(
                        PushError::SignatureInvalid
                        | PushError::Base64 { .. }
                        | PushError::Factor(FactorError::NotDerSignature),
                    ) => None,
                    Err(other) => return Err(other.into()),
                }
            }
            _ => {
                return self
                    .verify_passkey_factor(service, identity, factor_sid, auth_payload)
                    .await;
            }
        };
        match proof {
            Some(proof) => {
                let verified = factor.verify(proof, now)?;
                let written = self
                    .store
                    .update_factor(&verified.factor, &verified.events)
                    .await;
                if is_conflict(&written) {
                    return Err(conflict(Resource::Factor));
                }
                written?;
                Ok(verified.factor)
            }
            None => {
                self.record_factor_failure(service, identity, factor_sid, failure, now)
                    .await
            }
        }
    }

    /// Writes a failed verification, reloading and re-recording on a conflict
    /// (recording a failure is safe to re-run).
    pub(crate) async fn record_factor_failure(
        &self,
        service: ServiceSid,
        identity: &Identity,
        factor_sid: FactorSid,
        failure: verify_model::FactorTransition,
        now: UnixTime,
    ) -> Result<Factor, VerifyError> {
        let failed = self
            .cas_retry_from(Resource::Factor, failure, move |decided| async move {
                // The first round writes the failure decided by the caller; a round
                // after a conflict records it again on the reloaded factor.
                let failure = match decided {
                    Some(failure) => failure,
                    None => self
                        .load_factor(service, identity, factor_sid)
                        .await?
                        .record_failed_verification(now)?,
                };
                let written = self
                    .store
                    .update_factor(&failure.factor, &failure.events)
                    .await;
                Round::written(written, failure.factor)
            })
            .await?;
        Err(verification_failed(&failed))
    }

    /// The factor `sid` of `identity`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Store`].
    pub async fn fetch_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
    ) -> Result<Factor, VerifyError> {
        self.load_factor(service, identity, sid).await
    }

    /// A page of the factors of `identity`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (entity); [`VerifyError::Store`].
    pub async fn list_factors(
        &self,
        service: ServiceSid,
        identity: &Identity,
        query: &ListQuery,
    ) -> Result<Listing<Factor>, VerifyError> {
        let entity = self.load_entity(service, identity).await?;
        Ok(self
            .store
            .list_factors(service, entity.sid(), query)
            .await?)
    }

    /// Renames the factor `sid` (retried on a concurrent update: a rename does not
    /// depend on the old state).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] for the name's limits;
    /// [`VerifyError::Conflict`] when the retries run out.
    pub async fn rename_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
        friendly_name: &str,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Factor, move || async move {
            let factor = self.load_factor(service, identity, sid).await?;
            let renamed = factor.rename(friendly_name, now)?;
            let written = self
                .store
                .update_factor(&renamed.factor, &renamed.events)
                .await;
            Round::written(written, renamed.factor)
        })
        .await
    }

    /// Clears a TOTP factor's run of wrong codes and its lock
    /// ([`verify_model::guessing`]): the host's decision, after it has
    /// re-established who the user is some other way. Retried on a concurrent
    /// update.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] (`FactorTypeMismatch` for a
    /// factor that is not TOTP); [`VerifyError::Conflict`] when the retries run out.
    pub async fn unlock_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Factor, move || async move {
            let factor = self.load_factor(service, identity, sid).await?;
            let unlocked = factor.unlock_code_checks(now)?;
            let written = self
                .store
                .update_factor(&unlocked.factor, &unlocked.events)
                .await;
            Round::written(written, unlocked.factor)
        })
        .await
    }

    /// Replaces a push factor's configuration (the SDK's factor update: app id,
    /// notification platform and token, SDK version), keeping its credential sid.
    /// Retried on a concurrent update: the new configuration does not depend on
    /// the old one.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] (`FactorTypeMismatch` for
    /// a factor that is not push, the limits of the configuration);
    /// [`VerifyError::Conflict`] when the retries run out.
    #[expect(
        clippy::too_many_arguments,
        reason = "the SDK's update carries these fields"
    )]
    pub async fn update_push_factor_config(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
        app_id: &str,
        notification_platform: NotificationPlatform,
        notification_token: Option<&str>,
        sdk_version: Option<&str>,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Factor, move || async move {
            let factor = self.load_factor(service, identity, sid).await?;
            let updated = factor.update_push_config(
                app_id,
                notification_platform,
                notification_token,
                sdk_version,
                now,
            )?;
            let written = self
                .store
                .update_factor(&updated.factor, &updated.events)
                .await;
            Round::written(written, updated.factor)
        })
        .await
    }

    /// Records that the push service answered that the notification `token` of
    /// the push factor `sid` is no longer registered (see
    /// [`verify_model::Factor::invalidate_notification_token`]): notifications
    /// stop until the device sends a new configuration. `Ok(false)` when nothing
    /// was recorded (the token changed meanwhile, or is already marked). Retried on
    /// a concurrent update.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when the retries run
    /// out.
    pub async fn invalidate_notification_token(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
        token: &str,
    ) -> Result<bool, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Factor, move || async move {
            let factor = self.load_factor(service, identity, sid).await?;
            let Some(updated) = factor.invalidate_notification_token(token, now)? else {
                return Ok(Round::Done(false));
            };
            let written = self
                .store
                .update_factor(&updated.factor, &updated.events)
                .await;
            Round::written(written, true)
        })
        .await
    }

    /// Updates a TOTP factor's configuration (the factor update's `Config.Alg`,
    /// `Config.CodeLength` 3..=8, `Config.TimeStep` 20..=60, `Config.Skew` 0..=2):
    /// each `None` keeps the current value; the secret is kept. Replay protection
    /// survives a new time step: the last used step is converted to the new period
    /// so that no code from a window beginning before the end of the last accepted
    /// window is accepted (see [`verify_model::Factor::update_totp_config`]). No
    /// event, as for the other factor updates. Retried on a concurrent update (the
    /// conversion is recomputed from the reloaded factor).
    ///
    /// The authenticator app keeps its own copy of these parameters: after a
    /// change, re-enroll it (a new otpauth URI) or its codes will not match.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] (`ValueOutOfRange` naming
    /// the parameter, `FactorTypeMismatch` for a factor that is not TOTP);
    /// [`VerifyError::Conflict`] when the retries run out.
    #[expect(
        clippy::too_many_arguments,
        reason = "the factor update carries these optional fields"
    )]
    pub async fn update_totp_factor_config(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
        alg: Option<TotpAlgorithm>,
        code_length: Option<u8>,
        time_step: Option<u8>,
        skew: Option<u8>,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Factor, move || async move {
            let factor = self.load_factor(service, identity, sid).await?;
            let FactorKind::Totp(totp) = factor.kind() else {
                return Err(ModelError::FactorTypeMismatch {
                    expected: FactorType::Totp,
                    got: factor.factor_type(),
                }
                .into());
            };
            let current = totp.params();
            let params = TotpParams::new(
                code_length.unwrap_or(current.code_length()),
                time_step.unwrap_or(current.time_step()),
                skew.unwrap_or(current.skew()),
            )?;
            let alg = alg.unwrap_or(totp.alg());
            // The TOTP crate accepts what the model accepts; check before writing.
            totp_config(alg, params)?;
            let updated = factor.update_totp_config(alg, params, now)?;
            let written = self
                .store
                .update_factor(&updated.factor, &updated.events)
                .await;
            Round::written(written, updated.factor)
        })
        .await
    }

    /// Deletes the factor `sid` with its challenges, writing `factor.deleted`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when the retries run out.
    pub async fn delete_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
    ) -> Result<(), VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Factor, move || async move {
            let factor = self.load_factor(service, identity, sid).await?;
            let deleted = factor.delete(now)?;
            let written = self
                .store
                .delete_factor(service, sid, factor.version(), &deleted.events)
                .await;
            Round::written(written, ())
        })
        .await
    }
}
