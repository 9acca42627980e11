//! Generates the cases of the differential test (`tests/differential/`): registrations
//! and assertions, valid and mutated, for every attestation format and credential
//! algorithm verify supports, each with verify's own verdict.
//!
//! ```text
//! cargo run -q -p verify-webauthn --example differential -- cases.jsonl
//! ```
//!
//! Writes one JSON object per line (the fields are described in
//! `docs/webauthn-differential.md`): the ceremony's expectations (RP ID, origin,
//! challenge, user verification), the response JSON as a browser would post it, for
//! assertions the stored COSE key and sign count, and verify's verdict (`accepted`,
//! and the error's code and text). `tests/differential/compare.py` runs the same
//! cases through py_webauthn and python-fido2.
//!
//! Everything is deterministic: fixed keys, RFC 6979 ECDSA nonces, a seeded RNG for
//! the PSS salt. Attestation certificates are the W3C Level 3 test vectors' (in
//! `testdata/attestation/w3c-l3-registrations.json`), re-issued under the vectors'
//! root key where a format needs the credential key or a per-registration value in
//! the certificate (android-key, apple) or a registered TPM vendor (tpm).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test-case generator: a failed unwrap is a broken generator and should stop it loudly"
)]

use std::io::Write as _;

use ciborium::Value;
use der::{Decode as _, Encode as _};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use sha2::{Digest as _, Sha256};
use verify_model::UnixTime;
use verify_webauthn::attestation::TrustAnchors;
use verify_webauthn::authentication::{
    AuthenticationInput, StoredCredential, verify_authentication,
};
use verify_webauthn::base64url;
use verify_webauthn::crypto::SignatureAlgorithm;
use verify_webauthn::policy::{CeremonyPolicy, UserVerification};
use verify_webauthn::registration::{RegistrationInput, verify_registration};
use verify_webauthn::wire::{AuthenticationResponseJson, RegistrationResponseJson};

const VECTORS: &str = include_str!("../testdata/attestation/w3c-l3-registrations.json");
const RSA_PEM: &str = include_str!("../testdata/crypto/rsa2048.pem");
const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
/// 2026-01-01: inside the vectors' certificates (2024-01-01 .. 3024-01-01).
const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;
const ED: u8 = 0x80;

fn vectors() -> serde_json::Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn vector_hex(name: &str) -> Vec<u8> {
    hex::decode(vectors()[name].as_str().unwrap()).unwrap()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

/// The attestation statement of the W3C vector `id`.
fn vector_statement(id: &str) -> Value {
    let doc = vectors();
    let vector = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == format!("sctn-test-vectors-{id}"))
        .unwrap();
    let object = hex::decode(vector["attestationObject"].as_str().unwrap()).unwrap();
    let object: Value = ciborium::from_reader(object.as_slice()).unwrap();
    member(&object, "attStmt").clone()
}

fn member<'v>(map: &'v Value, key: &str) -> &'v Value {
    map.as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
        .unwrap()
}

fn vector_leaf(id: &str) -> Vec<u8> {
    let statement = vector_statement(id);
    member(&statement, "x5c").as_array().unwrap()[0]
        .as_bytes()
        .unwrap()
        .clone()
}

/// Re-signs `der` with the W3C root key after `edit` changes its TBSCertificate.
fn reissue(der: &[u8], edit: impl FnOnce(&mut x509_cert::TbsCertificate)) -> Vec<u8> {
    use p256::ecdsa::signature::Signer as _;
    let original = x509_cert::Certificate::from_der(der).unwrap();
    let mut tbs = original.tbs_certificate.clone();
    edit(&mut tbs);
    let key = p256::ecdsa::SigningKey::from_slice(&vector_hex("root_private_key_hex")).unwrap();
    let signature: p256::ecdsa::Signature = key.sign(&tbs.to_der().unwrap());
    x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: original.signature_algorithm,
        signature: der::asn1::BitString::from_bytes(signature.to_der().as_bytes()).unwrap(),
    }
    .to_der()
    .unwrap()
}

fn set_extension(tbs: &mut x509_cert::TbsCertificate, oid: &str, critical: bool, value: Vec<u8>) {
    let exts = tbs.extensions.get_or_insert_with(Vec::new);
    exts.retain(|e| e.extn_id.to_string() != oid);
    exts.push(x509_cert::ext::Extension {
        extn_id: oid.parse().unwrap(),
        critical,
        extn_value: der::asn1::OctetString::new(value).unwrap(),
    });
}

