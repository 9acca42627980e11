//! Passkey factors and challenges: the WebAuthn ceremonies of `verify-webauthn`
//! with their state persisted in the factor (registration) or the challenge
//! (authentication), and the approval written atomically with the sign count.
//!
//! Routing by challenge: every WebAuthn challenge the engine issues is
//! `sid bytes (16) || 32 random bytes`, where the sid is the factor's (creation
//! options) or the challenge's (request options). The documents'
//! `Passkeys/VerifyFactor` and `Passkeys/ApproveChallenge` bodies are the bare
//! browser credential, so [`Verify::verify_passkey_factor_response`] and
//! [`Verify::approve_passkey_challenge_response`] read the (untrusted) challenge
//! of `clientDataJSON` only to find the row, then verify exactly as the sid-taking
//! operations do: the WebAuthn crate compares the **whole** stored challenge in
//! constant time, so a forged prefix grants nothing but a lookup.

use serde_json::Value;
use verify_model::ceremony::{
    AllowedCredential, PasskeyCeremony, PasskeyRegistration, PasskeyRequestOptions,
};
use verify_model::config::{
    Aaguid, AllowCredentials, AttestationConveyance, AttestationFormat, AuthenticatorAttachment,
    CredentialProtection, DiscoverableCredentials, PasskeyExtensionOutputs, PasskeyHint,
    PasskeyHints, PasskeyPolicy, PasskeyRestrictions, PasskeysConfig, SignCountRegression,
    UserVerification,
};
use verify_model::factor::{FactorKind, PasskeyCredential};
use verify_model::limits::DEFAULT_CHALLENGE_TTL;
use verify_model::{
    Challenge, ChallengeKind, ChallengeSid, ChallengeTarget, Factor, FactorSid, FactorStatus,
    FactorType, Identity, ModelError, NewChallenge, ServiceSid, UnixTime, VerificationProof,
};
use verify_store::{Resource, Store};
use verify_webauthn::WebauthnError;
use verify_webauthn::authentication::{
    AuthenticationState, ParsedAuthentication, StoredCredential,
};
use verify_webauthn::challenge::CeremonyChallenge;
use verify_webauthn::extensions::{CredentialProtectionPolicy, RegistrationExtensions};
use verify_webauthn::policy::{
    AaguidPolicy, AttestationTrust, BackupEligibleRegistration, CeremonyPolicy, CounterPolicy,
    CrossOriginPolicy, Hint,
};
use verify_webauthn::registration::{RegistrationOptions, RegistrationState};
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{CredentialDescriptor, RegistrationResponseJson, UserEntity};

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

// A sign-in by identity offers every passkey of the entity: the options must have
// room for all of them.
const _: () = assert!(
    verify_webauthn::limits::MAX_CREDENTIAL_DESCRIPTORS
        >= verify_model::limits::MAX_PASSKEY_FACTORS_PER_ENTITY
);

/// Bytes of the routing prefix of a WebAuthn challenge issued by release 0.1.0: the
/// 16 bytes of the factor or challenge sid (today's challenges begin with the sid's
/// text instead).
const LEGACY_ROUTING_PREFIX_LEN: usize = 16;

/// The sid a claimed (untrusted) challenge routes to: its first
/// [`SID_LENGTH`](verify_model::id::SID_LENGTH) bytes as sid text (today's
/// challenges, ASCII so that clients decoding with `atob` read them), else its
/// first 16 bytes as sid bytes (a ceremony release 0.1.0 started, still pending).
/// Only a route: the whole challenge is compared in constant time afterwards.
fn routed_sid<T>(
    claimed: &[u8],
    parse: impl Fn(&str) -> Result<T, ModelError>,
    from_bytes: impl Fn([u8; 16]) -> T,
) -> Option<T> {
    let text = claimed
        .get(..verify_model::id::SID_LENGTH)
        .and_then(|prefix| std::str::from_utf8(prefix).ok())
        .and_then(|text| parse(text).ok());
    text.or_else(|| {
        let bytes: [u8; LEGACY_ROUTING_PREFIX_LEN] =
            claimed.get(..LEGACY_ROUTING_PREFIX_LEN)?.try_into().ok()?;
        Some(from_bytes(bytes))
    })
}

/// A ceremony challenge that begins with `sid`'s text (see [`routed_sid`]).
fn challenge_for(
    sid: &impl std::fmt::Display,
    rng: &mut dyn crate::rng::EngineRng,
) -> Result<CeremonyChallenge, VerifyError> {
    Ok(CeremonyChallenge::with_text_prefix(&sid.to_string(), rng)?)
}

