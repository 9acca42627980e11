//! Real-browser credentials: Debian's Chromium with the CDP WebAuthn virtual
//! authenticator made them (`tests/browser/`, see its README for the scenarios), and
//! verify-webauthn must accept every one of them and reject every tampered copy.
//!
//! The committed captures in `testdata/chromium/` are verified on every `cargo test`.
//! When `VERIFY_WEBAUTHN_CAPTURES` names a directory (what `.ci/run` does after
//! `tests/browser/run.sh <dir>`), the captures found there are verified too: they
//! were made minutes ago by the Chromium on the machine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failed unwrap is a failed test"
)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use verify_model::UnixTime;
use verify_webauthn::WebauthnError;
use verify_webauthn::attestation::{AnchorScope, TrustAnchors};
use verify_webauthn::authentication::{
    AuthenticationInput, StoredCredential, VerifiedAuthentication, verify_authentication,
};
use verify_webauthn::base64url;
use verify_webauthn::crypto::SignatureAlgorithm;
use verify_webauthn::policy::{
    AttestationTrust, CeremonyPolicy, CounterPolicy, CrossOriginPolicy, UserVerification,
};
use verify_webauthn::registration::{
    AttestationObject, RegistrationInput, VerifiedRegistration, verify_registration,
};
use verify_webauthn::wire::{AuthenticationResponseJson, RegistrationResponseJson};

/// One capture file (format: `tests/browser/README.md`).
struct Capture {
    name: String,
    json: Value,
}

impl Capture {
    fn load(path: &Path) -> Self {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json: Value = serde_json::from_str(&text).expect("capture is JSON");
        let name = json["name"].as_str().expect("name").to_owned();
        Self { name, json }
    }

    fn str(&self, pointer: &str) -> &str {
        self.json
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: {pointer} is not a string", self.name))
    }

    fn flag(&self, name: &str) -> bool {
        self.json["expected"][name]
            .as_bool()
            .expect("expected flag")
    }

    fn rp_id(&self) -> &str {
        self.str("/rp_id")
    }

    fn origins(&self) -> Vec<String> {
        vec![self.str("/origin").to_owned()]
    }

    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.json["captured_at"].as_u64().expect("captured_at"))
    }

    fn algorithm(&self) -> i64 {
        self.json["expected"]["algorithm"]
            .as_i64()
            .expect("algorithm")
    }

    fn format(&self) -> &str {
        self.str("/expected/attestation_format")
    }

    fn registration_challenge(&self) -> Vec<u8> {
        b64(self.str("/registration/challenge"))
    }

    fn registration_json(&self) -> Value {
        self.json["registration"]["response"].clone()
    }

    fn authentications(&self) -> Vec<(String, Vec<u8>, Value)> {
        self.json["authentications"]
            .as_array()
            .expect("authentications")
            .iter()
            .map(|a| {
                (
                    a["kind"].as_str().expect("kind").to_owned(),
                    b64(a["challenge"].as_str().expect("challenge")),
                    a["response"].clone(),
                )
            })
            .collect()
    }

    /// The policy the capture's own options asked for, with UV required whenever the
    /// authenticator verified the user (so the UV check is exercised, not skipped).
    fn policy(&self) -> CeremonyPolicy {
        let mut policy = CeremonyPolicy::default();
        policy.user_verification = if self.flag("user_verified") {
            UserVerification::Required
        } else {
            UserVerification::Discouraged
        };
        policy
    }
}

fn b64(text: &str) -> Vec<u8> {
    base64url::decode(text, "test").expect("base64url")
}

fn captures_in(dir: &Path) -> Vec<Capture> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|path| Capture::load(path)).collect()
}

fn committed() -> Vec<Capture> {
    captures_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/chromium"))
}

fn register(
    capture: &Capture,
    response: &Value,
    policy: &CeremonyPolicy,
    trust: &TrustAnchors,
) -> Result<VerifiedRegistration, WebauthnError> {
    register_with(
        capture,
        response,
        policy,
        trust,
        capture.rp_id(),
        &capture.origins(),
        &capture.registration_challenge(),
    )
}

fn register_with(
    capture: &Capture,
    response: &Value,
    policy: &CeremonyPolicy,
    trust: &TrustAnchors,
    rp_id: &str,
    origins: &[String],
    challenge: &[u8],
) -> Result<VerifiedRegistration, WebauthnError> {
    let response = RegistrationResponseJson::from_json(&response.to_string())?;
    let input = RegistrationInput::new(rp_id, origins, challenge, policy, trust, capture.now());
    verify_registration(&input, &response)
}

