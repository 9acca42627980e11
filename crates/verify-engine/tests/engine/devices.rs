//! Device request authentication (docs/push-protocol.md, section 4): the push SDK's `Basic token:<JWT>`
//! after enrollment, checked against the factor found by the JWT's `kid`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::{Value, json};
use verify_engine::{NewPushFactor, VerifyError};
use verify_model::factor::FactorKind;
use verify_model::{AccountSid, Factor, FactorStatus, Identity, ServiceSid};
use verify_push::{PushError, RequestAuthError};

use crate::support::{Harness, T0, block_on};

/// The account sid of [`Harness`] (`sub`).
fn account() -> String {
    AccountSid::from_bytes([0xac; 16]).to_string()
}

fn key(seed: u64) -> SigningKey {
    SigningKey::random(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn credential_sid(factor: &Factor) -> String {
    match factor.kind() {
        FactorKind::Push(push) => push.config().credential_sid().to_string(),
        _ => panic!("not a push factor"),
    }
}

/// A JWT as the SDKs build it: the header they send, `claims`, ES256 raw r‖s.
fn jwt_with(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn sdk_header(kid: &str) -> Value {
    json!({"cty": "twilio-pba;v=1", "kid": kid, "typ": "JWT", "alg": "ES256"})
}

fn sdk_claims(sub: &str, nbf: u64) -> Value {
    json!({"sub": sub, "exp": nbf + 600, "nbf": nbf})
}

fn authorization(jwt: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("token:{jwt}")))
}

struct Setup {
    h: Harness,
    service: ServiceSid,
    alice: Identity,
    bob: Identity,
    /// Alice's push factor (verified) and device key.
    factor: Factor,
    key: SigningKey,
    /// Bob's push factor (verified) and device key.
    bob_factor: Factor,
    bob_key: SigningKey,
}

fn push_factor(h: &Harness, service: ServiceSid, identity: &Identity, key: &SigningKey) -> Factor {
    block_on(async {
        let token = h
            .verify
            .create_access_token(service, identity, None, None)
            .await
            .unwrap();
        let binding = STANDARD.encode(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        h.verify
            .create_push_factor(
                service,
                identity,
                token.credential(),
                NewPushFactor::new("phone", &binding, "com.owl.bank"),
            )
            .await
            .unwrap()
    })
}

fn verify(h: &Harness, service: ServiceSid, factor: &Factor, key: &SigningKey) -> Factor {
    let sig: DerSignature = key.sign(factor.sid().to_string().as_bytes());
    block_on(h.verify.verify_factor(
        service,
        factor.identity(),
        factor.sid(),
        &STANDARD.encode(sig.as_bytes()),
    ))
    .unwrap()
}

fn setup() -> Setup {
    let h = Harness::new(71);
    let service = block_on(
        h.verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new()),
    )
    .unwrap()
    .sid();
    let alice = Identity::parse("alice-0001").unwrap();
    let bob = Identity::parse("bob-00000002").unwrap();
    let key = key(1);
    let bob_key = key_for_bob();
    let factor = push_factor(&h, service, &alice, &key);
    let factor = verify(&h, service, &factor, &key);
    let bob_factor = push_factor(&h, service, &bob, &bob_key);
    let bob_factor = verify(&h, service, &bob_factor, &bob_key);
    Setup {
        h,
        service,
        alice,
        bob,
        factor,
        key,
        bob_factor,
        bob_key,
    }
}

fn key_for_bob() -> SigningKey {
    key(2)
}

impl Setup {
    fn now(&self) -> u64 {
        self.h.now().as_secs()
    }

    fn auth(
        &self,
        identity: &Identity,
        header: &str,
    ) -> Result<verify_engine::DeviceAuth, VerifyError> {
        block_on(
            self.h
                .verify
                .authenticate_device(self.service, identity, header),
        )
    }

    /// Alice's JWT as her SDK makes it now.
    fn alice_jwt(&self) -> String {
        jwt_with(
            &self.key,
            &sdk_header(&credential_sid(&self.factor)),
            &sdk_claims(&account(), self.now()),
        )
    }
}

#[track_caller]
fn assert_refused(result: Result<verify_engine::DeviceAuth, VerifyError>) -> VerifyError {
    match result {
        Ok(auth) => panic!("accepted: {:?}", auth.factor.sid()),
        Err(error) => {
            assert!(error.is_device_auth_refusal(), "{error:?}");
            error
        }
    }
}

#[test]
fn the_sdk_jwt_authenticates_its_own_factor() {
    let s = setup();
    let auth = s.auth(&s.alice, &authorization(&s.alice_jwt())).unwrap();
    assert_eq!(auth.factor_sid(), s.factor.sid());
    assert_eq!(auth.identity(), &s.alice);
    assert_eq!(auth.expires_at.as_secs(), T0 + 600);
    assert_eq!(auth.checked_at.as_secs(), T0);
    // The header's members in another order and without `cty` (the check is on the
    // received bytes, not a re-serialization).
    let reordered = jwt_with(
        &s.key,
        &json!({"alg": "ES256", "kid": credential_sid(&s.factor), "typ": "JWT"}),
        &json!({"nbf": T0, "sub": account(), "exp": T0 + 600}),
    );
    assert!(s.auth(&s.alice, &authorization(&reordered)).is_ok());
}

#[test]
fn an_unverified_factor_authenticates_so_the_sdk_can_verify_it() {
    let s = setup();
    let key = key(3);
    let carol = Identity::parse("carol-0003").unwrap();
    let factor = push_factor(&s.h, s.service, &carol, &key);
    assert_eq!(factor.status(), FactorStatus::Unverified);
    let jwt = jwt_with(
        &key,
        &sdk_header(&credential_sid(&factor)),
        &sdk_claims(&account(), s.now()),
    );
    let auth = s.auth(&carol, &authorization(&jwt)).unwrap();
    assert_eq!(auth.factor_sid(), factor.sid());
}

#[test]
fn another_key_is_refused_opaquely() {
    let s = setup();
    let jwt = jwt_with(
        &key(99),
        &sdk_header(&credential_sid(&s.factor)),
        &sdk_claims(&account(), s.now()),
    );
    let error = assert_refused(s.auth(&s.alice, &authorization(&jwt)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::SignatureInvalid)
    ));
}

