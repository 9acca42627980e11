//! Passkeys end to end with a software authenticator (P-256, `none` attestation):
//! register, sign in by identity (one or several passkeys) and usernameless, by sid
//! and by the bare browser response (routing by the challenge prefix), and the
//! refusals (replayed assertion, wrong origin, cloned authenticator, unknown
//! credential, another entity's passkey, forged or unknown prefixes, racing
//! approvals), and the per-service policy (sign-count reject / warn, trusted
//! attestation required).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use sha2::Digest as _;
use verify::{ServiceSettings, VerifyError};
use verify_model::{
    ChallengeOutcome, ChallengeStatus, EventType, Factor, FactorStatus, Identity, ModelError,
    PasskeysConfig, RelyingParty, ServiceSid,
};
use verify_webauthn::WebauthnError;

use crate::support::{Harness, block_on};

pub(crate) const RP_ID: &str = "example.org";
pub(crate) const ORIGIN: &str = "https://example.org";
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// A software authenticator with one P-256 credential.
pub(crate) struct Authenticator {
    key: p256::ecdsa::SigningKey,
    pub(crate) credential_id: Vec<u8>,
}

impl Authenticator {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut credential_id = vec![0; 16];
        rand_core::RngCore::fill_bytes(&mut rng, &mut credential_id);
        Self {
            key: p256::ecdsa::SigningKey::random(&mut rng),
            credential_id,
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

    fn auth_data(&self, flags: u8, count: u32, attested: bool) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
        data.push(flags | if attested { AT } else { 0 });
        data.extend_from_slice(&count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            let len = u16::try_from(self.credential_id.len()).unwrap();
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// `navigator.credentials.create()` for `options` (`{"publicKey": ...}`).
    pub(crate) fn create(&self, options: &serde_json::Value, origin: &str) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.create", challenge, origin);
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(self.auth_data(UP | UV, 0, true)),
            ),
        ]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&object, &mut bytes).unwrap();
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// `navigator.credentials.get()` for `options`, with signature counter `count`.
    pub(crate) fn get(
        &self,
        options: &serde_json::Value,
        origin: &str,
        count: u32,
        user_handle: &[u8],
    ) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data(UP | UV, count, false);
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(&client_data));
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
                "userHandle": URL_SAFE_NO_PAD.encode(user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}"}}"#).into_bytes()
}

pub(crate) struct Registered {
    pub(crate) service: ServiceSid,
    pub(crate) identity: Identity,
    pub(crate) factor: Factor,
    pub(crate) authenticator: Authenticator,
}

impl Registered {
    pub(crate) fn user_handle(&self) -> Vec<u8> {
        self.factor.entity_sid().to_string().into_bytes()
    }
}

/// A service with passkeys, and one registered, verified passkey.
pub(crate) async fn registered(h: &Harness, seed: u64) -> Registered {
    let rp = RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
    let service = h
        .verify
        .create_service(
            "Owl Bank",
            &ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp)),
        )
        .await
        .unwrap()
        .sid();
    let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
    let created = h
        .verify
        .create_passkey_factor(service, &identity, "My laptop")
        .await
        .unwrap();
    let authenticator = Authenticator::new(seed);
    let response = authenticator.create(&created.options, ORIGIN);
    let factor = h
        .verify
        .verify_passkey_factor(service, &identity, created.factor.sid(), &response)
        .await
        .unwrap();
    Registered {
        service,
        identity,
        factor,
        authenticator,
    }
}

fn webauthn_error(result: Result<verify::ChallengeUpdate, VerifyError>) -> WebauthnError {
    match result {
        Err(VerifyError::Webauthn(error)) => error,
        other => panic!("expected a WebAuthn error, got {other:?}"),
    }
}

