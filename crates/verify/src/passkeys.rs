//! Passkey factors and challenges: the WebAuthn ceremonies of `verify-webauthn`
//! with their state persisted in the factor (registration) or the challenge
//! (authentication), and the approval written atomically with the sign count.

use serde_json::Value;
use verify_model::challenge::PasskeyCeremony;
use verify_model::config::PasskeysConfig;
use verify_model::factor::{FactorKind, PasskeyCredential};
use verify_model::{
    Challenge, ChallengeSid, ChallengeTarget, Factor, FactorSid, FactorStatus, FactorType,
    Identity, ModelError, NewChallenge, ServiceSid, UnixTime, VerificationProof,
};
use verify_store::{Resource, Store};
use verify_webauthn::WebauthnError;
use verify_webauthn::attestation::TrustAnchors;
use verify_webauthn::authentication::{AuthenticationState, StoredCredential};
use verify_webauthn::json::{
    AuthenticationResponseJson, CredentialDescriptor, RegistrationResponseJson, UserEntity,
};
use verify_webauthn::policy::UserVerification;
use verify_webauthn::registration::RegistrationState;
use verify_webauthn::relying_party::{
    AuthenticatorAttachment, DiscoverableCredentials, RelyingParty,
};

use crate::challenges::ChallengeUpdate;
use crate::engine::{Verify, conflict, is_conflict};
use crate::error::VerifyError;

/// A created passkey factor and the creation options for the browser.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreatedPasskeyFactor {
    /// The unverified factor (it holds the registration state).
    pub factor: Factor,
    /// `options`: `{"publicKey": PublicKeyCredentialCreationOptionsJSON}`, for the
    /// browser's `PublicKeyCredential.parseCreationOptionsFromJSON`.
    pub options: Value,
}

/// The verify-webauthn relying party of a passkeys configuration.
fn relying_party(config: &PasskeysConfig) -> Result<RelyingParty, VerifyError> {
    let rp = &config.relying_party;
    let mut party = RelyingParty::new(rp.id(), rp.name(), rp.origins().to_vec())?;
    party.authenticator_attachment = match config.authenticator_attachment.as_str() {
        "platform" => AuthenticatorAttachment::Platform,
        "cross-platform" => AuthenticatorAttachment::CrossPlatform,
        _ => AuthenticatorAttachment::Any,
    };
    party.discoverable_credentials = match config.discoverable_credentials.as_str() {
        "required" => DiscoverableCredentials::Required,
        "discouraged" => DiscoverableCredentials::Discouraged,
        _ => DiscoverableCredentials::Preferred,
    };
    party.policy.user_verification = match config.user_verification.as_str() {
        "required" => UserVerification::Required,
        "discouraged" => UserVerification::Discouraged,
        _ => UserVerification::Preferred,
    };
    Ok(party)
}

/// The user handle of an entity: the ASCII of its sid.
fn user_handle(factor_entity: &verify_model::EntitySid) -> Vec<u8> {
    factor_entity.to_string().into_bytes()
}

/// The credential record of a verified passkey factor.
fn credential_of(factor: &Factor) -> Option<&PasskeyCredential> {
    match factor.kind() {
        FactorKind::Passkeys(passkey) => passkey.credential(),
        _ => None,
    }
}

/// The descriptors of an entity's verified passkeys.
fn descriptors(factors: &[Factor]) -> Vec<CredentialDescriptor> {
    factors
        .iter()
        .filter_map(credential_of)
        .map(|c| CredentialDescriptor::new(c.id.clone(), c.transports.clone()))
        .collect()
}

fn wrap_public_key<T: serde::Serialize>(options: &T) -> Result<Value, VerifyError> {
    let inner = serde_json::to_value(options).map_err(|_| VerifyError::Inconsistent {
        resource: Resource::Challenge,
        rule: "WebAuthn options serialize to JSON",
    })?;
    Ok(serde_json::json!({ "publicKey": inner }))
}

