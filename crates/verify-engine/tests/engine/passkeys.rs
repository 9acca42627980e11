//! Passkeys end to end with a software authenticator (P-256, `none` attestation):
//! register, sign in by identity (one or several passkeys) and usernameless, by sid
//! and by the bare browser response (routing by the challenge prefix), and the
//! refusals (replayed assertion, wrong origin, cloned authenticator, unknown
//! credential, another entity's passkey, forged or unknown prefixes, racing
//! approvals), and the per-service policy (sign-count reject / warn, trusted
//! attestation required).

use std::sync::Arc;

use crate::support::request_options;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use proptest::strategy::Strategy as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use sha2::Digest as _;
use verify_engine::{Resource, ServiceSettings, VerifyError};
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
const BE: u8 = 0x08;
const BS: u8 = 0x10;
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
        self.create_with_flags(options, origin, UP | UV)
    }

    /// [`create`](Self::create) with authenticator data flags `flags` (AT is added).
    fn create_with_flags(&self, options: &serde_json::Value, origin: &str, flags: u8) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.create", challenge, origin);
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(self.auth_data(flags, 0, true)),
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
        self.get_with_flags(options, origin, count, user_handle, UP | UV)
    }

    /// [`get`](Self::get) with authenticator data flags `flags`.
    fn get_with_flags(
        &self,
        options: &serde_json::Value,
        origin: &str,
        count: u32,
        user_handle: &[u8],
        flags: u8,
    ) -> String {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data(flags, count, false);
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

fn webauthn_error(result: Result<verify_engine::ChallengeUpdate, VerifyError>) -> WebauthnError {
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
        let options = &request_options(&challenge);
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
        let options = &request_options(&created);
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
        let options = &request_options(&challenge);
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
                let options = request_options(&challenge);
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
        let options = request_options(&challenge);
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
        let options = request_options(&challenge);
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
        // The challenge routes to the factor: its sid's text, then 22 random letters
        // and digits (ASCII, so that clients decoding it with `atob` read it).
        let challenge = challenge_bytes(&created.options);
        assert_eq!(challenge.len(), 34 + 22);
        assert_eq!(
            &challenge[..34],
            created.factor.sid().to_string().as_bytes()
        );
        assert!(challenge.iter().all(u8::is_ascii_alphanumeric));

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
                    resource: Resource::Factor
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
            let options = &request_options(&challenge);
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
            assert_eq!(
                &challenge_bytes(options)[..34],
                challenge.sid().to_string().as_bytes()
            );
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
        let options = &request_options(&bound);
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
        let options = &request_options(&challenge);
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
        let options = &request_options(&challenge);
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
        let a_options = &request_options(&a);
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
                        resource: Resource::Challenge
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
                    let options = request_options(&challenge);
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
        let service_json = verify_model::api::ServiceJson::new(
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

/// The relying-party rule is the WebAuthn crate's, applied when the service is
/// configured: what it refuses never reaches a ceremony (formerly a 500 at every
/// passkey operation), and what it accepts (app origins) the service accepts.
#[test]
fn a_passkeys_configuration_is_checked_by_the_webauthn_rule_at_configuration() {
    let h = Harness::new(41);
    block_on(async {
        let settings = |id: &str, origin: &str| {
            let rp = RelyingParty::new(id, "Owl Bank", vec![origin.to_owned()]).unwrap();
            ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp))
        };
        for (id, origin) in [
            ("example.org", "http://example.org"),
            ("example.org", "https://example.com"),
            ("Example.org", "https://example.org"),
        ] {
            let refused = h.verify.create_service("Owl", &settings(id, origin)).await;
            let error = refused.expect_err(origin);
            assert!(
                matches!(error, VerifyError::PasskeysConfigInvalid { .. }),
                "{origin}: {error:?}"
            );
            assert_eq!(error.http_status(), 400);
        }
        let service = h
            .verify
            .create_service("Owl", &ServiceSettings::new())
            .await
            .unwrap();
        let refused = h
            .verify
            .update_service(
                service.sid(),
                &settings("example.org", "http://example.org"),
            )
            .await;
        assert!(matches!(
            refused,
            Err(VerifyError::PasskeysConfigInvalid { .. })
        ));
        // An Android app origin is a WebAuthn origin: accepted, and usable.
        let android = "android:apk-key-hash:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
        let service = h
            .verify
            .create_service("Owl", &settings("example.org", android))
            .await
            .unwrap();
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service.sid(), &identity, "Phone")
            .await
            .unwrap();
        let response = Authenticator::new(41).create(&created.options, android);
        let factor = h
            .verify
            .verify_passkey_factor(service.sid(), &identity, created.factor.sid(), &response)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);
    });
}