#[test]
fn register_then_sign_in_by_identity() {
    let h = Harness::new(1);
    block_on(async {
        let rp = RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
        let service = h
            .verify
            .create_service(
                "Owl Bank",
                &ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp)),
            )
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "My laptop")
            .await
            .unwrap();
        assert_eq!(created.factor.status(), FactorStatus::Unverified);
        let public_key = &created.options["publicKey"];
        let entity = created.factor.entity_sid().to_string();
        assert_eq!(
            public_key["user"]["id"].as_str().unwrap(),
            URL_SAFE_NO_PAD.encode(entity.as_bytes())
        );
        assert_eq!(public_key["rp"]["id"], RP_ID);
        assert!(
            public_key["excludeCredentials"]
                .as_array()
                .is_none_or(Vec::is_empty)
        );

        let authenticator = Authenticator::new(1);
        let response = authenticator.create(&created.options, ORIGIN);
        let factor = h
            .verify
            .verify_passkey_factor(service, &identity, created.factor.sid(), &response)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);

        // A second factor's options exclude the registered credential.
        let second = h
            .verify
            .create_passkey_factor(service, &identity, "My phone")
            .await
            .unwrap();
        let excluded = second.options["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap();
        assert_eq!(
            excluded[0]["id"].as_str().unwrap(),
            URL_SAFE_NO_PAD.encode(&authenticator.credential_id)
        );
        // ...and registering the same credential again is refused.
        let again = authenticator.create(&second.options, ORIGIN);
        assert!(matches!(
            h.verify
                .verify_passkey_factor(service, &identity, second.factor.sid(), &again)
                .await,
            Err(VerifyError::Webauthn(WebauthnError::CredentialExcluded))
        ));

        let challenge = h
            .verify
            .create_passkey_challenge(service, Some(&identity), None, None)
            .await
            .unwrap()
            .challenge;
        let options = &challenge.passkey().unwrap().options;
        assert_eq!(
            options["publicKey"]["allowCredentials"][0]["id"]
                .as_str()
                .unwrap(),
            URL_SAFE_NO_PAD.encode(&authenticator.credential_id)
        );
        let assertion = authenticator.get(options, ORIGIN, 1, entity.as_bytes());
        let approved = h
            .verify
            .approve_passkey_challenge(service, challenge.sid(), &assertion)
            .await
            .unwrap();
        assert_eq!(approved.outcome, ChallengeOutcome::Approved);
        assert_eq!(
            approved.challenge.status_at(h.now()),
            ChallengeStatus::Approved
        );

        // The same assertion again: the challenge is no longer pending.
        let replay = h
            .verify
            .approve_passkey_challenge(service, challenge.sid(), &assertion)
            .await;
        assert!(
            matches!(
                replay,
                Err(VerifyError::Model(ModelError::ChallengeNotPending { .. }))
            ),
            "{replay:?}"
        );

        let events: Vec<EventType> = h
            .verify
            .drain_events(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.event_type)
            .collect();
        assert!(events.contains(&EventType::FactorVerified));
        assert!(events.contains(&EventType::ChallengeApproved));
    });
}

#[test]
fn usernameless_sign_in_binds_the_entity() {
    let h = Harness::new(2);
    block_on(async {
        let r = registered(&h, 2).await;
        let created = h
            .verify
            .create_passkey_challenge(r.service, None, None, None)
            .await
            .unwrap()
            .challenge;
        let options = &created.passkey().unwrap().options;
        assert!(
            options["publicKey"]["allowCredentials"]
                .as_array()
                .is_none_or(Vec::is_empty)
        );
        // A userHandle naming another entity is refused.
        let wrong = r
            .authenticator
            .get(options, ORIGIN, 1, b"YE00000000000000000000000000000000");
        assert!(matches!(
            webauthn_error(
                h.verify
                    .approve_passkey_challenge(r.service, created.sid(), &wrong)
                    .await
            ),
            WebauthnError::UserHandleMismatch
        ));
        let assertion = r.authenticator.get(options, ORIGIN, 2, &r.user_handle());
        let approved = h
            .verify
            .approve_passkey_challenge(r.service, created.sid(), &assertion)
            .await
            .unwrap();
        assert_eq!(approved.outcome, ChallengeOutcome::Approved);
        assert_eq!(approved.challenge.entity_sid(), Some(r.factor.entity_sid()));
        assert_eq!(approved.challenge.factor_sid(), Some(r.factor.sid()));
    });
}

