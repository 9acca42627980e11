//! The ceremonies end to end with a software authenticator, and one failing input for
//! every check (negative tests), including bit flips in every signed field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failing test should fail loudly"
)]

use p256::ecdsa::signature::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use sha2::Digest as _;
use verify_model::UnixTime;
use verify_webauthn::attestation::TrustAnchors;
use verify_webauthn::authentication::{
    AuthenticationInput, ParsedAuthentication, StoredCredential, finish_authentication,
    finish_parsed_authentication, start_authentication, verify_authentication,
};
use verify_webauthn::crypto::SignatureAlgorithm;
use verify_webauthn::policy::{
    AttestationTrust, BackupEligibilityPolicy, CeremonyPolicy, CounterPolicy, CrossOriginPolicy,
    UserVerification,
};
use verify_webauthn::registration::{
    RegistrationInput, finish_registration, start_registration, verify_registration,
};
use verify_webauthn::relying_party::RelyingParty;
use verify_webauthn::wire::{
    AuthenticationResponseJson, CredentialDescriptor, RegistrationResponseJson, UserEntity,
};
use verify_webauthn::{ParseError, WebauthnError, base64url};

const RP_ID: &str = "example.org";
const ORIGIN: &str = "https://example.org";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// A software authenticator with one P-256 credential.
struct Authenticator {
    key: p256::ecdsa::SigningKey,
    credential_id: Vec<u8>,
}

impl Authenticator {
    fn new() -> Self {
        Self {
            key: p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap(),
            credential_id: vec![0xc1; 16],
        }
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(point.x().unwrap());
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(point.y().unwrap());
        cose
    }

    fn auth_data(&self, rp_id: &str, flags: u8, count: u32, attested: bool) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags | if attested { AT } else { 0 });
        data.extend_from_slice(&count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            data.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .unwrap()
                    .to_be_bytes(),
            );
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    fn register(&self, client_data: &[u8], auth_data: Vec<u8>) -> RegistrationResponseJson {
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            ("authData".into(), ciborium::Value::Bytes(auth_data)),
        ]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&object, &mut bytes).unwrap();
        self.registration_json(client_data, &bytes)
    }

    fn registration_json(&self, client_data: &[u8], object: &[u8]) -> RegistrationResponseJson {
        let id = base64url::encode(&self.credential_id);
        RegistrationResponseJson::from_json(
            &serde_json::json!({
                "id": id, "rawId": id, "type": "public-key",
                "response": {
                    "clientDataJSON": base64url::encode(client_data),
                    "attestationObject": base64url::encode(object),
                    "transports": ["usb"],
                },
                "clientExtensionResults": {},
            })
            .to_string(),
        )
        .unwrap()
    }

    fn assert(
        &self,
        client_data: &[u8],
        auth_data: &[u8],
        user_handle: Option<&[u8]>,
    ) -> AuthenticationResponseJson {
        let mut message = auth_data.to_vec();
        message.extend_from_slice(&sha2::Sha256::digest(client_data));
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        assertion_json(
            &self.credential_id,
            client_data,
            auth_data,
            signature.to_der().as_bytes(),
            user_handle,
        )
    }
}

fn assertion_json(
    credential_id: &[u8],
    client_data: &[u8],
    auth_data: &[u8],
    signature: &[u8],
    user_handle: Option<&[u8]>,
) -> AuthenticationResponseJson {
    let id = base64url::encode(credential_id);
    AuthenticationResponseJson::from_json(
        &serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": base64url::encode(client_data),
                "authenticatorData": base64url::encode(auth_data),
                "signature": base64url::encode(signature),
                "userHandle": user_handle.map(base64url::encode),
            },
            "clientExtensionResults": {},
        })
        .to_string(),
    )
    .unwrap()
}

fn client_data(kind: &str, challenge: &[u8], origin: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}"{extra}}}"#,
        base64url::encode(challenge)
    )
    .into_bytes()
}

const CHALLENGE: &[u8] = &[0x5a; 32];

fn origins() -> Vec<String> {
    vec![ORIGIN.to_owned()]
}

fn register_with(
    policy: &CeremonyPolicy,
    response: &RegistrationResponseJson,
) -> Result<verify_webauthn::registration::VerifiedRegistration, WebauthnError> {
    let origins = origins();
    let trust = TrustAnchors::new();
    verify_registration(
        &RegistrationInput::new(RP_ID, &origins, CHALLENGE, policy, &trust, NOW),
        response,
    )
}

fn good_registration(auth: &Authenticator, flags: u8) -> RegistrationResponseJson {
    auth.register(
        &client_data("webauthn.create", CHALLENGE, ORIGIN, ""),
        auth.auth_data(RP_ID, flags, 0, true),
    )
}

fn authenticate_with(
    policy: &CeremonyPolicy,
    stored: &StoredCredential,
    response: &AuthenticationResponseJson,
) -> Result<verify_webauthn::authentication::VerifiedAuthentication, WebauthnError> {
    let origins = origins();
    verify_authentication(
        &AuthenticationInput::new(RP_ID, &origins, CHALLENGE, policy),
        stored,
        response,
    )
}

fn stored(auth: &Authenticator, count: u32, be: Option<bool>) -> StoredCredential {
    StoredCredential::new(auth.credential_id.clone(), &auth.cose_key(), count, be).unwrap()
}

fn get_data() -> Vec<u8> {
    client_data("webauthn.get", CHALLENGE, ORIGIN, "")
}

#[test]
fn registration_succeeds_and_reports_what_to_persist() {
    let auth = Authenticator::new();
    let verified = register_with(
        &CeremonyPolicy::default(),
        &good_registration(&auth, UP | UV | BE),
    )
    .unwrap();
    let record = &verified.credential;
    assert_eq!(record.id.as_slice(), auth.credential_id);
    assert_eq!(record.public_key_cose.as_slice(), auth.cose_key());
    assert_eq!(record.algorithm, -7);
    assert_eq!(record.transports, ["usb"]);
    assert!(record.backup_eligible && !record.backup_state && record.user_verified);
    assert_eq!(record.aaguid, "00000000-0000-0000-0000-000000000000");
    assert_eq!(record.attestation_format, "none");
    assert_eq!(record.attestation_type, "none");
    assert!(!record.attestation_trusted);
}