impl<S: Store> Verify<S> {
    /// Creates an unverified passkey factor for `identity` (creating the entity with
    /// its first factor) and returns the creation options (`user.id` is the base64url
    /// of the entity sid; the entity's existing passkeys are excluded). The
    /// registration state is stored with the factor; finish with
    /// [`Verify::verify_passkey_factor`].
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (service); [`VerifyError::PasskeysNotConfigured`];
    /// [`VerifyError::Webauthn`] for a relying party the WebAuthn crate refuses;
    /// [`VerifyError::Model`] for the limits (60315, 60326, name).
    pub async fn create_passkey_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        friendly_name: &str,
    ) -> Result<CreatedPasskeyFactor, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let config = service
            .passkeys()
            .ok_or(VerifyError::PasskeysNotConfigured)?
            .clone();
        let rp = relying_party(&config)?;
        let entity = self
            .entity_for_new_factor(service.sid(), identity, now)
            .await?;
        let existing = self
            .store
            .entity_factors(service.sid(), entity.sid())
            .await?;
        let user = UserEntity::new(user_handle(&entity.sid()), identity.as_str(), friendly_name);
        let (options, state) = self.with_rng(|rng| {
            verify_webauthn::registration::start_registration(
                &rp,
                &user,
                &descriptors(&existing),
                now,
                rng,
            )
        })??;
        let options = wrap_public_key(&options)?;
        let state = serde_json::to_value(&state).map_err(|_| VerifyError::Inconsistent {
            resource: Resource::Factor,
            rule: "the registration state serializes to JSON",
        })?;
        let factor = self
            .insert_new_factor(
                &service,
                identity,
                friendly_name,
                FactorKind::passkeys_registering(config, state),
                None,
                None,
                now,
            )
            .await?;
        Ok(CreatedPasskeyFactor { factor, options })
    }

    /// Verifies an unverified passkey factor with the browser's
    /// `RegistrationResponseJSON` (attestation `none` / self / any format the
    /// WebAuthn crate checks; trust is reported, not required). On success the
    /// credential record is stored; the credential id is unique per service.
    /// A response that fails a check records a failed verification attempt.
    ///
    /// # Errors
    /// [`VerifyError::Webauthn`] naming the failed check (the attempt was recorded);
    /// [`VerifyError::Model`] (`FactorAlreadyVerified`, `FactorExpired`, 60310,
    /// `FactorTypeMismatch`); [`VerifyError::NotFound`]; [`VerifyError::Conflict`]
    /// (also when the credential id is already registered in the service).
    pub async fn verify_passkey_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        factor_sid: FactorSid,
        registration_response_json: &str,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        let factor = self.load_factor(service, identity, factor_sid).await?;
        let failure = factor.record_failed_verification(now)?;
        let FactorKind::Passkeys(passkey) = factor.kind() else {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Passkeys,
                got: factor.factor_type(),
            }
            .into());
        };
        let state: RegistrationState = passkey
            .registration()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or(VerifyError::Inconsistent {
                resource: Resource::Factor,
                rule: "an unverified passkey factor holds its registration state",
            })?;
        let rp = relying_party(passkey.config())?;
        let checked = RegistrationResponseJson::from_json(registration_response_json)
            .map_err(WebauthnError::from)
            .and_then(|response| {
                verify_webauthn::registration::finish_registration(
                    &rp,
                    &state,
                    &response,
                    now,
                    &TrustAnchors::new(),
                )
            });
        let verified = match checked {
            Ok(verified) => verified,
            Err(error) => {
                return match self
                    .record_factor_failure(service, identity, factor_sid, failure, now)
                    .await
                {
                    Err(VerifyError::FactorVerificationFailed { .. }) | Ok(_) => Err(error.into()),
                    Err(other) => Err(other),
                };
            }
        };
        let record = verified.credential;
        if let Some(owner) = self
            .store
            .find_factor_by_credential_id(service, record.id.as_slice())
            .await?
            && owner.sid() != factor.sid()
        {
            return Err(conflict(Resource::Factor));
        }
        let aaguid = parse_aaguid(&record.aaguid);
        let credential = PasskeyCredential::new(
            record.id.0.clone(),
            record.public_key_cose.0.clone(),
            record.algorithm,
            record.sign_count,
            record.transports.clone(),
            record.backup_eligible,
            record.backup_state,
            aaguid,
            &record.attestation_type,
            record.user_verified,
        )?;
        let transition = factor.verify(VerificationProof::Passkey(credential), now)?;
        let written = self
            .store
            .update_factor(&transition.factor, &transition.events)
            .await;
        if is_conflict(&written) {
            return Err(conflict(Resource::Factor));
        }
        written?;
        Ok(transition.factor)
    }

    /// Creates a passkey challenge with request options. With `identity`, the
    /// challenge is bound to `factor_sid`, or without it to the entity's oldest
    /// verified passkey, and `allowCredentials` lists that credential; with `None`,
    /// a discoverable (usernameless) sign-in: no `allowCredentials`, any passkey of
    /// the service may answer and the assertion's `userHandle` must name its entity.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::PasskeysNotConfigured`];
    /// [`VerifyError::Model`] (`FactorNotVerified` 60318, a factor of another type,
    /// `ExpirationOutOfRange`).
    pub async fn create_passkey_challenge(
        &self,
        service: ServiceSid,
        identity: Option<&Identity>,
        factor_sid: Option<FactorSid>,
        expiration_date: Option<UnixTime>,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let config = service
            .passkeys()
            .ok_or(VerifyError::PasskeysNotConfigured)?;
        let rp = relying_party(config)?;
        let mut input = NewChallenge::new();
        if let Some(date) = expiration_date {
            input = input.with_expiration_date(date);
        }
        let created = match identity {
            None => {
                let (options, state) = self.with_rng(|rng| {
                    verify_webauthn::authentication::start_authentication(&rp, None, now, rng)
                })?;
                let ceremony = ceremony(&options, &state)?;
                self.with_rng(|rng| {
                    Challenge::create(
                        ChallengeTarget::DiscoverablePasskey(service.sid()),
                        input.with_passkey(ceremony),
                        now,
                        rng,
                    )
                })??
            }
            Some(identity) => {
                let entity = self.load_entity(service.sid(), identity).await?;
                let factors: Vec<Factor> = self
                    .store
                    .entity_factors(service.sid(), entity.sid())
                    .await?
                    .into_iter()
                    .filter(|f| {
                        f.factor_type() == FactorType::Passkeys
                            && f.status() == FactorStatus::Verified
                            && factor_sid.is_none_or(|sid| f.sid() == sid)
                    })
                    .collect();
                let target = match factor_sid {
                    Some(sid) => {
                        let factor = self.load_factor(service.sid(), identity, sid).await?;
                        if factor.factor_type() != FactorType::Passkeys {
                            return Err(ModelError::FactorTypeMismatch {
                                expected: FactorType::Passkeys,
                                got: factor.factor_type(),
                            }
                            .into());
                        }
                        factor.check_usable()?;
                        factor
                    }
                    // `entity_factors` lists oldest first.
                    None => factors
                        .first()
                        .cloned()
                        .ok_or(ModelError::FactorNotVerified)?,
                };
                let handle = user_handle(&entity.sid());
                // The model binds a challenge to one factor: offer only its credential,
                // so the options never invite an assertion the approval would refuse.
                let allowed = descriptors(std::slice::from_ref(&target));
                let (options, state) = self.with_rng(|rng| {
                    verify_webauthn::authentication::start_authentication(
                        &rp,
                        Some((&handle, &allowed)),
                        now,
                        rng,
                    )
                })?;
                let ceremony = ceremony(&options, &state)?;
                self.with_rng(|rng| {
                    Challenge::create(
                        ChallengeTarget::Factor(&target),
                        input.with_passkey(ceremony),
                        now,
                        rng,
                    )
                })??
            }
        };
        self.store
            .insert_challenge(&created.challenge, &created.events)
            .await?;
        Ok(ChallengeUpdate {
            challenge: created.challenge,
            outcome: created.outcome,
        })
    }

    /// Approves the pending passkey challenge `sid` with the browser's
    /// `AuthenticationResponseJSON`: the factor is found by the credential id; for
    /// a usernameless challenge the `userHandle` must be that factor's entity sid.
    /// The sign count, backup state and the approval are written in one atomic
    /// compare-and-set, so a replayed or concurrent assertion cannot approve twice
    /// and a sign count never goes down. A failed check counts an attempt.
    ///
    /// # Errors
    /// [`VerifyError::Webauthn`] naming the failed check (e.g. `OriginMismatch`,
    /// `SignCountRegressed`, `SignatureInvalid`); [`VerifyError::Model`] for a
    /// terminal challenge (`ChallengeNotPending`, 60323, 60308);
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when another request
    /// answered the challenge first.
    pub async fn approve_passkey_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
        authentication_response_json: &str,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let now = self.now()?;
        let config = self
            .load_service(service)
            .await?
            .passkeys()
            .cloned()
            .ok_or(VerifyError::PasskeysNotConfigured)?;
        let challenge =
            self.store
                .get_challenge(service, sid)
                .await?
                .ok_or(VerifyError::NotFound {
                    resource: Resource::Challenge,
                })?;
        if challenge.factor_type() != FactorType::Passkeys {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Passkeys,
                got: challenge.factor_type(),
            }
            .into());
        }
        // A terminal or due challenge is answered before any cryptography.
        if let Some(expired) = self.expire_if_due(&challenge, now).await? {
            return Ok(expired);
        }
        // Refuses a terminal challenge (`ChallengeNotPending`, ...) up front.
        let _unused: verify_model::ChallengeTransition = challenge.record_failed_attempt(now)?;
        let state: AuthenticationState = challenge
            .passkey()
            .and_then(|c| serde_json::from_value(c.state.clone()).ok())
            .ok_or(VerifyError::Inconsistent {
                resource: Resource::Challenge,
                rule: "a passkey challenge holds its ceremony state",
            })?;
        let response = match AuthenticationResponseJson::from_json(authentication_response_json) {
            Ok(response) => response,
            Err(error) => return self.fail_passkey(&challenge, error.into(), now).await,
        };
        let raw_id = response.raw_id.as_slice().to_vec();
        let Some(factor) = self
            .store
            .find_factor_by_credential_id(service, &raw_id)
            .await?
        else {
            return self
                .fail_passkey(&challenge, WebauthnError::CredentialNotAllowed, now)
                .await;
        };
        if let Some(entity) = challenge.entity_sid()
            && entity != factor.entity_sid()
        {
            return self
                .fail_passkey(&challenge, WebauthnError::CredentialNotAllowed, now)
                .await;
        }
        let Some(record) = credential_of(&factor) else {
            return Err(ModelError::FactorNotVerified.into());
        };
        let stored = StoredCredential::new(
            record.id.clone(),
            &record.public_key_cose,
            record.sign_count,
            Some(record.backup_eligible),
        )?
        .with_user_handle(user_handle(&factor.entity_sid()));
        let rp = relying_party(&config)?;
        let verified = match verify_webauthn::authentication::finish_authentication(
            &rp, &state, &response, &stored, now,
        ) {
            Ok(verified) => verified,
            Err(error) => return self.fail_passkey(&challenge, error, now).await,
        };
        let paired =
            challenge.approve_passkey(&factor, verified.sign_count, verified.backup_state, now)?;
        let written = match &paired.factor {
            Some(factor_transition) => {
                let mut events = paired.challenge.events.clone();
                events.extend(factor_transition.events.iter().cloned());
                self.store
                    .update_challenge_and_factor(
                        &paired.challenge.challenge,
                        &factor_transition.factor,
                        &events,
                    )
                    .await
            }
            None => {
                self.store
                    .update_challenge(&paired.challenge.challenge, &paired.challenge.events)
                    .await
            }
        };
        if is_conflict(&written) {
            return Err(conflict(Resource::Challenge));
        }
        written?;
        Ok(ChallengeUpdate {
            challenge: paired.challenge.challenge,
            outcome: paired.challenge.outcome,
        })
    }

    /// Records a failed passkey answer (best effort: a conflict means another
    /// request changed the challenge, which then decides) and returns `error`.
    async fn fail_passkey(
        &self,
        challenge: &Challenge,
        error: WebauthnError,
        now: UnixTime,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let failed = challenge.record_failed_attempt(now)?;
        let written = self
            .store
            .update_challenge(&failed.challenge, &failed.events)
            .await;
        if !is_conflict(&written) {
            written?;
        }
        Err(error.into())
    }
}