/// A passkey challenge answered through the generic update is a typed 400 naming
/// the operation to use (formerly a 500 for a challenge created by identity), and
/// changes nothing.
#[test]
fn a_passkey_challenge_is_not_answered_by_the_generic_update() {
    let h = Harness::new(42);
    block_on(async {
        let r = registered(&h, 42).await;
        for (count, factor_sid) in [(1, None), (2, Some(r.factor.sid()))] {
            let challenge = h
                .verify
                .create_passkey_challenge(r.service, Some(&r.identity), factor_sid, None)
                .await
                .unwrap()
                .challenge;
            let assertion = r.authenticator.get(
                &request_options(&challenge),
                ORIGIN,
                count,
                &r.user_handle(),
            );
            let error = h
                .verify
                .update_challenge(r.service, &r.identity, challenge.sid(), &assertion, None)
                .await
                .expect_err("a passkey challenge through the generic update");
            assert!(
                matches!(
                    error,
                    VerifyError::WrongOperationForKind {
                        use_instead: "Passkeys/ApproveChallenge",
                        ..
                    }
                ),
                "{error:?}"
            );
            assert_eq!(error.http_status(), 400);
            let unchanged = h
                .verify
                .fetch_challenge(r.service, &r.identity, challenge.sid())
                .await
                .unwrap();
            assert_eq!(unchanged.version(), challenge.version());
            // The right operation still approves it.
            let update = h
                .verify
                .approve_passkey_challenge(r.service, challenge.sid(), &assertion)
                .await
                .unwrap();
            assert_eq!(update.outcome, ChallengeOutcome::Approved);
        }
    });
}

/// The ceremony lives as long as its challenge: a challenge that expires in 58
/// minutes tells the browser so and accepts an answer in minute 11 (formerly the
/// ceremony state expired after 10 minutes and the answer counted an attempt).
#[test]
fn the_ceremony_lives_as_long_as_its_challenge() {
    let h = Harness::new(43);
    block_on(async {
        let r = registered(&h, 43).await;
        let expires = h
            .now()
            .saturating_add(std::time::Duration::from_secs(58 * 60));
        let challenge = h
            .verify
            .create_passkey_challenge(r.service, Some(&r.identity), None, Some(expires))
            .await
            .unwrap()
            .challenge;
        let options = request_options(&challenge);
        assert_eq!(options["publicKey"]["timeout"], 58 * 60 * 1000);
        assert_eq!(challenge.expiration_date(), expires);
        // The default lifetime is five minutes, and the timeout says the same.
        let default = h
            .verify
            .create_passkey_challenge(r.service, Some(&r.identity), None, None)
            .await
            .unwrap()
            .challenge;
        assert_eq!(
            request_options(&default)["publicKey"]["timeout"],
            5 * 60 * 1000
        );
        h.advance(11 * 60);
        let assertion = r.authenticator.get(&options, ORIGIN, 1, &r.user_handle());
        let update = h
            .verify
            .approve_passkey_challenge(r.service, challenge.sid(), &assertion)
            .await
            .unwrap();
        assert_eq!(update.outcome, ChallengeOutcome::Approved);
    });
}

/// RP IDs and origins built from pieces that pass and fail the rule in every way
/// (case, scheme, host relation, port, path, app origins).
fn rp_id_strategy() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("example.org".to_owned()),
        Just("login.example.org".to_owned()),
        Just("localhost".to_owned()),
        Just("Example.org".to_owned()),
        Just("example.org.".to_owned()),
        "[a-z]{1,8}(\\.[a-z]{2,4}){0,2}",
    ]
}