#[test]
fn another_entitys_factor_is_not_found_for_this_identity() {
    let s = setup();
    // Bob's valid JWT presented for Alice's entity: Bob's factor is not Alice's.
    let bob_jwt = jwt_with(
        &s.bob_key,
        &sdk_header(&credential_sid(&s.bob_factor)),
        &sdk_claims(&account(), s.now()),
    );
    let error = assert_refused(s.auth(&s.alice, &authorization(&bob_jwt)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::RequestAuth(RequestAuthError::KidMismatch))
    ));
    // ... and it is accepted for Bob.
    let auth = s.auth(&s.bob, &authorization(&bob_jwt)).unwrap();
    assert_eq!(auth.factor_sid(), s.bob_factor.sid());
    // An identity without an entity refuses the same way.
    let nobody = Identity::parse("nobody-0009").unwrap();
    let error = assert_refused(s.auth(&nobody, &authorization(&bob_jwt)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::RequestAuth(RequestAuthError::KidMismatch))
    ));
}

#[test]
fn a_kid_naming_another_factor_or_nothing_is_refused() {
    let s = setup();
    // Alice's key, but the kid of Bob's factor (for Alice's identity: not found).
    let jwt = jwt_with(
        &s.key,
        &sdk_header(&credential_sid(&s.bob_factor)),
        &sdk_claims(&account(), s.now()),
    );
    assert_refused(s.auth(&s.alice, &authorization(&jwt)));
    // Alice's key and Bob's kid, for Bob: Bob's key does not verify it.
    let error = assert_refused(s.auth(&s.bob, &authorization(&jwt)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::SignatureInvalid)
    ));
    // A kid that names no credential, and the factor sid instead of the credential sid.
    for kid in [
        "CR00000000000000000000000000000000",
        &s.factor.sid().to_string(),
    ] {
        let jwt = jwt_with(&s.key, &sdk_header(kid), &sdk_claims(&account(), s.now()));
        let error = assert_refused(s.auth(&s.alice, &authorization(&jwt)));
        assert!(matches!(
            error,
            VerifyError::Push(PushError::RequestAuth(RequestAuthError::KidMismatch))
        ));
    }
    // No kid at all.
    let jwt = jwt_with(
        &s.key,
        &json!({"typ": "JWT", "alg": "ES256"}),
        &sdk_claims(&account(), s.now()),
    );
    let error = assert_refused(s.auth(&s.alice, &authorization(&jwt)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::RequestAuth(RequestAuthError::MissingKid))
    ));
}

#[test]
fn a_deleted_factor_no_longer_authenticates() {
    let s = setup();
    let header = authorization(&s.alice_jwt());
    assert!(s.auth(&s.alice, &header).is_ok());
    block_on(
        s.h.verify
            .delete_factor(s.service, &s.alice, s.factor.sid()),
    )
    .unwrap();
    assert_refused(s.auth(&s.alice, &header));
}

#[test]
fn the_subject_must_be_this_account() {
    let s = setup();
    let jwt = jwt_with(
        &s.key,
        &sdk_header(&credential_sid(&s.factor)),
        &sdk_claims(&AccountSid::from_bytes([0xbd; 16]).to_string(), s.now()),
    );
    let error = assert_refused(s.auth(&s.alice, &authorization(&jwt)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::RequestAuth(RequestAuthError::SubjectMismatch))
    ));
}

