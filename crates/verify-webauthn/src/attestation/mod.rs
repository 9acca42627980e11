//! Attestation statements: every format of WebAuthn Level 3 §8, X.509 chains, trust.
//!
//! [`verify_statement`] checks one attestation statement (`attStmt`) of a registration:
//! its signature, every rule of its format, and whether its certificate chain reaches
//! one of the [`TrustAnchors`] the host passed in, at the `now` passed in. Trust is
//! *reported* in [`VerifiedStatement::trusted`], not enforced: the ceremony's policy
//! decides whether an untrusted (or self / none) attestation is acceptable.
//!
//! No roots are built in; no clock or network is touched. Roots come from the host,
//! for every format, one format or one AAGUID ([`AnchorScope`]), as DER or PEM, or
//! from an offline FIDO MDS3 BLOB the host downloaded ([`TrustAnchors::add_mds3_blob`]). Every signature (statement
//! and certificate) goes through [`crate::crypto::VerifyingKey`], so both backends
//! verify the same things.
//!
//! | format | checks | type reported |
//! |---|---|---|
//! | `none` | `attStmt` is the empty map | `none` |
//! | `packed` | self: `alg` = credential alg, signature by the credential key; x5c: signature by the leaf, §8.2.1 certificate rules, AAGUID extension | `self` / `basic` |
//! | `fido-u2f` | one P-256 certificate, P-256 credential key, U2F signed data; the unsigned authData fields hold the U2F values (AAGUID zero, flags UP\|AT, signCount 0) | `basic` |
//! | `apple` | nonce extension = SHA-256(authData ‖ clientDataHash), leaf key = credential key | `anonca` |
//! | `tpm` | `ver` 2.0, `pubArea` = credential key, `certInfo` magic/type/extraData/name (SHA-1/256/384/512), signature by the AIK, §8.3.1 AIK rules | `attca` |
//! | `android-key` | signature by the leaf, leaf key = credential key, KeyDescription challenge, no allApplications, origin/purpose in teeEnforced (or also softwareEnforced by policy) | `basic` |
//! | `android-safetynet` | JWS signature by the leaf, leaf issued to attest.android.com, nonce, ctsProfileMatch, timestampMs window around `now` | `basic` |
//! | `compound` | 2 to [`MAX_COMPOUND_STATEMENTS`](crate::limits::MAX_COMPOUND_STATEMENTS) `{fmt, attStmt}` of distinct other formats, each verified by its format over the same data | the weakest inner type; trusted iff every inner statement is |
//!
//! In every format with `x5c`, each certificate must be within its validity at `now`,
//! each must be issued (name and signature) by the next, and each issuer must be a CA.
//! No certificate may carry an extension twice, and every extension verify reads must be
//! well-formed DER. SHA-1 certificate signatures are accepted in `tpm` chains only.
//! `docs/webauthn.md` lists, per format, what the signature covers.
//! "basic" vs "attca" for packed and fido-u2f cannot be told apart without metadata
//! about the issuing CA; verify reports "basic".
//!
//! The W3C WebAuthn L3 test vectors under [`AttestationPolicy::default`], with the
//! vectors' root as the only anchor (`tests/attestation.rs`):
//!
//! | vector | outcome |
//! |---|---|
//! | none-es256, none-es256-crossOrigin, none-es256-topOrigin, none-es256-long-credential-id | `none`, untrusted |
//! | packed-self-es256 | `self`, untrusted |
//! | packed-es256, -es384, -es512, -rs256 (3482-bit), -eddsa | `basic`, trusted |
//! | packed-ed448 | credential algorithm Ed448 unsupported (no [`SignatureAlgorithm`]) |
//! | tpm-es256 | rejected: its AIK names manufacturer `id:00000000`, no TCG vendor id (re-issued naming one: `attca`, trusted) |
//! | android-key-es256 | rejected: `AndroidKeyOrigin` (its authorization lists are empty), also when software lists are allowed |
//! | apple-es256 | `anonca`, trusted |
//! | fido-u2f-es256 | rejected: its AAGUID, which the U2F signature does not cover, is not zero (zeroed: `basic`, trusted) |
//!
//! ```
//! use verify_webauthn::attestation::{
//!     AttestationFormat, AttestationPolicy, AttestationType, StatementInput, TrustAnchors,
//!     verify_statement, AttestationError,
//! };
//! use verify_webauthn::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm};
//!
//! let key = PublicKeyMaterial::Ec { curve: EcCurve::P256, x: &[1; 32], y: &[2; 32] };
//! let (trust, policy) = (TrustAnchors::new(), AttestationPolicy::default());
//! let check = |statement: &ciborium::Value| {
//!     let input = StatementInput::new(
//!         &[0; 37], &[0; 32], [0; 16], b"id", key, SignatureAlgorithm::Es256, statement,
//!         verify_model::UnixTime::from_secs(1_767_225_600), &trust, &policy,
//!     );
//!     verify_statement(AttestationFormat::None, &input)
//! };
//! let ok = check(&ciborium::Value::Map(vec![]))?;
//! assert_eq!(ok.attestation_type, AttestationType::None);
//! assert!(!ok.trusted);
//! // A `none` statement that carries anything is rejected.
//! let tampered = ciborium::Value::Map(vec![("sig".into(), ciborium::Value::Bytes(vec![0]))]);
//! assert!(matches!(check(&tampered), Err(AttestationError::UnexpectedField { .. })));
//! # Ok::<(), AttestationError>(())
//! ```

