//! FIDO MDS3 BLOBs shaped like the production one: 200 entries, a leaf →
//! intermediate → root signing chain (the root given by the host, as FIDO's is),
//! revoked and compromised entries, an expired attestation root, entries without an
//! AAGUID; and registrations checked against what was imported.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failing test should fail loudly"
)]

use std::str::FromStr as _;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::{Decode as _, Encode as _};
use p256::ecdsa::signature::Signer as _;
use sha2::Digest as _;
use verify_model::UnixTime;
use verify_webauthn::WebauthnError;
use verify_webauthn::attestation::mds::{MAX_DESCRIPTION_CHARS, REFUSAL_CHECKS};
use verify_webauthn::attestation::{AttestationError, TrustAnchors};
use verify_webauthn::base64url;
use verify_webauthn::policy::{AttestationTrust, CeremonyPolicy};
use verify_webauthn::registration::{RegistrationInput, VerifiedRegistration, verify_registration};
use verify_webauthn::wire::RegistrationResponseJson;

const VECTORS: &str = include_str!("../testdata/attestation/w3c-l3-registrations.json");
/// 2026-01-01.
const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);
const YEAR: u64 = 365 * 24 * 3600;
const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
const CHALLENGE: &[u8] = &[0x5a; 32];

const GOOD: [u8; 16] = [0x11; 16];
const REVOKED: [u8; 16] = [0x22; 16];
const EXPIRED: [u8; 16] = [0x33; 16];
const BYPASS_THEN_UPDATE: [u8; 16] = [0x44; 16];
const LONG_TEXT: [u8; 16] = [0x55; 16];
const ENTRIES: usize = 200;
const WITHOUT_AAGUID: usize = 6;

fn key(seed: u8) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn time(secs: u64) -> x509_cert::time::Time {
    x509_cert::time::Time::try_from(UNIX_EPOCH + Duration::from_secs(secs)).unwrap()
}

/// A certificate for `subject_key` named `subject`, issued by `issuer` with
/// `issuer_key`, valid `from..until`; a CA (keyCertSign) or an attestation leaf.
/// The W3C vectors' root is the template (version, algorithm, extensions).
#[expect(clippy::too_many_arguments, reason = "one per certificate field set")]
fn certificate(
    serial: u8,
    subject: &str,
    subject_key: &p256::ecdsa::SigningKey,
    issuer: &str,
    issuer_key: &p256::ecdsa::SigningKey,
    from: u64,
    until: u64,
    ca: bool,
) -> Vec<u8> {
    let doc: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let template = hex::decode(doc["root_der_hex"].as_str().unwrap()).unwrap();
    let template = x509_cert::Certificate::from_der(&template).unwrap();
    let mut tbs = template.tbs_certificate.clone();
    tbs.serial_number = x509_cert::serial_number::SerialNumber::new(&[serial]).unwrap();
    tbs.subject = x509_cert::name::Name::from_str(subject).unwrap();
    tbs.issuer = x509_cert::name::Name::from_str(issuer).unwrap();
    tbs.validity = x509_cert::time::Validity {
        not_before: time(from),
        not_after: time(until),
    };
    let point = subject_key.verifying_key().to_encoded_point(false);
    tbs.subject_public_key_info.subject_public_key =
        der::asn1::BitString::from_bytes(point.as_bytes()).unwrap();
    let extensions = tbs.extensions.as_mut().unwrap();
    // Basic constraints and key usage only (no key identifiers naming the template).
    extensions.retain(|e| {
        e.extn_id == const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS
            || (ca && e.extn_id == const_oid::db::rfc5280::ID_CE_KEY_USAGE)
    });
    if !ca {
        let leaf = x509_cert::ext::pkix::BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        extensions[0].extn_value = der::asn1::OctetString::new(leaf.to_der().unwrap()).unwrap();
    }
    let signature: p256::ecdsa::Signature = issuer_key.sign(&tbs.to_der().unwrap());
    x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: template.signature_algorithm,
        signature: der::asn1::BitString::from_bytes(signature.to_der().as_bytes()).unwrap(),
    }
    .to_der()
    .unwrap()
}

const MDS_ROOT: &str = "CN=Test MDS Root,O=Test Alliance,C=US";
const MDS_CA: &str = "CN=Test MDS CA 1,O=Test Alliance,C=US";
const MDS_SIGNER: &str = "CN=Test Metadata BLOB Signer 3,O=Test Alliance,C=US";
const ATT_ROOT: &str = "CN=Vendor Attestation Root,O=Vendor,C=US";
const OLD_ROOT: &str = "CN=Vendor Old Attestation Root,O=Vendor,C=US";
const ATT_LEAF: &str = "CN=Vendor Batch 7,OU=Authenticator Attestation,O=Vendor,C=US";