/// A TPM subjectAltName: directoryName with manufacturer, model and version.
fn tpm_san() -> Vec<u8> {
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::name::RelativeDistinguishedName;
    let atv = |oid: &str, value: &str| AttributeTypeAndValue {
        oid: oid.parse().unwrap(),
        value: der::Any::from(der::asn1::Utf8StringRef::new(value).unwrap()),
    };
    let rdns = [
        atv("2.23.133.2.1", "id:4D534654"),
        atv("2.23.133.2.2", "differential"),
        atv("2.23.133.2.3", "id:00010002"),
    ]
    .into_iter()
    .map(|a| RelativeDistinguishedName::try_from(vec![a]).unwrap())
    .collect();
    x509_cert::ext::pkix::SubjectAltName(vec![GeneralName::DirectoryName(
        x509_cert::name::RdnSequence(rdns),
    )])
    .to_der()
    .unwrap()
}

/// A DER TLV with a definite length.
fn tlv(tag: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    match body.len() {
        n if n < 0x80 => out.push(u8::try_from(n).unwrap()),
        n if n < 0x100 => out.extend([0x81, u8::try_from(n).unwrap()]),
        n => out.extend([
            0x82,
            u8::try_from(n >> 8).unwrap(),
            u8::try_from(n & 0xff).unwrap(),
        ]),
    }
    out.extend_from_slice(body);
    out
}

/// Android KeyDescription: `challenge`, teeEnforced purpose SIGN and origin GENERATED.
fn key_description(challenge: &[u8]) -> Vec<u8> {
    const PURPOSE_SIGN: [u8; 7] = [0xa1, 0x05, 0x31, 0x03, 0x02, 0x01, 0x02];
    const ORIGIN_GENERATED: [u8; 7] = [0xbf, 0x85, 0x3e, 0x03, 0x02, 0x01, 0x00];
    let body = [
        tlv(&[0x02], &[100]), // attestationVersion (KeyMint 1)
        tlv(&[0x0a], &[1]),   // attestationSecurityLevel TrustedEnvironment
        tlv(&[0x02], &[100]), // keyMintVersion
        tlv(&[0x0a], &[1]),   // keyMintSecurityLevel
        tlv(&[0x04], challenge),
        tlv(&[0x04], &[]), // uniqueId
        tlv(&[0x30], &[]), // softwareEnforced
        tlv(&[0x30], &[PURPOSE_SIGN, ORIGIN_GENERATED].concat()),
    ]
    .concat();
    tlv(&[0x30], &body)
}

/// A credential key of one algorithm.
enum Key {
    Es256(p256::ecdsa::SigningKey),
    Es384(p384::ecdsa::SigningKey),
    Es512(p521::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
    Rs256(rsa::RsaPrivateKey),
    Ps256(rsa::RsaPrivateKey),
}

impl Key {
    fn all() -> Vec<Self> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let rsa = rsa::RsaPrivateKey::from_pkcs1_pem(RSA_PEM).unwrap();
        vec![
            Self::Es256(p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap()),
            Self::Es384(p384::ecdsa::SigningKey::from_slice(&[0x22; 48]).unwrap()),
            Self::Es512(p521::ecdsa::SigningKey::from_slice(&[0x01; 66]).unwrap()),
            Self::EdDsa(ed25519_dalek::SigningKey::from_bytes(&[0x44; 32])),
            Self::Rs256(rsa.clone()),
            Self::Ps256(rsa),
        ]
    }

    fn other_es256() -> Self {
        Self::Es256(p256::ecdsa::SigningKey::from_slice(&[0x12; 32]).unwrap())
    }