fn authenticate(
    capture: &Capture,
    stored: &StoredCredential,
    challenge: &[u8],
    response: &Value,
    policy: &CeremonyPolicy,
) -> Result<VerifiedAuthentication, WebauthnError> {
    authenticate_with(
        stored,
        capture.rp_id(),
        &capture.origins(),
        challenge,
        response,
        policy,
    )
}

fn authenticate_with(
    stored: &StoredCredential,
    rp_id: &str,
    origins: &[String],
    challenge: &[u8],
    response: &Value,
    policy: &CeremonyPolicy,
) -> Result<VerifiedAuthentication, WebauthnError> {
    let response = AuthenticationResponseJson::from_json(&response.to_string())?;
    let input = AuthenticationInput::new(rp_id, origins, challenge, policy);
    verify_authentication(&input, stored, &response)
}

/// Registers, then signs in with every captured assertion in order, checking every
/// output against what the capture says the authenticator did.
fn verify_capture(capture: &Capture) {
    let name = &capture.name;
    let policy = capture.policy();
    let verified = register(
        capture,
        &capture.registration_json(),
        &policy,
        &TrustAnchors::new(),
    )
    .unwrap_or_else(|e| panic!("{name}: registration rejected: {e}"));
    let record = &verified.credential;
    assert_eq!(record.algorithm, capture.algorithm(), "{name}");
    assert_eq!(record.attestation_format, capture.format(), "{name}");
    assert_eq!(
        verified.attestation_format.name(),
        capture.format(),
        "{name}"
    );
    assert_eq!(
        record.user_verified,
        capture.flag("user_verified"),
        "{name}"
    );
    assert_eq!(
        record.backup_eligible,
        capture.flag("backup_eligible"),
        "{name}"
    );
    assert_eq!(record.backup_state, capture.flag("backup_state"), "{name}");
    assert_eq!(
        record.id.as_slice(),
        b64(capture.str("/registration/response/rawId")),
        "{name}"
    );
    let transports: Vec<String> =
        capture.json["registration"]["response"]["response"]["transports"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
    assert_eq!(record.transports, transports, "{name}");
    assert!(!record.attestation_trusted, "{name}: no anchors were given");
    match capture.format() {
        "none" => {
            assert_eq!(record.attestation_type, "none", "{name}");
            assert!(verified.trust_path.is_empty(), "{name}");
        }
        // Chromium's attestation key signs with a self-signed "Batch Certificate".
        _ => {
            assert!(
                matches!(record.attestation_type.as_str(), "basic" | "attca"),
                "{name}: {}",
                record.attestation_type
            );
            assert_eq!(verified.trust_path.len(), 1, "{name}");
        }
    }
    // The virtual authenticators start counting at 1 (u2f: no counter at registration).
    let expected_start = u32::from(capture.str("/virtual_authenticator/protocol") == "ctap2");
    assert_eq!(record.sign_count, expected_start, "{name}");

    let mut stored = StoredCredential::from_record(record).expect("stored credential");
    let mut count = record.sign_count;
    for (index, (kind, challenge, response)) in capture.authentications().iter().enumerate() {
        let out = authenticate(capture, &stored, challenge, response, &policy)
            .unwrap_or_else(|e| panic!("{name}: sign-in {index} ({kind}) rejected: {e}"));
        assert!(
            out.sign_count > count,
            "{name}: the counter moves on every sign-in"
        );
        assert!(!out.counter_warning, "{name}");
        assert_eq!(out.user_verified, capture.flag("user_verified"), "{name}");
        assert_eq!(
            out.backup_eligible,
            capture.flag("backup_eligible"),
            "{name}"
        );
        assert_eq!(out.backup_state, capture.flag("backup_state"), "{name}");
        assert_eq!(out.credential_id, record.id.as_slice(), "{name}");
        if kind == "discoverable" {
            // Usernameless: the authenticator names the user by the handle it stored.
            assert_eq!(
                out.user_handle.as_deref(),
                Some(b64(capture.str("/user_handle")).as_slice()),
                "{name}: discoverable sign-in returns the user handle"
            );
        }
        count = out.sign_count;
        stored = StoredCredential::new(
            record.id.as_slice().to_vec(),
            record.public_key_cose.as_slice(),
            count,
            Some(record.backup_eligible),
        )
        .expect("stored credential");
    }
}

#[test]
fn committed_captures_verify() {
    let captures = committed();
    assert_eq!(
        captures.len(),
        9,
        "one capture per scenario of tests/browser"
    );
    for capture in &captures {
        verify_capture(capture);
    }
}

#[test]
fn captures_cover_every_kind() {
    let captures = committed();
    let has = |f: &dyn Fn(&Capture) -> bool| captures.iter().any(f);
    for alg in [-7, -8, -257] {
        assert!(has(&|c| c.algorithm() == alg), "algorithm {alg}");
    }
    for format in ["none", "packed", "fido-u2f"] {
        assert!(has(&|c| c.format() == format), "format {format}");
    }
    assert!(has(&|c| c.flag("user_verified")));
    assert!(has(&|c| !c.flag("user_verified")));
    assert!(has(&|c| c.flag("backup_eligible") && c.flag("backup_state")));
    assert!(has(
        &|c| c.flag("backup_eligible") && !c.flag("backup_state")
    ));
    assert!(has(&|c| c
        .authentications()
        .iter()
        .any(|(kind, _, _)| kind == "discoverable")));
    assert!(has(&|c| c.authentications().len() >= 2));
}

#[test]
fn live_captures_verify() {
    let Some(dir) = std::env::var_os("VERIFY_WEBAUTHN_CAPTURES") else {
        eprintln!(
            "VERIFY_WEBAUTHN_CAPTURES is not set: only the committed captures were verified \
             (tests/browser/run.sh <dir> makes live ones)"
        );
        return;
    };
    let captures = captures_in(Path::new(&dir));
    assert!(
        !captures.is_empty(),
        "no captures in {}",
        Path::new(&dir).display()
    );
    for capture in &captures {
        verify_capture(capture);
        tampered_assertions_fail(capture);
    }
    eprintln!("verified {} live captures", captures.len());
}

/// Flips bit `bit` of byte `index` of the base64url member at `pointer`.
fn flip(json: &Value, pointer: &str, index: usize, bit: u8) -> Value {
    let mut json = json.clone();
    let slot = json.pointer_mut(pointer).expect("member");
    let mut bytes = b64(slot.as_str().expect("string"));
    bytes[index] ^= 1 << bit;
    *slot = Value::String(base64url::encode(&bytes));
    json
}

fn byte_len(json: &Value, pointer: &str) -> usize {
    b64(json
        .pointer(pointer)
        .and_then(Value::as_str)
        .expect("member"))
    .len()
}

fn registered(capture: &Capture) -> (VerifiedRegistration, StoredCredential) {
    let verified = register(
        capture,
        &capture.registration_json(),
        &capture.policy(),
        &TrustAnchors::new(),
    )
    .expect("registration");
    let stored = StoredCredential::from_record(&verified.credential).expect("stored");
    (verified, stored)
}

/// Every signed part of an assertion: any bit flip must be rejected.
fn tampered_assertions_fail(capture: &Capture) {
    let name = &capture.name;
    let policy = capture.policy();
    let (_, stored) = registered(capture);
    let auths = capture.authentications();
    let (_, challenge, response) = &auths[0];
    authenticate(capture, &stored, challenge, response, &policy).expect("untampered passes");

    let auth_data = "/response/authenticatorData";
    // Every bit of rpIdHash, flags and signCount.
    for index in 0..byte_len(response, auth_data) {
        for bit in 0..8 {
            let tampered = flip(response, auth_data, index, bit);
            assert!(
                authenticate(capture, &stored, challenge, &tampered, &policy).is_err(),
                "{name}: authenticatorData byte {index} bit {bit} flipped was accepted"
            );
        }
    }
    let client_data = "/response/clientDataJSON";
    for index in 0..byte_len(response, client_data) {
        let tampered = flip(response, client_data, index, 0);
        assert!(
            authenticate(capture, &stored, challenge, &tampered, &policy).is_err(),
            "{name}: clientDataJSON byte {index} flipped was accepted"
        );
    }
    let signature = "/response/signature";
    let len = byte_len(response, signature);
    for index in (0..len).step_by(len.div_ceil(48).max(1)) {
        let tampered = flip(response, signature, index, 3);
        let err = authenticate(capture, &stored, challenge, &tampered, &policy).expect_err(
            &format!("{name}: signature byte {index} flipped was accepted"),
        );
        assert!(
            matches!(err, WebauthnError::SignatureInvalid),
            "{name}: signature flips are opaque, got {err:?}"
        );
    }
}

#[test]
fn tampered_committed_assertions_fail() {
    for capture in &committed() {
        tampered_assertions_fail(capture);
    }
}

#[test]
fn assertions_fail_every_context_check() {
    for capture in &committed() {
        let name = &capture.name;
        let policy = capture.policy();
        let (verified, stored) = registered(capture);
        let auths = capture.authentications();
        let (_, challenge, response) = &auths[0];

        let other_origin = vec!["http://localhost:1".to_owned()];
        let err = authenticate_with(
            &stored,
            capture.rp_id(),
            &other_origin,
            challenge,
            response,
            &policy,
        )
        .expect_err("wrong origin");
        assert!(
            matches!(err, WebauthnError::OriginMismatch { .. }),
            "{name}: {err:?}"
        );

        let err =
            authenticate(capture, &stored, &[7; 32], response, &policy).expect_err("challenge");
        assert!(
            matches!(err, WebauthnError::ChallengeMismatch),
            "{name}: {err:?}"
        );

        // The registration challenge is not this ceremony's.
        let err = authenticate(
            capture,
            &stored,
            &capture.registration_challenge(),
            response,
            &policy,
        )
        .expect_err("registration challenge");
        assert!(
            matches!(err, WebauthnError::ChallengeMismatch),
            "{name}: {err:?}"
        );

        let err = authenticate_with(
            &stored,
            "example.com",
            &capture.origins(),
            challenge,
            response,
            &policy,
        )
        .expect_err("rp id");
        assert!(
            matches!(err, WebauthnError::RpIdHashMismatch { .. }),
            "{name}: {err:?}"
        );

        // A clientDataJSON of type webauthn.create does not sign in.
        let mut wrong_type = response.clone();
        wrong_type["response"]["clientDataJSON"] =
            capture.json["registration"]["response"]["response"]["clientDataJSON"].clone();
        assert!(
            authenticate(capture, &stored, challenge, &wrong_type, &policy).is_err(),
            "{name}"
        );

        // A counter not above the stored one: rejected, or accepted with a warning.
        let record = &verified.credential;
        let ahead = StoredCredential::new(
            record.id.as_slice().to_vec(),
            record.public_key_cose.as_slice(),
            1000,
            Some(record.backup_eligible),
        )
        .expect("stored");
        let err =
            authenticate(capture, &ahead, challenge, response, &policy).expect_err("regressed");
        assert!(
            matches!(err, WebauthnError::SignCountRegressed { stored: 1000, .. }),
            "{name}: {err:?}"
        );
        let mut warn = policy.clone();
        warn.counter = CounterPolicy::Warn;
        let out = authenticate(capture, &ahead, challenge, response, &warn).expect("warn accepts");
        assert!(out.counter_warning, "{name}");

        // BE differs from the one recorded at registration.
        let flipped_be = StoredCredential::new(
            record.id.as_slice().to_vec(),
            record.public_key_cose.as_slice(),
            0,
            Some(!record.backup_eligible),
        )
        .expect("stored");
        let err = authenticate(capture, &flipped_be, challenge, response, &policy).expect_err("BE");
        assert!(
            matches!(err, WebauthnError::BackupEligibilityChanged { .. }),
            "{name}: {err:?}"
        );

        // UV required but not performed.
        if !capture.flag("user_verified") {
            let mut required = policy.clone();
            required.user_verification = UserVerification::Required;
            let err =
                authenticate(capture, &stored, challenge, response, &required).expect_err("UV");
            assert!(
                matches!(err, WebauthnError::UserVerificationRequired),
                "{name}: {err:?}"
            );
        }

        // Another credential's id, or its key under this id.
        let others = committed();
        let other = others
            .iter()
            .find(|c| c.name != capture.name)
            .expect("another capture");
        let (_, other_stored) = registered(other);
        let err =
            authenticate(capture, &other_stored, challenge, response, &policy).expect_err("id");
        assert!(
            matches!(err, WebauthnError::CredentialIdMismatch),
            "{name}: {err:?}"
        );
        let other_record = registered(other).0.credential;
        let wrong_key = StoredCredential::new(
            record.id.as_slice().to_vec(),
            other_record.public_key_cose.as_slice(),
            0,
            Some(record.backup_eligible),
        )
        .expect("stored");
        assert!(
            authenticate(capture, &wrong_key, challenge, response, &policy).is_err(),
            "{name}"
        );
    }
}

#[test]
fn registrations_fail_every_context_check() {
    for capture in &committed() {
        let name = &capture.name;
        let policy = capture.policy();
        let none = TrustAnchors::new();
        let response = capture.registration_json();
        let challenge = capture.registration_challenge();

        let err = register_with(
            capture,
            &response,
            &policy,
            &none,
            capture.rp_id(),
            &["https://localhost".to_owned()],
            &challenge,
        )
        .expect_err("origin");
        assert!(
            matches!(err, WebauthnError::OriginMismatch { .. }),
            "{name}: {err:?}"
        );
        let err = register_with(
            capture,
            &response,
            &policy,
            &none,
            capture.rp_id(),
            &capture.origins(),
            &[1; 32],
        )
        .expect_err("challenge");
        assert!(
            matches!(err, WebauthnError::ChallengeMismatch),
            "{name}: {err:?}"
        );
        let err = register_with(
            capture,
            &response,
            &policy,
            &none,
            "localhost.example",
            &capture.origins(),
            &challenge,
        )
        .expect_err("rp id");
        assert!(
            matches!(err, WebauthnError::RpIdHashMismatch { .. }),
            "{name}: {err:?}"
        );

        // The credential's algorithm is not among the allowed ones.
        let mut narrow = policy.clone();
        narrow.algorithms = [
            SignatureAlgorithm::Es256,
            SignatureAlgorithm::EdDsa,
            SignatureAlgorithm::Rs256,
        ]
        .into_iter()
        .filter(|alg| alg.cose() != Some(capture.algorithm()))
        .collect();
        let err = register(capture, &response, &narrow, &none).expect_err("algorithm");
        assert!(
            matches!(err, WebauthnError::AlgorithmNotAllowed { .. }),
            "{name}: {err:?}"
        );

        if !capture.flag("user_verified") {
            let mut required = policy.clone();
            required.user_verification = UserVerification::Required;
            let err = register(capture, &response, &required, &none).expect_err("UV");
            assert!(
                matches!(err, WebauthnError::UserVerificationRequired),
                "{name}: {err:?}"
            );
        }

        // Cross-origin policy: Chromium's same-origin clientDataJSON passes either way.
        let mut cross = policy.clone();
        cross.cross_origin = CrossOriginPolicy::Allow {
            top_origins: vec!["https://example.com".into()],
        };
        register(capture, &response, &cross, &none)
            .expect("same-origin passes when cross-origin is allowed");

        // Trust: required trust fails without anchors, and for none attestation always;
        // with the capture's own batch certificate as anchor, x5c attestation is trusted.
        let mut require = policy.clone();
        require.attestation_trust = AttestationTrust::RequireTrusted;
        let err = register(capture, &response, &require, &none).expect_err("untrusted");
        assert!(
            matches!(err, WebauthnError::AttestationNotTrusted { .. }),
            "{name}: {err:?}"
        );
        let verified = register(capture, &response, &policy, &none).expect("registration");
        if let Some(leaf) = verified.trust_path.first() {
            let mut anchors = TrustAnchors::new();
            anchors.add_der(AnchorScope::All, leaf).expect("anchor");
            let trusted = register(capture, &response, &require, &anchors).expect("trusted");
            assert!(trusted.credential.attestation_trusted, "{name}");
        } else {
            let mut anchors = TrustAnchors::new();
            let others = committed();
            let packed = others
                .iter()
                .find(|c| c.format() == "packed")
                .expect("packed capture");
            let leaf = register(packed, &packed.registration_json(), &packed.policy(), &none)
                .expect("packed")
                .trust_path[0]
                .clone();
            anchors.add_der(AnchorScope::All, &leaf).expect("anchor");
            assert!(
                register(capture, &response, &require, &anchors).is_err(),
                "{name}: none is never trusted"
            );
        }
    }
}

/// Re-encodes the attestation object with `edit` applied to its parts.
fn edit_attestation_object(
    response: &Value,
    edit: impl FnOnce(&mut Vec<u8>, &mut ciborium::Value),
) -> Value {
    let bytes = b64(response["response"]["attestationObject"]
        .as_str()
        .expect("attestationObject"));
    let mut object = AttestationObject::parse(&bytes).expect("attestation object");
    edit(&mut object.auth_data, &mut object.statement);
    let map = ciborium::Value::Map(vec![
        (
            ciborium::Value::Text("fmt".into()),
            ciborium::Value::Text(object.format),
        ),
        (ciborium::Value::Text("attStmt".into()), object.statement),
        (
            ciborium::Value::Text("authData".into()),
            ciborium::Value::Bytes(object.auth_data),
        ),
    ]);
    let mut encoded = Vec::new();
    ciborium::ser::into_writer(&map, &mut encoded).expect("encode");
    let mut response = response.clone();
    response["response"]["attestationObject"] = Value::String(base64url::encode(&encoded));
    response
}

#[test]
fn tampered_attested_registrations_fail() {
    for capture in committed().iter().filter(|c| c.format() != "none") {
        let name = &capture.name;
        let policy = capture.policy();
        let none = TrustAnchors::new();
        let response = capture.registration_json();
        // Re-encoding alone changes nothing that is checked.
        let same = edit_attestation_object(&response, |_, _| {});
        register(capture, &same, &policy, &none).expect("re-encoded passes");

        // authData is signed by the attestation key: every byte matters, except in
        // fido-u2f, whose signature covers rpIdHash, credential id and key only (§8.6):
        // flags, signCount and AAGUID are not signed there.
        let ao = b64(response["response"]["attestationObject"]
            .as_str()
            .expect("ao"));
        let len = AttestationObject::parse(&ao)
            .expect("attestation object")
            .auth_data
            .len();
        let unsigned = if capture.format() == "fido-u2f" {
            32..53
        } else {
            0..0
        };
        for index in (0..len).filter(|i| !unsigned.contains(i)) {
            let tampered = edit_attestation_object(&response, |auth_data, _| {
                if let Some(byte) = auth_data.get_mut(index) {
                    *byte ^= 0x10;
                }
            });
            assert!(
                register(capture, &tampered, &policy, &none).is_err(),
                "{name}: authData byte {index} flipped was accepted"
            );
        }
        // So is clientDataJSON, through its hash.
        let client_data = "/response/clientDataJSON";
        for index in 0..byte_len(&response, client_data) {
            let tampered = flip(&response, client_data, index, 1);
            assert!(
                register(capture, &tampered, &policy, &none).is_err(),
                "{name}: clientDataJSON byte {index} flipped was accepted"
            );
        }
        // And the statement's signature itself.
        let tampered = edit_attestation_object(&response, |_, statement| {
            if let ciborium::Value::Map(entries) = statement {
                for (key, value) in entries.iter_mut() {
                    if key.as_text() == Some("sig")
                        && let ciborium::Value::Bytes(sig) = value
                    {
                        let last = sig.len() - 1;
                        sig[last] ^= 0x01;
                    }
                }
            }
        });
        assert!(
            register(capture, &tampered, &policy, &none).is_err(),
            "{name}: sig flip accepted"
        );
    }
}

#[test]
fn trailing_bytes_after_attestation_object_fail() {
    for capture in &committed() {
        let mut response = capture.registration_json();
        let mut bytes = b64(response["response"]["attestationObject"]
            .as_str()
            .expect("ao"));
        bytes.push(0);
        response["response"]["attestationObject"] = Value::String(base64url::encode(&bytes));
        assert!(
            register(capture, &response, &capture.policy(), &TrustAnchors::new()).is_err(),
            "{}",
            capture.name
        );
    }
}

#[test]
fn browser_to_json_with_padding_and_extra_members_is_accepted() {
    // toJSON() output is what the captures hold; hosts also see padded base64url and
    // members from newer browsers: both must be tolerated.
    for capture in &committed() {
        let mut response = capture.registration_json();
        for member in ["clientDataJSON", "attestationObject"] {
            let text = response["response"][member]
                .as_str()
                .expect("member")
                .to_owned();
            let padded = format!("{text}{}", "=".repeat((4 - text.len() % 4) % 4));
            response["response"][member] = Value::String(padded);
        }
        response["futureMember"] = Value::Bool(true);
        register(capture, &response, &capture.policy(), &TrustAnchors::new())
            .unwrap_or_else(|e| panic!("{}: {e}", capture.name));
    }
}
