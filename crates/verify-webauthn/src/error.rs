//! [`WebauthnError`]: every check a ceremony can fail, by name, with context.

use crate::attestation::AttestationError;
use crate::crypto::CryptoError;

/// Why a WebAuthn response was rejected.
///
/// Each variant names the check that failed and carries the (non-secret) values that
/// explain it. Signature failures are opaque ([`WebauthnError::SignatureInvalid`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebauthnError {
    /// A part of the response could not be decoded (JSON, base64url, CBOR, COSE,
    /// sizes).
    #[error(transparent)]
    Malformed(#[from] ParseError),
    /// The attestation statement failed one of its format's rules.
    #[error(transparent)]
    Attestation(#[from] AttestationError),
    /// The credential key is unusable: malformed, or its type does not match its
    /// algorithm.
    #[error("credential public key: {0}")]
    Key(CryptoError),
    /// A configuration value handed to the library is unusable (an origin that is not
    /// an https, localhost, android or iOS app origin; an empty RP ID; no algorithms).
    #[error("invalid configuration: {what}")]
    InvalidConfig {
        /// What is wrong.
        what: String,
    },
    /// `clientDataJSON.type` is not the ceremony's (`webauthn.create` or
    /// `webauthn.get`).
    #[error("client data type mismatch: expected {expected}, got {got:?}")]
    TypeMismatch {
        /// The expected type.
        expected: &'static str,
        /// The type received.
        got: String,
    },
    /// `clientDataJSON.challenge` is not the challenge issued for this ceremony.
    #[error("client data challenge does not match the issued challenge")]
    ChallengeMismatch,
    /// `clientDataJSON.origin` is not one of the configured origins.
    #[error("origin mismatch: expected one of {expected:?}, got {got:?}")]
    OriginMismatch {
        /// The configured origins.
        expected: Vec<String>,
        /// The origin received.
        got: String,
    },
    /// `crossOrigin` is true (or a `topOrigin` is present) but the policy rejects
    /// cross-origin ceremonies.
    #[error("cross-origin ceremony rejected by policy (topOrigin {top_origin:?})")]
    CrossOriginRejected {
        /// The `topOrigin` received, if any.
        top_origin: Option<String>,
    },
    /// `topOrigin` is not in the policy's allow-list.
    #[error("top origin {got:?} is not allowed: expected one of {expected:?}")]
    TopOriginMismatch {
        /// The allowed top origins.
        expected: Vec<String>,
        /// The top origin received.
        got: String,
    },
    /// The authenticator data's `rpIdHash` is not SHA-256 of the RP ID.
    #[error("rpIdHash does not match the RP ID {rp_id:?}")]
    RpIdHashMismatch {
        /// The expected RP ID.
        rp_id: String,
    },
    /// The UP (user present) flag is not set.
    #[error("user presence flag (UP) not set")]
    UserNotPresent,
    /// User verification is required but the UV flag is not set.
    #[error("user verification required but the UV flag is not set")]
    UserVerificationRequired,
    /// Registration authenticator data carries no attested credential data (AT clear).
    #[error("registration authenticator data has no attested credential data")]
    AttestedCredentialDataMissing,
    /// Authentication authenticator data carries attested credential data (AT set).
    #[error("assertion authenticator data unexpectedly has attested credential data")]
    UnexpectedAttestedCredentialData,
    /// The credential algorithm is not in the relying party's allowed list.
    #[error("credential algorithm {algorithm} is not allowed: allowed {allowed:?}")]
    AlgorithmNotAllowed {
        /// The COSE algorithm identifier of the credential.
        algorithm: i64,
        /// The allowed COSE algorithm identifiers.
        allowed: Vec<i64>,
    },
    /// The signature (assertion or attestation) did not verify.
    #[error("signature verification failed")]
    SignatureInvalid,
    /// The credential's sign count did not increase (policy: reject).
    #[error("sign count regressed: stored {stored}, got {got}")]
    SignCountRegressed {
        /// The stored count.
        stored: u32,
        /// The count in the assertion.
        got: u32,
    },
    /// The BE (backup eligible) flag differs from the one recorded at registration.
    #[error("backup eligibility changed: stored {stored}, got {got}")]
    BackupEligibilityChanged {
        /// The recorded BE flag.
        stored: bool,
        /// The assertion's BE flag.
        got: bool,
    },
    /// The response's credential id is not the credential being verified against.
    #[error("credential id does not match the stored credential")]
    CredentialIdMismatch,
    /// The credential id is not one of the ceremony's `allowCredentials`.
    #[error("credential was not in allowCredentials")]
    CredentialNotAllowed,
    /// The credential id is already registered (it was in `excludeCredentials`).
    #[error("credential is already registered")]
    CredentialExcluded,
    /// The assertion's `userHandle` is missing where it is required (discoverable
    /// sign-in).
    #[error("userHandle missing in a discoverable (usernameless) assertion")]
    UserHandleMissing,
    /// The assertion's `userHandle` is not the user the credential belongs to.
    #[error("userHandle does not match the credential's user")]
    UserHandleMismatch,
    /// The stored credential records no owner (no
    /// [`with_user_handle`](crate::authentication::StoredCredential::with_user_handle))
    /// where its owner decides: a sign-in by an identified user whose ceremony was
    /// started with an empty allow-list, or a discoverable sign-in (WebAuthn L3 §7.2
    /// step 6). Fail closed: the host must record the owner's user handle.
    #[error("the credential's owner is unknown: it cannot be shown to belong to the user")]
    CredentialOwnerUnknown,
    /// The attestation did not reach a trust anchor and the policy requires it.
    #[error("attestation ({format}, {attestation_type}) is not trusted and policy requires trust")]
    AttestationNotTrusted {
        /// The attestation format.
        format: &'static str,
        /// The attestation type.
        attestation_type: &'static str,
    },
    /// The credential is backup eligible (BE set: a synced passkey) and the policy
    /// refuses those at registration.
    #[error("backup-eligible credentials are refused by policy")]
    BackupEligibleRefused,
    /// The AAGUID is on the policy's deny-list.
    #[error("AAGUID {aaguid} is denied by policy")]
    AaguidDenied {
        /// The AAGUID, lower-case 8-4-4-4-12.
        aaguid: String,
    },
    /// The policy has an AAGUID allow-list and the AAGUID is not on it, or is not
    /// signed by a trusted attestation (`attested` false: `none`, self, fido-u2f or
    /// an untrusted chain), so the list cannot grant it.
    #[error("AAGUID {aaguid} is not allowed by policy (attested: {attested})")]
    AaguidNotAllowed {
        /// The AAGUID, lower-case 8-4-4-4-12.
        aaguid: String,
        /// Whether a trusted attestation signed it.
        attested: bool,
    },
    /// A caller-chosen challenge prefix is longer than
    /// [`MAX_CHALLENGE_PREFIX_BYTES`](crate::registration::MAX_CHALLENGE_PREFIX_BYTES)
    /// (a host configuration error; nothing was started).
    #[error("challenge prefix of {len} bytes exceeds the limit of {max}")]
    ChallengePrefixTooLong {
        /// The prefix length asked for.
        len: usize,
        /// [`MAX_CHALLENGE_PREFIX_BYTES`](crate::registration::MAX_CHALLENGE_PREFIX_BYTES).
        max: usize,
    },
    /// A requested extension's client output (`clientExtensionResults`) has the
    /// wrong JSON type or does not answer the request.
    #[error("extension {extension}: malformed client output: {reason}")]
    ExtensionOutputMalformed {
        /// The extension identifier (`"prf"`, `"largeBlob"`, ...).
        extension: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A requested extension's outputs do not meet what the ceremony required (an
    /// enforced `credProtect` level, `largeBlob` support `required`).
    #[error("extension {extension}: requirement not met: {reason}")]
    ExtensionRequirementNotMet {
        /// The extension identifier.
        extension: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// The ceremony state expired before the response arrived.
    #[error("ceremony expired at {expires_at} (now {now})")]
    CeremonyExpired {
        /// When the ceremony expired (unix seconds).
        expires_at: u64,
        /// The `now` passed in (unix seconds).
        now: u64,
    },
}

impl From<CryptoError> for WebauthnError {
    fn from(error: CryptoError) -> Self {
        match error {
            CryptoError::SignatureInvalid => Self::SignatureInvalid,
            other => Self::Key(other),
        }
    }
}

impl WebauthnError {
    /// A short, stable machine code for this error (`"origin_mismatch"`, ...), for
    /// logs and the CLI's JSON output.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::Attestation(_) => "attestation_invalid",
            Self::Key(_) => "invalid_credential_key",
            Self::InvalidConfig { .. } => "invalid_config",
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::ChallengeMismatch => "challenge_mismatch",
            Self::OriginMismatch { .. } => "origin_mismatch",
            Self::CrossOriginRejected { .. } => "cross_origin_rejected",
            Self::TopOriginMismatch { .. } => "top_origin_mismatch",
            Self::RpIdHashMismatch { .. } => "rp_id_hash_mismatch",
            Self::UserNotPresent => "user_not_present",
            Self::UserVerificationRequired => "user_verification_required",
            Self::AttestedCredentialDataMissing => "attested_credential_data_missing",
            Self::UnexpectedAttestedCredentialData => "unexpected_attested_credential_data",
            Self::AlgorithmNotAllowed { .. } => "algorithm_not_allowed",
            Self::SignatureInvalid => "signature_invalid",
            Self::SignCountRegressed { .. } => "sign_count_regressed",
            Self::BackupEligibilityChanged { .. } => "backup_eligibility_changed",
            Self::CredentialIdMismatch => "credential_id_mismatch",
            Self::CredentialNotAllowed => "credential_not_allowed",
            Self::CredentialExcluded => "credential_excluded",
            Self::UserHandleMissing => "user_handle_missing",
            Self::UserHandleMismatch => "user_handle_mismatch",
            Self::CredentialOwnerUnknown => "credential_owner_unknown",
            Self::AttestationNotTrusted { .. } => "attestation_not_trusted",
            Self::BackupEligibleRefused => "backup_eligible_refused",
            Self::AaguidDenied { .. } => "aaguid_denied",
            Self::AaguidNotAllowed { .. } => "aaguid_not_allowed",
            Self::ChallengePrefixTooLong { .. } => "challenge_prefix_too_long",
            Self::ExtensionOutputMalformed { .. } => "extension_output_malformed",
            Self::ExtensionRequirementNotMet { .. } => "extension_requirement_not_met",
            Self::CeremonyExpired { .. } => "ceremony_expired",
        }
    }
}

/// A part of a WebAuthn message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A field is not valid base64url (padded or unpadded).
    #[error("{field}: not valid base64url")]
    Base64 {
        /// The field.
        field: &'static str,
    },
    /// A JSON document or member is malformed or misses a required member.
    #[error("{field}: invalid JSON: {reason}")]
    Json {
        /// The document or member.
        field: &'static str,
        /// serde_json's description (positions, not content).
        reason: String,
    },
    /// A field exceeds its size limit.
    #[error("{field}: {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// The field.
        field: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field is shorter than its structure requires.
    #[error("{field}: truncated")]
    Truncated {
        /// The field.
        field: &'static str,
    },
    /// Bytes follow a structure that must end its container.
    #[error("{field}: {count} trailing bytes")]
    TrailingBytes {
        /// The structure.
        field: &'static str,
        /// How many bytes follow it.
        count: usize,
    },
    /// CBOR is malformed, too deeply nested, or not the expected shape.
    #[error("{field}: invalid CBOR: {reason}")]
    Cbor {
        /// The structure.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The COSE_Key is malformed or not a WebAuthn credential key.
    #[error("credential public key (COSE_Key): {reason}")]
    CoseKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// The COSE algorithm is not one verify supports for credentials.
    #[error("unsupported credential algorithm {algorithm}")]
    UnsupportedAlgorithm {
        /// The COSE algorithm identifier.
        algorithm: i64,
    },
    /// The authenticator data's flags contradict each other or its contents (BS
    /// without BE, AT or ED not matching what follows).
    #[error("authenticator data flags: {reason}")]
    Flags {
        /// What is inconsistent.
        reason: &'static str,
    },
    /// The attestation statement format is not known.
    #[error("unknown attestation format {format:?}")]
    UnknownAttestationFormat {
        /// The `fmt` received.
        format: String,
    },
    /// A member has a value outside what the specification allows.
    #[error("{field}: invalid value")]
    InvalidValue {
        /// The member.
        field: &'static str,
    },
    /// The response's `id` is not the base64url encoding of its `rawId`.
    #[error("id does not match rawId")]
    IdMismatch,
}