    const fn name(&self) -> &'static str {
        match self {
            Self::Es256(_) => "ES256",
            Self::Es384(_) => "ES384",
            Self::Es512(_) => "ES512",
            Self::EdDsa(_) => "EdDSA",
            Self::Rs256(_) => "RS256",
            Self::Ps256(_) => "PS256",
        }
    }

    const fn cose_alg(&self) -> i64 {
        match self {
            Self::Es256(_) => -7,
            Self::Es384(_) => -35,
            Self::Es512(_) => -36,
            Self::EdDsa(_) => -8,
            Self::Rs256(_) => -257,
            Self::Ps256(_) => -37,
        }
    }

    /// The COSE_Key map (CTAP2 canonical order).
    fn cose_value(&self) -> Value {
        let ec = |crv: i64, point: &[u8], len: usize| {
            Value::Map(vec![
                (int(1), int(2)),
                (int(3), int(self.cose_alg())),
                (int(-1), int(crv)),
                (int(-2), Value::Bytes(point[1..=len].to_vec())),
                (int(-3), Value::Bytes(point[len + 1..].to_vec())),
            ])
        };
        match self {
            Self::Es256(k) => ec(1, k.verifying_key().to_encoded_point(false).as_bytes(), 32),
            Self::Es384(k) => ec(2, k.verifying_key().to_encoded_point(false).as_bytes(), 48),
            Self::Es512(k) => {
                let vk = p521::ecdsa::VerifyingKey::from(k);
                ec(3, vk.to_encoded_point(false).as_bytes(), 66)
            }
            Self::EdDsa(k) => Value::Map(vec![
                (int(1), int(1)),
                (int(3), int(-8)),
                (int(-1), int(6)),
                (int(-2), Value::Bytes(k.verifying_key().to_bytes().to_vec())),
            ]),
            Self::Rs256(k) | Self::Ps256(k) => {
                use rsa::traits::PublicKeyParts as _;
                Value::Map(vec![
                    (int(1), int(3)),
                    (int(3), int(self.cose_alg())),
                    (int(-1), Value::Bytes(k.n().to_bytes_be())),
                    (int(-2), Value::Bytes(k.e().to_bytes_be())),
                ])
            }
        }
    }

    fn cose(&self) -> Vec<u8> {
        cbor(&self.cose_value())
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        use signature::Signer as _;
        match self {
            Self::Es256(k) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            Self::Es384(k) => {
                let s: p384::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            Self::Es512(k) => {
                let s: p521::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            Self::EdDsa(k) => k.sign(message).to_bytes().to_vec(),
            Self::Rs256(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                .unwrap(),
            Self::Ps256(k) => {
                let mut rng = ChaCha20Rng::seed_from_u64(37);
                k.sign_with_rng(
                    &mut rng,
                    rsa::Pss::new::<Sha256>(),
                    &Sha256::digest(message),
                )
                .unwrap()
            }
        }
    }

    /// The SubjectPublicKeyInfo, for certificates that carry the credential key.
    fn spki(&self) -> spki::SubjectPublicKeyInfoOwned {
        use p256::pkcs8::EncodePublicKey as _;
        let Self::Es256(k) = self else {
            panic!("certificates here carry ES256 credential keys only");
        };
        let der = k.verifying_key().to_public_key_der().unwrap();
        spki::SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap()
    }

    fn es256_point(&self) -> Vec<u8> {
        let Self::Es256(k) = self else {
            panic!("ES256 expected");
        };
        k.verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }
}

/// The attestation statement formats generated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    None,
    PackedSelf,
    PackedX5c,
    FidoU2f,
    Tpm,
    AndroidKey,
    Apple,
}

impl Format {
    const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::PackedSelf => "packed-self",
            Self::PackedX5c => "packed-x5c",
            Self::FidoU2f => "fido-u2f",
            Self::Tpm => "tpm",
            Self::AndroidKey => "android-key",
            Self::Apple => "apple",
        }
    }

    const fn fmt(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::PackedSelf | Self::PackedX5c => "packed",
            Self::FidoU2f => "fido-u2f",
            Self::Tpm => "tpm",
            Self::AndroidKey => "android-key",
            Self::Apple => "apple",
        }
    }

    /// Whether the format's statement carries a signature a mutation can flip.
    const fn signed(self) -> bool {
        !matches!(self, Self::None | Self::Apple)
    }

    /// The AAGUID a registration in this format carries.
    fn aaguid(self) -> [u8; 16] {
        match self {
            Self::FidoU2f | Self::None => [0; 16],
            _ => *b"verify-diff-test",
        }
    }
}

/// What a registration case changes from a valid one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RegMutation {
    Valid,
    ValidUvRequired,
    WrongChallenge,
    WrongOrigin,
    WrongType,
    CrossOrigin,
    WrongRpIdHash,
    UpCleared,
    UvRequiredMissing,
    BsWithoutBe,
    AuthDataTruncated,
    AuthDataTrailingByte,
    StatementSigFlipped,
    StatementOverOtherClientData,
    AttestationObjectDuplicateKey,
    CoseKeyDuplicateLabel,
    AttestationObjectTrailingByte,
    IdNotRawId,
    WrongCredentialType,
    UnknownFormat,
    AtCleared,
    StatementAlgMismatch,
}

impl RegMutation {
    const ALL: [Self; 22] = [
        Self::Valid,
        Self::ValidUvRequired,
        Self::WrongChallenge,
        Self::WrongOrigin,
        Self::WrongType,
        Self::CrossOrigin,
        Self::WrongRpIdHash,
        Self::UpCleared,
        Self::UvRequiredMissing,
        Self::BsWithoutBe,
        Self::AuthDataTruncated,
        Self::AuthDataTrailingByte,
        Self::StatementSigFlipped,
        Self::StatementOverOtherClientData,
        Self::AttestationObjectDuplicateKey,
        Self::CoseKeyDuplicateLabel,
        Self::AttestationObjectTrailingByte,
        Self::IdNotRawId,
        Self::WrongCredentialType,
        Self::UnknownFormat,
        Self::AtCleared,
        Self::StatementAlgMismatch,
    ];