fn origin_strategy() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let scheme = prop_oneof![Just("https://"), Just("http://"), Just("ftp://"), Just("")];
    let host = prop_oneof![
        Just("example.org".to_owned()),
        Just("login.example.org".to_owned()),
        Just("localhost".to_owned()),
        Just("example.com".to_owned()),
        Just("Example.org".to_owned()),
        "[a-z]{1,8}(\\.[a-z]{2,4}){0,2}",
    ];
    let suffix = prop_oneof![
        Just(""),
        Just(":8443"),
        Just(":"),
        Just("/path"),
        Just(":99999")
    ];
    prop_oneof![
        8 => (scheme, host, suffix).prop_map(|(s, h, x)| format!("{s}{h}{x}")),
        1 => Just("android:apk-key-hash:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU".to_owned()),
        1 => Just("ios:bundle-id:org.example.app".to_owned()),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Every passkeys configuration a service accepts runs every passkey operation
    /// (factor creation and verification, challenges by factor, by identity and
    /// discoverable, approval) with no configuration error and no 5xx; every one it
    /// refuses is refused with a 4xx.
    #[test]
    fn every_accepted_configuration_runs_every_passkey_operation(
        (rp_id, origins) in rp_id_strategy().prop_flat_map(|rp_id| {
            use proptest::prelude::*;
            // Half the origins are built on the RP ID itself, so that accepted
            // configurations are common, not rare.
            let own = prop_oneof![
                Just(format!("https://{rp_id}")),
                Just(format!("https://login.{rp_id}:8443")),
                Just(format!("http://{rp_id}:8080")),
            ];
            let origin = prop_oneof![own, origin_strategy()];
            (Just(rp_id), proptest::collection::vec(origin, 1..4))
        }),
    ) {
        let h = Harness::new(44);
        block_on(async {
            let Ok(rp) = RelyingParty::new(&rp_id, "Owl Bank", origins.clone()) else {
                // The model's size rules refused it before any service existed.
                return;
            };
            let settings = ServiceSettings::new().with_passkeys(PasskeysConfig::new(rp));
            let service = match h.verify.create_service("Owl", &settings).await {
                Ok(service) => service.sid(),
                Err(error) => {
                    assert!(error.http_status() < 500, "{rp_id} {origins:?}: {error:?}");
                    return;
                }
            };
            let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
            let no_5xx = |what: &str, result: Result<(), VerifyError>| {
                if let Err(error) = result {
                    assert!(
                        error.http_status() < 500
                            && !matches!(error, VerifyError::PasskeysConfigInvalid { .. }),
                        "{what} on {rp_id} {origins:?}: {error:?}"
                    );
                }
            };
            let created = h
                .verify
                .create_passkey_factor(service, &identity, "Laptop")
                .await
                .unwrap();
            let authenticator = Authenticator::new(44);
            let response = authenticator.create(&created.options, &origins[0]);
            let verified = h
                .verify
                .verify_passkey_factor(service, &identity, created.factor.sid(), &response)
                .await;
            let factor = match verified {
                Ok(factor) => Some(factor.sid()),
                Err(error) => {
                    // The software authenticator answered from an origin of this
                    // configuration, so only the origin's kind (an app origin is
                    // bound differently) may fail it, with a 4xx.
                    no_5xx("verify factor", Err(error));
                    None
                }
            };
            let handle = created.factor.entity_sid().to_string().into_bytes();
            for (factor_sid, by) in [(factor, Some(&identity)), (None, Some(&identity)), (None, None)] {
                let challenge = h
                    .verify
                    .create_passkey_challenge(service, by, factor_sid, None)
                    .await;
                if factor.is_none() && by.is_some() {
                    // No verified passkey to sign in with: 60318, a 4xx.
                    no_5xx("challenge", challenge.map(|_| ()));
                    continue;
                }
                let challenge = challenge.unwrap().challenge;
                let assertion = authenticator.get(
                    &request_options(&challenge),
                    &origins[0],
                    1,
                    &handle,
                );
                let answered = h
                    .verify
                    .approve_passkey_challenge(service, challenge.sid(), &assertion)
                    .await;
                no_5xx("approve", answered.map(|_| ()));
            }
        });
    }
}

