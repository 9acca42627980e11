//! Registration (WebAuthn L3 §7.1): creation options out, a verified credential record
//! in.

use rand_core::{CryptoRng, RngCore};
use verify_model::UnixTime;

use crate::attestation::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, TrustAnchors,
    verify_statement,
};
use crate::authenticator_data::AuthenticatorData;
use crate::base64url::Base64UrlBytes;
use crate::challenge::CeremonyChallenge;
use crate::client_data::{CeremonyType, CollectedClientData};
use crate::crypto::HashAlgorithm;
use crate::error::{ParseError, WebauthnError};
use crate::extensions::{
    RegistrationExtensionOutputs, RegistrationExtensions, check_registration_outputs,
};
use crate::limits::{
    MAX_ATTESTATION_OBJECT_BYTES, MAX_CBOR_DEPTH, MAX_CLIENT_DATA_JSON_BYTES,
    MAX_CREDENTIAL_DESCRIPTORS, MAX_USER_HANDLE_BYTES,
};
use crate::policy::{
    AttestationConveyance, AttestationTrust, BackupEligibleRegistration, CeremonyPolicy, Hint,
    UserVerification, hint_strings,
};
use crate::relying_party::{AuthenticatorAttachment, DiscoverableCredentials, RelyingParty};
use crate::wire::{
    AuthenticatorSelection, CreationOptionsJson, CredentialDescriptor, PubKeyCredParam,
    RegistrationResponseJson, RpEntity, UserEntity,
};

pub use crate::challenge::{CHALLENGE_BYTES, MAX_CHALLENGE_PREFIX_BYTES};

/// A decoded attestation object (`{fmt, attStmt, authData}`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AttestationObject {
    /// `fmt`.
    pub format: String,
    /// `attStmt`: a CBOR map; for `fmt` `compound` (WebAuthn L3 §8.9), an array.
    pub statement: ciborium::Value,
    /// `authData`, raw.
    pub auth_data: Vec<u8>,
}

impl AttestationObject {
    /// Decodes an attestation object: a CBOR map with `fmt` (text), `attStmt` (map;
    /// array only when `fmt` is `compound`) and `authData` (bytes), each exactly
    /// once, and nothing after it.
    ///
    /// # Errors
    /// [`ParseError`] naming what is malformed.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        const FIELD: &str = "attestationObject";
        if bytes.len() > MAX_ATTESTATION_OBJECT_BYTES {
            return Err(ParseError::TooLarge {
                field: FIELD,
                len: bytes.len(),
                max: MAX_ATTESTATION_OBJECT_BYTES,
            });
        }
        let mut rest = bytes;
        let value: ciborium::Value =
            ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_CBOR_DEPTH).map_err(
                |_| ParseError::Cbor {
                    field: FIELD,
                    reason: "malformed, truncated or nested too deeply",
                },
            )?;
        if !rest.is_empty() {
            return Err(ParseError::TrailingBytes {
                field: FIELD,
                count: rest.len(),
            });
        }
        let ciborium::Value::Map(entries) = value else {
            return Err(ParseError::Cbor {
                field: FIELD,
                reason: "not a map",
            });
        };
        let (mut format, mut statement, mut auth_data) = (None, None, None);
        fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), ParseError> {
            if slot.replace(value).is_some() {
                return Err(ParseError::Cbor {
                    field: FIELD,
                    reason: "duplicate key",
                });
            }
            Ok(())
        }
        for (key, value) in entries {
            match (key.as_text(), value) {
                (Some("fmt"), ciborium::Value::Text(t)) => set_once(&mut format, t)?,
                (Some("attStmt"), v @ (ciborium::Value::Map(_) | ciborium::Value::Array(_))) => {
                    set_once(&mut statement, v)?;
                }
                (Some("authData"), ciborium::Value::Bytes(b)) => set_once(&mut auth_data, b)?,
                (Some("fmt" | "attStmt" | "authData"), _) => {
                    return Err(ParseError::Cbor {
                        field: FIELD,
                        reason: "fmt, attStmt or authData has the wrong type",
                    });
                }
                _ => {}
            }
        }
        // Checked after the loop: `fmt` may come after `attStmt` in the map.
        if statement.as_ref().is_some_and(ciborium::Value::is_array)
            && format.as_deref() != Some(AttestationFormat::Compound.name())
        {
            return Err(ParseError::Cbor {
                field: FIELD,
                reason: "fmt, attStmt or authData has the wrong type",
            });
        }
        match (format, statement, auth_data) {
            (Some(format), Some(statement), Some(auth_data)) => Ok(Self {
                format,
                statement,
                auth_data,
            }),
            _ => Err(ParseError::Cbor {
                field: FIELD,
                reason: "fmt, attStmt or authData missing",
            }),
        }
    }
}

/// What a registration is checked against.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RegistrationInput<'a> {
    /// The RP ID.
    pub rp_id: &'a str,
    /// The accepted origins.
    pub origins: &'a [String],
    /// The challenge issued for this ceremony.
    pub challenge: &'a [u8],
    /// The policies.
    pub policy: &'a CeremonyPolicy,
    /// The attestation trust anchors.
    pub trust: &'a TrustAnchors,
    /// The current time (certificate validity).
    pub now: UnixTime,
    /// The extensions the ceremony requested (default: none): their outputs are
    /// checked and reported in [`VerifiedRegistration::extensions`].
    pub extensions: &'a RegistrationExtensions,
    /// Whether the ceremony was a conditional create (default false): the host
    /// called `navigator.credentials.create` with `mediation: "conditional"`.
    /// WebAuthn L3 §7.1 then does not require the UP flag; user verification is
    /// still checked by [`CeremonyPolicy::user_verification`]. Set it with
    /// [`with_conditional_mediation`](Self::with_conditional_mediation).
    pub conditional_mediation: bool,
}