#[test]
fn registration_negative_checks() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let code = |r: Result<_, WebauthnError>| r.map(|_| ()).unwrap_err().code();
    let reg = |cd: Vec<u8>, ad: Vec<u8>| auth.register(&cd, ad);
    let good_ad = || auth.auth_data(RP_ID, UP, 0, true);
    let create = |c: &[u8], o: &str, x: &str| client_data("webauthn.create", c, o, x);

    assert_eq!(
        code(register_with(
            &policy,
            &reg(
                client_data("webauthn.get", CHALLENGE, ORIGIN, ""),
                good_ad()
            )
        )),
        "type_mismatch"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(create(b"wrong", ORIGIN, ""), good_ad())
        )),
        "challenge_mismatch"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(create(CHALLENGE, "https://evil.example", ""), good_ad())
        )),
        "origin_mismatch"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(
                create(CHALLENGE, ORIGIN, r#","crossOrigin":true"#),
                good_ad()
            )
        )),
        "cross_origin_rejected"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(
                create(CHALLENGE, ORIGIN, ""),
                auth.auth_data("evil.example", UP, 0, true)
            )
        )),
        "rp_id_hash_mismatch"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(
                create(CHALLENGE, ORIGIN, ""),
                auth.auth_data(RP_ID, 0, 0, true)
            )
        )),
        "user_not_present"
    );
    let mut uv = policy.clone();
    uv.user_verification = UserVerification::Required;
    assert_eq!(
        code(register_with(
            &uv,
            &reg(create(CHALLENGE, ORIGIN, ""), good_ad())
        )),
        "user_verification_required"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(
                create(CHALLENGE, ORIGIN, ""),
                auth.auth_data(RP_ID, UP | BS, 0, true)
            )
        )),
        "malformed"
    );
    assert_eq!(
        code(register_with(
            &policy,
            &reg(
                create(CHALLENGE, ORIGIN, ""),
                auth.auth_data(RP_ID, UP, 0, false)
            )
        )),
        "attested_credential_data_missing"
    );
    let mut eddsa_only = policy.clone();
    eddsa_only.algorithms = vec![SignatureAlgorithm::EdDsa];
    assert!(matches!(
        register_with(&eddsa_only, &good_registration(&auth, UP)),
        Err(WebauthnError::AlgorithmNotAllowed { algorithm: -7, .. })
    ));
    let mut trusted = policy.clone();
    trusted.attestation_trust = AttestationTrust::RequireTrusted;
    assert_eq!(
        code(register_with(&trusted, &good_registration(&auth, UP))),
        "attestation_not_trusted"
    );

    // Trailing bytes after the authenticator data and after the attestation object.
    let mut ad = good_ad();
    ad.push(0);
    assert!(matches!(
        register_with(&policy, &reg(create(CHALLENGE, ORIGIN, ""), ad)),
        Err(WebauthnError::Malformed(ParseError::TrailingBytes { .. }))
    ));
    let response = good_registration(&auth, UP);
    let mut object = response.response.attestation_object.0.clone();
    object.push(0xf6);
    let trailing = auth.registration_json(&response.response.client_data_json.0, &object);
    assert!(matches!(
        register_with(&policy, &trailing),
        Err(WebauthnError::Malformed(ParseError::TrailingBytes { .. }))
    ));
    // id not matching rawId.
    let mut mismatched = good_registration(&auth, UP);
    mismatched.id = base64url::encode(b"another id");
    assert!(matches!(
        register_with(&policy, &mismatched),
        Err(WebauthnError::Malformed(ParseError::IdMismatch))
    ));
}

#[test]
fn authentication_succeeds_with_counter_zero_zero() {
    let auth = Authenticator::new();
    let response = auth.assert(
        &get_data(),
        &auth.auth_data(RP_ID, UP | UV | BE | BS, 0, false),
        None,
    );
    let verified = authenticate_with(
        &CeremonyPolicy::default(),
        &stored(&auth, 0, Some(true)),
        &response,
    )
    .unwrap();
    assert_eq!(verified.sign_count, 0);
    assert!(verified.user_verified && verified.backup_eligible && verified.backup_state);
    assert!(!verified.counter_warning);
}

#[test]
fn authentication_negative_checks() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cred = stored(&auth, 0, Some(false));
    let code = |r: Result<_, WebauthnError>| r.map(|_| ()).unwrap_err().code();
    let ad = |flags| auth.auth_data(RP_ID, flags, 0, false);
    let check = |p: &CeremonyPolicy, cd: Vec<u8>, ad: Vec<u8>| {
        code(authenticate_with(p, &cred, &auth.assert(&cd, &ad, None)))
    };
    let get = |c: &[u8], o: &str, x: &str| client_data("webauthn.get", c, o, x);

    assert_eq!(
        check(
            &policy,
            client_data("webauthn.create", CHALLENGE, ORIGIN, ""),
            ad(UP)
        ),
        "type_mismatch"
    );
    assert_eq!(
        check(&policy, get(b"nope", ORIGIN, ""), ad(UP)),
        "challenge_mismatch"
    );
    assert_eq!(
        check(
            &policy,
            get(CHALLENGE, "https://example.org.evil", ""),
            ad(UP)
        ),
        "origin_mismatch"
    );
    assert_eq!(
        check(
            &policy,
            get(
                CHALLENGE,
                ORIGIN,
                r#","crossOrigin":true,"topOrigin":"https://top.example""#
            ),
            ad(UP)
        ),
        "cross_origin_rejected"
    );
    let mut cross = policy.clone();
    cross.cross_origin = CrossOriginPolicy::Allow {
        top_origins: vec!["https://good.example".to_owned()],
    };
    assert_eq!(
        check(
            &cross,
            get(
                CHALLENGE,
                ORIGIN,
                r#","crossOrigin":true,"topOrigin":"https://top.example""#
            ),
            ad(UP)
        ),
        "top_origin_mismatch"
    );
    assert_eq!(
        check(
            &policy,
            get(CHALLENGE, ORIGIN, ""),
            auth.auth_data("evil.example", UP, 0, false)
        ),
        "rp_id_hash_mismatch"
    );
    assert_eq!(
        check(&policy, get(CHALLENGE, ORIGIN, ""), ad(0)),
        "user_not_present"
    );
    let mut uv = policy.clone();
    uv.user_verification = UserVerification::Required;
    assert_eq!(
        check(&uv, get(CHALLENGE, ORIGIN, ""), ad(UP)),
        "user_verification_required"
    );
    assert_eq!(
        check(&policy, get(CHALLENGE, ORIGIN, ""), ad(UP | BS)),
        "malformed"
    );
    assert_eq!(
        check(
            &policy,
            get(CHALLENGE, ORIGIN, ""),
            auth.auth_data(RP_ID, UP, 0, true)
        ),
        "unexpected_attested_credential_data"
    );
    // BE changed since registration (stored false, now true).
    assert_eq!(
        check(&policy, get(CHALLENGE, ORIGIN, ""), ad(UP | BE)),
        "backup_eligibility_changed"
    );
    let mut allow_be = policy.clone();
    allow_be.backup_eligibility = BackupEligibilityPolicy::Allow;
    authenticate_with(
        &allow_be,
        &cred,
        &auth.assert(&get(CHALLENGE, ORIGIN, ""), &ad(UP | BE), None),
    )
    .unwrap();
    // Another credential id.
    let other = StoredCredential::new(vec![1; 16], &auth.cose_key(), 0, None).unwrap();
    assert_eq!(
        code(authenticate_with(
            &policy,
            &other,
            &auth.assert(&get(CHALLENGE, ORIGIN, ""), &ad(UP), None)
        )),
        "credential_id_mismatch"
    );
}