    fn name(self) -> String {
        let debug = format!("{self:?}");
        snake(&debug)
    }

    /// Whether the mutation applies to `format`.
    fn applies(self, format: Format) -> bool {
        match self {
            Self::StatementSigFlipped | Self::StatementOverOtherClientData => format.signed(),
            Self::StatementAlgMismatch => {
                matches!(format, Format::PackedSelf | Format::PackedX5c | Format::Tpm)
            }
            // A U2F device sets only UP and AT (CTAP 2.1 §11.2.x); verify refuses any
            // other unsigned flag (docs/webauthn.md §1), so these are left to the
            // other formats.
            Self::BsWithoutBe | Self::ValidUvRequired | Self::UvRequiredMissing => {
                format != Format::FidoU2f
            }
            _ => true,
        }
    }
}

/// What an assertion case changes from a valid one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum AuthMutation {
    Valid,
    ValidUv,
    ValidUvRequired,
    UvPreferredMissing,
    UvRequiredMissing,
    SigFlipped,
    SignedByOtherKey,
    WrongChallenge,
    WrongOrigin,
    WrongType,
    CrossOrigin,
    WrongRpIdHash,
    UpCleared,
    BsWithoutBe,
    CounterIncreased,
    CounterZeroZero,
    CounterEqual,
    CounterRegressed,
    CounterZeroAfterNonzero,
    AuthDataTruncated,
    AuthDataTrailingBytes,
    ExtensionsValid,
    ExtensionsDuplicateKey,
    EdWithoutExtensions,
    AtSet,
    IdNotRawId,
    WrongCredentialType,
    EcdsaHighS,
    EcdsaRawSignature,
}

impl AuthMutation {
    const ALL: [Self; 29] = [
        Self::Valid,
        Self::ValidUv,
        Self::ValidUvRequired,
        Self::UvPreferredMissing,
        Self::UvRequiredMissing,
        Self::SigFlipped,
        Self::SignedByOtherKey,
        Self::WrongChallenge,
        Self::WrongOrigin,
        Self::WrongType,
        Self::CrossOrigin,
        Self::WrongRpIdHash,
        Self::UpCleared,
        Self::BsWithoutBe,
        Self::CounterIncreased,
        Self::CounterZeroZero,
        Self::CounterEqual,
        Self::CounterRegressed,
        Self::CounterZeroAfterNonzero,
        Self::AuthDataTruncated,
        Self::AuthDataTrailingBytes,
        Self::ExtensionsValid,
        Self::ExtensionsDuplicateKey,
        Self::EdWithoutExtensions,
        Self::AtSet,
        Self::IdNotRawId,
        Self::WrongCredentialType,
        Self::EcdsaHighS,
        Self::EcdsaRawSignature,
    ];

    fn name(self) -> String {
        snake(&format!("{self:?}"))
    }

    fn applies(self, key: &Key) -> bool {
        match self {
            Self::EcdsaHighS | Self::EcdsaRawSignature => matches!(key, Key::Es256(_)),
            _ => true,
        }
    }
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn client_data(kind: &str, challenge: &[u8], origin: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}"{extra}}}"#,
        base64url::encode(challenge)
    )
    .into_bytes()
}

/// authenticatorData: rpIdHash, flags, signCount, attested credential data, extensions.
fn auth_data(
    rp_id: &str,
    flags: u8,
    count: u32,
    attested: Option<(&[u8; 16], &[u8], &[u8])>,
    extensions: Option<&[u8]>,
) -> Vec<u8> {
    let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
    data.push(flags);
    data.extend_from_slice(&count.to_be_bytes());
    if let Some((aaguid, id, cose)) = attested {
        data.extend_from_slice(aaguid);
        data.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
        data.extend_from_slice(id);
        data.extend_from_slice(cose);
    }
    if let Some(extensions) = extensions {
        data.extend_from_slice(extensions);
    }
    data
}

fn flip(bytes: &mut [u8]) {
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
}

/// The fixed attestation keys and certificates.
struct Certs {
    root_der: Vec<u8>,
    packed_key: p256::ecdsa::SigningKey,
    packed_leaf: Vec<u8>,
    tpm_key: p256::ecdsa::SigningKey,
    tpm_leaf: Vec<u8>,
}

impl Certs {
    fn new() -> Self {
        Self {
            root_der: vector_hex("root_der_hex"),
            packed_key: p256::ecdsa::SigningKey::from_slice(&vector_hex(
                "packed_es256_attestation_private_key_hex",
            ))
            .unwrap(),
            packed_leaf: vector_leaf("packed-es256"),
            tpm_key: p256::ecdsa::SigningKey::from_slice(&vector_hex(
                "tpm_es256_attestation_private_key_hex",
            ))
            .unwrap(),
            tpm_leaf: reissue(&vector_leaf("tpm-es256"), |tbs| {
                set_extension(tbs, "2.5.29.17", true, tpm_san());
            }),
        }
    }
}