/// What `RegistrationInput::new` requests: nothing.
static NO_EXTENSIONS: RegistrationExtensions = RegistrationExtensions::NONE;

impl<'a> RegistrationInput<'a> {
    /// The same inputs for a ceremony that requested `extensions`.
    #[must_use]
    pub const fn with_extensions(mut self, extensions: &'a RegistrationExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// The same inputs for a conditional create (`mediation: "conditional"`, e.g.
    /// a passkey upgrade after a password sign-in): the UP flag is not required for
    /// this ceremony. UV is checked as before, and authentication ceremonies are
    /// not affected.
    #[must_use]
    pub const fn with_conditional_mediation(mut self) -> Self {
        self.conditional_mediation = true;
        self
    }

    /// Bundles the inputs.
    #[must_use]
    pub const fn new(
        rp_id: &'a str,
        origins: &'a [String],
        challenge: &'a [u8],
        policy: &'a CeremonyPolicy,
        trust: &'a TrustAnchors,
        now: UnixTime,
    ) -> Self {
        Self {
            rp_id,
            origins,
            challenge,
            policy,
            trust,
            now,
            extensions: &NO_EXTENSIONS,
            conditional_mediation: false,
        }
    }
}

/// The credential to persist after a registration: everything later ceremonies and
/// policy decisions need.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct CredentialRecord {
    /// The credential id.
    pub id: Base64UrlBytes,
    /// The COSE_Key exactly as the authenticator encoded it.
    pub public_key_cose: Base64UrlBytes,
    /// Its COSE algorithm identifier.
    pub algorithm: i64,
    /// The sign count at registration.
    pub sign_count: u32,
    /// The transports the client reported, the known ones only
    /// ([`known_transports`](crate::wire::known_transports)); a record stored by an
    /// earlier release with other values reads with them dropped.
    #[serde(deserialize_with = "crate::wire::deserialize_transports")]
    pub transports: Vec<String>,
    /// BE at registration (never changes for a credential).
    pub backup_eligible: bool,
    /// BS at registration (may change; update it after each authentication).
    pub backup_state: bool,
    /// The AAGUID, lower-case 8-4-4-4-12.
    pub aaguid: String,
    /// The attestation format (`"none"`, `"packed"`, ...).
    pub attestation_format: String,
    /// The attestation type (`"none"`, `"self"`, `"basic"`, `"attca"`, `"anonca"`).
    pub attestation_type: String,
    /// Whether the attestation chain reached a trust anchor.
    pub attestation_trusted: bool,
    /// UV at registration.
    pub user_verified: bool,
    /// The user handle the credential was created for, when known (ceremony API).
    pub user_handle: Option<Base64UrlBytes>,
}

/// A verified registration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedRegistration {
    /// The record to persist.
    pub credential: CredentialRecord,
    /// The attestation format.
    pub attestation_format: AttestationFormat,
    /// The attestation type.
    pub attestation_type: AttestationType,
    /// The attestation certificates, leaf first (empty for none, self and
    /// compound).
    pub trust_path: Vec<Vec<u8>>,
    /// For a `compound` attestation, each inner statement's result (format, type,
    /// trust path, trusted), in `attStmt` order; empty otherwise.
    pub inner_statements: Vec<crate::attestation::VerifiedStatement>,
    /// The requested extensions' outputs (client outputs are not signed: see
    /// [`RegistrationExtensionOutputs`]).
    pub extensions: RegistrationExtensionOutputs,
}