/// The verify-webauthn relying party of a passkeys configuration, under the
/// service's current passkey `policy`. A configuration the WebAuthn crate refuses is
/// [`VerifyError::PasskeysConfigInvalid`] (a 4xx: the configuration, not the server,
/// is wrong).
pub(crate) fn relying_party(
    config: &PasskeysConfig,
    policy: &PasskeyPolicy,
) -> Result<RelyingParty, VerifyError> {
    let mut party = RelyingParty::from_config(config).map_err(|error| match error {
        WebauthnError::InvalidConfig { what } => VerifyError::PasskeysConfigInvalid { what },
        other => VerifyError::Webauthn(other),
    })?;
    party.policy.counter = match policy.sign_count_regression {
        SignCountRegression::Warn => CounterPolicy::Warn,
        _ => CounterPolicy::Reject,
    };
    party.policy.attestation_trust = if policy.require_trusted_attestation {
        AttestationTrust::RequireTrusted
    } else {
        AttestationTrust::Report
    };
    apply_restrictions(&mut party.policy, &config.restrictions)?;
    party.attestation = match config.attestation_conveyance {
        AttestationConveyance::None => verify_webauthn::policy::AttestationConveyance::None,
        AttestationConveyance::Indirect => verify_webauthn::policy::AttestationConveyance::Indirect,
        AttestationConveyance::Direct => verify_webauthn::policy::AttestationConveyance::Direct,
        AttestationConveyance::Enterprise => {
            verify_webauthn::policy::AttestationConveyance::Enterprise
        }
    };
    Ok(party)
}

/// A service's restrictions as verify-webauthn policy: backup-eligible credentials
/// and AAGUIDs at registration, cross-origin ceremonies (and their top origins) at
/// registration and sign-in. A top origin verify-webauthn would not accept as a web
/// origin is [`VerifyError::PasskeysConfigInvalid`].
fn apply_restrictions(
    policy: &mut CeremonyPolicy,
    restrictions: &PasskeyRestrictions,
) -> Result<(), VerifyError> {
    if restrictions.refuse_backup_eligible() {
        policy.backup_eligible_registration = BackupEligibleRegistration::Refuse;
    }
    let bytes = |list: &[Aaguid]| list.iter().map(|a| a.to_bytes()).collect();
    policy.aaguids = AaguidPolicy::new(
        bytes(restrictions.aaguid_allow_list()),
        bytes(restrictions.aaguid_deny_list()),
    );
    if restrictions.allow_cross_origin() {
        if let Some(bad) = restrictions.top_origins().iter().find(|origin| {
            !(origin.starts_with("https://") || origin.starts_with("http://"))
                || !verify_webauthn::client_data::is_valid_origin(origin)
        }) {
            return Err(VerifyError::PasskeysConfigInvalid {
                what: format!("top origin {bad:?} is not an https or localhost origin"),
            });
        }
        policy.cross_origin = CrossOriginPolicy::Allow {
            top_origins: restrictions.top_origins().to_vec(),
        };
    }
    Ok(())
}

/// The extensions a registration under `config` requests. The creation options
/// carry them, and the same value (derived again from the factor's copy of the
/// configuration) checks the outputs when the factor is verified: an enforced
/// `credProtect` level the signed authenticator data does not carry is refused.
fn registration_extensions(config: &PasskeysConfig) -> RegistrationExtensions {
    let requested = &config.extensions;
    let mut extensions = RegistrationExtensions::new();
    if requested.cred_props {
        extensions = extensions.with_cred_props();
    }
    if let Some(cred_protect) = requested.cred_protect {
        let level = match cred_protect.level {
            CredentialProtection::UserVerificationOptional => {
                CredentialProtectionPolicy::UserVerificationOptional
            }
            CredentialProtection::UserVerificationOptionalWithCredentialIdList => {
                CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList
            }
            CredentialProtection::UserVerificationRequired => {
                CredentialProtectionPolicy::UserVerificationRequired
            }
        };
        extensions = extensions.with_cred_protect(level, cred_protect.enforce);
    }
    if requested.min_pin_length {
        extensions = extensions.with_min_pin_length();
    }
    extensions
}