#[test]
fn sign_count_regression_reject_or_warn() {
    let auth = Authenticator::new();
    let response = |count| auth.assert(&get_data(), &auth.auth_data(RP_ID, UP, count, false), None);
    let policy = CeremonyPolicy::default();
    let ok = authenticate_with(&policy, &stored(&auth, 5, None), &response(6)).unwrap();
    assert_eq!((ok.sign_count, ok.counter_warning), (6, false));
    for (stored_count, got) in [(5, 5), (5, 4), (5, 0)] {
        assert!(matches!(
            authenticate_with(&policy, &stored(&auth, stored_count, None), &response(got)),
            Err(WebauthnError::SignCountRegressed { stored, got: g }) if stored == stored_count && g == got
        ));
        let mut warn = policy.clone();
        warn.counter = CounterPolicy::Warn;
        let verified =
            authenticate_with(&warn, &stored(&auth, stored_count, None), &response(got)).unwrap();
        assert!(verified.counter_warning);
        assert_eq!(verified.sign_count, got);
    }
    // A counter starting from 0 is fine.
    assert!(
        !authenticate_with(&policy, &stored(&auth, 0, None), &response(1))
            .unwrap()
            .counter_warning
    );
}

#[test]
fn bit_flips_in_signed_fields_are_rejected() {
    let auth = Authenticator::new();
    let cd = get_data();
    let ad = auth.auth_data(RP_ID, UP, 1, false);
    let good = auth.assert(&cd, &ad, None);
    let cred = stored(&auth, 0, None);
    let policy = CeremonyPolicy::default();
    authenticate_with(&policy, &cred, &good).unwrap();
    let signature = good.response.signature.0;
    for bit in 0..ad.len() * 8 {
        let mut flipped = ad.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let response = assertion_json(&auth.credential_id, &cd, &flipped, &signature, None);
        assert!(
            authenticate_with(&policy, &cred, &response).is_err(),
            "authData bit {bit}"
        );
    }
    for bit in 0..cd.len() * 8 {
        let mut flipped = cd.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let response = assertion_json(&auth.credential_id, &flipped, &ad, &signature, None);
        assert!(
            authenticate_with(&policy, &cred, &response).is_err(),
            "clientDataJSON bit {bit}"
        );
    }
    for bit in 0..signature.len() * 8 {
        let mut flipped = signature.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let response = assertion_json(&auth.credential_id, &cd, &ad, &flipped, None);
        assert!(
            authenticate_with(&policy, &cred, &response).is_err(),
            "signature bit {bit}"
        );
    }
}