/// The MDS signing PKI: (root, intermediate, signer leaf) and the signer's key.
struct MdsPki {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    signer: Vec<u8>,
    signer_key: p256::ecdsa::SigningKey,
}

impl MdsPki {
    fn new(seed: u8) -> Self {
        let (root_key, ca_key, signer_key) = (key(seed), key(seed + 1), key(seed + 2));
        let start = NOW.as_secs() - 2 * YEAR;
        let end = NOW.as_secs() + 5 * YEAR;
        Self {
            root: certificate(
                1, MDS_ROOT, &root_key, MDS_ROOT, &root_key, start, end, true,
            ),
            intermediate: certificate(2, MDS_CA, &ca_key, MDS_ROOT, &root_key, start, end, true),
            signer: certificate(
                3,
                MDS_SIGNER,
                &signer_key,
                MDS_CA,
                &ca_key,
                start,
                end,
                false,
            ),
            signer_key,
        }
    }

    fn root_anchor(&self) -> TrustAnchors {
        TrustAnchors::from_der([self.root.as_slice()]).unwrap()
    }

    /// The compact JWS: header with x5c [signer, intermediate], ES256.
    fn blob(&self, payload: &serde_json::Value) -> String {
        let header = serde_json::json!({
            "alg": "ES256", "typ": "JWT",
            "x5c": [STANDARD.encode(&self.signer), STANDARD.encode(&self.intermediate)],
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature: p256::ecdsa::Signature = self.signer_key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

fn uuid(aaguid: &[u8; 16]) -> String {
    let h = hex::encode(aaguid);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The vendor attestation PKI: a current root, an expired one, and their keys.
struct Vendor {
    root: Vec<u8>,
    root_key: p256::ecdsa::SigningKey,
    old_root: Vec<u8>,
    old_root_key: p256::ecdsa::SigningKey,
}

impl Vendor {
    fn new() -> Self {
        let (root_key, old_root_key) = (key(40), key(41));
        let now = NOW.as_secs();
        Self {
            root: certificate(
                9,
                ATT_ROOT,
                &root_key,
                ATT_ROOT,
                &root_key,
                now - YEAR,
                now + 20 * YEAR,
                true,
            ),
            old_root: certificate(
                8,
                OLD_ROOT,
                &old_root_key,
                OLD_ROOT,
                &old_root_key,
                now - 10 * YEAR,
                now - YEAR,
                true,
            ),
            root_key,
            old_root_key,
        }
    }
}

/// 200 entries: the five named above, a zero AAGUID reported revoked, six U2F
/// entries without AAGUID, and certified fillers.
fn payload(vendor: &Vendor) -> serde_json::Value {
    let root = STANDARD.encode(&vendor.root);
    let icon = format!(
        "data:image/png;base64,{}",
        STANDARD.encode([0x89, b'P', b'N', b'G'])
    );
    let entry = |aaguid: &[u8; 16],
                 roots: &[String],
                 statuses: &[&str],
                 description: &str,
                 icon: &str| {
        serde_json::json!({
            "aaguid": uuid(aaguid),
            "metadataStatement": {
                "description": description,
                "icon": icon,
                "attestationRootCertificates": roots,
                "protocolFamily": "fido2",
                "schema": 3,
            },
            "statusReports": statuses.iter().map(|s| serde_json::json!({ "status": s, "effectiveDate": "2024-01-01" })).collect::<Vec<_>>(),
            "timeOfLastStatusChange": "2024-01-01",
        })
    };
    let mut entries = vec![
        entry(
            &GOOD,
            std::slice::from_ref(&root),
            &["FIDO_CERTIFIED_L1"],
            "Good Key",
            &icon,
        ),
        entry(
            &REVOKED,
            std::slice::from_ref(&root),
            &["FIDO_CERTIFIED", "REVOKED"],
            "Revoked Key",
            &icon,
        ),
        entry(
            &EXPIRED,
            &[STANDARD.encode(&vendor.old_root)],
            &["FIDO_CERTIFIED"],
            "Old Key",
            &icon,
        ),
        entry(
            &BYPASS_THEN_UPDATE,
            std::slice::from_ref(&root),
            &[
                "FIDO_CERTIFIED",
                "USER_VERIFICATION_BYPASS",
                "UPDATE_AVAILABLE",
            ],
            "Bypassed Key",
            &icon,
        ),
        entry(
            &LONG_TEXT,
            std::slice::from_ref(&root),
            &["FIDO_CERTIFIED"],
            &"x".repeat(1000),
            "javascript:alert(1)",
        ),
        entry(
            &[0; 16],
            std::slice::from_ref(&root),
            &["REVOKED"],
            "Zero",
            &icon,
        ),
    ];
    for i in 0..WITHOUT_AAGUID {
        entries.push(serde_json::json!({
            "attestationCertificateKeyIdentifiers": [format!("{i:040x}")],
            "metadataStatement": { "description": "U2F", "attestationRootCertificates": [root.clone()] },
            "statusReports": [{ "status": "REVOKED" }],
        }));
    }
    let mut n = 0_u8;
    while entries.len() < ENTRIES {
        n += 1;
        let mut aaguid = [0xf0; 16];
        aaguid[15] = n;
        entries.push(entry(
            &aaguid,
            std::slice::from_ref(&root),
            &["FIDO_CERTIFIED_L2"],
            &format!("Filler {n}"),
            &icon,
        ));
    }
    serde_json::json!({
        "legalHeader": "Retrieval and use of this BLOB indicates acceptance of the terms.",
        "no": 91,
        "nextUpdate": "2026-02-01",
        "entries": entries,
    })
}

/// A software authenticator whose authData names `aaguid`.
struct Authenticator {
    key: p256::ecdsa::SigningKey,
    aaguid: [u8; 16],
}

#[derive(Clone, Copy)]
enum Statement<'a> {
    None,
    SelfAttested,
    /// packed with x5c [leaf], the leaf signed by this key.
    Packed(&'a [u8], &'a p256::ecdsa::SigningKey),
}

impl Authenticator {
    fn new(aaguid: [u8; 16]) -> Self {
        Self {
            key: key(7),
            aaguid,
        }
    }

    fn auth_data(&self) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
        data.push(0x41);
        data.extend_from_slice(&0_u32.to_be_bytes());
        data.extend_from_slice(&self.aaguid);
        data.extend_from_slice(&16_u16.to_be_bytes());
        data.extend_from_slice(&[0xc1; 16]);
        let point = self.key.verifying_key().to_encoded_point(false);
        data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
        data.extend_from_slice(point.x().unwrap());
        data.extend_from_slice(&[0x22, 0x58, 0x20]);
        data.extend_from_slice(point.y().unwrap());
        data
    }

    fn register(&self, statement: Statement<'_>) -> RegistrationResponseJson {
        let client_data = format!(
            r#"{{"type":"webauthn.create","challenge":"{}","origin":"{ORIGIN}"}}"#,
            base64url::encode(CHALLENGE)
        );
        let auth_data = self.auth_data();
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha2::Sha256::digest(client_data.as_bytes()));
        let sig = |key: &p256::ecdsa::SigningKey| {
            let s: p256::ecdsa::Signature = key.sign(&signed);
            ciborium::Value::Bytes(s.to_der().as_bytes().to_vec())
        };
        let (fmt, att_stmt) = match statement {
            Statement::None => ("none", vec![]),
            Statement::SelfAttested => (
                "packed",
                vec![("alg".into(), (-7).into()), ("sig".into(), sig(&self.key))],
            ),
            Statement::Packed(leaf, leaf_key) => (
                "packed",
                vec![
                    ("alg".into(), (-7).into()),
                    ("sig".into(), sig(leaf_key)),
                    (
                        "x5c".into(),
                        ciborium::Value::Array(vec![ciborium::Value::Bytes(leaf.to_vec())]),
                    ),
                ],
            ),
        };
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), fmt.into()),
            ("attStmt".into(), ciborium::Value::Map(att_stmt)),
            ("authData".into(), ciborium::Value::Bytes(auth_data)),
        ]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&object, &mut bytes).unwrap();
        let id = base64url::encode(&[0xc1; 16]);
        RegistrationResponseJson::from_json(
            &serde_json::json!({
                "id": id, "rawId": id, "type": "public-key",
                "response": {
                    "clientDataJSON": base64url::encode(client_data.as_bytes()),
                    "attestationObject": base64url::encode(&bytes),
                },
                "clientExtensionResults": {},
            })
            .to_string(),
        )
        .unwrap()
    }
}