fn es256_der(key: &p256::ecdsa::SigningKey, message: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::Signer as _;
    let s: p256::ecdsa::Signature = key.sign(message);
    s.to_der().as_bytes().to_vec()
}

/// TPMT_PUBLIC for the credential key (ECC P-256 or RSA), nameAlg SHA-256.
fn tpm_pub_area(key: &Key) -> Vec<u8> {
    let mut area = Vec::new();
    match key {
        Key::Es256(_) => {
            let point = key.es256_point();
            area.extend([0x00, 0x23, 0x00, 0x0b]); // TPM_ALG_ECC, nameAlg SHA-256
            area.extend([0x00, 0x06, 0x04, 0x72, 0x00, 0x00]); // objectAttributes, authPolicy
            area.extend([0x00, 0x10, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10]); // sym, scheme, P-256, kdf
            area.extend([0x00, 0x20]);
            area.extend(&point[1..33]);
            area.extend([0x00, 0x20]);
            area.extend(&point[33..]);
        }
        Key::Rs256(k) => {
            use rsa::traits::PublicKeyParts as _;
            let n = k.n().to_bytes_be();
            area.extend([0x00, 0x01, 0x00, 0x0b]); // TPM_ALG_RSA, nameAlg SHA-256
            area.extend([0x00, 0x06, 0x04, 0x72, 0x00, 0x00]);
            area.extend([0x00, 0x10, 0x00, 0x10]); // symmetric NULL, scheme NULL
            area.extend(u16::try_from(n.len() * 8).unwrap().to_be_bytes());
            area.extend(0_u32.to_be_bytes()); // exponent: default 65537
            area.extend(u16::try_from(n.len()).unwrap().to_be_bytes());
            area.extend(n);
        }
        _ => panic!("tpm cases use ES256 and RS256 credentials"),
    }
    area
}

/// The attestation statement for `format` over `auth_data` and `client_data_hash`.
fn statement(
    format: Format,
    certs: &Certs,
    key: &Key,
    credential_id: &[u8],
    auth_data: &[u8],
    client_data_hash: &[u8],
) -> Value {
    let mut signed = auth_data.to_vec();
    signed.extend_from_slice(client_data_hash);
    let bytes = |b: Vec<u8>| Value::Bytes(b);
    match format {
        Format::None => Value::Map(vec![]),
        Format::PackedSelf => Value::Map(vec![
            (text("alg"), int(key.cose_alg())),
            (text("sig"), bytes(key.sign(&signed))),
        ]),
        Format::PackedX5c => Value::Map(vec![
            (text("alg"), int(-7)),
            (text("sig"), bytes(es256_der(&certs.packed_key, &signed))),
            (
                text("x5c"),
                Value::Array(vec![bytes(certs.packed_leaf.clone())]),
            ),
        ]),
        Format::FidoU2f => {
            let mut base = vec![0x00];
            base.extend_from_slice(&auth_data[..32]);
            base.extend_from_slice(client_data_hash);
            base.extend_from_slice(credential_id);
            base.extend(key.es256_point());
            Value::Map(vec![
                (text("sig"), bytes(es256_der(&certs.packed_key, &base))),
                (
                    text("x5c"),
                    Value::Array(vec![bytes(certs.packed_leaf.clone())]),
                ),
            ])
        }
        Format::Tpm => {
            let pub_area = tpm_pub_area(key);
            let mut name = vec![0x00, 0x0b];
            name.extend(Sha256::digest(&pub_area));
            let mut cert_info = 0xff54_4347_u32.to_be_bytes().to_vec();
            cert_info.extend(0x8017_u16.to_be_bytes()); // TPM_ST_ATTEST_CERTIFY
            cert_info.extend([0x00, 0x00]); // qualifiedSigner
            cert_info.extend([0x00, 0x20]);
            cert_info.extend(Sha256::digest(&signed)); // extraData (alg ES256)
            cert_info.extend([0_u8; 25]); // clockInfo, firmwareVersion
            cert_info.extend(u16::try_from(name.len()).unwrap().to_be_bytes());
            cert_info.extend(&name);
            cert_info.extend([0x00, 0x00]); // qualifiedName
            Value::Map(vec![
                (text("ver"), text("2.0")),
                (text("alg"), int(-7)),
                (
                    text("x5c"),
                    Value::Array(vec![bytes(certs.tpm_leaf.clone())]),
                ),
                (text("sig"), bytes(es256_der(&certs.tpm_key, &cert_info))),
                (text("certInfo"), bytes(cert_info)),
                (text("pubArea"), bytes(pub_area)),
            ])
        }
        Format::AndroidKey => {
            let leaf = reissue(&vector_leaf("android-key-es256"), |tbs| {
                tbs.subject_public_key_info = key.spki();
                set_extension(
                    tbs,
                    "1.3.6.1.4.1.11129.2.1.17",
                    false,
                    key_description(client_data_hash),
                );
            });
            Value::Map(vec![
                (text("alg"), int(key.cose_alg())),
                (text("sig"), bytes(key.sign(&signed))),
                (
                    text("x5c"),
                    Value::Array(vec![bytes(leaf), bytes(certs.root_der.clone())]),
                ),
            ])
        }
        Format::Apple => {
            let nonce = Sha256::digest(&signed);
            let value = tlv(&[0x30], &tlv(&[0xa1], &tlv(&[0x04], &nonce)));
            let leaf = reissue(&vector_leaf("apple-es256"), |tbs| {
                tbs.subject_public_key_info = key.spki();
                set_extension(tbs, "1.2.840.113635.100.8.2", false, value);
            });
            Value::Map(vec![(text("x5c"), Value::Array(vec![bytes(leaf)]))])
        }
    }
}