#[test]
fn ceremonies_start_to_finish_with_options_json() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let rp = RelyingParty::new(RP_ID, "Example", origins()).unwrap();
    let user = UserEntity::new(
        b"YE0123456789abcdef0123456789abcdef".to_vec(),
        "alice",
        "Alice",
    );
    let existing = [CredentialDescriptor::new(
        vec![9; 16],
        vec!["usb".to_owned()],
    )];
    let (options, state) = start_registration(&rp, &user, &existing, NOW, &mut rng).unwrap();
    let json = serde_json::to_value(&options).unwrap();
    assert_eq!(
        json["rp"],
        serde_json::json!({"id": RP_ID, "name": "Example"})
    );
    assert_eq!(
        json["user"]["id"],
        base64url::encode(b"YE0123456789abcdef0123456789abcdef")
    );
    assert_eq!(json["timeout"], 600_000);
    assert_eq!(json["attestation"], "none");
    assert_eq!(
        json["pubKeyCredParams"],
        serde_json::json!([{"type":"public-key","alg":-8},{"type":"public-key","alg":-7},{"type":"public-key","alg":-257}])
    );
    assert_eq!(
        json["excludeCredentials"][0]["id"],
        base64url::encode(&[9; 16])
    );
    assert_eq!(json["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(json["authenticatorSelection"]["requireResidentKey"], false);
    assert_eq!(
        json["authenticatorSelection"]["userVerification"],
        "preferred"
    );
    assert!(!json["challenge"].as_str().unwrap().contains('='));
    // The state survives a round trip through the host's storage.
    let state: verify_webauthn::registration::RegistrationState =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();

    let auth = Authenticator::new();
    let cd = client_data("webauthn.create", options.challenge.as_slice(), ORIGIN, "");
    let response = auth.register(&cd, auth.auth_data(RP_ID, UP | UV, 0, true));
    let trust = TrustAnchors::new();
    let late = UnixTime::from_secs(NOW.as_secs() + 601);
    assert_eq!(
        finish_registration(&rp, &state, &response, late, &trust)
            .unwrap_err()
            .code(),
        "ceremony_expired"
    );
    let registered = finish_registration(&rp, &state, &response, NOW, &trust).unwrap();
    assert_eq!(
        registered
            .credential
            .user_handle
            .as_ref()
            .unwrap()
            .as_slice(),
        user.id.as_slice()
    );

    // An excluded credential id cannot register again.
    let (options2, state2) = start_registration(
        &rp,
        &user,
        &[CredentialDescriptor::new(
            auth.credential_id.clone(),
            vec![],
        )],
        NOW,
        &mut rng,
    )
    .unwrap();
    let cd2 = client_data("webauthn.create", options2.challenge.as_slice(), ORIGIN, "");
    let response2 = auth.register(&cd2, auth.auth_data(RP_ID, UP, 0, true));
    assert_eq!(
        finish_registration(&rp, &state2, &response2, NOW, &trust)
            .unwrap_err()
            .code(),
        "credential_excluded"
    );

    let stored = StoredCredential::from_record(&registered.credential).unwrap();
    let handle = user.id.as_slice();

    // Identified user: allowCredentials lists theirs.
    let allow = [CredentialDescriptor::new(
        auth.credential_id.clone(),
        vec![],
    )];
    let (req, state) = start_authentication(&rp, Some((handle, &allow)), NOW, &mut rng);
    let req_json = serde_json::to_value(&req).unwrap();
    assert_eq!(req_json["rpId"], RP_ID);
    assert_eq!(
        req_json["allowCredentials"][0]["id"],
        base64url::encode(&auth.credential_id)
    );
    let cd = client_data("webauthn.get", req.challenge.as_slice(), ORIGIN, "");
    let ad = auth.auth_data(RP_ID, UP | UV, 3, false);
    let verified = finish_authentication(
        &rp,
        &state,
        &auth.assert(&cd, &ad, Some(handle)),
        &stored,
        NOW,
    )
    .unwrap();
    assert_eq!(verified.sign_count, 3);
    assert_eq!(
        finish_authentication(
            &rp,
            &state,
            &auth.assert(&cd, &ad, Some(b"someone else")),
            &stored,
            NOW
        )
        .unwrap_err()
        .code(),
        "user_handle_mismatch"
    );
    let (_, narrow) = start_authentication(
        &rp,
        Some((handle, &[CredentialDescriptor::new(vec![2; 16], vec![])])),
        NOW,
        &mut rng,
    );
    assert_eq!(
        finish_authentication(&rp, &narrow, &auth.assert(&cd, &ad, None), &stored, NOW)
            .unwrap_err()
            .code(),
        "credential_not_allowed"
    );

    // Discoverable: no allowCredentials, the userHandle names the user.
    let (req, state) = start_authentication(&rp, None, NOW, &mut rng);
    assert!(state.is_discoverable());
    assert!(req.allow_credentials.is_empty());
    let cd = client_data("webauthn.get", req.challenge.as_slice(), ORIGIN, "");
    let verified = finish_authentication(
        &rp,
        &state,
        &auth.assert(&cd, &ad, Some(handle)),
        &stored,
        NOW,
    )
    .unwrap();
    assert_eq!(verified.user_handle.as_deref(), Some(handle));
    assert_eq!(
        finish_authentication(&rp, &state, &auth.assert(&cd, &ad, None), &stored, NOW)
            .unwrap_err()
            .code(),
        "user_handle_missing"
    );
    assert_eq!(
        finish_authentication(
            &rp,
            &state,
            &auth.assert(&cd, &ad, Some(b"mallory")),
            &stored,
            NOW
        )
        .unwrap_err()
        .code(),
        "user_handle_mismatch"
    );
}

#[test]
fn relying_party_config_is_validated() {
    assert!(RelyingParty::new("", "x", origins()).is_err());
    assert!(RelyingParty::new(RP_ID, "x", vec![]).is_err());
    assert!(RelyingParty::new(RP_ID, "x", vec!["http://example.org".to_owned()]).is_err());
    assert!(RelyingParty::new("localhost", "x", vec!["http://localhost:8080".to_owned()]).is_ok());
    // An origin whose host is not the RP ID (or a subdomain of it) can never pass.
    assert!(RelyingParty::new(RP_ID, "x", vec!["http://localhost:8080".to_owned()]).is_err());
}

#[test]
fn padded_base64url_and_browser_extra_members_are_accepted() {
    let auth = Authenticator::new();
    let cd = get_data();
    let ad = auth.auth_data(RP_ID, UP, 0, false);
    let response = auth.assert(&cd, &ad, None);
    let pad = |b: &[u8]| {
        let mut s = base64url::encode(b);
        while !s.len().is_multiple_of(4) {
            s.push('=');
        }
        s
    };
    let json = serde_json::json!({
        "id": base64url::encode(&auth.credential_id),
        "rawId": pad(&auth.credential_id),
        "type": "public-key",
        "authenticatorAttachment": "cross-platform",
        "response": {
            "clientDataJSON": pad(&cd),
            "authenticatorData": pad(&ad),
            "signature": pad(&response.response.signature.0),
            "userHandle": null,
            "somethingNew": 1,
        },
        "clientExtensionResults": {"credProps": {"rk": true}},
        "futureMember": [1, 2, 3],
    });
    let parsed = AuthenticationResponseJson::from_json(&json.to_string()).unwrap();
    authenticate_with(&CeremonyPolicy::default(), &stored(&auth, 0, None), &parsed).unwrap();
    assert!(AuthenticationResponseJson::from_json("{").is_err());
    assert!(AuthenticationResponseJson::from_json(&" ".repeat(200_000)).is_err());
}

#[test]
fn descriptor_lists_are_capped_at_the_named_limit() {
    use verify_webauthn::limits::MAX_CREDENTIAL_DESCRIPTORS;
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let rp = RelyingParty::new(RP_ID, "Example", origins()).unwrap();
    let many: Vec<CredentialDescriptor> = (0..MAX_CREDENTIAL_DESCRIPTORS + 20)
        .map(|i| {
            CredentialDescriptor::new(u32::try_from(i).unwrap().to_be_bytes().to_vec(), vec![])
        })
        .collect();
    for count in [MAX_CREDENTIAL_DESCRIPTORS, MAX_CREDENTIAL_DESCRIPTORS + 20] {
        let user = UserEntity::new(b"YE0123456789abcdef0123456789abcdef".to_vec(), "a", "A");
        let (options, _) = start_registration(&rp, &user, &many[..count], NOW, &mut rng).unwrap();
        assert_eq!(
            options.exclude_credentials.len(),
            MAX_CREDENTIAL_DESCRIPTORS
        );
        let (options, _) =
            start_authentication(&rp, Some((b"user", &many[..count])), NOW, &mut rng);
        let json = serde_json::to_value(&options).unwrap();
        let listed = json["allowCredentials"].as_array().unwrap();
        assert_eq!(listed.len(), MAX_CREDENTIAL_DESCRIPTORS);
        // The first ones, in the caller's order.
        assert_eq!(listed[0]["id"], base64url::encode(many[0].id.as_slice()));
        assert_eq!(
            listed[MAX_CREDENTIAL_DESCRIPTORS - 1]["id"],
            base64url::encode(many[MAX_CREDENTIAL_DESCRIPTORS - 1].id.as_slice())
        );
    }
}

/// A response parsed once as received ([`ParsedAuthentication`]) finishes exactly as
/// the same response finished from its JSON value: the same verdict, or the same
/// error, for good, wrong and tampered assertions; and routing reads the claimed
/// challenge from the same parse.
#[test]
fn parsed_once_and_unparsed_finishes_agree() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let rp = RelyingParty::new(RP_ID, "Example", origins()).unwrap();
    let auth = Authenticator::new();
    let stored = stored(&auth, 1, None).with_user_handle(b"YE0-user".to_vec());
    let (req, state) = start_authentication(&rp, Some((b"YE0-user", &[])), NOW, &mut rng);
    let challenge = req.challenge.as_slice();
    let ad = auth.auth_data(RP_ID, UP | UV, 2, false);
    let good_cd = client_data("webauthn.get", challenge, ORIGIN, "");
    let mut tampered = auth.assert(&good_cd, &ad, None);
    let mut flipped = tampered.response.signature.as_slice().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    tampered = assertion_json(&auth.credential_id, &good_cd, &ad, &flipped, None);
    let cases = [
        auth.assert(&good_cd, &ad, None),
        auth.assert(&good_cd, &ad, Some(b"YE0-user")),
        auth.assert(&good_cd, &ad, Some(b"mallory")),
        auth.assert(
            &client_data("webauthn.get", challenge, "https://evil.example", ""),
            &ad,
            None,
        ),
        auth.assert(
            &client_data("webauthn.create", challenge, ORIGIN, ""),
            &ad,
            None,
        ),
        auth.assert(
            &client_data("webauthn.get", &[1; 32], ORIGIN, ""),
            &ad,
            None,
        ),
        auth.assert(&good_cd, &auth.auth_data(RP_ID, UP, 1, false), None),
        tampered,
    ];
    let mut verdicts = Vec::new();
    for response in &cases {
        let body = serde_json::to_vec(response).unwrap();
        let parsed = ParsedAuthentication::from_slice(&body).unwrap();
        assert_eq!(
            parsed.claimed_challenge().unwrap(),
            response.claimed_challenge().unwrap()
        );
        let once = finish_parsed_authentication(&rp, &state, &parsed, &stored, NOW)
            .map(|v| v.sign_count)
            .map_err(|e| e.code());
        let twice = finish_authentication(&rp, &state, response, &stored, NOW)
            .map(|v| v.sign_count)
            .map_err(|e| e.code());
        assert_eq!(once, twice);
        verdicts.push(once);
    }
    // The cases cover an approval and distinct refusals (the comparison is not vacuous).
    assert_eq!(verdicts[0], Ok(2));
    assert_eq!(verdicts[1], Ok(2));
    assert!(verdicts[2..].iter().all(Result::is_err), "{verdicts:?}");
    // A body whose clientDataJSON is not client data is refused at the parse.
    let mut broken = serde_json::to_value(&cases[0]).unwrap();
    broken["response"]["clientDataJSON"] = serde_json::json!(base64url::encode(b"not json"));
    assert!(ParsedAuthentication::from_slice(broken.to_string().as_bytes()).is_err());
}