fn register(
    trust: &TrustAnchors,
    policy: &CeremonyPolicy,
    response: &RegistrationResponseJson,
) -> Result<VerifiedRegistration, WebauthnError> {
    let origins = vec![ORIGIN.to_owned()];
    verify_registration(
        &RegistrationInput::new(RP_ID, &origins, CHALLENGE, policy, trust, NOW),
        response,
    )
}

/// The refusal check a registration failed, if it failed so.
fn refusal(result: Result<VerifiedRegistration, WebauthnError>) -> Option<&'static str> {
    match result {
        Err(WebauthnError::Attestation(AttestationError::MdsCheck { check })) => Some(check),
        _ => None,
    }
}

fn imported() -> (TrustAnchors, Vendor) {
    let (pki, vendor) = (MdsPki::new(20), Vendor::new());
    let mut anchors = TrustAnchors::new();
    let import = anchors
        .add_mds3_blob(&pki.blob(&payload(&vendor)), &pki.root_anchor(), NOW)
        .unwrap();
    assert_eq!(import.serial, 91);
    assert_eq!(import.next_update, "2026-02-01");
    // Skipped: 6 without AAGUID, the zero AAGUID, revoked, bypassed.
    assert_eq!(import.entries_skipped, WITHOUT_AAGUID + 3);
    assert_eq!(import.roots_added, ENTRIES - WITHOUT_AAGUID - 3);
    assert_eq!(import.aaguids_refused, 2);
    assert_eq!(import.metadata_recorded, ENTRIES - WITHOUT_AAGUID - 1);
    assert_eq!(anchors.len(), import.roots_added);
    assert_eq!(anchors.refused_len(), 2);
    (anchors, vendor)
}