/// Formats an AAGUID as a lower-case 8-4-4-4-12 UUID.
#[must_use]
pub fn format_aaguid(aaguid: &[u8; 16]) -> String {
    let hex: String = aaguid.iter().map(|b| format!("{b:02x}")).collect();
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// Verifies a registration response against explicit expectations (WebAuthn L3
/// §7.1 steps 5-27, without the host's own "is this credential id already registered"
/// lookup).
///
/// # Errors
/// The [`WebauthnError`] naming the first failed check.
pub fn verify_registration(
    input: &RegistrationInput<'_>,
    response: &RegistrationResponseJson,
) -> Result<VerifiedRegistration, WebauthnError> {
    response.check_envelope()?;
    let client_data_json = response.response.client_data_json.as_slice();
    if client_data_json.len() > MAX_CLIENT_DATA_JSON_BYTES {
        return Err(ParseError::TooLarge {
            field: "clientDataJSON",
            len: client_data_json.len(),
            max: MAX_CLIENT_DATA_JSON_BYTES,
        }
        .into());
    }
    let client_data = CollectedClientData::parse(client_data_json)?;
    client_data.check(
        CeremonyType::Create,
        input.challenge,
        input.origins,
        &input.policy.cross_origin,
    )?;
    let client_data_hash: [u8; 32] = sha256(client_data_json);

    let object = AttestationObject::parse(response.response.attestation_object.as_slice())?;
    let auth_data = AuthenticatorData::parse(&object.auth_data)?;
    if auth_data.rp_id_hash != sha256(input.rp_id.as_bytes()) {
        return Err(WebauthnError::RpIdHashMismatch {
            rp_id: input.rp_id.to_owned(),
        });
    }
    // §7.1: "If options.mediation is not set to conditional, verify that the UP
    // bit of the flags in authData is set."
    if !input.conditional_mediation && !auth_data.flags.user_present() {
        return Err(WebauthnError::UserNotPresent);
    }
    if input.policy.user_verification == UserVerification::Required
        && !auth_data.flags.user_verified()
    {
        return Err(WebauthnError::UserVerificationRequired);
    }
    let attested = auth_data
        .attested_credential_data
        .as_ref()
        .ok_or(WebauthnError::AttestedCredentialDataMissing)?;
    if attested.credential_id != response.raw_id.as_slice() {
        return Err(WebauthnError::CredentialIdMismatch);
    }
    let algorithm = attested.public_key.algorithm();
    if !input.policy.algorithms.contains(&algorithm) {
        return Err(WebauthnError::AlgorithmNotAllowed {
            algorithm: attested.public_key.cose_algorithm(),
            allowed: input
                .policy
                .algorithms
                .iter()
                .filter_map(|a| a.cose())
                .collect(),
        });
    }
    let format = AttestationFormat::from_name(&object.format).ok_or_else(|| {
        ParseError::UnknownAttestationFormat {
            format: object.format.clone(),
        }
    })?;
    let statement = verify_statement(
        format,
        &StatementInput::new(
            &object.auth_data,
            &client_data_hash,
            attested.aaguid,
            &attested.credential_id,
            attested.public_key.material(),
            algorithm,
            &object.statement,
            input.now,
            input.trust,
            &input.policy.attestation,
        ),
    )?;
    // An AAGUID the anchors refuse (a compromise status in FIDO metadata) is refused
    // under every trust policy and format. For `none` and self attestation the AAGUID
    // is unsigned: refusing on it fails closed, and nothing here trusts it.
    if let Some(check) = input.trust.refusal(&attested.aaguid) {
        return Err(AttestationError::MdsCheck { check }.into());
    }
    if input.policy.attestation_trust == AttestationTrust::RequireTrusted
        && (!statement.trusted
            || matches!(
                statement.attestation_type,
                AttestationType::None | AttestationType::SelfAttestation
            ))
    {
        return Err(WebauthnError::AttestationNotTrusted {
            format: statement.format.name(),
            attestation_type: statement.attestation_type.name(),
        });
    }
    check_registration_policy(input.policy, &auth_data, attested.aaguid, &statement)?;
    let extensions = check_registration_outputs(
        input.extensions,
        &response.client_extension_results,
        &auth_data.extension_outputs,
        &attested.credential_id,
    )?;
    Ok(VerifiedRegistration {
        credential: CredentialRecord {
            id: Base64UrlBytes(attested.credential_id.clone()),
            public_key_cose: Base64UrlBytes(attested.public_key.as_bytes().to_vec()),
            algorithm: attested.public_key.cose_algorithm(),
            sign_count: auth_data.sign_count,
            transports: crate::wire::known_transports(&response.response.transports),
            backup_eligible: auth_data.flags.backup_eligible(),
            backup_state: auth_data.flags.backup_state(),
            aaguid: format_aaguid(&attested.aaguid),
            attestation_format: statement.format.name().to_owned(),
            attestation_type: statement.attestation_type.name().to_owned(),
            attestation_trusted: statement.trusted,
            user_verified: auth_data.flags.user_verified(),
            user_handle: None,
        },
        attestation_format: statement.format,
        attestation_type: statement.attestation_type,
        trust_path: statement.trust_path,
        inner_statements: statement.inner,
        extensions,
    })
}

/// The backup-eligibility and AAGUID rules of `policy` (see
/// [`AaguidPolicy`](crate::policy::AaguidPolicy)): the deny-list applies to the
/// AAGUID as written, the allow-list only to one a trusted attestation signed.
fn check_registration_policy(
    policy: &CeremonyPolicy,
    auth_data: &AuthenticatorData<'_>,
    aaguid: [u8; 16],
    statement: &crate::attestation::VerifiedStatement,
) -> Result<(), WebauthnError> {
    if policy.backup_eligible_registration == BackupEligibleRegistration::Refuse
        && auth_data.flags.backup_eligible()
    {
        return Err(WebauthnError::BackupEligibleRefused);
    }
    if policy.aaguids.deny.contains(&aaguid) {
        return Err(WebauthnError::AaguidDenied {
            aaguid: format_aaguid(&aaguid),
        });
    }
    if !policy.aaguids.allow.is_empty() {
        let attested = statement.trusted
            && !matches!(
                statement.attestation_type,
                AttestationType::None | AttestationType::SelfAttestation
            )
            && !matches!(
                statement.format,
                AttestationFormat::None | AttestationFormat::FidoU2f
            );
        if !attested || !policy.aaguids.allow.contains(&aaguid) {
            return Err(WebauthnError::AaguidNotAllowed {
                aaguid: format_aaguid(&aaguid),
                attested,
            });
        }
    }
    Ok(())
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = HashAlgorithm::Sha256.digest(bytes);
    let mut out = [0_u8; 32];
    for (o, d) in out.iter_mut().zip(digest.iter()) {
        *o = *d;
    }
    out
}

pub(crate) fn random_challenge<R>(rng: &mut R) -> Vec<u8>
where
    R: RngCore + CryptoRng + ?Sized,
{
    CeremonyChallenge::random(rng).into_bytes()
}

pub(crate) fn expiry(now: UnixTime, timeout_ms: u32) -> UnixTime {
    now.saturating_add(std::time::Duration::from_millis(u64::from(timeout_ms)))
}

pub(crate) fn check_expiry(expires_at: UnixTime, now: UnixTime) -> Result<(), WebauthnError> {
    if now > expires_at {
        return Err(WebauthnError::CeremonyExpired {
            expires_at: expires_at.as_secs(),
            now: now.as_secs(),
        });
    }
    Ok(())
}

/// The server-side state of a registration: store it (it is a serde value) until the
/// browser's response arrives, then pass it to [`finish_registration`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistrationState {
    challenge: Base64UrlBytes,
    user_id: Base64UrlBytes,
    exclude: Vec<Base64UrlBytes>,
    expires_at: UnixTime,
    /// Absent in states stored before extensions existed: nothing requested.
    #[serde(default, skip_serializing_if = "RegistrationExtensions::is_empty")]
    extensions: RegistrationExtensions,
    /// A conditional create (absent in states stored before it existed: false).
    #[serde(default, skip_serializing_if = "is_false")]
    conditional_mediation: bool,
}