/// WebAuthn L3 §7.2 step 6: when the user was identified before the ceremony, the
/// credential must belong to that user. A credential the host found by `rawId`
/// whose owner is not recorded is refused unless the ceremony's non-empty
/// allow-list named it; an owner recorded for someone else is refused always.
#[test]
fn an_identified_sign_in_refuses_a_credential_of_unknown_owner() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let rp = RelyingParty::new(RP_ID, "Example", origins()).unwrap();
    let auth = Authenticator::new();
    let alice: &[u8] = b"YE0-alice";
    let ad = auth.auth_data(RP_ID, UP | UV, 2, false);
    let unowned = stored(&auth, 1, None);
    let finish = |state, response: &AuthenticationResponseJson, credential: &StoredCredential| {
        let once =
            finish_authentication(&rp, state, response, credential, NOW).map_err(|e| e.code());
        let body = serde_json::to_vec(response).unwrap();
        let parsed = ParsedAuthentication::from_slice(&body).unwrap();
        let twice = finish_parsed_authentication(&rp, state, &parsed, credential, NOW)
            .map_err(|e| e.code());
        let once = once.map(|v| v.sign_count);
        assert_eq!(once, twice.map(|v| v.sign_count));
        once
    };

    // The hole: identified user, empty allow-list, credential without an owner.
    let (req, state) = start_authentication(&rp, Some((alice, &[])), NOW, &mut rng);
    let cd = client_data("webauthn.get", req.challenge.as_slice(), ORIGIN, "");
    for user_handle in [None, Some(alice)] {
        let response = auth.assert(&cd, &ad, user_handle);
        assert_eq!(
            finish(&state, &response, &unowned),
            Err("credential_owner_unknown"),
            "{user_handle:?}"
        );
    }
    // The same credential owned by alice passes, with or without a userHandle.
    let owned = unowned.clone().with_user_handle(alice.to_vec());
    for user_handle in [None, Some(alice)] {
        let response = auth.assert(&cd, &ad, user_handle);
        assert_eq!(finish(&state, &response, &owned), Ok(2));
    }
    // Owned by someone else: refused, whatever the allow-list says.
    let bobs = unowned.clone().with_user_handle(b"YE0-bob".to_vec());
    let response = auth.assert(&cd, &ad, None);
    assert_eq!(
        finish(&state, &response, &bobs),
        Err("user_handle_mismatch")
    );
    let allow = [CredentialDescriptor::new(
        auth.credential_id.clone(),
        vec![],
    )];
    let (req, listed) = start_authentication(&rp, Some((alice, &allow)), NOW, &mut rng);
    let cd = client_data("webauthn.get", req.challenge.as_slice(), ORIGIN, "");
    let response = auth.assert(&cd, &ad, None);
    assert_eq!(
        finish(&listed, &response, &bobs),
        Err("user_handle_mismatch")
    );
    // The allow-list the ceremony was started with vouches for an unowned credential.
    assert_eq!(finish(&listed, &response, &unowned), Ok(2));
    let response = auth.assert(&cd, &ad, Some(alice));
    assert_eq!(finish(&listed, &response, &unowned), Ok(2));
    assert_eq!(finish(&listed, &response, &owned), Ok(2));

    // Discoverable sign-in: the userHandle must name the credential's recorded owner.
    let (req, discoverable) = start_authentication(&rp, None, NOW, &mut rng);
    let cd = client_data("webauthn.get", req.challenge.as_slice(), ORIGIN, "");
    let response = auth.assert(&cd, &ad, Some(alice));
    assert_eq!(finish(&discoverable, &response, &owned), Ok(2));
    assert_eq!(
        finish(&discoverable, &response, &unowned),
        Err("credential_owner_unknown")
    );
    assert_eq!(
        finish(&discoverable, &response, &bobs),
        Err("user_handle_mismatch")
    );
}