/// The per-ceremony creation options of `config`: its extensions, `hints` and
/// `attestationFormats` (the conveyance is the relying party's, see
/// [`relying_party`]).
fn registration_options(config: &PasskeysConfig) -> RegistrationOptions {
    use verify_webauthn::attestation::AttestationFormat as Format;
    let hints = config
        .hints
        .to_vec()
        .into_iter()
        .map(|hint| match hint {
            PasskeyHint::SecurityKey => Hint::SecurityKey,
            PasskeyHint::ClientDevice => Hint::ClientDevice,
            PasskeyHint::Hybrid => Hint::Hybrid,
        })
        .collect();
    let formats = config
        .attestation_formats
        .to_vec()
        .into_iter()
        .map(|format| match format {
            AttestationFormat::Packed => Format::Packed,
            AttestationFormat::Tpm => Format::Tpm,
            AttestationFormat::AndroidKey => Format::AndroidKey,
            AttestationFormat::AndroidSafetynet => Format::AndroidSafetynet,
            AttestationFormat::FidoU2f => Format::FidoU2f,
            AttestationFormat::Apple => Format::Apple,
            AttestationFormat::None => Format::None,
            AttestationFormat::Compound => Format::Compound,
        })
        .collect();
    RegistrationOptions::new()
        .with_extensions(registration_extensions(config))
        .with_hints(hints)
        .with_attestation_formats(formats)
}

/// The WebAuthn `timeout` (ms) of a ceremony that must end at `until`.
fn timeout_until(now: UnixTime, until: UnixTime) -> u32 {
    let secs = until.as_secs().saturating_sub(now.as_secs());
    u32::try_from(secs.saturating_mul(1000)).unwrap_or(u32::MAX)
}

/// The user handle of an entity: the ASCII of its sid.
fn user_handle(factor_entity: &verify_model::EntitySid) -> Vec<u8> {
    factor_entity.to_string().into_bytes()
}

/// What a sign-in by identity lists in `allowCredentials`: the passkeys offered, or
/// none under [`AllowCredentials::Empty`] (the browser then offers the user's
/// discoverable passkeys; the approval still accepts only the identified user's,
/// by its recorded owner, and only the named factor's for a challenge by factor).
fn listed(config: &PasskeysConfig, offered: &[Factor]) -> Vec<CredentialDescriptor> {
    match config.allow_credentials {
        AllowCredentials::List => descriptors(offered),
        AllowCredentials::Empty => Vec::new(),
    }
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

/// The `config` block of a `Passkeys/Factors` request. A passkey factor always
/// takes its service's passkeys configuration (one relying party and one set of
/// authenticator criteria per service, so that every ceremony and usernameless
/// sign-in of the service agrees); a request may repeat it, and every field it names
/// must then equal the service's. `None` names nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestedPasskeysConfig {
    /// `relying_party.id`.
    pub relying_party_id: Option<String>,
    /// `relying_party.name`.
    pub relying_party_name: Option<String>,
    /// `relying_party.origins`, compared as a set.
    pub relying_party_origins: Option<Vec<String>>,
    /// `authenticator_attachment`.
    pub authenticator_attachment: Option<AuthenticatorAttachment>,
    /// `discoverable_credentials`.
    pub discoverable_credentials: Option<DiscoverableCredentials>,
    /// `user_verification`.
    pub user_verification: Option<UserVerification>,
}

impl RequestedPasskeysConfig {
    /// `Ok` when every field given equals `service`'s.
    fn check(&self, service: &PasskeysConfig) -> Result<(), VerifyError> {
        fn same<T: PartialEq + ?Sized>(given: Option<&T>, stored: &T) -> bool {
            given.is_none_or(|given| given == stored)
        }
        let rp = &service.relying_party;
        let origins = |list: &[String]| {
            let mut sorted: Vec<String> = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            sorted
        };
        let differs = if !same(self.relying_party_id.as_deref(), rp.id()) {
            Some("relying_party.id")
        } else if !same(self.relying_party_name.as_deref(), rp.name()) {
            Some("relying_party.name")
        } else if self
            .relying_party_origins
            .as_ref()
            .is_some_and(|given| origins(given) != origins(rp.origins()))
        {
            Some("relying_party.origins")
        } else if !same(
            self.authenticator_attachment.as_ref(),
            &service.authenticator_attachment,
        ) {
            Some("authenticator_attachment")
        } else if !same(
            self.discoverable_credentials.as_ref(),
            &service.discoverable_credentials,
        ) {
            Some("discoverable_credentials")
        } else if !same(self.user_verification.as_ref(), &service.user_verification) {
            Some("user_verification")
        } else {
            None
        };
        match differs {
            None => Ok(()),
            Some(field) => Err(VerifyError::PasskeysConfigInvalid {
                what: format!(
                    "config.{field} differs from the service's passkeys configuration \
                     (a passkey factor takes the service's: set Passkeys.* on the service)"
                ),
            }),
        }
    }
}