const fn is_false(value: &bool) -> bool {
    !*value
}

impl RegistrationState {
    /// The state from its parts, as a host stored them: the challenge, the user
    /// handle, the excluded credential ids and when the ceremony stops being
    /// answerable.
    #[must_use]
    pub fn from_parts(
        challenge: Vec<u8>,
        user_id: Vec<u8>,
        exclude: Vec<Vec<u8>>,
        expires_at: UnixTime,
    ) -> Self {
        Self {
            challenge: Base64UrlBytes(challenge),
            user_id: Base64UrlBytes(user_id),
            exclude: exclude.into_iter().map(Base64UrlBytes).collect(),
            expires_at,
            extensions: RegistrationExtensions::default(),
            conditional_mediation: false,
        }
    }

    /// The same state for a ceremony that requested `extensions` (a host that
    /// stores the parts also stores [`extensions`](Self::extensions), which
    /// [`into_parts`](Self::into_parts) leaves out).
    #[must_use]
    pub fn with_extensions(mut self, extensions: RegistrationExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// The extensions the ceremony requested.
    #[must_use]
    pub const fn extensions(&self) -> &RegistrationExtensions {
        &self.extensions
    }

    /// The same state for a conditional create (see
    /// [`RegistrationOptions::with_conditional_mediation`]; a host that stores the
    /// parts also stores [`conditional_mediation`](Self::conditional_mediation),
    /// which [`into_parts`](Self::into_parts) leaves out).
    #[must_use]
    pub const fn with_conditional_mediation(mut self) -> Self {
        self.conditional_mediation = true;
        self
    }

    /// Whether the ceremony is a conditional create: [`finish_registration`] then
    /// does not require the UP flag.
    #[must_use]
    pub const fn conditional_mediation(&self) -> bool {
        self.conditional_mediation
    }

    /// The parts [`RegistrationState::from_parts`] takes, in its order.
    #[must_use]
    pub fn into_parts(self) -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>, UnixTime) {
        (
            self.challenge.0,
            self.user_id.0,
            self.exclude.into_iter().map(|id| id.0).collect(),
            self.expires_at,
        )
    }
}

/// Starts a registration: creation options for the browser and the state to keep.
///
/// `existing` are the user's credentials (they become `excludeCredentials`).
///
/// # Errors
/// [`WebauthnError::InvalidConfig`] when the user handle is empty or longer than 64
/// bytes, or the policy allows no algorithm.
pub fn start_registration<R>(
    rp: &RelyingParty,
    user: &UserEntity,
    existing: &[CredentialDescriptor],
    now: UnixTime,
    rng: &mut R,
) -> Result<(CreationOptionsJson, RegistrationState), WebauthnError>
where
    R: RngCore + CryptoRng + ?Sized,
{
    start_registration_with_prefix(rp, user, existing, &[], now, rng)
}

/// Starts a registration whose challenge is `challenge_prefix` followed by
/// [`CHALLENGE_BYTES`] random bytes from `rng`.
///
/// The prefix is for routing, not secrecy: a host that receives the browser's bare
/// `RegistrationResponseJSON` can read the prefix back with
/// [`RegistrationResponseJson::claimed_challenge`] (e.g. the id of the row holding
/// the [`RegistrationState`]) and load the state it names.
/// [`finish_registration`] then compares the **whole** stored challenge in
/// constant time, so a forged prefix naming another row fails with
/// [`WebauthnError::ChallengeMismatch`]: the random part stays unguessable.
///
/// # Errors
/// [`WebauthnError::ChallengePrefixTooLong`] above [`MAX_CHALLENGE_PREFIX_BYTES`];
/// the errors of [`start_registration`].
pub fn start_registration_with_prefix<R>(
    rp: &RelyingParty,
    user: &UserEntity,
    existing: &[CredentialDescriptor],
    challenge_prefix: &[u8],
    now: UnixTime,
    rng: &mut R,
) -> Result<(CreationOptionsJson, RegistrationState), WebauthnError>
where
    R: RngCore + CryptoRng + ?Sized,
{
    let challenge = CeremonyChallenge::with_prefix(challenge_prefix, rng)?;
    start_registration_with_challenge(rp, user, existing, challenge, now)
}

/// Starts a registration on a challenge made by [`CeremonyChallenge`] (for example
/// [`CeremonyChallenge::with_text_prefix`], for clients that decode it with `atob`).
///
/// # Errors
/// As [`start_registration`].
pub fn start_registration_with_challenge(
    rp: &RelyingParty,
    user: &UserEntity,
    existing: &[CredentialDescriptor],
    challenge: CeremonyChallenge,
    now: UnixTime,
) -> Result<(CreationOptionsJson, RegistrationState), WebauthnError> {
    start_registration_with_options(
        rp,
        user,
        existing,
        challenge,
        &RegistrationOptions::default(),
        now,
    )
}