/// The explicit-expectations API has no ceremony state, but a returned `userHandle`
/// must still be the owner recorded on the credential (WebAuthn L3 §7.2 step 6).
#[test]
fn verify_authentication_refuses_a_user_handle_that_is_not_the_owner() {
    let auth = Authenticator::new();
    let ad = auth.auth_data(RP_ID, UP, 1, false);
    let policy = CeremonyPolicy::default();
    let owned = stored(&auth, 0, None).with_user_handle(b"YE0-alice".to_vec());
    let ok = auth.assert(&get_data(), &ad, Some(b"YE0-alice"));
    authenticate_with(&policy, &owned, &ok).unwrap();
    authenticate_with(&policy, &owned, &auth.assert(&get_data(), &ad, None)).unwrap();
    let other = auth.assert(&get_data(), &ad, Some(b"YE0-mallory"));
    assert_eq!(
        authenticate_with(&policy, &owned, &other)
            .unwrap_err()
            .code(),
        "user_handle_mismatch"
    );
    // Without a recorded owner the host vouches for the credential (as before).
    authenticate_with(&policy, &stored(&auth, 0, None), &other).unwrap();
}

/// `transports` as a client reports them: unknown values (WebAuthn L3 §5.8.4) are
/// dropped at parse time, not refused; repeated ones are merged; the legacy
/// `cable` reads as `hybrid`; what is kept is bounded by the named limit, fits the
/// model's record, and is all that options echo.
#[test]
fn transports_are_reduced_to_known_values_when_parsed() {
    use verify_webauthn::limits::MAX_TRANSPORTS;
    use verify_webauthn::registration::CredentialRecord;
    use verify_webauthn::wire::{KNOWN_TRANSPORTS, known_transports};
    let auth = Authenticator::new();
    let mut body = serde_json::to_value(good_registration(&auth, UP | UV)).unwrap();
    let mut reported: Vec<String> = vec!["<script>".into(), "usb".into()];
    reported.extend((0..2000).map(|i| format!("t{i}")));
    reported.extend(["cable", "usb", "hybrid"].map(String::from));
    assert_eq!(reported.len(), 2005);
    body["response"]["transports"] = serde_json::json!(reported);
    let response = RegistrationResponseJson::from_json(&body.to_string()).unwrap();
    assert_eq!(response.response.transports, ["usb", "hybrid"]);
    let record = register_with(&CeremonyPolicy::default(), &response)
        .unwrap()
        .credential;
    assert_eq!(record.transports, ["usb", "hybrid"]);
    // Only unknown values: the registration still succeeds, with none kept.
    body["response"]["transports"] = serde_json::json!(["<script>", "Bluetooth", ""]);
    let response = RegistrationResponseJson::from_json(&body.to_string()).unwrap();
    let record = register_with(&CeremonyPolicy::default(), &response)
        .unwrap()
        .credential;
    assert!(record.transports.is_empty());
    // Still a list of strings: anything else is malformed, as before.
    body["response"]["transports"] = serde_json::json!([1]);
    assert!(RegistrationResponseJson::from_json(&body.to_string()).is_err());

    // Every known value fits the limit and the model's record.
    const _: () = assert!(KNOWN_TRANSPORTS.len() <= MAX_TRANSPORTS);
    let all: Vec<&str> = KNOWN_TRANSPORTS
        .iter()
        .chain(KNOWN_TRANSPORTS)
        .copied()
        .collect();
    let kept = known_transports(&all);
    assert_eq!(kept, KNOWN_TRANSPORTS);
    assert!(kept.len() <= MAX_TRANSPORTS);
    verify_model::factor::PasskeyCredential::new(
        vec![1; 16],
        auth.cose_key(),
        -7,
        0,
        kept,
        false,
        false,
        [0; 16],
        "none",
        true,
    )
    .unwrap();

    // A record persisted by an earlier release, odd values and all, reads filtered.
    let record = register_with(&CeremonyPolicy::default(), &good_registration(&auth, UP))
        .unwrap()
        .credential;
    let mut stored = serde_json::to_value(&record).unwrap();
    stored["transports"] = serde_json::json!(reported);
    let loaded: CredentialRecord = serde_json::from_value(stored).unwrap();
    assert_eq!(loaded.transports, ["usb", "hybrid"]);

    // Options echo the known values only, whatever the host hands in.
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let rp = RelyingParty::new(RP_ID, "Example", origins()).unwrap();
    let descriptor = CredentialDescriptor::new(vec![9; 16], reported.clone());
    assert_eq!(descriptor.transports, ["usb", "hybrid"]);
    let user = UserEntity::new(b"YE0-alice".to_vec(), "a", "A");
    let (creation, _) =
        start_registration(&rp, &user, std::slice::from_ref(&descriptor), NOW, &mut rng).unwrap();
    let (request, _) = start_authentication(
        &rp,
        Some((b"YE0-alice", std::slice::from_ref(&descriptor))),
        NOW,
        &mut rng,
    );
    let creation = serde_json::to_value(&creation).unwrap();
    let request = serde_json::to_value(&request).unwrap();
    let expected = serde_json::json!(["usb", "hybrid"]);
    assert_eq!(creation["excludeCredentials"][0]["transports"], expected);
    assert_eq!(request["allowCredentials"][0]["transports"], expected);
    // A descriptor read back from JSON is reduced too.
    let read: CredentialDescriptor = serde_json::from_value(serde_json::json!({
        "type": "public-key", "id": base64url::encode(&[9; 16]), "transports": reported,
    }))
    .unwrap();
    assert_eq!(read.transports, ["usb", "hybrid"]);
}