#[test]
fn wrong_origin_is_refused_and_counts_an_attempt() {
    let h = Harness::new(3);
    block_on(async {
        let r = registered(&h, 3).await;
        let challenge = h
            .verify
            .create_passkey_challenge(r.service, Some(&r.identity), None, None)
            .await
            .unwrap()
            .challenge;
        let options = &challenge.passkey().unwrap().options;
        let phished = r.authenticator.get(
            options,
            "https://example.org.evil.test",
            1,
            &r.user_handle(),
        );
        assert!(matches!(
            webauthn_error(
                h.verify
                    .approve_passkey_challenge(r.service, challenge.sid(), &phished)
                    .await
            ),
            WebauthnError::OriginMismatch { .. }
        ));
        let stored = h
            .verify
            .fetch_challenge(r.service, &r.identity, challenge.sid())
            .await
            .unwrap();
        assert_eq!(stored.failed_attempts(), 1);
        assert_eq!(stored.status_at(h.now()), ChallengeStatus::Pending);
    });
}

#[test]
fn cloned_authenticator_is_refused() {
    let h = Harness::new(4);
    block_on(async {
        let r = registered(&h, 4).await;
        let sign_in = |count: u32| {
            let h = &h;
            let r = &r;
            async move {
                let challenge = h
                    .verify
                    .create_passkey_challenge(r.service, Some(&r.identity), None, None)
                    .await
                    .unwrap()
                    .challenge;
                let options = challenge.passkey().unwrap().options.clone();
                let assertion = r
                    .authenticator
                    .get(&options, ORIGIN, count, &r.user_handle());
                h.verify
                    .approve_passkey_challenge(r.service, challenge.sid(), &assertion)
                    .await
            }
        };
        assert_eq!(
            sign_in(5).await.unwrap().outcome,
            ChallengeOutcome::Approved
        );
        // A clone replays a counter at or below the stored one.
        for count in [5, 3] {
            assert!(matches!(
                webauthn_error(sign_in(count).await),
                WebauthnError::SignCountRegressed { .. }
            ));
        }
        assert_eq!(
            sign_in(6).await.unwrap().outcome,
            ChallengeOutcome::Approved
        );
    });
}

#[test]
fn expired_challenge_is_not_approved() {
    let h = Harness::new(5);
    block_on(async {
        let r = registered(&h, 5).await;
        let challenge = h
            .verify
            .create_passkey_challenge(r.service, Some(&r.identity), None, None)
            .await
            .unwrap()
            .challenge;
        let options = challenge.passkey().unwrap().options.clone();
        let assertion = r.authenticator.get(&options, ORIGIN, 1, &r.user_handle());
        h.advance(60 * 60);
        let update = h
            .verify
            .approve_passkey_challenge(r.service, challenge.sid(), &assertion)
            .await
            .unwrap();
        assert_eq!(update.outcome, ChallengeOutcome::Expired);
        assert_eq!(
            update.challenge.status_at(h.now()),
            ChallengeStatus::Expired
        );
    });
}

#[test]
fn many_tasks_approving_one_passkey_challenge_one_wins() {
    let h = Harness::new(6);
    let r = block_on(registered(&h, 6));
    let h = Arc::new(h);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let challenge = h
            .verify
            .create_passkey_challenge(r.service, Some(&r.identity), None, None)
            .await
            .unwrap()
            .challenge;
        let options = challenge.passkey().unwrap().options.clone();
        let assertion = r.authenticator.get(&options, ORIGIN, 1, &r.user_handle());
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let h = Arc::clone(&h);
            let assertion = assertion.clone();
            let (service, sid) = (r.service, challenge.sid());
            tasks.push(tokio::spawn(async move {
                h.verify
                    .approve_passkey_challenge(service, sid, &assertion)
                    .await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), Ok(u) if u.outcome == ChallengeOutcome::Approved) {
                wins += 1;
            }
        }
        assert_eq!(wins, 1);
    });
}

/// A service with passkeys under `policy`.
async fn passkey_service(h: &Harness, policy: verify_model::PasskeyPolicy) -> ServiceSid {
    let rp = RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
    h.verify
        .create_service(
            "Owl Bank",
            &ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp).with_policy(policy)),
        )
        .await
        .unwrap()
        .sid()
}