/// A fresh identity for a passkey factor created without one: 32 lower-case hex
/// digits of 16 random bytes (in the identity alphabet; 128 bits, so it names no
/// existing entity).
pub(crate) fn generated_identity(
    rng: &mut dyn crate::rng::EngineRng,
) -> Result<Identity, VerifyError> {
    let mut bytes = [0_u8; 16];
    rng.fill_bytes(&mut bytes);
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Identity::parse(&text)?)
}

impl<S: Store> Verify<S> {
    /// Creates an unverified passkey factor for `identity` (creating the entity with
    /// its first factor) and returns the creation options (`user.id` is the base64url
    /// of the entity sid; the entity's existing passkeys are excluded; the challenge
    /// begins with the factor sid's 16 bytes). The registration state is stored with
    /// the factor; finish with [`Verify::verify_passkey_factor_response`] (the bare
    /// browser response) or [`Verify::verify_passkey_factor`].
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
        self.create_passkey_factor_with(service, Some(identity), friendly_name, None)
            .await
    }

    /// [`Verify::create_passkey_factor`], as the `Passkeys/Factors` request has it:
    /// without an identity, the factor's entity gets a fresh one
    /// (a generated identity: 32 lower-case hex digits of 16 random bytes,
    /// returned in the factor's `identity`); with a `config`, every field it names
    /// must equal the service's passkeys configuration
    /// ([`RequestedPasskeysConfig`]), which the factor takes as always.
    ///
    /// # Errors
    /// As [`Verify::create_passkey_factor`];
    /// [`VerifyError::PasskeysConfigInvalid`] (400) naming the first field of
    /// `config` that differs from the service's, before anything is written.
    pub async fn create_passkey_factor_with(
        &self,
        service: ServiceSid,
        identity: Option<&Identity>,
        friendly_name: &str,
        requested: Option<&RequestedPasskeysConfig>,
    ) -> Result<CreatedPasskeyFactor, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let config = service
            .passkeys()
            .ok_or(VerifyError::PasskeysNotConfigured)?
            .clone();
        if let Some(requested) = requested {
            requested.check(&config)?;
        }
        // Checked before the entity is created: a refused name must not leave an
        // entity behind (least of all one whose generated identity nobody learns).
        verify_model::FriendlyName::new(
            verify_model::Field::FactorFriendlyName,
            friendly_name,
            FactorType::Passkeys.max_friendly_name_len(),
        )?;
        let generated;
        let identity = match identity {
            Some(identity) => identity,
            None => {
                generated = self.with_rng(generated_identity)??;
                &generated
            }
        };
        let rp = relying_party(&config, &config.policy)?;
        let entity = self
            .entity_for_new_factor(service.sid(), identity, now)
            .await?;
        let existing = self
            .store
            .entity_factors(service.sid(), entity.sid())
            .await?;
        // As the service's documents show: the factor's friendly name is both the
        // account name and the display name the authenticator shows.
        let user = UserEntity::new(user_handle(&entity.sid()), friendly_name, friendly_name);
        let sid = self.with_rng(|rng| FactorSid::generate(rng))?;
        let challenge = self.with_rng(|rng| challenge_for(&sid, rng))??;
        let (options, state) = verify_webauthn::registration::start_registration_with_options(
            &rp,
            &user,
            &descriptors(&existing),
            challenge,
            &registration_options(&config),
            now,
        )?;
        let options = wrap_public_key(&options)?;
        let (challenge, user_id, exclude, expires_at) = state.into_parts();
        let state = PasskeyRegistration::new(challenge, user_id, exclude, expires_at);
        let factor = self
            .insert_new_factor(
                &service,
                identity,
                friendly_name,
                FactorKind::passkeys_registering(config, state),
                None,
                None,
                Some(sid),
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
        registration_response_json: impl AsRef<[u8]>,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        let factor = self.load_factor(service, identity, factor_sid).await?;
        let parsed = RegistrationResponseJson::from_slice(registration_response_json.as_ref())
            .map_err(Into::into);
        self.finish_passkey_factor(factor, parsed, now).await
    }

    /// Verifies the unverified passkey factor that the browser's bare
    /// `RegistrationResponseJSON` answers (the body of `POST
    /// /Passkeys/VerifyFactor`): the factor is found by the sid at the start of the
    /// response's claimed challenge, then everything proceeds as
    /// [`Verify::verify_passkey_factor`] (the full challenge compared in constant
    /// time, a failed check recorded as a failed attempt, the credential id unique
    /// per service).
    ///
    /// # Errors
    /// [`VerifyError::Webauthn`] with `Malformed` when the body or its
    /// `clientDataJSON` cannot be read (no factor is known: nothing is recorded);
    /// [`VerifyError::NotFound`] (factor, 20404) when the claimed challenge names no
    /// factor of `service`, or a factor that is not a passkey (a forged or foreign
    /// prefix learns nothing more); then the errors of
    /// [`Verify::verify_passkey_factor`].
    pub async fn verify_passkey_factor_response(
        &self,
        service: ServiceSid,
        registration_response_json: impl AsRef<[u8]>,
    ) -> Result<Factor, VerifyError> {
        let now = self.now()?;
        let response = RegistrationResponseJson::from_slice(registration_response_json.as_ref())
            .map_err(WebauthnError::from)?;
        let claimed = response.claimed_challenge().map_err(WebauthnError::from)?;
        let not_found = || VerifyError::NotFound {
            resource: Resource::Factor,
        };
        let sid =
            routed_sid(&claimed, FactorSid::parse, FactorSid::from_bytes).ok_or_else(not_found)?;
        let factor = self
            .store
            .get_factor(service, sid)
            .await?
            .filter(|f| f.factor_type() == FactorType::Passkeys)
            .ok_or_else(not_found)?;
        self.finish_passkey_factor(factor, Ok(response), now).await
    }

    /// The shared second half of both passkey factor verifications.
    async fn finish_passkey_factor(
        &self,
        factor: Factor,
        parsed: Result<RegistrationResponseJson, WebauthnError>,
        now: UnixTime,
    ) -> Result<Factor, VerifyError> {
        let (service, factor_sid) = (factor.service_sid(), factor.sid());
        let identity = factor.identity().clone();
        let failure = factor.record_failed_verification(now)?;
        let FactorKind::Passkeys(passkey) = factor.kind() else {
            return Err(ModelError::FactorTypeMismatch {
                expected: FactorType::Passkeys,
                got: factor.factor_type(),
            }
            .into());
        };
        let state = passkey
            .registration()
            .map(|r| {
                RegistrationState::from_parts(
                    r.challenge.clone(),
                    r.user_id.clone(),
                    r.exclude.clone(),
                    r.expires_at,
                )
                // What the creation options requested: the factor keeps the
                // configuration they were made from.
                .with_extensions(registration_extensions(passkey.config()))
            })
            .ok_or(VerifyError::Inconsistent {
                resource: Resource::Factor,
                rule: "an unverified passkey factor holds its registration state",
            })?;
        // The service's current policy decides (a policy tightened after the factor
        // was created applies to its registration too).
        // So do its current restrictions (an AAGUID denied since, a synced
        // credential refused since).
        let mut config = passkey.config().clone();
        if let Some(current) = self.store.get_service(service).await?
            && let Some(current) = current.passkeys()
        {
            config.policy = current.policy;
            config.restrictions = current.restrictions.clone();
        }
        let rp = relying_party(&config, &config.policy)?;
        // The current set (a reloaded metadata BLOB included), held for this one
        // registration.
        let anchors = self.config.trust_anchors(service);
        let checked = parsed.and_then(|response| {
            verify_webauthn::registration::finish_registration(
                &rp, &state, &response, now, &anchors,
            )
        });
        let verified = match checked {
            Ok(verified) => verified,
            Err(error) => {
                return match self
                    .record_factor_failure(service, &identity, factor_sid, failure, now)
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
        )?
        // verify-webauthn reports an output only when the factor's configuration
        // requested its extension (and checked its type).
        .with_extension_outputs(
            PasskeyExtensionOutputs::new()
                .with_cred_props_rk(verified.extensions.cred_props_rk)
                .with_min_pin_length(
                    verified
                        .extensions
                        .min_pin_length
                        .and_then(|length| u8::try_from(length).ok()),
                ),
        );
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

    /// The related origins (WebAuthn L3 §5.11) of the services whose RP ID is
    /// `rp_id`: the union, in service order and each once, of their passkeys
    /// `related_origins` (the origins outside the RP ID they accept), for the RP
    /// ID's `/.well-known/webauthn`. Empty when no such service lists any. Reads
    /// every service, a page of 1000 at a time.
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub async fn related_origins(&self, rp_id: &str) -> Result<Vec<String>, VerifyError> {
        let page =
            verify_model::list::PageSize::new(u64::from(verify_model::limits::MAX_PAGE_SIZE))?;
        let mut query = verify_store::ListQuery::new(verify_model::ListOrder::Asc, page);
        let mut origins: Vec<String> = Vec::new();
        loop {
            let listing = self.list_services(&query).await?;
            for config in listing
                .items
                .iter()
                .filter_map(|service| service.passkeys())
            {
                if config.relying_party.id() != rp_id {
                    continue;
                }
                for origin in config.restrictions.related_origins() {
                    if !origins.contains(origin) {
                        origins.push(origin.clone());
                    }
                }
            }
            match listing.next_page_token {
                Some(token) => query = query.with_page_token(token),
                None => return Ok(origins),
            }
        }
    }

    /// Creates a passkey challenge with request options (the WebAuthn challenge
    /// begins with the challenge sid's 16 bytes, for
    /// [`Verify::approve_passkey_challenge_response`]). The options carry the
    /// service's passkeys `hints` when it has any.
    ///
    /// - `identity` and `factor_sid`: bound to that verified passkey;
    ///   `allowCredentials` lists its credential.
    /// - `identity` alone: for the entity, not one factor. `allowCredentials` lists
    ///   every verified passkey of the entity and any of them may approve; the
    ///   approving factor becomes the challenge's `factor_sid` (as in the
    ///   discoverable flow). A credential of another entity, or one not offered, is
    ///   refused (`CredentialNotAllowed`) and counts an attempt. The list always
    ///   fits: an entity holds at most
    ///   [`MAX_PASSKEY_FACTORS_PER_ENTITY`](verify_model::limits::MAX_PASSKEY_FACTORS_PER_ENTITY)
    ///   passkeys and the options carry up to
    ///   [`MAX_CREDENTIAL_DESCRIPTORS`](verify_webauthn::limits::MAX_CREDENTIAL_DESCRIPTORS).
    /// - neither: a discoverable (usernameless) sign-in: no `allowCredentials`, any
    ///   passkey of the service may answer and the assertion's `userHandle` must
    ///   name its entity.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::PasskeysNotConfigured`];
    /// [`VerifyError::Model`] (`FactorNotVerified` 60318 also when the entity has
    /// no verified passkey, a factor of another type, `ExpirationOutOfRange`).
    pub async fn create_passkey_challenge(
        &self,
        service: ServiceSid,
        identity: Option<&Identity>,
        factor_sid: Option<FactorSid>,
        expiration_date: Option<UnixTime>,
    ) -> Result<ChallengeUpdate, VerifyError> {
        if identity.is_none() && factor_sid.is_some() {
            return Err(VerifyError::ParameterRequires {
                given: "factor_sid",
                requires: "identity",
            });
        }
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let config = service
            .passkeys()
            .ok_or(VerifyError::PasskeysNotConfigured)?;
        let mut rp = relying_party(config, &config.policy)?;
        // The ceremony lives exactly as long as its challenge: the browser's
        // timeout and the state's expiry are the challenge's expiration date (the
        // model refuses a date outside its range when the challenge is built).
        let expires = expiration_date.unwrap_or(now.saturating_add(DEFAULT_CHALLENGE_TTL));
        rp.timeout_ms = timeout_until(now, expires);
        let sid = self.with_rng(|rng| ChallengeSid::generate(rng))?;
        let input = NewChallenge::new()
            .with_sid(sid)
            .with_expiration_date(expires);
        let start = |user: Option<(&[u8], &[CredentialDescriptor])>| {
            let challenge = self.with_rng(|rng| challenge_for(&sid, rng))??;
            Ok::<_, VerifyError>(
                verify_webauthn::authentication::start_authentication_with_challenge(
                    &rp, user, challenge, now,
                ),
            )
        };
        let created = match identity {
            None => {
                let (options, state) = start(None)?;
                let ceremony = ceremony(&rp, options, &state, config.hints);
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
                let handle = user_handle(&entity.sid());
                if let Some(sid) = factor_sid {
                    let factor = self.load_factor(service.sid(), identity, sid).await?;
                    if factor.factor_type() != FactorType::Passkeys {
                        return Err(ModelError::FactorTypeMismatch {
                            expected: FactorType::Passkeys,
                            got: factor.factor_type(),
                        }
                        .into());
                    }
                    factor.check_usable()?;
                    // Bound to one factor: offer only its credential, so the options
                    // never invite an assertion the approval would refuse.
                    let allowed = listed(config, std::slice::from_ref(&factor));
                    let (options, state) = start(Some((&handle, &allowed)))?;
                    let ceremony = ceremony(&rp, options, &state, config.hints);
                    self.with_rng(|rng| {
                        Challenge::create(
                            ChallengeTarget::Factor(&factor),
                            input.with_passkey(ceremony),
                            now,
                            rng,
                        )
                    })??
                } else {
                    let passkeys: Vec<Factor> = self
                        .store
                        .entity_factors(service.sid(), entity.sid())
                        .await?
                        .into_iter()
                        .filter(|f| {
                            f.factor_type() == FactorType::Passkeys
                                && f.status() == FactorStatus::Verified
                        })
                        .collect();
                    if passkeys.is_empty() {
                        return Err(ModelError::FactorNotVerified.into());
                    }
                    let allowed = listed(config, &passkeys);
                    let (options, state) = start(Some((&handle, &allowed)))?;
                    let ceremony = ceremony(&rp, options, &state, config.hints);
                    self.with_rng(|rng| {
                        Challenge::create(
                            ChallengeTarget::EntityPasskeys(&entity),
                            input.with_passkey(ceremony),
                            now,
                            rng,
                        )
                    })??
                }
            }
        };
        self.store
            .insert_challenge(&created.challenge, &created.events)
            .await?;
        Ok(ChallengeUpdate::written(created.challenge, created.outcome))
    }

    /// Approves the pending passkey challenge `sid` with the browser's
    /// `AuthenticationResponseJSON`: the factor is found by the credential id; it
    /// must be the challenge's factor, or one of its entity's passkeys (a challenge
    /// by identity), or for a usernameless challenge the `userHandle` must be that
    /// factor's entity sid. The sign count, backup state and the approval are
    /// written in one atomic compare-and-set, so a replayed or concurrent assertion
    /// cannot approve twice and a sign count never goes down. A failed check counts
    /// an attempt. Under the service's [`SignCountRegression::Warn`] policy a
    /// counter that did not increase approves and is reported in
    /// [`ChallengeUpdate::sign_count_regressed`] (and counted on the credential).
    ///
    /// # Errors
    /// [`VerifyError::Webauthn`] naming the failed check (e.g. `OriginMismatch`,
    /// `SignCountRegressed`, `CredentialNotAllowed`, `SignatureInvalid`);
    /// [`VerifyError::Model`] for a terminal challenge (`ChallengeNotPending`,
    /// 60323, 60308); [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when
    /// another request answered the challenge first.
    pub async fn approve_passkey_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
        authentication_response_json: impl AsRef<[u8]>,
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
        let parsed = ParsedAuthentication::from_slice(authentication_response_json.as_ref())
            .map_err(Into::into);
        self.answer_passkey_challenge(&config, challenge, parsed, now)
            .await
    }

    /// Approves the pending passkey challenge that the browser's bare
    /// `AuthenticationResponseJSON` answers (the body of `POST
    /// /Passkeys/ApproveChallenge`): the challenge is found by the sid at the start
    /// of the response's claimed challenge, then everything proceeds as
    /// [`Verify::approve_passkey_challenge`] (attempt counting, the atomic
    /// compare-and-set with the sign count, the whole challenge compared in
    /// constant time).
    ///
    /// # Errors
    /// [`VerifyError::Webauthn`] with `Malformed` when the body or its
    /// `clientDataJSON` cannot be read (no challenge is known: nothing is
    /// recorded); [`VerifyError::NotFound`] (challenge, 60391) when the claimed
    /// challenge names no challenge of `service`, or one that is not a passkey
    /// challenge; [`VerifyError::PasskeysNotConfigured`]; then the errors of
    /// [`Verify::approve_passkey_challenge`].
    pub async fn approve_passkey_challenge_response(
        &self,
        service: ServiceSid,
        authentication_response_json: impl AsRef<[u8]>,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let now = self.now()?;
        let config = self
            .load_service(service)
            .await?
            .passkeys()
            .cloned()
            .ok_or(VerifyError::PasskeysNotConfigured)?;
        let response = ParsedAuthentication::from_slice(authentication_response_json.as_ref())
            .map_err(WebauthnError::from)?;
        let claimed = response.claimed_challenge().map_err(WebauthnError::from)?;
        let not_found = || VerifyError::NotFound {
            resource: Resource::Challenge,
        };
        let sid = routed_sid(&claimed, ChallengeSid::parse, ChallengeSid::from_bytes)
            .ok_or_else(not_found)?;
        let challenge = self
            .store
            .get_challenge(service, sid)
            .await?
            .filter(|c| c.factor_type() == FactorType::Passkeys)
            .ok_or_else(not_found)?;
        self.answer_passkey_challenge(&config, challenge, Ok(response), now)
            .await
    }

    /// The shared second half of both passkey challenge approvals.
    async fn answer_passkey_challenge(
        &self,
        config: &PasskeysConfig,
        challenge: Challenge,
        parsed: Result<ParsedAuthentication, WebauthnError>,
        now: UnixTime,
    ) -> Result<ChallengeUpdate, VerifyError> {
        let service = challenge.service_sid();
        // The kind decides first: a TOTP or push challenge is answered by its
        // AuthPayload, and nothing (not even expiry) is recorded on it here.
        let ChallengeKind::Passkeys(ceremony) = challenge.kind() else {
            return Err(VerifyError::WrongOperationForKind {
                kind: challenge.factor_type(),
                operation: "Passkeys/ApproveChallenge",
                use_instead: "the challenge update (AuthPayload)",
            });
        };
        // A terminal or due challenge is answered before any cryptography.
        if let Some(expired) = self.expire_if_due(&challenge, now).await? {
            return Ok(expired);
        }
        // Refuses a terminal challenge (`ChallengeNotPending`, ...) up front.
        challenge.check_answerable(now)?;
        let state = AuthenticationState::from_parts(
            ceremony.options.challenge.clone(),
            ceremony
                .options
                .allow_credentials
                .iter()
                .map(|c| c.id.clone())
                .collect(),
            ceremony.user_handle.clone(),
            challenge.expiration_date(),
        );
        let response = match parsed {
            Ok(response) => response,
            Err(error) => return self.fail_passkey(&challenge, error, now).await,
        };
        let raw_id = response.response().raw_id.as_slice().to_vec();
        let Some(factor) = self
            .store
            .find_factor_by_credential_id(service, &raw_id)
            .await?
        else {
            return self
                .fail_passkey(&challenge, WebauthnError::CredentialNotAllowed, now)
                .await;
        };
        let foreign_entity = challenge
            .entity_sid()
            .is_some_and(|entity| entity != factor.entity_sid());
        let foreign_factor = challenge
            .factor_sid()
            .is_some_and(|sid| sid != factor.sid());
        if foreign_entity || foreign_factor {
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
        let rp = relying_party(config, &config.policy)?;
        let verified = match verify_webauthn::authentication::finish_parsed_authentication(
            &rp, &state, &response, &stored, now,
        ) {
            Ok(verified) => verified,
            Err(error) => return self.fail_passkey(&challenge, error, now).await,
        };
        let paired =
            challenge.approve_passkey(&factor, verified.sign_count, verified.backup_state, now)?;
        let written = self.write_paired(&paired).await;
        if is_conflict(&written) {
            return Err(conflict(Resource::Challenge));
        }
        written?;
        let mut update =
            ChallengeUpdate::written(paired.challenge.challenge, paired.challenge.outcome);
        update.sign_count_regressed = verified.counter_warning && paired.factor.is_some();
        Ok(update)
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

/// The typed ceremony a passkey challenge stores, from the options the WebAuthn crate
/// built and its state (of which only the user handle is not in the options), with
/// the service's `hints` (the options the challenge serves are these).
fn ceremony(
    rp: &RelyingParty,
    options: verify_webauthn::wire::RequestOptionsJson,
    state: &AuthenticationState,
    hints: PasskeyHints,
) -> PasskeyCeremony {
    let allowed = options
        .allow_credentials
        .into_iter()
        .map(|d| AllowedCredential::new(d.id.0, d.transports))
        .collect();
    let options = PasskeyRequestOptions::new(
        options.challenge.0,
        rp.timeout_ms,
        rp.id().to_owned(),
        allowed,
        rp.policy.user_verification.into(),
    )
    .with_hints(hints);
    PasskeyCeremony::new(options, state.user_handle().map(<[u8]>::to_vec))
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