// ---------------------------------------------------------------------------------
// One test per §7.1 / §7.2 check docs/webauthn.md listed without one: each asserts
// the exact error of that check on a response that passes every check before it.
// ---------------------------------------------------------------------------------

/// §7.1 step 3 and §7.2 step 3: a credential `type` other than `public-key` is
/// refused in both ceremonies (the rest of each response verifies).
#[test]
fn a_type_other_than_public_key_is_refused_in_both_ceremonies() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cred = stored(&auth, 0, None);
    register_with(&policy, &good_registration(&auth, UP)).unwrap();
    let assertion = auth.assert(&get_data(), &auth.auth_data(RP_ID, UP, 1, false), None);
    authenticate_with(&policy, &cred, &assertion).unwrap();
    for kind in ["", "Public-Key", "public-key ", "password"] {
        let mut registration = good_registration(&auth, UP);
        registration.credential_type = kind.to_owned();
        assert!(
            matches!(
                register_with(&policy, &registration),
                Err(WebauthnError::Malformed(ParseError::InvalidValue {
                    field: "type"
                }))
            ),
            "registration type {kind:?}"
        );
        let mut wrong = assertion.clone();
        wrong.credential_type = kind.to_owned();
        assert!(
            matches!(
                authenticate_with(&policy, &cred, &wrong),
                Err(WebauthnError::Malformed(ParseError::InvalidValue {
                    field: "type"
                }))
            ),
            "assertion type {kind:?}"
        );
    }
}

/// §7.2 step 3: an assertion whose `id` is not base64url of its `rawId` is refused
/// (also when `id` names the stored credential and only `rawId` differs).
#[test]
fn an_assertion_id_not_matching_raw_id_is_refused() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cred = stored(&auth, 0, None);
    let assertion = auth.assert(&get_data(), &auth.auth_data(RP_ID, UP, 1, false), None);
    let mut other_id = assertion.clone();
    other_id.id = base64url::encode(b"another id");
    assert!(matches!(
        authenticate_with(&policy, &cred, &other_id),
        Err(WebauthnError::Malformed(ParseError::IdMismatch))
    ));
    let mut other_raw_id = assertion;
    other_raw_id.raw_id = base64url::Base64UrlBytes(vec![0xc2; 16]);
    assert!(matches!(
        authenticate_with(&policy, &cred, &other_raw_id),
        Err(WebauthnError::Malformed(ParseError::IdMismatch))
    ));
}

/// §7.1 step 5 and §7.2 step 8: `clientDataJSON` that is not UTF-8 (an invalid byte
/// inside `origin`, where a lossy decode would have turned it into U+FFFD) is refused
/// as malformed JSON, and so is one with a leading byte order mark: verify does not
/// strip it (clients do not write one), so the spec's BOM-stripping decode is the one
/// place verify is stricter than §7.1 step 5 (docs/webauthn.md).
#[test]
fn client_data_that_is_not_utf8_or_starts_with_a_bom_is_refused() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cred = stored(&auth, 0, None);
    let ad = auth.auth_data(RP_ID, UP, 1, false);
    let not_utf8 = |kind: &str| {
        let mut bytes = client_data(kind, CHALLENGE, ORIGIN, "");
        let quote = bytes.len() - 2; // the origin's closing quote
        assert_eq!(bytes[quote], b'"');
        bytes.insert(quote, 0xff);
        bytes
    };
    let with_bom = |kind: &str| {
        [
            &[0xef, 0xbb, 0xbf][..],
            &client_data(kind, CHALLENGE, ORIGIN, ""),
        ]
        .concat()
    };
    let malformed = |result: Result<(), WebauthnError>| {
        matches!(
            result,
            Err(WebauthnError::Malformed(ParseError::Json {
                field: "clientDataJSON",
                ..
            }))
        )
    };
    for (name, create, get) in [
        (
            "invalid UTF-8",
            not_utf8("webauthn.create"),
            not_utf8("webauthn.get"),
        ),
        ("BOM", with_bom("webauthn.create"), with_bom("webauthn.get")),
    ] {
        let registration = auth.register(&create, auth.auth_data(RP_ID, UP, 0, true));
        assert!(
            malformed(register_with(&policy, &registration).map(|_| ())),
            "registration: {name}"
        );
        let assertion = auth.assert(&get, &ad, None);
        assert!(
            malformed(authenticate_with(&policy, &cred, &assertion).map(|_| ())),
            "assertion: {name}"
        );
        // The parsed-once path refuses it when the response is received.
        assert!(matches!(
            ParsedAuthentication::new(assertion),
            Err(ParseError::Json {
                field: "clientDataJSON",
                ..
            })
        ));
    }
}

/// §7.1 step 21: a registration whose `fmt` is not a supported format name (matched
/// case-sensitively) is refused by name, with an otherwise valid response.
#[test]
fn a_registration_with_an_unknown_fmt_is_refused() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cd = client_data("webauthn.create", CHALLENGE, ORIGIN, "");
    for fmt in ["None", "NONE", "none ", "ecdaa", "x-unknown", ""] {
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), fmt.into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(auth.auth_data(RP_ID, UP, 0, true)),
            ),
        ]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&object, &mut bytes).unwrap();
        let result = register_with(&policy, &auth.registration_json(&cd, &bytes));
        assert!(
            matches!(
                &result,
                Err(WebauthnError::Malformed(ParseError::UnknownAttestationFormat { format }))
                    if format == fmt
            ),
            "{fmt:?}: {result:?}"
        );
    }
}