/// Registers a passkey for `identity` through the bare-response path only.
async fn enroll(
    h: &Harness,
    service: ServiceSid,
    identity: &Identity,
    authenticator: &Authenticator,
) -> Factor {
    let created = h
        .verify
        .create_passkey_factor(service, identity, "Key")
        .await
        .unwrap();
    let response = authenticator.create(&created.options, ORIGIN);
    h.verify
        .verify_passkey_factor_response(service, &response)
        .await
        .unwrap()
}

/// The issued WebAuthn challenge bytes of `options`.
fn challenge_bytes(options: &serde_json::Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(options["publicKey"]["challenge"].as_str().unwrap())
        .unwrap()
}

/// `options` with another challenge (what a forger would answer).
fn with_challenge(options: &serde_json::Value, challenge: &[u8]) -> serde_json::Value {
    let mut forged = options.clone();
    forged["publicKey"]["challenge"] = URL_SAFE_NO_PAD.encode(challenge).into();
    forged
}

#[test]
fn register_and_verify_by_the_bare_response() {
    let h = Harness::new(11);
    block_on(async {
        let service = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "My laptop")
            .await
            .unwrap();
        // The challenge routes to the factor: its sid's 16 bytes, then 32 random.
        let challenge = challenge_bytes(&created.options);
        assert_eq!(challenge.len(), 48);
        assert_eq!(&challenge[..16], created.factor.sid().as_bytes());

        let authenticator = Authenticator::new(11);
        let response = authenticator.create(&created.options, ORIGIN);
        let factor = h
            .verify
            .verify_passkey_factor_response(service, &response)
            .await
            .unwrap();
        assert_eq!(factor.sid(), created.factor.sid());
        assert_eq!(factor.status(), FactorStatus::Verified);
        // The same response again: the factor is verified already.
        assert!(matches!(
            h.verify
                .verify_passkey_factor_response(service, &response)
                .await,
            Err(VerifyError::Model(ModelError::FactorAlreadyVerified))
        ));
        // In another service the prefix names nothing.
        let other = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let refused = h
            .verify
            .verify_passkey_factor_response(other, &response)
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                VerifyError::NotFound {
                    resource: verify::Resource::Factor
                }
            ),
            "{refused:?}"
        );
        assert_eq!(refused.code(), 20404);
        // Not JSON: malformed, nothing to route.
        assert!(matches!(
            h.verify.verify_passkey_factor_response(service, "{").await,
            Err(VerifyError::Webauthn(WebauthnError::Malformed(_)))
        ));
    });
}

#[test]
fn a_forged_registration_prefix_fails_the_challenge_and_counts() {
    let h = Harness::new(12);
    block_on(async {
        let service = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let a = h
            .verify
            .create_passkey_factor(service, &identity, "A")
            .await
            .unwrap();
        let b = h
            .verify
            .create_passkey_factor(service, &identity, "B")
            .await
            .unwrap();
        // Factor b's prefix with factor a's random part: routed to b, refused.
        let mut forged = b.factor.sid().as_bytes().to_vec();
        forged.extend_from_slice(&challenge_bytes(&a.options)[16..]);
        let response = Authenticator::new(12).create(&with_challenge(&a.options, &forged), ORIGIN);
        assert!(matches!(
            h.verify
                .verify_passkey_factor_response(service, &response)
                .await,
            Err(VerifyError::Webauthn(WebauthnError::ChallengeMismatch))
        ));
        let b_after = h
            .verify
            .fetch_factor(service, &identity, b.factor.sid())
            .await
            .unwrap();
        assert_eq!(b_after.failed_verification_attempts(), 1);
        assert_eq!(b_after.status(), FactorStatus::Unverified);
        // A challenge sid as prefix names no factor.
        let challenge = h
            .verify
            .create_passkey_challenge(service, None, None, None)
            .await
            .unwrap()
            .challenge;
        let mut wrong_kind = challenge.sid().as_bytes().to_vec();
        wrong_kind.extend_from_slice(&[0; 32]);
        let response =
            Authenticator::new(12).create(&with_challenge(&a.options, &wrong_kind), ORIGIN);
        assert!(matches!(
            h.verify
                .verify_passkey_factor_response(service, &response)
                .await,
            Err(VerifyError::NotFound { .. })
        ));
    });
}