/// The formats each credential algorithm is registered with.
fn formats_for(key: &Key) -> Vec<Format> {
    match key {
        Key::Es256(_) => vec![
            Format::None,
            Format::PackedSelf,
            Format::PackedX5c,
            Format::FidoU2f,
            Format::Tpm,
            Format::AndroidKey,
            Format::Apple,
        ],
        Key::Rs256(_) => vec![
            Format::None,
            Format::PackedSelf,
            Format::PackedX5c,
            Format::Tpm,
        ],
        _ => vec![Format::None, Format::PackedSelf, Format::PackedX5c],
    }
}

fn all_algorithms() -> Vec<SignatureAlgorithm> {
    vec![
        SignatureAlgorithm::EdDsa,
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
        SignatureAlgorithm::Rs256,
        SignatureAlgorithm::Ps256,
    ]
}

fn policy(uv_required: bool) -> CeremonyPolicy {
    let mut policy = CeremonyPolicy::default();
    policy.algorithms = all_algorithms();
    if uv_required {
        policy.user_verification = UserVerification::Required;
    }
    policy
}

fn verdict(result: Result<(), verify_webauthn::WebauthnError>) -> serde_json::Value {
    match result {
        Ok(()) => serde_json::json!({ "accepted": true }),
        Err(e) => serde_json::json!({
            "accepted": false,
            "code": e.code(),
            "error": e.to_string(),
        }),
    }
}

const CHALLENGE: [u8; 32] = [0x5a; 32];

fn credential_id(key: &Key, format: Format) -> Vec<u8> {
    let mut id = format!("{}:{}", key.name(), format.name()).into_bytes();
    id.resize(32, 0xc1);
    id
}