/// What `atob` does (the browser's "forgiving-base64 decode"): the standard alphabet
/// only, padding optional; `-` and `_` throw `InvalidCharacterError`.
fn atob(text: &str) -> Option<Vec<u8>> {
    if text.contains(['-', '_']) {
        return None;
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

/// Clients that decode `challenge` and `user.id` with `atob` (the service's web SDK
/// does) read every value the engine emits, and read the same bytes as base64url
/// decoding: over 1,000 challenges of each ceremony the engine starts.
#[test]
fn every_emitted_challenge_and_user_id_survives_atob() {
    let h = Harness::new(33);
    block_on(async {
        let service = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let check = |what: &str, value: &serde_json::Value| {
            let text = value.as_str().unwrap();
            let by_atob = atob(text).unwrap_or_else(|| panic!("atob refuses {what} {text}"));
            assert_eq!(
                by_atob,
                URL_SAFE_NO_PAD.decode(text).unwrap(),
                "{what} {text}"
            );
        };
        for i in 0..1000 {
            let identity = Identity::parse(&format!("user-{i:05}")).unwrap();
            let created = h
                .verify
                .create_passkey_factor(service, &identity, "Laptop")
                .await
                .unwrap();
            check(
                "registration challenge",
                &created.options["publicKey"]["challenge"],
            );
            check("user.id", &created.options["publicKey"]["user"]["id"]);
            let discoverable = h
                .verify
                .create_passkey_challenge(service, None, None, None)
                .await
                .unwrap();
            check(
                "authentication challenge",
                &request_options(&discoverable.challenge)["publicKey"]["challenge"],
            );
        }
    });
}

/// `allow_credentials: empty` (for clients such as the service's web SDK, which pass
/// `allowCredentials` to the browser without decoding its ids): a sign-in by
/// identity lists no credential, the user's own passkey approves it, and another
/// user's passkey is still refused, as is another passkey of the user on a
/// challenge bound to one factor.
#[test]
fn an_empty_allow_list_still_admits_only_the_identified_users_passkey() {
    let h = Harness::new(37);
    block_on(async {
        let rp = RelyingParty::new(RP_ID, "Owl Bank", vec![ORIGIN.to_owned()]).unwrap();
        let mut config = PasskeysConfig::new(rp);
        config.allow_credentials = verify_model::AllowCredentials::Empty;
        let service = h
            .verify
            .create_service("Owl Bank", &ServiceSettings::new().with_passkeys(config))
            .await
            .unwrap()
            .sid();
        let alice = Identity::parse("alice-0001").unwrap();
        let bob = Identity::parse("bob-0000002").unwrap();
        let (laptop, phone, bobs) = (
            Authenticator::new(71),
            Authenticator::new(72),
            Authenticator::new(73),
        );
        let laptop_factor = enroll(&h, service, &alice, &laptop).await;
        enroll(&h, service, &alice, &phone).await;
        let bob_factor = enroll(&h, service, &bob, &bobs).await;
        let alice_handle = laptop_factor.entity_sid().to_string().into_bytes();
        let bob_handle = bob_factor.entity_sid().to_string().into_bytes();

        let (h, alice) = (&h, &alice);
        let by_identity = |factor| async move {
            h.verify
                .create_passkey_challenge(service, Some(alice), factor, None)
                .await
                .unwrap()
                .challenge
        };
        let challenge = by_identity(None).await;
        let options = request_options(&challenge);
        assert_eq!(
            options["publicKey"]["allowCredentials"]
                .as_array()
                .map_or(0, Vec::len),
            0,
            "{options}"
        );
        // Bob's passkey answering Alice's sign-in is refused (and counts an attempt).
        let refused = h
            .verify
            .approve_passkey_challenge(
                service,
                challenge.sid(),
                &bobs.get(&options, ORIGIN, 1, &bob_handle),
            )
            .await;
        assert!(refused.is_err(), "{refused:?}");
        // Her phone approves it.
        let approved = h
            .verify
            .approve_passkey_challenge(
                service,
                challenge.sid(),
                &phone.get(&options, ORIGIN, 1, &alice_handle),
            )
            .await
            .unwrap();
        assert_eq!(approved.outcome, ChallengeOutcome::Approved);

        // Bound to the laptop: the phone is refused, the laptop approves.
        let bound = by_identity(Some(laptop_factor.sid())).await;
        let options = request_options(&bound);
        assert!(
            options["publicKey"]["allowCredentials"]
                .as_array()
                .is_none_or(Vec::is_empty)
        );
        assert!(
            h.verify
                .approve_passkey_challenge(
                    service,
                    bound.sid(),
                    &phone.get(&options, ORIGIN, 2, &alice_handle),
                )
                .await
                .is_err()
        );
        let approved = h
            .verify
            .approve_passkey_challenge(
                service,
                bound.sid(),
                &laptop.get(&options, ORIGIN, 2, &alice_handle),
            )
            .await
            .unwrap();
        assert_eq!(approved.outcome, ChallengeOutcome::Approved);
    });
}

/// WebAuthn L3 §7.1 step 26: a credential id already registered, to another user of
/// the same service, is refused with `Conflict` (the other user's options do not
/// exclude it: `excludeCredentials` lists only that user's own passkeys). The new
/// factor stays unverified and the owner still signs in with the credential.
#[test]
fn a_credential_another_user_registered_is_a_conflict() {
    let h = Harness::new(41);
    block_on(async {
        let owner = registered(&h, 41).await;
        let other = Identity::parse("0bbe5e1a-c0de-4711").unwrap();
        let created = h
            .verify
            .create_passkey_factor(owner.service, &other, "Borrowed key")
            .await
            .unwrap();
        assert!(
            created.options["publicKey"]["excludeCredentials"]
                .as_array()
                .is_none_or(Vec::is_empty)
        );
        let response = owner.authenticator.create(&created.options, ORIGIN);
        let result = h
            .verify
            .verify_passkey_factor(owner.service, &other, created.factor.sid(), &response)
            .await;
        assert!(
            matches!(
                result,
                Err(VerifyError::Conflict {
                    resource: Resource::Factor
                })
            ),
            "{result:?}"
        );
        let pending = h
            .verify
            .fetch_factor(owner.service, &other, created.factor.sid())
            .await
            .unwrap();
        assert_eq!(pending.status(), FactorStatus::Unverified);

        let challenge = h
            .verify
            .create_passkey_challenge(owner.service, Some(&owner.identity), None, None)
            .await
            .unwrap()
            .challenge;
        let options = request_options(&challenge);
        let assertion = owner
            .authenticator
            .get(&options, ORIGIN, 1, &owner.user_handle());
        let approved = h
            .verify
            .approve_passkey_challenge(owner.service, challenge.sid(), &assertion)
            .await
            .unwrap();
        assert_eq!(approved.outcome, ChallengeOutcome::Approved);
    });
}

/// WebAuthn L3 §7.2 steps 24.1 and 24.2: after a sign-in the stored credential holds
/// the assertion's backup state (BS set, then cleared again) and sign count. BE stays
/// as registered (a change of BE is refused by §7.2 step 19).
#[test]
fn a_sign_in_stores_the_backup_state() {
    let h = Harness::new(42);
    block_on(async {
        let service = passkey_service(&h, verify_model::PasskeyPolicy::new()).await;
        let identity = Identity::parse("ff483d1f-f591-898a").unwrap();
        let key = Authenticator::new(42);
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Synced key")
            .await
            .unwrap();
        let response = key.create_with_flags(&created.options, ORIGIN, UP | UV | BE);
        let factor = h
            .verify
            .verify_passkey_factor(service, &identity, created.factor.sid(), &response)
            .await
            .unwrap();
        let stored = |factor: &Factor| {
            let verify_model::FactorKind::Passkeys(passkey) = factor.kind() else {
                panic!("a passkey factor")
            };
            let credential = passkey.credential().unwrap();
            (
                credential.backup_eligible,
                credential.backup_state,
                credential.sign_count,
            )
        };
        assert_eq!(stored(&factor), (true, false, 0));
        let handle = factor.entity_sid().to_string().into_bytes();
        for (count, flags, backup_state) in [
            (1, UP | UV | BE | BS, true),
            (2, UP | UV | BE, false),
            (3, UP | BE | BS, true),
        ] {
            let challenge = h
                .verify
                .create_passkey_challenge(service, Some(&identity), None, None)
                .await
                .unwrap()
                .challenge;
            let options = request_options(&challenge);
            let assertion = key.get_with_flags(&options, ORIGIN, count, &handle, flags);
            let approved = h
                .verify
                .approve_passkey_challenge(service, challenge.sid(), &assertion)
                .await
                .unwrap();
            assert_eq!(approved.outcome, ChallengeOutcome::Approved);
            let after = h
                .verify
                .fetch_factor(service, &identity, factor.sid())
                .await
                .unwrap();
            assert_eq!(
                stored(&after),
                (true, backup_state, count),
                "sign-in {count}"
            );
        }
    });
}