pub mod trust;
pub use trust::{AnchorScope, TrustAnchors};
mod error;
pub use error::AttestationError;
mod android_key;
mod android_safetynet;
mod apple;
mod compound;
mod der_tlv;
mod fido_u2f;
mod jws;
pub mod mds;
pub use mds::{AuthenticatorMetadata, MdsImport};
mod none;
mod packed;
mod statement;
mod tpm;
mod x509;

use crate::crypto::{PublicKeyMaterial, SignatureAlgorithm};

/// An attestation statement format (WebAuthn L3 §8, IANA "WebAuthn Attestation
/// Statement Format Identifiers").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttestationFormat {
    /// `none` (§8.7).
    None,
    /// `packed` (§8.2).
    Packed,
    /// `fido-u2f` (§8.6).
    FidoU2f,
    /// `apple` (§8.8), Apple Anonymous Attestation.
    Apple,
    /// `tpm` (§8.3).
    Tpm,
    /// `android-key` (§8.4).
    AndroidKey,
    /// `android-safetynet` (§8.5).
    AndroidSafetynet,
    /// `compound` (§8.9): several statements of other formats over the same data.
    Compound,
}

impl AttestationFormat {
    /// The format named by an attestation object's `fmt` string, if verify knows it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none" => Self::None,
            "packed" => Self::Packed,
            "fido-u2f" => Self::FidoU2f,
            "apple" => Self::Apple,
            "tpm" => Self::Tpm,
            "android-key" => Self::AndroidKey,
            "android-safetynet" => Self::AndroidSafetynet,
            "compound" => Self::Compound,
            _ => return None,
        })
    }

    /// The registered identifier (`"packed"`, `"fido-u2f"`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Packed => "packed",
            Self::FidoU2f => "fido-u2f",
            Self::Apple => "apple",
            Self::Tpm => "tpm",
            Self::AndroidKey => "android-key",
            Self::AndroidSafetynet => "android-safetynet",
            Self::Compound => "compound",
        }
    }
}

impl serde::Serialize for AttestationFormat {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for AttestationFormat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom("not an attestation format verify knows"))
    }
}

/// The attestation type a verified statement conveys (WebAuthn L3 §6.5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttestationType {
    /// No attestation (`none` format).
    None,
    /// Self attestation: signed by the credential key itself.
    SelfAttestation,
    /// Basic attestation: an attestation key shared by a batch of authenticators.
    Basic,
    /// Attestation CA: a per-key certificate from a CA (TPM's AIK certificates).
    AttCa,
    /// Anonymization CA: a per-credential certificate (Apple).
    AnonCa,
}

impl AttestationType {
    /// The short name: `"none"`, `"self"`, `"basic"`, `"attca"` or `"anonca"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SelfAttestation => "self",
            Self::Basic => "basic",
            Self::AttCa => "attca",
            Self::AnonCa => "anonca",
        }
    }
}