fn registration_case(
    certs: &Certs,
    trust: &TrustAnchors,
    key: &Key,
    format: Format,
    mutation: RegMutation,
) -> serde_json::Value {
    use RegMutation as M;
    let id = credential_id(key, format);
    let challenge: &[u8] = if mutation == M::WrongChallenge {
        &[0xa5; 32]
    } else {
        &CHALLENGE
    };
    let kind = if mutation == M::WrongType {
        "webauthn.get"
    } else {
        "webauthn.create"
    };
    let origin = if mutation == M::WrongOrigin {
        "https://evil.example"
    } else {
        ORIGIN
    };
    let extra = if mutation == M::CrossOrigin {
        r#","crossOrigin":true"#
    } else {
        ""
    };
    let cdata = client_data(kind, challenge, origin, extra);
    let cdh = Sha256::digest(&cdata).to_vec();

    let mut flags = match mutation {
        M::UpCleared => 0,
        M::UvRequiredMissing => UP,
        M::BsWithoutBe => UP | BS,
        _ if format == Format::FidoU2f => UP,
        _ => UP | UV,
    };
    if mutation != M::AtCleared {
        flags |= AT;
    }
    let rp_id = if mutation == M::WrongRpIdHash {
        "evil.example"
    } else {
        RP_ID
    };
    let cose = if mutation == M::CoseKeyDuplicateLabel {
        let Value::Map(mut entries) = key.cose_value() else {
            unreachable!()
        };
        entries.insert(2, (int(3), int(key.cose_alg())));
        cbor(&Value::Map(entries))
    } else {
        key.cose()
    };
    let aaguid = format.aaguid();
    let attested = (mutation != M::AtCleared).then_some((&aaguid, id.as_slice(), cose.as_slice()));
    let mut ad = auth_data(rp_id, flags, 0, attested, None);
    match mutation {
        M::AuthDataTruncated => {
            ad.pop();
        }
        M::AuthDataTrailingByte => ad.push(0x00),
        _ => {}
    }
    let signed_cdh = if mutation == M::StatementOverOtherClientData {
        Sha256::digest(client_data("webauthn.create", &[0xa5; 32], ORIGIN, "")).to_vec()
    } else {
        cdh
    };
    let mut stmt = statement(format, certs, key, &id, &ad, &signed_cdh);
    if let Value::Map(entries) = &mut stmt {
        for (k, v) in entries.iter_mut() {
            match (k.as_text(), mutation) {
                (Some("sig"), M::StatementSigFlipped) => {
                    if let Value::Bytes(sig) = v {
                        flip(sig);
                    }
                }
                (Some("alg"), M::StatementAlgMismatch) => {
                    // Another algorithm than the one that signed.
                    *v = int(if *v == int(-7) { -35 } else { -7 });
                }
                _ => {}
            }
        }
    }
    let fmt = if mutation == M::UnknownFormat {
        "packed-v2"
    } else {
        format.fmt()
    };
    let mut object_entries = vec![
        (text("fmt"), text(fmt)),
        (text("attStmt"), stmt),
        (text("authData"), Value::Bytes(ad)),
    ];
    if mutation == M::AttestationObjectDuplicateKey {
        object_entries.insert(1, (text("fmt"), text(fmt)));
    }
    let mut object = cbor(&Value::Map(object_entries));
    if mutation == M::AttestationObjectTrailingByte {
        object.push(0xf6);
    }

    let raw_id = base64url::encode(&id);
    let json_id = if mutation == M::IdNotRawId {
        base64url::encode(b"another credential")
    } else {
        raw_id.clone()
    };
    let cred_type = if mutation == M::WrongCredentialType {
        "public-key-2"
    } else {
        "public-key"
    };
    let response = serde_json::json!({
        "id": json_id, "rawId": raw_id, "type": cred_type,
        "response": {
            "clientDataJSON": base64url::encode(&cdata),
            "attestationObject": base64url::encode(&object),
            "transports": ["usb"],
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "cross-platform",
    });
    let uv_required = matches!(mutation, M::UvRequiredMissing | M::ValidUvRequired);
    let policy = policy(uv_required);
    let origins = vec![ORIGIN.to_owned()];
    let result = RegistrationResponseJson::from_json(&response.to_string())
        .map_err(verify_webauthn::WebauthnError::from)
        .and_then(|parsed| {
            verify_registration(
                &RegistrationInput::new(RP_ID, &origins, &CHALLENGE, &policy, trust, NOW),
                &parsed,
            )
            .map(|_| ())
        });
    serde_json::json!({
        "id": format!("registration/{}/{}/{}", format.name(), key.name(), mutation.name()),
        "ceremony": "registration",
        "format": format.name(),
        "fmt": format.fmt(),
        "alg": key.name(),
        "mutation": mutation.name(),
        "rp_id": RP_ID,
        "origin": ORIGIN,
        "challenge": base64url::encode(&CHALLENGE),
        "user_verification": if uv_required { "required" } else { "preferred" },
        "algorithms": all_algorithms().iter().filter_map(|a| a.cose()).collect::<Vec<_>>(),
        "response": response,
        "verify": verdict(result),
    })
}

fn authentication_case(key: &Key, mutation: AuthMutation) -> serde_json::Value {
    use AuthMutation as M;
    let id = credential_id(key, Format::None);
    let challenge: &[u8] = if mutation == M::WrongChallenge {
        &[0xa5; 32]
    } else {
        &CHALLENGE
    };
    let kind = if mutation == M::WrongType {
        "webauthn.create"
    } else {
        "webauthn.get"
    };
    let origin = if mutation == M::WrongOrigin {
        "https://evil.example"
    } else {
        ORIGIN
    };
    let extra = if mutation == M::CrossOrigin {
        r#","crossOrigin":true"#
    } else {
        ""
    };
    let cdata = client_data(kind, challenge, origin, extra);
    let (stored, count) = match mutation {
        M::CounterIncreased => (10, 11),
        M::CounterZeroZero => (0, 0),
        M::CounterEqual => (10, 10),
        M::CounterRegressed => (10, 5),
        M::CounterZeroAfterNonzero => (5, 0),
        _ => (0, 1),
    };
    let mut flags = match mutation {
        M::ValidUv | M::ValidUvRequired => UP | UV,
        M::UpCleared => UV,
        M::BsWithoutBe => UP | BS,
        M::ExtensionsValid | M::ExtensionsDuplicateKey | M::EdWithoutExtensions => UP | ED,
        M::AtSet => UP | AT,
        _ => UP,
    };
    if mutation == M::ValidUv {
        flags |= BE | BS;
    }
    let rp_id = if mutation == M::WrongRpIdHash {
        "evil.example"
    } else {
        RP_ID
    };
    let extensions = match mutation {
        M::ExtensionsValid => Some(cbor(&Value::Map(vec![(text("credProtect"), int(1))]))),
        M::ExtensionsDuplicateKey => Some(cbor(&Value::Map(vec![
            (text("credProtect"), int(1)),
            (text("credProtect"), int(1)),
        ]))),
        _ => None,
    };
    let cose = key.cose();
    let aaguid = [0_u8; 16];
    let attested = (mutation == M::AtSet).then_some((&aaguid, id.as_slice(), cose.as_slice()));
    let mut ad = auth_data(rp_id, flags, count, attested, extensions.as_deref());
    match mutation {
        M::AuthDataTruncated => {
            ad.pop();
        }
        M::AuthDataTrailingBytes => ad.extend([0x00, 0x00]),
        _ => {}
    }
    let mut message = ad.clone();
    message.extend(Sha256::digest(&cdata));
    let mut signature = if mutation == M::SignedByOtherKey {
        Key::other_es256().sign(&message)
    } else {
        key.sign(&message)
    };
    match mutation {
        M::SigFlipped => flip(&mut signature),
        M::EcdsaHighS | M::EcdsaRawSignature => {
            let parsed = p256::ecdsa::Signature::from_der(&signature).unwrap();
            let fixed = if mutation == M::EcdsaHighS {
                let (r, s) = parsed.split_scalars();
                let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
                assert!(high.normalize_s().is_some(), "high S");
                high.to_der().as_bytes().to_vec()
            } else {
                parsed.to_bytes().to_vec()
            };
            signature = fixed;
        }
        _ => {}
    }
    let raw_id = base64url::encode(&id);
    let json_id = if mutation == M::IdNotRawId {
        base64url::encode(b"another credential")
    } else {
        raw_id.clone()
    };
    let cred_type = if mutation == M::WrongCredentialType {
        "public-key-2"
    } else {
        "public-key"
    };
    let response = serde_json::json!({
        "id": json_id, "rawId": raw_id, "type": cred_type,
        "response": {
            "clientDataJSON": base64url::encode(&cdata),
            "authenticatorData": base64url::encode(&ad),
            "signature": base64url::encode(&signature),
            "userHandle": null,
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "cross-platform",
    });
    let uv_required = matches!(mutation, M::UvRequiredMissing | M::ValidUvRequired);
    let policy = policy(uv_required);
    let origins = vec![ORIGIN.to_owned()];
    let credential = StoredCredential::new(id.clone(), &cose, stored, None).unwrap();
    let result = AuthenticationResponseJson::from_json(&response.to_string())
        .map_err(verify_webauthn::WebauthnError::from)
        .and_then(|parsed| {
            verify_authentication(
                &AuthenticationInput::new(RP_ID, &origins, &CHALLENGE, &policy),
                &credential,
                &parsed,
            )
            .map(|_| ())
        });
    serde_json::json!({
        "id": format!("authentication/{}/{}", key.name(), mutation.name()),
        "ceremony": "authentication",
        "alg": key.name(),
        "mutation": mutation.name(),
        "rp_id": RP_ID,
        "origin": ORIGIN,
        "challenge": base64url::encode(&CHALLENGE),
        "user_verification": if uv_required { "required" } else { "preferred" },
        "credential_id": raw_id,
        "credential_public_key": base64url::encode(&cose),
        "stored_sign_count": stored,
        "response": response,
        "verify": verdict(result),
    })
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: differential <cases.jsonl>");
    let certs = Certs::new();
    let trust = TrustAnchors::from_der([certs.root_der.as_slice()]).unwrap();
    let mut cases = Vec::new();
    let keys = Key::all();
    for key in &keys {
        for format in formats_for(key) {
            for mutation in RegMutation::ALL {
                if mutation.applies(format) {
                    cases.push(registration_case(&certs, &trust, key, format, mutation));
                }
            }
        }
        for mutation in AuthMutation::ALL {
            if mutation.applies(key) {
                cases.push(authentication_case(key, mutation));
            }
        }
    }
    // A generator that cannot produce an accepted valid case is broken: stop here.
    for case in &cases {
        let valid = case["mutation"]
            .as_str()
            .is_some_and(|m| m.starts_with("valid"));
        if valid && case["verify"]["accepted"] != true {
            panic!(
                "verify refuses the valid case {}: {}",
                case["id"], case["verify"]
            );
        }
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    for case in &cases {
        writeln!(file, "{case}").unwrap();
    }
    file.flush().unwrap();
    eprintln!("{} cases written to {out}", cases.len());
}