/// Per-ceremony creation options beyond the [`RelyingParty`]'s configuration: a
/// plain serde value, so a host can keep it in its configuration and thread it
/// through. The default adds nothing (the options are those of
/// [`start_registration`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RegistrationOptions {
    /// The extensions requested; their outputs are checked by
    /// [`finish_registration`] (the state remembers them).
    pub extensions: RegistrationExtensions,
    /// `hints`, most preferred first (repeats dropped).
    pub hints: Vec<Hint>,
    /// `attestation`: overrides [`RelyingParty::attestation`] when set.
    pub attestation: Option<AttestationConveyance>,
    /// `attestationFormats`, most preferred first (repeats dropped). A client may
    /// ignore it; what [`finish_registration`] accepts is not narrowed by it.
    pub attestation_formats: Vec<AttestationFormat>,
    /// A conditional create (default false): see
    /// [`with_conditional_mediation`](Self::with_conditional_mediation).
    #[serde(skip_serializing_if = "is_false")]
    pub conditional_mediation: bool,
}

impl RegistrationOptions {
    /// The default: nothing beyond the relying party's configuration.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests `extensions`.
    #[must_use]
    pub fn with_extensions(mut self, extensions: RegistrationExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// Sets `hints`.
    #[must_use]
    pub fn with_hints(mut self, hints: Vec<Hint>) -> Self {
        self.hints = hints;
        self
    }

    /// Sets the attestation conveyance for this ceremony.
    #[must_use]
    pub const fn with_attestation(mut self, attestation: AttestationConveyance) -> Self {
        self.attestation = Some(attestation);
        self
    }

    /// Sets `attestationFormats`.
    #[must_use]
    pub fn with_attestation_formats(mut self, formats: Vec<AttestationFormat>) -> Self {
        self.attestation_formats = formats;
        self
    }

    /// Marks the ceremony as a conditional create, for passkey upgrades (WebAuthn
    /// L3 §7.1: "If options.mediation is not set to conditional, verify that the UP
    /// bit of the flags in authData is set"). The state remembers it, and
    /// [`finish_registration`] then accepts a response without UP; UV is still
    /// checked against the relying party's policy, and authentication ceremonies
    /// always require UP.
    ///
    /// The creation options JSON is unchanged: `mediation` is a parameter of
    /// `navigator.credentials.create`, not of `PublicKeyCredentialCreationOptions`,
    /// so the host passes it to the browser itself:
    /// `navigator.credentials.create({ mediation: "conditional", publicKey })`.
    /// Use it only for ceremonies started that way.
    #[must_use]
    pub const fn with_conditional_mediation(mut self) -> Self {
        self.conditional_mediation = true;
        self
    }
}

/// Starts a registration as [`start_registration_with_challenge`] does, with
/// per-ceremony [`RegistrationOptions`]: extension inputs, `hints`,
/// `attestationFormats`, the attestation conveyance and conditional mediation. The
/// returned state remembers the requested extensions and whether the ceremony is a
/// conditional create for [`finish_registration`].
///
/// # Errors
/// As [`start_registration`]; [`WebauthnError::InvalidConfig`] for extension
/// inputs no client would take (see [`RegistrationExtensions::to_json`]).
pub fn start_registration_with_options(
    rp: &RelyingParty,
    user: &UserEntity,
    existing: &[CredentialDescriptor],
    challenge: CeremonyChallenge,
    options: &RegistrationOptions,
    now: UnixTime,
) -> Result<(CreationOptionsJson, RegistrationState), WebauthnError> {
    let extensions = options.extensions.to_json()?;
    let mut attestation_formats: Vec<String> = Vec::new();
    for format in &options.attestation_formats {
        if !attestation_formats.iter().any(|f| f == format.name()) {
            attestation_formats.push(format.name().to_owned());
        }
    }
    let user_id = user.id.as_slice();
    if user_id.is_empty() || user_id.len() > MAX_USER_HANDLE_BYTES {
        return Err(WebauthnError::InvalidConfig {
            what: format!("user handle of {} bytes (must be 1..=64)", user_id.len()),
        });
    }
    let params: Vec<PubKeyCredParam> = rp
        .policy
        .algorithms
        .iter()
        .filter_map(|a| a.cose())
        .map(|alg| PubKeyCredParam {
            credential_type: "public-key".to_owned(),
            alg,
        })
        .collect();
    if params.is_empty() {
        return Err(WebauthnError::InvalidConfig {
            what: "no credential algorithms allowed".to_owned(),
        });
    }
    let challenge = challenge.into_bytes();
    let exclude: Vec<CredentialDescriptor> = existing
        .iter()
        .take(MAX_CREDENTIAL_DESCRIPTORS)
        .cloned()
        .collect();
    let creation = CreationOptionsJson {
        rp: RpEntity {
            id: Some(rp.id().to_owned()),
            name: rp.name().to_owned(),
        },
        user: user.clone(),
        challenge: Base64UrlBytes(challenge.clone()),
        pub_key_cred_params: params,
        timeout: Some(rp.timeout_ms),
        exclude_credentials: exclude.clone(),
        authenticator_selection: Some(AuthenticatorSelection {
            authenticator_attachment: match rp.authenticator_attachment {
                AuthenticatorAttachment::Platform => Some("platform".to_owned()),
                AuthenticatorAttachment::CrossPlatform => Some("cross-platform".to_owned()),
                AuthenticatorAttachment::Any => None,
            },
            resident_key: Some(rp.discoverable_credentials.as_str().to_owned()),
            require_resident_key: rp.discoverable_credentials == DiscoverableCredentials::Required,
            user_verification: Some(rp.policy.user_verification.as_str().to_owned()),
        }),
        hints: hint_strings(&options.hints),
        attestation: Some(
            options
                .attestation
                .unwrap_or(rp.attestation)
                .as_str()
                .to_owned(),
        ),
        attestation_formats,
        extensions,
    };
    let state = RegistrationState {
        challenge: Base64UrlBytes(challenge),
        user_id: user.id.clone(),
        exclude: exclude.into_iter().map(|d| d.id).collect(),
        expires_at: expiry(now, rp.timeout_ms),
        extensions: options.extensions.clone(),
        conditional_mediation: options.conditional_mediation,
    };
    Ok((creation, state))
}

/// Finishes a registration started with [`start_registration`].
///
/// UP is required unless the state is a conditional create
/// ([`RegistrationState::conditional_mediation`]).
///
/// # Errors
/// [`WebauthnError::CeremonyExpired`], [`WebauthnError::CredentialExcluded`], or any
/// error of [`verify_registration`].
pub fn finish_registration(
    rp: &RelyingParty,
    state: &RegistrationState,
    response: &RegistrationResponseJson,
    now: UnixTime,
    trust: &TrustAnchors,
) -> Result<VerifiedRegistration, WebauthnError> {
    check_expiry(state.expires_at, now)?;
    let input = RegistrationInput::new(
        rp.id(),
        rp.origins(),
        state.challenge.as_slice(),
        &rp.policy,
        trust,
        now,
    )
    .with_extensions(&state.extensions);
    let input = if state.conditional_mediation {
        input.with_conditional_mediation()
    } else {
        input
    };
    let mut verified = verify_registration(&input, response)?;
    if state.exclude.contains(&verified.credential.id) {
        return Err(WebauthnError::CredentialExcluded);
    }
    verified.credential.user_handle = Some(state.user_id.clone());
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(value: &ciborium::Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(value, &mut bytes).unwrap();
        bytes
    }

    fn object(entries: Vec<(&str, ciborium::Value)>) -> Vec<u8> {
        encode(&ciborium::Value::Map(
            entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }

    #[test]
    fn backup_eligibility_and_aaguid_policy() {
        use crate::policy::AaguidPolicy;
        let listed = [7_u8; 16];
        let other = [9_u8; 16];
        let mut synced_bytes = vec![0_u8; 37];
        synced_bytes[32] = 0x01 | 0x08; // UP, BE
        let mut bound_bytes = vec![0_u8; 37];
        bound_bytes[32] = 0x01; // UP
        let synced = AuthenticatorData::parse(&synced_bytes).unwrap();
        let device_bound = AuthenticatorData::parse(&bound_bytes).unwrap();
        let statement = |format, attestation_type, trusted| crate::attestation::VerifiedStatement {
            format,
            attestation_type,
            trust_path: Vec::new(),
            trusted,
            inner: Vec::new(),
        };
        let basic = statement(AttestationFormat::Packed, AttestationType::Basic, true);
        let untrusted = statement(AttestationFormat::Packed, AttestationType::Basic, false);
        let none = statement(AttestationFormat::None, AttestationType::None, true);
        let u2f = statement(AttestationFormat::FidoU2f, AttestationType::Basic, true);
        let code = |policy: &CeremonyPolicy, data, aaguid, st| {
            check_registration_policy(policy, data, aaguid, st).map_err(|e| e.code())
        };

        let mut policy = CeremonyPolicy::default();
        assert_eq!(code(&policy, &synced, other, &none), Ok(()));
        policy.backup_eligible_registration = BackupEligibleRegistration::Refuse;
        assert_eq!(
            code(&policy, &synced, other, &basic),
            Err("backup_eligible_refused")
        );
        assert_eq!(code(&policy, &device_bound, other, &none), Ok(()));

        // The deny-list refuses even an unsigned AAGUID.
        policy.aaguids = AaguidPolicy::new(Vec::new(), vec![listed]);
        assert_eq!(
            code(&policy, &device_bound, listed, &none),
            Err("aaguid_denied")
        );
        assert_eq!(code(&policy, &device_bound, other, &none), Ok(()));

        // The allow-list grants only a trusted, AAGUID-signing attestation.
        policy.aaguids = AaguidPolicy::new(vec![listed], Vec::new());
        assert_eq!(code(&policy, &device_bound, listed, &basic), Ok(()));
        for st in [&none, &untrusted, &u2f] {
            assert!(matches!(
                check_registration_policy(&policy, &device_bound, listed, st),
                Err(WebauthnError::AaguidNotAllowed {
                    attested: false,
                    ..
                })
            ));
        }
        assert!(matches!(
            check_registration_policy(&policy, &device_bound, other, &basic),
            Err(WebauthnError::AaguidNotAllowed { attested: true, .. })
        ));
    }

    /// The W3C L3 vector `sctn-test-vectors-<suffix>`'s registration response,
    /// challenge and AAGUID, and the vectors' attestation root.
    fn w3c_registration(suffix: &str) -> (RegistrationResponseJson, Vec<u8>, [u8; 16], Vec<u8>) {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../testdata/webauthn-l3-test-vectors.json"))
                .unwrap();
        let find = |id: &str| {
            all["vectors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["id"] == format!("sctn-test-vectors-{id}").as_str())
                .unwrap()
                .clone()
        };
        let hex = |v: &serde_json::Value| hex::decode(v.as_str().unwrap()).unwrap();
        let v = find(suffix);
        let outputs = &v["registration"]["outputs"];
        let gen_inputs = &v["registration"]["generator_inputs"];
        let id = crate::base64url::encode(&hex(&gen_inputs["credential_id"]));
        let json = serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": crate::base64url::encode(&hex(&outputs["clientDataJSON"])),
                "attestationObject": crate::base64url::encode(&hex(&outputs["attestationObject"])),
            },
            "clientExtensionResults": {},
        });
        let response = RegistrationResponseJson::from_json(&json.to_string()).unwrap();
        let aaguid: [u8; 16] = hex(&gen_inputs["aaguid"]).try_into().unwrap();
        let root = hex(&find("attestation-root-cert")["attestation_ca_cert_der_hex"]);
        (
            response,
            hex(&v["registration"]["inputs"]["challenge"]),
            aaguid,
            root,
        )
    }

    #[test]
    fn an_allow_list_grants_a_trusted_packed_attestation_w3c() {
        use crate::attestation::AnchorScope;
        use crate::policy::AaguidPolicy;
        let (response, challenge, aaguid, root) = w3c_registration("packed-es256");
        let mut trusted = TrustAnchors::new();
        trusted.add_der(AnchorScope::All, &root).unwrap();
        let untrusted = TrustAnchors::new();
        let origins = vec!["https://example.org".to_owned()];
        // 2026-01-01, inside the vectors' certificate validity.
        let now = UnixTime::from_secs(1_767_225_600);
        let run = |allow: Vec<[u8; 16]>, trust: &TrustAnchors| {
            let policy = CeremonyPolicy {
                aaguids: AaguidPolicy::new(allow, Vec::new()),
                ..CeremonyPolicy::default()
            };
            let input =
                RegistrationInput::new("example.org", &origins, &challenge, &policy, trust, now);
            verify_registration(&input, &response).map(|_| ())
        };
        assert!(run(vec![aaguid], &trusted).is_ok());
        assert!(matches!(
            run(vec![[0x11; 16]], &trusted),
            Err(WebauthnError::AaguidNotAllowed { attested: true, .. })
        ));
        // The same statement without an anchor: its AAGUID is signed by nobody
        // trusted, so the list cannot grant it.
        assert!(matches!(
            run(vec![aaguid], &untrusted),
            Err(WebauthnError::AaguidNotAllowed {
                attested: false,
                ..
            })
        ));
        // And a `none` attestation never satisfies it, even trusted anchors set.
        let (none, none_challenge, none_aaguid, _) = w3c_registration("none-es256");
        let policy = CeremonyPolicy {
            aaguids: AaguidPolicy::new(vec![none_aaguid], Vec::new()),
            ..CeremonyPolicy::default()
        };
        let input = RegistrationInput::new(
            "example.org",
            &origins,
            &none_challenge,
            &policy,
            &trusted,
            now,
        );
        assert!(matches!(
            verify_registration(&input, &none),
            Err(WebauthnError::AaguidNotAllowed {
                attested: false,
                ..
            })
        ));
    }

    #[test]
    fn attestation_object_shape() {
        let good = object(vec![
            ("fmt", "none".into()),
            ("attStmt", ciborium::Value::Map(vec![])),
            ("authData", ciborium::Value::Bytes(vec![1, 2, 3])),
        ]);
        let parsed = AttestationObject::parse(&good).unwrap();
        assert_eq!(parsed.format, "none");
        assert_eq!(parsed.auth_data, [1, 2, 3]);
        let duplicate = object(vec![
            ("fmt", "none".into()),
            ("fmt", "packed".into()),
            ("attStmt", ciborium::Value::Map(vec![])),
            ("authData", ciborium::Value::Bytes(vec![])),
        ]);
        assert!(matches!(
            AttestationObject::parse(&duplicate),
            Err(ParseError::Cbor {
                reason: "duplicate key",
                ..
            })
        ));
        let missing = object(vec![("fmt", "none".into())]);
        assert!(AttestationObject::parse(&missing).is_err());
        let wrong_type = object(vec![
            ("fmt", "none".into()),
            ("attStmt", ciborium::Value::Array(vec![])),
            ("authData", ciborium::Value::Bytes(vec![])),
        ]);
        assert!(AttestationObject::parse(&wrong_type).is_err());
        let mut trailing = good;
        trailing.push(0);
        assert!(matches!(
            AttestationObject::parse(&trailing),
            Err(ParseError::TrailingBytes { count: 1, .. })
        ));
        let deep = [vec![0x81_u8; 10_000], vec![0]].concat();
        assert!(AttestationObject::parse(&deep).is_err());
    }

    #[test]
    fn aaguid_format() {
        let aaguid = [
            0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0,
            0x55, 0x03,
        ];
        assert_eq!(
            format_aaguid(&aaguid),
            "adce0002-35bc-c60a-648b-0b25f1f05503"
        );
    }

    mod prefixed {
        use super::*;
        use crate::base64url;
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng as _;

        const ORIGIN: &str = "https://example.org";

        fn rp() -> RelyingParty {
            RelyingParty::new("example.org", "Example", vec![ORIGIN.to_owned()]).unwrap()
        }

        /// A `none`-attestation registration of a P-256 credential answering
        /// `challenge`.
        fn response(challenge: &[u8]) -> RegistrationResponseJson {
            let key = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
            let point = key.verifying_key().to_encoded_point(false);
            let mut auth_data = sha256(b"example.org").to_vec();
            auth_data.push(0x45);
            auth_data.extend_from_slice(&[0; 4]);
            auth_data.extend_from_slice(&[0; 16]);
            auth_data.extend_from_slice(&[0, 16]);
            auth_data.extend_from_slice(&[0xc1; 16]);
            auth_data
                .extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
            auth_data.extend_from_slice(point.x().unwrap());
            auth_data.extend_from_slice(&[0x22, 0x58, 0x20]);
            auth_data.extend_from_slice(point.y().unwrap());
            let attestation = object(vec![
                ("fmt", "none".into()),
                ("attStmt", ciborium::Value::Map(vec![])),
                ("authData", ciborium::Value::Bytes(auth_data)),
            ]);
            let client_data = format!(
                r#"{{"type":"webauthn.create","challenge":"{}","origin":"{ORIGIN}"}}"#,
                base64url::encode(challenge)
            );
            let id = base64url::encode(&[0xc1; 16]);
            RegistrationResponseJson::from_json(
                &serde_json::json!({
                    "id": id, "rawId": id, "type": "public-key",
                    "response": {
                        "clientDataJSON": base64url::encode(client_data.as_bytes()),
                        "attestationObject": base64url::encode(&attestation),
                    },
                })
                .to_string(),
            )
            .unwrap()
        }

        fn start(prefix: &[u8], seed: u64) -> (CreationOptionsJson, RegistrationState) {
            let user = UserEntity::new(b"user-1".to_vec(), "alice", "Alice");
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            start_registration_with_prefix(&rp(), &user, &[], prefix, UnixTime::EPOCH, &mut rng)
                .unwrap()
        }

        #[test]
        fn the_challenge_is_the_prefix_then_32_random_bytes() {
            let (options, state) = start(b"row-a", 1);
            let challenge = options.challenge.as_slice();
            assert_eq!(challenge.len(), 5 + CHALLENGE_BYTES);
            assert!(challenge.starts_with(b"row-a"));
            assert_eq!(state.challenge.as_slice(), challenge);
            // Same prefix, another draw: the random part differs.
            let (other, _) = start(b"row-a", 2);
            assert_ne!(other.challenge, options.challenge);
            // No prefix is start_registration's challenge.
            let (plain, _) = start(b"", 1);
            assert_eq!(plain.challenge.as_slice().len(), CHALLENGE_BYTES);
        }

        #[test]
        fn a_prefix_longer_than_the_limit_is_refused() {
            let user = UserEntity::new(b"user-1".to_vec(), "alice", "Alice");
            let mut rng = ChaCha20Rng::seed_from_u64(3);
            let long = [7_u8; MAX_CHALLENGE_PREFIX_BYTES + 1];
            let result =
                start_registration_with_prefix(&rp(), &user, &[], &long, UnixTime::EPOCH, &mut rng);
            assert!(matches!(
                result,
                Err(WebauthnError::ChallengePrefixTooLong { len: 33, max: 32 })
            ));
            assert!(
                start_registration_with_prefix(
                    &rp(),
                    &user,
                    &[],
                    &long[1..],
                    UnixTime::EPOCH,
                    &mut rng
                )
                .is_ok()
            );
        }

        #[test]
        fn the_claimed_prefix_routes_and_the_whole_challenge_is_checked() {
            let (options, state) = start(b"row-a", 4);
            let (_, state_b) = start(b"row-b", 5);
            let good = response(options.challenge.as_slice());
            assert_eq!(
                good.claimed_challenge().unwrap(),
                options.challenge.as_slice()
            );
            assert!(good.claimed_challenge().unwrap().starts_with(b"row-a"));
            finish_registration(&rp(), &state, &good, UnixTime::EPOCH, &TrustAnchors::new())
                .unwrap();
            // Routed to row b (forged prefix), row a's random part: refused.
            let mut forged = b"row-b".to_vec();
            forged.extend_from_slice(options.challenge.as_slice().get(5..).unwrap());
            let forged = response(&forged);
            assert!(matches!(
                finish_registration(
                    &rp(),
                    &state_b,
                    &forged,
                    UnixTime::EPOCH,
                    &TrustAnchors::new()
                ),
                Err(WebauthnError::ChallengeMismatch)
            ));
            // Row a's state refuses it too.
            assert!(matches!(
                finish_registration(
                    &rp(),
                    &state,
                    &forged,
                    UnixTime::EPOCH,
                    &TrustAnchors::new()
                ),
                Err(WebauthnError::ChallengeMismatch)
            ));
        }

        #[test]
        fn an_undecodable_claimed_challenge_is_a_parse_error() {
            let mut bad = response(b"x");
            bad.response.client_data_json = Base64UrlBytes(
                br#"{"type":"webauthn.create","challenge":"!!","origin":"https://example.org"}"#
                    .to_vec(),
            );
            assert!(bad.claimed_challenge().is_err());
            bad.response.client_data_json = Base64UrlBytes(b"{".to_vec());
            assert!(bad.claimed_challenge().is_err());
        }
    }

    proptest! {
        #[test]
        fn attestation_object_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = AttestationObject::parse(&bytes);
        }

        #[test]
        fn registration_response_never_panics(text in ".{0,300}") {
            if let Ok(response) = RegistrationResponseJson::from_json(&text) {
                let policy = CeremonyPolicy::default();
                let trust = TrustAnchors::new();
                let origins = ["https://example.org".to_owned()];
                let input = RegistrationInput::new("example.org", &origins, b"c", &policy, &trust, UnixTime::EPOCH);
                let _ = verify_registration(&input, &response);
            }
        }
    }
}