/// The check verify adds to §7.1: the credential id in the attested credential data
/// must be the response's `rawId` (`id` and `rawId` agree with each other here).
#[test]
fn a_registration_whose_attested_credential_id_is_not_raw_id_is_refused() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    for other in [vec![0xc2; 16], vec![0xc1; 15], vec![0xc1; 17]] {
        let mut response = good_registration(&auth, UP);
        response.id = base64url::encode(&other);
        response.raw_id = base64url::Base64UrlBytes(other);
        assert!(matches!(
            register_with(&policy, &response),
            Err(WebauthnError::CredentialIdMismatch)
        ));
    }
}

/// §7.2 step 7, what verify adds: `clientDataJSON`, `signature` and `userHandle` of
/// an assertion are bounded (`src/limits.rs`). At the bound each is accepted as far
/// as its size goes; one byte over it is refused as too large, naming the field.
#[test]
fn assertion_inputs_above_their_size_bounds_are_refused() {
    use verify_webauthn::limits::{
        MAX_CLIENT_DATA_JSON_BYTES, MAX_SIGNATURE_BYTES, MAX_USER_HANDLE_BYTES,
    };
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cred = stored(&auth, 0, None);
    let ad = auth.auth_data(RP_ID, UP, 1, false);
    let too_large = |result: Result<_, WebauthnError>, field: &str, len: usize, max: usize| {
        matches!(
            result,
            Err(WebauthnError::Malformed(ParseError::TooLarge { field: f, len: l, max: m }))
                if f == field && l == len && m == max
        )
    };

    // clientDataJSON padded by an extra (ignored) member to exactly the bound, then
    // one byte over it.
    let padded = |len: usize| {
        let base = client_data("webauthn.get", CHALLENGE, ORIGIN, r#","pad":"""#).len();
        let pad = "p".repeat(len - base);
        client_data(
            "webauthn.get",
            CHALLENGE,
            ORIGIN,
            &format!(r#","pad":"{pad}""#),
        )
    };
    let at_bound = padded(MAX_CLIENT_DATA_JSON_BYTES);
    assert_eq!(at_bound.len(), MAX_CLIENT_DATA_JSON_BYTES);
    authenticate_with(&policy, &cred, &auth.assert(&at_bound, &ad, None)).unwrap();
    let over = padded(MAX_CLIENT_DATA_JSON_BYTES + 1);
    assert!(too_large(
        authenticate_with(&policy, &cred, &auth.assert(&over, &ad, None)),
        "clientDataJSON",
        MAX_CLIENT_DATA_JSON_BYTES + 1,
        MAX_CLIENT_DATA_JSON_BYTES
    ));

    // A signature of the bound's length is looked at (and is not a valid one); one
    // byte longer is not.
    let cd = get_data();
    let at_bound = assertion_json(
        &auth.credential_id,
        &cd,
        &ad,
        &[0x30; MAX_SIGNATURE_BYTES],
        None,
    );
    assert!(matches!(
        authenticate_with(&policy, &cred, &at_bound),
        Err(WebauthnError::SignatureInvalid)
    ));
    let over = assertion_json(
        &auth.credential_id,
        &cd,
        &ad,
        &[0x30; MAX_SIGNATURE_BYTES + 1],
        None,
    );
    assert!(too_large(
        authenticate_with(&policy, &cred, &over),
        "signature",
        MAX_SIGNATURE_BYTES + 1,
        MAX_SIGNATURE_BYTES
    ));

    // A userHandle of 64 bytes verifies (no owner recorded); 65 bytes does not.
    let handle = [0x75; MAX_USER_HANDLE_BYTES + 1];
    let verified = authenticate_with(
        &policy,
        &cred,
        &auth.assert(&cd, &ad, Some(&handle[..MAX_USER_HANDLE_BYTES])),
    )
    .unwrap();
    assert_eq!(verified.user_handle.unwrap().len(), MAX_USER_HANDLE_BYTES);
    assert!(too_large(
        authenticate_with(&policy, &cred, &auth.assert(&cd, &ad, Some(&handle))),
        "userHandle",
        MAX_USER_HANDLE_BYTES + 1,
        MAX_USER_HANDLE_BYTES
    ));
}

/// §7.2 step 2, what verify adds: the authentication state expires with the
/// ceremony's timeout. A response at the last second is accepted; one second later
/// `finish_authentication` (and `finish_parsed_authentication`) refuse it.
#[test]
fn an_expired_authentication_ceremony_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let rp = RelyingParty::new(RP_ID, "Example", origins()).unwrap();
    let auth = Authenticator::new();
    let (request, state) = start_authentication(&rp, None, NOW, &mut rng);
    let expires_at = state.expires_at();
    assert_eq!(expires_at.as_secs(), NOW.as_secs() + 600);
    let handle = b"user-1";
    let cred = stored(&auth, 0, None).with_user_handle(handle.to_vec());
    let cd = client_data("webauthn.get", request.challenge.as_slice(), ORIGIN, "");
    let response = auth.assert(&cd, &auth.auth_data(RP_ID, UP, 1, false), Some(handle));
    finish_authentication(&rp, &state, &response, &cred, expires_at).unwrap();
    let late = UnixTime::from_secs(expires_at.as_secs() + 1);
    assert!(matches!(
        finish_authentication(&rp, &state, &response, &cred, late),
        Err(WebauthnError::CeremonyExpired { expires_at: e, now })
            if e == expires_at.as_secs() && now == late.as_secs()
    ));
    let parsed = ParsedAuthentication::new(response).unwrap();
    assert!(matches!(
        finish_parsed_authentication(&rp, &state, &parsed, &cred, late),
        Err(WebauthnError::CeremonyExpired { .. })
    ));
}

/// §7.2 step 24.3 is the host's (an update of the stored `uvInitialized`, gated on an
/// extra authorization factor verify cannot see); what verify gives the host for it
/// is the assertion's UV flag, reported as is, under the default (preferred) policy.
#[test]
fn the_assertion_uv_flag_is_reported_for_uv_initialized() {
    let auth = Authenticator::new();
    let policy = CeremonyPolicy::default();
    let cred = stored(&auth, 0, None);
    for (flags, user_verified) in [(UP, false), (UP | UV, true)] {
        let response = auth.assert(&get_data(), &auth.auth_data(RP_ID, flags, 1, false), None);
        let verified = authenticate_with(&policy, &cred, &response).unwrap();
        assert_eq!(verified.user_verified, user_verified, "flags {flags:#04x}");
    }
}