#[test]
fn sign_in_by_identity_with_two_passkeys_either_approves() {
    let h = Harness::new(13);
    block_on(async {
        let service = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let (laptop, phone) = (Authenticator::new(131), Authenticator::new(132));
        let laptop_factor = enroll(&h, service, &identity, &laptop).await;
        let phone_factor = enroll(&h, service, &identity, &phone).await;
        let handle = laptop_factor.entity_sid().to_string().into_bytes();

        for (authenticator, factor, by_response) in [
            (&phone, &phone_factor, true),
            (&laptop, &laptop_factor, false),
        ] {
            let challenge = h
                .verify
                .create_passkey_challenge(service, Some(&identity), None, None)
                .await
                .unwrap()
                .challenge;
            // Bound to the entity, not to a factor, and offering both credentials.
            assert_eq!(challenge.factor_sid(), None);
            assert_eq!(challenge.entity_sid(), Some(laptop_factor.entity_sid()));
            let options = &challenge.passkey().unwrap().options;
            let mut offered: Vec<String> = options["publicKey"]["allowCredentials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect();
            offered.sort();
            let mut expected = [
                URL_SAFE_NO_PAD.encode(&laptop.credential_id),
                URL_SAFE_NO_PAD.encode(&phone.credential_id),
            ];
            expected.sort();
            assert_eq!(offered, expected);
            assert_eq!(&challenge_bytes(options)[..16], challenge.sid().as_bytes());
            let assertion = authenticator.get(options, ORIGIN, 1, &handle);
            let approved = if by_response {
                h.verify
                    .approve_passkey_challenge_response(service, &assertion)
                    .await
            } else {
                h.verify
                    .approve_passkey_challenge(service, challenge.sid(), &assertion)
                    .await
            }
            .unwrap();
            assert_eq!(approved.outcome, ChallengeOutcome::Approved);
            assert!(!approved.sign_count_regressed);
            // The approving passkey becomes the challenge's factor.
            assert_eq!(approved.challenge.factor_sid(), Some(factor.sid()));
            assert_eq!(approved.challenge.identity(), Some(&identity));
            // Replayed: the challenge is no longer pending.
            assert!(matches!(
                h.verify
                    .approve_passkey_challenge_response(service, &assertion)
                    .await,
                Err(VerifyError::Model(ModelError::ChallengeNotPending { .. }))
            ));
        }

        // With factor_sid, the challenge stays bound to that one passkey.
        let bound = h
            .verify
            .create_passkey_challenge(service, Some(&identity), Some(phone_factor.sid()), None)
            .await
            .unwrap()
            .challenge;
        assert_eq!(bound.factor_sid(), Some(phone_factor.sid()));
        let options = &bound.passkey().unwrap().options;
        assert_eq!(
            options["publicKey"]["allowCredentials"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let laptop_answer = laptop.get(options, ORIGIN, 2, &handle);
        assert!(matches!(
            webauthn_error(
                h.verify
                    .approve_passkey_challenge_response(service, &laptop_answer)
                    .await
            ),
            WebauthnError::CredentialNotAllowed
        ));
        let phone_answer = phone.get(options, ORIGIN, 2, &handle);
        assert!(
            h.verify
                .approve_passkey_challenge_response(service, &phone_answer)
                .await
                .unwrap()
                .is_approved()
        );
    });
}

#[test]
fn an_identity_challenge_refuses_another_entitys_passkey() {
    let h = Harness::new(14);
    block_on(async {
        let service = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let alice = Identity::parse("alice-0001").unwrap();
        let mallory = Identity::parse("mallory-0001").unwrap();
        let alice_key = Authenticator::new(141);
        let mallory_key = Authenticator::new(142);
        enroll(&h, service, &alice, &alice_key).await;
        let mallory_factor = enroll(&h, service, &mallory, &mallory_key).await;
        let challenge = h
            .verify
            .create_passkey_challenge(service, Some(&alice), None, None)
            .await
            .unwrap()
            .challenge;
        let options = &challenge.passkey().unwrap().options;
        let mallory_handle = mallory_factor.entity_sid().to_string().into_bytes();
        let answer = mallory_key.get(options, ORIGIN, 1, &mallory_handle);
        assert!(matches!(
            webauthn_error(
                h.verify
                    .approve_passkey_challenge_response(service, &answer)
                    .await
            ),
            WebauthnError::CredentialNotAllowed
        ));
        let stored = h
            .verify
            .fetch_challenge(service, &alice, challenge.sid())
            .await
            .unwrap();
        assert_eq!(stored.failed_attempts(), 1);
        assert_eq!(stored.status_at(h.now()), ChallengeStatus::Pending);
        assert_eq!(stored.factor_sid(), None);
    });
}

#[test]
fn usernameless_sign_in_by_the_bare_response() {
    let h = Harness::new(15);
    block_on(async {
        let r = registered(&h, 15).await;
        let challenge = h
            .verify
            .create_passkey_challenge(r.service, None, None, None)
            .await
            .unwrap()
            .challenge;
        let options = &challenge.passkey().unwrap().options;
        let assertion = r.authenticator.get(options, ORIGIN, 1, &r.user_handle());
        let approved = h
            .verify
            .approve_passkey_challenge_response(r.service, &assertion)
            .await
            .unwrap();
        assert_eq!(approved.challenge.sid(), challenge.sid());
        assert_eq!(approved.challenge.factor_sid(), Some(r.factor.sid()));
        assert!(matches!(
            h.verify
                .approve_passkey_challenge_response(r.service, &assertion)
                .await,
            Err(VerifyError::Model(ModelError::ChallengeNotPending { .. }))
        ));
    });
}

#[test]
fn forged_or_unknown_challenge_prefixes_are_refused() {
    let h = Harness::new(16);
    block_on(async {
        let r = registered(&h, 16).await;
        let create = || async {
            h.verify
                .create_passkey_challenge(r.service, Some(&r.identity), None, None)
                .await
                .unwrap()
                .challenge
        };
        let (a, b) = (create().await, create().await);
        let a_options = &a.passkey().unwrap().options;
        // b's prefix, a's random part: routed to b, fails the full comparison there
        // and counts an attempt on b.
        let mut forged = b.sid().as_bytes().to_vec();
        forged.extend_from_slice(&challenge_bytes(a_options)[16..]);
        let answer = r.authenticator.get(
            &with_challenge(a_options, &forged),
            ORIGIN,
            1,
            &r.user_handle(),
        );
        assert!(matches!(
            webauthn_error(
                h.verify
                    .approve_passkey_challenge_response(r.service, &answer)
                    .await
            ),
            WebauthnError::ChallengeMismatch
        ));
        let b_after = h
            .verify
            .fetch_challenge(r.service, &r.identity, b.sid())
            .await
            .unwrap();
        assert_eq!(b_after.failed_attempts(), 1);
        // A prefix naming no challenge, a factor, or too short: not found (60391).
        let random_part = [7_u8; 32];
        for challenge in [
            [[0x5a; 16].as_slice(), &random_part].concat(),
            [r.factor.sid().as_bytes().as_slice(), &random_part].concat(),
            vec![1, 2, 3],
        ] {
            let answer = r.authenticator.get(
                &with_challenge(a_options, &challenge),
                ORIGIN,
                1,
                &r.user_handle(),
            );
            let refused = h
                .verify
                .approve_passkey_challenge_response(r.service, &answer)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    refused,
                    VerifyError::NotFound {
                        resource: verify::Resource::Challenge
                    }
                ),
                "{refused:?}"
            );
            assert_eq!(refused.code(), 60391);
        }
        // A real challenge presented to another service: not found there.
        let other = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let genuine = r.authenticator.get(a_options, ORIGIN, 1, &r.user_handle());
        assert!(matches!(
            h.verify
                .approve_passkey_challenge_response(other, &genuine)
                .await,
            Err(VerifyError::NotFound { .. })
        ));
        // ...and still approves in its own.
        assert!(
            h.verify
                .approve_passkey_challenge_response(r.service, &genuine)
                .await
                .unwrap()
                .is_approved()
        );
    });
}

#[test]
fn sign_count_regression_reject_or_warn_per_service() {
    use verify_model::{PasskeyPolicy, SignCountRegression};
    let h = Harness::new(17);
    block_on(async {
        for policy in [SignCountRegression::Reject, SignCountRegression::Warn] {
            let service =
                passkey_service(&h, PasskeyPolicy::new().with_sign_count_regression(policy)).await;
            let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
            let key = Authenticator::new(17);
            let factor = enroll(&h, service, &identity, &key).await;
            let handle = factor.entity_sid().to_string().into_bytes();
            let sign_in = |count: u32| {
                let (h, key, identity, handle) = (&h, &key, &identity, &handle);
                async move {
                    let challenge = h
                        .verify
                        .create_passkey_challenge(service, Some(identity), None, None)
                        .await
                        .unwrap()
                        .challenge;
                    let options = challenge.passkey().unwrap().options.clone();
                    let answer = key.get(&options, ORIGIN, count, handle);
                    h.verify
                        .approve_passkey_challenge_response(service, &answer)
                        .await
                }
            };
            let first = sign_in(5).await.unwrap();
            assert!(first.is_approved() && !first.sign_count_regressed);
            let regressed = sign_in(3).await;
            let stored = h
                .verify
                .fetch_factor(service, &identity, factor.sid())
                .await
                .unwrap();
            let verify_model::FactorKind::Passkeys(passkey) = stored.kind() else {
                panic!("a passkey factor")
            };
            let credential = passkey.credential().unwrap();
            // Either way the stored counter never goes down.
            assert_eq!(credential.sign_count, 5);
            match policy {
                SignCountRegression::Reject => {
                    assert!(matches!(
                        webauthn_error(regressed),
                        WebauthnError::SignCountRegressed { stored: 5, got: 3 }
                    ));
                    assert_eq!(credential.sign_count_regressions, 0);
                }
                _ => {
                    let update = regressed.unwrap();
                    assert!(update.is_approved());
                    assert!(update.sign_count_regressed);
                    assert_eq!(credential.sign_count_regressions, 1);
                }
            }
        }
    });
}

#[test]
fn untrusted_attestation_is_refused_when_required() {
    use verify_model::PasskeyPolicy;
    let h = Harness::new(18);
    block_on(async {
        let service = passkey_service(
            &h,
            PasskeyPolicy::new().with_require_trusted_attestation(true),
        )
        .await;
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Key")
            .await
            .unwrap();
        // `none` attestation reaches no anchor: refused, and counted.
        let response = Authenticator::new(18).create(&created.options, ORIGIN);
        let refused = h
            .verify
            .verify_passkey_factor_response(service, &response)
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                VerifyError::Webauthn(WebauthnError::AttestationNotTrusted { .. })
            ),
            "{refused:?}"
        );
        let stored = h
            .verify
            .fetch_factor(service, &identity, created.factor.sid())
            .await
            .unwrap();
        assert_eq!(stored.status(), FactorStatus::Unverified);
        assert_eq!(stored.failed_verification_attempts(), 1);
        // The policy is the host's: the service's JSON view does not show it.
        let service_json = verify_model::json::ServiceJson::new(
            &h.verify.fetch_service(service).await.unwrap(),
            &h.verify.api_context(),
        );
        let json = serde_json::to_value(&service_json).unwrap();
        assert!(json["passkeys"].get("policy").is_none());
        // The default policy accepts the same kind of attestation (trust reported).
        let relaxed = passkey_service(&h, PasskeyPolicy::new()).await;
        let created = h
            .verify
            .create_passkey_factor(relaxed, &identity, "Key")
            .await
            .unwrap();
        let response = Authenticator::new(18).create(&created.options, ORIGIN);
        assert!(
            h.verify
                .verify_passkey_factor_response(relaxed, &response)
                .await
                .is_ok()
        );
    });
}