/// Format-specific rules that are a matter of policy rather than of the specification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttestationPolicy {
    /// android-key: accept `origin`/`purpose` found only in `softwareEnforced` (a key
    /// not held in a TEE or StrongBox). Default `false`: both must be in
    /// `teeEnforced`, as WebAuthn §8.4 recommends for relying parties that want
    /// hardware-backed keys.
    pub android_key_allow_software: bool,
    /// android-safetynet: the oldest accepted `timestampMs`, as an age in seconds
    /// before `now`. Default 60 s (go-webauthn and webauthn-rs use similar windows).
    pub safetynet_max_age_secs: u64,
    /// android-safetynet: allowed clock skew into the future, in seconds. Default 60.
    pub safetynet_max_future_skew_secs: u64,
    /// android-safetynet: require `ctsProfileMatch: true`. Default `true`.
    pub safetynet_require_cts_profile_match: bool,
}

impl Default for AttestationPolicy {
    fn default() -> Self {
        Self {
            android_key_allow_software: false,
            safetynet_max_age_secs: 60,
            safetynet_max_future_skew_secs: 60,
            safetynet_require_cts_profile_match: true,
        }
    }
}

/// Everything [`verify_statement`] needs about one registration.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct StatementInput<'a> {
    /// The raw `authData` bytes as received.
    pub authenticator_data: &'a [u8],
    /// SHA-256 of the raw `clientDataJSON` bytes.
    pub client_data_hash: &'a [u8; 32],
    /// The AAGUID from the attested credential data.
    pub aaguid: [u8; 16],
    /// The credential ID from the attested credential data.
    pub credential_id: &'a [u8],
    /// The credential public key, decoded from its COSE_Key.
    pub credential_key: PublicKeyMaterial<'a>,
    /// The credential key's algorithm (COSE `alg`).
    pub credential_algorithm: SignatureAlgorithm,
    /// The `attStmt` value (a CBOR map; an array for `compound`).
    pub statement: &'a ciborium::Value,
    /// The current time, for certificate validity and SafetyNet timestamps.
    pub now: verify_model::UnixTime,
    /// The trust anchors the chain must reach for `trusted` to be `true`.
    pub trust: &'a TrustAnchors,
    /// Format-specific policy.
    pub policy: &'a AttestationPolicy,
}

impl<'a> StatementInput<'a> {
    /// Bundles the inputs (see the field docs).
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of a plain input bundle"
    )]
    pub const fn new(
        authenticator_data: &'a [u8],
        client_data_hash: &'a [u8; 32],
        aaguid: [u8; 16],
        credential_id: &'a [u8],
        credential_key: PublicKeyMaterial<'a>,
        credential_algorithm: SignatureAlgorithm,
        statement: &'a ciborium::Value,
        now: verify_model::UnixTime,
        trust: &'a TrustAnchors,
        policy: &'a AttestationPolicy,
    ) -> Self {
        Self {
            authenticator_data,
            client_data_hash,
            aaguid,
            credential_id,
            credential_key,
            credential_algorithm,
            statement,
            now,
            trust,
            policy,
        }
    }
}

/// The outcome of a successful statement verification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedStatement {
    /// The statement's format.
    pub format: AttestationFormat,
    /// The attestation type the statement conveys.
    pub attestation_type: AttestationType,
    /// DER certificates, leaf first (as in `x5c`); empty for none and self.
    pub trust_path: Vec<Vec<u8>>,
    /// Whether the chain reached one of the anchors at `now` (`compound`: whether
    /// every inner statement's did).
    pub trusted: bool,
    /// `compound` only: each inner statement's result, in `attStmt` order (empty for
    /// every other format).
    pub inner: Vec<Self>,
}

/// Verifies the statement's signature and every format rule.
///
/// Trust is reported in [`VerifiedStatement::trusted`], not enforced: the ceremony's
/// policy decides whether untrusted is OK.
///
/// # Errors
/// An [`AttestationError`] naming the first rule the statement breaks.
pub fn verify_statement(
    format: AttestationFormat,
    input: &StatementInput<'_>,
) -> Result<VerifiedStatement, AttestationError> {
    match format {
        AttestationFormat::None => none::verify(input),
        AttestationFormat::Packed => packed::verify(input),
        AttestationFormat::FidoU2f => fido_u2f::verify(input),
        AttestationFormat::Apple => apple::verify(input),
        AttestationFormat::Tpm => tpm::verify(input),
        AttestationFormat::AndroidKey => android_key::verify(input),
        AttestationFormat::AndroidSafetynet => android_safetynet::verify(input),
        AttestationFormat::Compound => compound::verify(input),
    }
}