#[test]
fn a_production_shaped_blob_imports_with_its_counts_and_metadata() {
    let (anchors, _) = imported();
    let good = anchors.metadata(&GOOD).unwrap();
    assert_eq!(good.description, "Good Key");
    assert!(
        good.icon
            .as_deref()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(good.status.as_deref(), Some("FIDO_CERTIFIED_L1"));
    // A refused model still has its description, for the host to explain.
    assert_eq!(
        anchors.metadata(&REVOKED).unwrap().status.as_deref(),
        Some("REVOKED")
    );
    // Bounded: the description cut, an icon that is not a PNG data URL dropped.
    let long = anchors.metadata(&LONG_TEXT).unwrap();
    assert_eq!(long.description.chars().count(), MAX_DESCRIPTION_CHARS);
    assert_eq!(long.icon, None);
    assert!(anchors.metadata(&[0; 16]).is_none());
    assert_eq!(anchors.refusal(&REVOKED), Some(REFUSAL_CHECKS[0]));
    // A later UPDATE_AVAILABLE does not undo a compromise.
    assert_eq!(
        anchors.refusal(&BYPASS_THEN_UPDATE),
        Some(REFUSAL_CHECKS[2])
    );
    assert_eq!(anchors.refusal(&[0; 16]), None);
    assert_eq!(anchors.refusal(&GOOD), None);
}

#[test]
fn a_refused_aaguid_is_refused_under_every_trust_mode_and_format() {
    let (anchors, vendor) = imported();
    let report = CeremonyPolicy::default();
    assert_eq!(report.attestation_trust, AttestationTrust::Report);
    let mut require = CeremonyPolicy::default();
    require.attestation_trust = AttestationTrust::RequireTrusted;
    let leaf_key = key(50);
    let now = NOW.as_secs();
    // A chain to the vendor root, which the BLOB lists for the refused models too.
    let good_leaf = certificate(
        10,
        ATT_LEAF,
        &leaf_key,
        ATT_ROOT,
        &vendor.root_key,
        now - YEAR,
        now + YEAR,
        false,
    );

    for aaguid in [REVOKED, BYPASS_THEN_UPDATE] {
        let auth = Authenticator::new(aaguid);
        let check = anchors.refusal(&aaguid).unwrap();
        for statement in [
            Statement::None,
            Statement::SelfAttested,
            Statement::Packed(&good_leaf, &leaf_key),
        ] {
            for policy in [&report, &require] {
                assert_eq!(
                    refusal(register(&anchors, policy, &auth.register(statement))),
                    Some(check)
                );
            }
        }
    }
    // Refused by the host's own list too; the zero AAGUID cannot be refused.
    let mut host = TrustAnchors::new();
    host.refuse_aaguid(GOOD);
    host.refuse_aaguid([0; 16]);
    assert_eq!(
        refusal(register(
            &host,
            &report,
            &Authenticator::new(GOOD).register(Statement::None)
        )),
        Some(verify_webauthn::attestation::mds::HOST_REFUSAL_CHECK)
    );
    assert!(
        register(
            &host,
            &report,
            &Authenticator::new([0; 16]).register(Statement::None)
        )
        .is_ok()
    );
}

#[test]
fn a_listed_entry_s_chain_is_trusted_and_an_expired_root_vouches_for_nothing() {
    let (anchors, vendor) = imported();
    let mut require = CeremonyPolicy::default();
    require.attestation_trust = AttestationTrust::RequireTrusted;
    let leaf_key = key(50);
    let now = NOW.as_secs();
    let good_leaf = certificate(
        10,
        ATT_LEAF,
        &leaf_key,
        ATT_ROOT,
        &vendor.root_key,
        now - YEAR,
        now + YEAR,
        false,
    );
    let good = Authenticator::new(GOOD);
    let verified = register(
        &anchors,
        &require,
        &good.register(Statement::Packed(&good_leaf, &leaf_key)),
    )
    .unwrap();
    assert!(verified.credential.attestation_trusted);
    // Unattested, the listed model is accepted (not refused) and not trusted.
    let none = register(
        &anchors,
        &CeremonyPolicy::default(),
        &good.register(Statement::None),
    )
    .unwrap();
    assert!(!none.credential.attestation_trusted);
    // The root is scoped to its AAGUID: another model's chain is not trusted by it.
    let other = Authenticator::new([0x99; 16]);
    assert!(matches!(
        register(
            &anchors,
            &require,
            &other.register(Statement::Packed(&good_leaf, &leaf_key))
        ),
        Err(WebauthnError::AttestationNotTrusted { .. })
    ));
    // A leaf under the expired root (itself within its validity): not trusted.
    let old_leaf = certificate(
        11,
        ATT_LEAF,
        &leaf_key,
        OLD_ROOT,
        &vendor.old_root_key,
        now - YEAR,
        now + YEAR,
        false,
    );
    let expired = Authenticator::new(EXPIRED);
    assert!(matches!(
        register(
            &anchors,
            &require,
            &expired.register(Statement::Packed(&old_leaf, &leaf_key))
        ),
        Err(WebauthnError::AttestationNotTrusted { .. })
    ));
    assert!(
        !register(
            &anchors,
            &CeremonyPolicy::default(),
            &expired.register(Statement::Packed(&old_leaf, &leaf_key))
        )
        .unwrap()
        .credential
        .attestation_trusted
    );
}

#[test]
fn a_tampered_blob_or_another_root_is_refused_and_adds_nothing() {
    let (pki, vendor) = (MdsPki::new(20), Vendor::new());
    let blob = pki.blob(&payload(&vendor));
    let mut anchors = TrustAnchors::new();
    // One payload byte changed (the serial, re-encoded): the signature fails.
    let (head, rest) = blob.split_once('.').unwrap();
    let (body, signature) = rest.split_once('.').unwrap();
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
    let tampered = format!(
        "{head}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(text.replace("\"no\":91", "\"no\":92"))
    );
    assert_eq!(
        anchors
            .add_mds3_blob(&tampered, &pki.root_anchor(), NOW)
            .unwrap_err(),
        AttestationError::SignatureInvalid
    );
    // A revoked entry turned certified: also the signature.
    let revived = format!(
        "{head}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(text.replacen("\"REVOKED\"", "\"FIDO_CERTIFIED\"", 1))
    );
    assert_eq!(
        anchors
            .add_mds3_blob(&revived, &pki.root_anchor(), NOW)
            .unwrap_err(),
        AttestationError::SignatureInvalid
    );
    // A flipped signature bit.
    let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
    sig[5] ^= 1;
    let flipped = format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(
        anchors
            .add_mds3_blob(&flipped, &pki.root_anchor(), NOW)
            .unwrap_err(),
        AttestationError::SignatureInvalid
    );
    // The same BLOB against another MDS root.
    let other = MdsPki::new(30);
    assert_eq!(
        anchors
            .add_mds3_blob(&blob, &other.root_anchor(), NOW)
            .unwrap_err(),
        AttestationError::MdsCheck {
            check: "BLOB signing chain reaches an MDS root"
        }
    );
    // A BLOB whose whole chain was made by someone else, with our root given.
    let forged = other.blob(&payload(&vendor));
    assert!(
        anchors
            .add_mds3_blob(&forged, &pki.root_anchor(), NOW)
            .is_err()
    );
    assert!(anchors.is_empty());
    assert_eq!(anchors.refused_len(), 0);
    assert!(anchors.metadata(&GOOD).is_none());
    // The untampered one still imports.
    assert!(
        anchors
            .add_mds3_blob(&blob, &pki.root_anchor(), NOW)
            .is_ok()
    );
}
