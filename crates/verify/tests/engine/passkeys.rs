//! Passkeys end to end with a software authenticator (P-256, `none` attestation):
//! register, sign in by identity and usernameless, and the refusals (replayed
//! assertion, wrong origin, cloned authenticator, unknown credential, racing
//! approvals).

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