#[test]
fn expired_and_not_yet_valid_tokens_are_refused_with_the_time() {
    let s = setup();
    let header = authorization(&s.alice_jwt());
    // exp = T0 + 600, leeway 60 s: valid until just before T0 + 660.
    s.h.advance(659);
    assert!(s.auth(&s.alice, &header).is_ok());
    s.h.advance(1);
    let error = assert_refused(s.auth(&s.alice, &header));
    match error {
        VerifyError::Push(PushError::RequestAuth(RequestAuthError::Expired {
            expired_at,
            now,
        })) => {
            assert_eq!(expired_at.as_secs(), T0 + 600);
            assert_eq!(now.as_secs(), T0 + 660);
        }
        other => panic!("{other:?}"),
    }

    // A device clock 5 minutes ahead: nbf in the future beyond the leeway.
    let ahead = jwt_with(
        &s.key,
        &sdk_header(&credential_sid(&s.factor)),
        &sdk_claims(&account(), s.now() + 300),
    );
    let error = assert_refused(s.auth(&s.alice, &authorization(&ahead)));
    assert!(matches!(
        error,
        VerifyError::Push(PushError::RequestAuth(RequestAuthError::NotYetValid { .. }))
    ));
    // Within the leeway it is accepted.
    let slightly_ahead = jwt_with(
        &s.key,
        &sdk_header(&credential_sid(&s.factor)),
        &sdk_claims(&account(), s.now() + 30),
    );
    assert!(s.auth(&s.alice, &authorization(&slightly_ahead)).is_ok());
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let s = setup();
    let kid = credential_sid(&s.factor);
    let claims = sdk_claims(&account(), s.now());
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": kid, "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_refused(s.auth(&s.alice, &authorization(&unsigned)));
    // alg none with a (valid ES256) signature attached is still refused.
    let none_signed = jwt_with(
        &s.key,
        &json!({"alg": "none", "kid": kid, "typ": "JWT"}),
        &claims,
    );
    assert_refused(s.auth(&s.alice, &authorization(&none_signed)));
    let hs256 = jwt_with(
        &s.key,
        &json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
        &claims,
    );
    assert_refused(s.auth(&s.alice, &authorization(&hs256)));
}

#[test]
fn garbage_headers_are_refused_without_panicking() {
    let s = setup();
    let jwt = s.alice_jwt();
    let (signing_input, _) = jwt.rsplit_once('.').unwrap();
    let cases = [
        String::new(),
        "Basic".to_owned(),
        "Basic !!!!".to_owned(),
        format!("Bearer {jwt}"),
        format!("Basic {}", STANDARD.encode(format!("admin:{jwt}"))),
        authorization(""),
        authorization("not.a.jwt"),
        authorization("a.b"),
        authorization(&format!("{signing_input}.")),
        authorization(&format!("{jwt}.extra")),
        authorization(&"A".repeat(5000)),
        authorization("YK0123456789abcdef0123456789abcdef.secret"),
        format!("Basic {}", STANDARD.encode([0xff, 0xfe, 0x00])),
    ];
    for header in &cases {
        assert_refused(s.auth(&s.alice, header));
    }
    // A claims segment that is not JSON, with a valid signature over it.
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(sdk_header(&credential_sid(&s.factor)).to_string()),
        URL_SAFE_NO_PAD.encode(b"{\"sub\":")
    );
    let sig: Signature = s.key.sign(input.as_bytes());
    let broken = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
    assert_refused(s.auth(&s.alice, &authorization(&broken)));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Arbitrary `Authorization` values and arbitrary JWT segments never
        /// authenticate (and never panic); a one-byte change to a valid JWT's
        /// signing input or signature is refused.
        #[test]
        fn only_the_signed_jwt_authenticates(
            header in ".{0,200}",
            segments in proptest::collection::vec("[A-Za-z0-9_-]{0,80}", 3),
            flip in 0_usize..2000,
        ) {
            let s = setup();
            prop_assert!(s.auth(&s.alice, &header).is_err());
            let forged = segments.join(".");
            prop_assert!(s.auth(&s.alice, &authorization(&forged)).is_err());

            let jwt = s.alice_jwt();
            let mut bytes = jwt.clone().into_bytes();
            let index = flip % bytes.len();
            let original = bytes[index];
            // Another base64url character (or a dot moved), never the same byte.
            bytes[index] = if original == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            prop_assume!(tampered != jwt);
            let result = s.auth(&s.alice, &authorization(&tampered));
            // (The last character of the signature also carries unused trailing
            // bits; the decoder refuses non-canonical ones, see
            // `every_single_character_change_is_refused`.)
            prop_assert!(result.is_err(), "tampered at {index} accepted");
            prop_assert!(s.auth(&s.alice, &authorization(&jwt)).is_ok());
        }
    }
}

#[test]
fn every_single_character_change_is_refused() {
    let s = setup();
    let jwt = s.alice_jwt();
    for index in 0..jwt.len() {
        let mut bytes = jwt.clone().into_bytes();
        bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(
            s.auth(&s.alice, &authorization(&tampered)).is_err(),
            "changed at {index} and accepted"
        );
    }
    assert!(s.auth(&s.alice, &authorization(&jwt)).is_ok());
}