fn ceremony(
    options: &verify_webauthn::json::RequestOptionsJson,
    state: &AuthenticationState,
) -> Result<PasskeyCeremony, VerifyError> {
    let options = wrap_public_key(options)?;
    let state = serde_json::to_value(state).map_err(|_| VerifyError::Inconsistent {
        resource: Resource::Challenge,
        rule: "the authentication state serializes to JSON",
    })?;
    Ok(PasskeyCeremony::new(options, state))
}

/// The 16 bytes of an AAGUID written 8-4-4-4-12 (zeros when unreadable).
fn parse_aaguid(text: &str) -> [u8; 16] {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let mut out = [0_u8; 16];
    let mut digits = hex.as_bytes().chunks(2);
    for byte in &mut out {
        let Some(pair) = digits.next() else {
            return [0; 16];
        };
        let Some(value) = std::str::from_utf8(pair)
            .ok()
            .and_then(|p| u8::from_str_radix(p, 16).ok())
        else {
            return [0; 16];
        };
        *byte = value;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aaguid_round_trip() {
        let text = "00112233-4455-6677-8899-aabbccddeeff";
        let bytes = parse_aaguid(text);
        assert_eq!(verify_webauthn::registration::format_aaguid(&bytes), text);
        assert_eq!(parse_aaguid("zz"), [0; 16]);
    }
}
