//! The attestation error type.

use crate::crypto::CryptoError;

/// Why an attestation statement (or a trust anchor) was rejected.
///
/// Each variant names the rule that failed. Signature failures are opaque
/// ([`AttestationError::SignatureInvalid`], [`AttestationError::ChainSignatureInvalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// `attStmt` is not a CBOR map with text keys, or has a duplicate key.
    #[error("{format}: attStmt is not a CBOR map with unique text keys")]
    StatementNotMap {
        /// The format's name.
        format: &'static str,
    },
    /// A required member of `attStmt` is missing.
    #[error("{format}: attStmt member {field:?} is missing")]
    MissingField {
        /// The format's name.
        format: &'static str,
        /// The member's name.
        field: &'static str,
    },
    /// A member of `attStmt` has the wrong CBOR type or an impossible value.
    #[error("{format}: attStmt member {field:?} has the wrong type or value")]
    InvalidField {
        /// The format's name.
        format: &'static str,
        /// The member's name.
        field: &'static str,
    },
    /// `attStmt` carries a member its format does not define (or, for `none`, any
    /// member at all).
    #[error("{format}: attStmt has the unexpected member {field:?}")]
    UnexpectedField {
        /// The format's name.
        format: &'static str,
        /// The member's name (truncated).
        field: String,
    },
    /// The statement's `alg` is not one verify supports.
    #[error("{format}: unsupported attestation algorithm {alg}")]
    AlgorithmUnsupported {
        /// The format's name.
        format: &'static str,
        /// The COSE algorithm identifier.
        alg: i64,
    },
    /// Self attestation: the statement's `alg` differs from the credential's.
    #[error("{format}: statement alg {statement} differs from the credential alg {credential}")]
    AlgorithmMismatch {
        /// The format's name.
        format: &'static str,
        /// The statement's `alg`.
        statement: i64,
        /// The credential key's `alg` (0 when it has no COSE identifier).
        credential: i64,
    },
    /// The statement's `alg` does not fit the attestation certificate's key type.
    #[error("{format}: statement alg {alg} does not fit the attestation key")]
    AlgorithmKeyMismatch {
        /// The format's name.
        format: &'static str,
        /// The statement's `alg`.
        alg: i64,
    },
    /// A key (credential or certificate) could not be used with its algorithm.
    #[error("{context}: unusable public key: {source}")]
    InvalidKey {
        /// Which key.
        context: &'static str,
        /// The backend's reason.
        source: CryptoError,
    },
    /// The attestation signature did not verify.
    #[error("attestation signature verification failed")]
    SignatureInvalid,
    /// `x5c` is present but empty.
    #[error("{format}: x5c is empty")]
    EmptyCertificateChain {
        /// The format's name.
        format: &'static str,
    },
    /// `x5c` holds more certificates than verify accepts.
    #[error("x5c holds {count} certificates; at most {max} are accepted")]
    TooManyCertificates {
        /// How many were sent.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A certificate is larger than verify accepts.
    #[error("certificate {index} is {len} bytes; at most {max} are accepted")]
    CertificateTooLarge {
        /// Position in `x5c` (or in the anchor list).
        index: usize,
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A certificate is not valid DER X.509.
    #[error("certificate {index} is not a valid DER X.509 certificate")]
    CertificateMalformed {
        /// Position in `x5c` (or in the anchor list).
        index: usize,
    },
    /// A certificate's public key is of an unsupported type or malformed.
    #[error("certificate {index} has an unsupported or malformed public key")]
    CertificateKeyUnsupported {
        /// Position in `x5c`.
        index: usize,
    },
    /// A certificate's signature algorithm is unsupported (or does not fit its
    /// issuer's key).
    #[error("certificate {index}: unsupported signature algorithm {oid}")]
    CertificateSignatureAlgorithmUnsupported {
        /// Position in `x5c`.
        index: usize,
        /// The algorithm's OID.
        oid: String,
    },
    /// A certificate is not valid yet at `now`.
    #[error("certificate {index} is not valid before {not_before} (now {now})")]
    CertificateNotYetValid {
        /// Position in `x5c`.
        index: usize,
        /// Its notBefore, Unix seconds.
        not_before: u64,
        /// The `now` passed in, Unix seconds.
        now: u64,
    },
    /// A certificate has expired at `now`.
    #[error("certificate {index} expired at {not_after} (now {now})")]
    CertificateExpired {
        /// Position in `x5c`.
        index: usize,
        /// Its notAfter, Unix seconds.
        not_after: u64,
        /// The `now` passed in, Unix seconds.
        now: u64,
    },
    /// Certificate `index` in `x5c` is not signed by the next one (or its issuer name
    /// does not match).
    #[error("certificate {index} is not issued by the next certificate in x5c")]
    ChainSignatureInvalid {
        /// Position in `x5c` of the certificate whose signature failed.
        index: usize,
    },
    /// A certificate in `x5c` issues the one before it but may not: not a CA by
    /// basicConstraints, no keyCertSign in its keyUsage, or beyond its
    /// pathLenConstraint.
    #[error("certificate {index} issues another certificate but may not (CA, keyUsage, pathLen)")]
    IssuerNotCa {
        /// Position in `x5c`.
        index: usize,
    },
    /// A certificate in `x5c` has a critical extension verify does not process.
    #[error("certificate {index} has the unprocessed critical extension {oid}")]
    UnknownCriticalExtension {
        /// Position in `x5c`.
        index: usize,
        /// The extension's OID.
        oid: String,
    },
    /// The attestation certificate breaks a requirement of its format.
    #[error("{format}: attestation certificate requirement failed: {requirement}")]
    CertificateRequirement {
        /// The format's name.
        format: &'static str,
        /// The requirement, as the specification states it.
        requirement: &'static str,
    },
    /// The certificate's FIDO AAGUID extension differs from authData's AAGUID.
    #[error("AAGUID in certificate {certificate} differs from authData's {authenticator_data}")]
    AaguidMismatch {
        /// The certificate's AAGUID, hex.
        certificate: String,
        /// authData's AAGUID, hex.
        authenticator_data: String,
    },
    /// The attestation certificate's public key is not the credential public key.
    #[error("{format}: the certificate's public key is not the credential public key")]
    CertificateKeyMismatch {
        /// The format's name.
        format: &'static str,
    },
    /// A format-specific certificate extension is missing.
    #[error("{format}: certificate extension {oid} is missing")]
    ExtensionMissing {
        /// The format's name.
        format: &'static str,
        /// The extension's OID.
        oid: &'static str,
    },
    /// A format-specific certificate extension is malformed.
    #[error("{format}: certificate extension {oid} is malformed")]
    ExtensionMalformed {
        /// The format's name.
        format: &'static str,
        /// The extension's OID.
        oid: &'static str,
    },
    /// A certificate carries the same extension more than once (RFC 5280 §4.2: "A
    /// certificate MUST NOT include more than one instance of a particular extension").
    #[error("certificate {index} carries extension {oid} more than once")]
    ExtensionRepeated {
        /// Position in `x5c` (or in the anchor list).
        index: usize,
        /// The extension's OID.
        oid: String,
    },
    /// A certificate extension verify reads (basicConstraints, keyUsage, extKeyUsage,
    /// subjectAltName, the FIDO AAGUID extension) is not the DER its ASN.1 defines.
    #[error("certificate {index}: extension {oid} is malformed")]
    ExtensionInvalid {
        /// Position in `x5c` (or in the anchor list).
        index: usize,
        /// The extension's OID.
        oid: String,
    },
    /// fido-u2f: an authData field the U2F signature does not cover (AAGUID, flags,
    /// signCount) is not the value a platform writes for a U2F device (zero AAGUID,
    /// flags UP|AT, signCount 0), so nothing vouches for it.
    #[error("fido-u2f: the unsigned authData {field} is not the U2F value")]
    U2fUnsignedField {
        /// `"aaguid"`, `"flags"` or `"signCount"`.
        field: &'static str,
    },
    /// fido-u2f: the credential key (or the certificate key) is not a P-256 key.
    #[error("fido-u2f: the {which} key is not an EC P-256 key")]
    U2fKeyNotP256 {
        /// `"credential"` or `"certificate"`.
        which: &'static str,
    },
    /// apple: the nonce extension differs from SHA-256(authData || clientDataHash).
    #[error("apple: the certificate nonce does not match the attested data")]
    AppleNonceMismatch,
    /// android-key: attestationChallenge differs from clientDataHash.
    #[error("android-key: attestationChallenge is not the clientDataHash")]
    AndroidKeyChallengeMismatch,
    /// android-key: an authorization list contains allApplications.
    #[error("android-key: an authorization list contains allApplications")]
    AndroidKeyAllApplications,
    /// android-key: origin is not KM_ORIGIN_GENERATED in the required list.
    #[error("android-key: {list} origin is not KM_ORIGIN_GENERATED")]
    AndroidKeyOrigin {
        /// The list(s) consulted: `"teeEnforced"` or `"teeEnforced/softwareEnforced"`.
        list: &'static str,
    },
    /// android-key: purpose does not contain KM_PURPOSE_SIGN in the required list.
    #[error("android-key: {list} purpose does not contain KM_PURPOSE_SIGN")]
    AndroidKeyPurpose {
        /// The list(s) consulted.
        list: &'static str,
    },
    /// tpm: a TPM structure is malformed (truncated, trailing bytes, bad size).
    #[error("tpm: {structure} is malformed: {reason}")]
    TpmStructure {
        /// `"certInfo"` or `"pubArea"`.
        structure: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// tpm: a value in a TPM structure breaks a §8.3 rule.
    #[error("tpm: {check} failed")]
    TpmCheck {
        /// The rule, e.g. `"certInfo.magic == TPM_GENERATED_VALUE"`.
        check: &'static str,
    },
    /// tpm: the nameAlg (or a hash algorithm) is not supported.
    #[error("tpm: unsupported hash algorithm 0x{alg:04x}")]
    TpmHashUnsupported {
        /// The TPM_ALG_ID.
        alg: u16,
    },
    /// android-safetynet: the JWS response is malformed or its claims break a rule.
    #[error("android-safetynet: {check} failed")]
    SafetynetCheck {
        /// The rule.
        check: &'static str,
    },
    /// android-safetynet: `timestampMs` is outside the accepted window around `now`.
    #[error("android-safetynet: timestampMs {timestamp_ms} is outside the window at now {now}")]
    SafetynetTimestamp {
        /// The response's timestampMs.
        timestamp_ms: u64,
        /// The `now` passed in, Unix seconds.
        now: u64,
    },
    /// A FIDO MDS3 BLOB is malformed or its signing chain does not reach the MDS root.
    #[error("mds3: {check} failed")]
    MdsCheck {
        /// The rule.
        check: &'static str,
    },
    /// A `compound` statement (WebAuthn L3 §8.9) breaks one of its rules: not an
    /// array, fewer than two statements, a nested `compound`, an unknown or repeated
    /// inner format, an inner statement that is not `{fmt, attStmt}`.
    #[error("compound: {reason}")]
    Compound {
        /// The rule.
        reason: &'static str,
    },
    /// A `compound` statement holds more inner statements than
    /// [`MAX_COMPOUND_STATEMENTS`](crate::limits::MAX_COMPOUND_STATEMENTS).
    #[error("compound: {count} statements exceed the limit of {max}")]
    TooManyCompoundStatements {
        /// How many it holds.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A trust anchor could not be parsed.
    #[error("trust anchor {index} is not a valid certificate")]
    AnchorMalformed {
        /// Position among the anchors added in one call.
        index: usize,
    },
}

impl AttestationError {
    /// Maps a backend error on a key to [`AttestationError::InvalidKey`], and a failed
    /// verification to the opaque [`AttestationError::SignatureInvalid`].
    pub(crate) const fn from_crypto(context: &'static str, source: CryptoError) -> Self {
        match source {
            CryptoError::SignatureInvalid => Self::SignatureInvalid,
            other => Self::InvalidKey {
                context,
                source: other,
            },
        }
    }
}
