//! Every flow of the engine (passkeys, TOTP, push; docs/architecture.md) run against `MemoryStore` with a fixed clock and a seeded
//! RNG, printing each step: TOTP enrollment and sign-in, push enrollment, approval
//! and denial, passkey registration and sign-in (by identity with two passkeys,
//! either answering, and usernameless; the bare browser responses routed by their
//! challenge; with a software authenticator), and the webhook deliveries of the
//! events they caused.
//!
//! Run: `cargo run -p verify-examples --bin flows`.

use std::error::Error;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use verify_engine::{
    EngineConfig, ManualClock, NewChallengeRequest, NewPushFactor, NewTotpFactor, ServedChallenge,
    ServiceSettings, Verify,
};
use verify_model::{
    AccountSid, DetailField, Details, Identity, PasskeysConfig, RelyingParty, UnixTime,
    WebhookEventType,
};
use verify_store::MemoryStore;

type Engine = Verify<MemoryStore>;
type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    let clock = ManualClock::new(UnixTime::from_secs(1_735_689_600));
    let verify = Verify::new(
        MemoryStore::new(),
        EngineConfig::new(AccountSid::from_bytes([0xac; 16])),
        clock.clone(),
        ChaCha20Rng::seed_from_u64(2025),
    );
    let service = verify
        .create_service(
            "Owl Bank",
            &ServiceSettings::new().with_passkeys(PasskeysConfig::new(RelyingParty::new(
                RP_ID,
                "Owl Bank",
                vec![ORIGIN.to_owned()],
            )?)),
        )
        .await?
        .sid();
    println!("[setup] service {service} created at {}", clock.get());
    let hook = verify
        .create_webhook(
            service,
            "Audit",
            vec![WebhookEventType::All],
            "https://owl.example/webhooks/verify",
        )
        .await?;
    // The whsec_ secret goes to the receiver once; never print or log it.
    let _secret_for_receiver = hook.secret.to_whsec();
    println!(
        "[setup] webhook {} for every event type (Standard Webhooks signing secret handed to the receiver)",
        hook.webhook.sid()
    );

    totp(&verify, &clock, service).await?;
    push(&verify, &clock, service).await?;
    passkeys(&verify, &clock, service).await?;
    webhooks(&verify).await?;
    Ok(())
}

/// The TOTP code the user's app shows now.
fn app_code(uri: &str, now: UnixTime) -> Result<String> {
    let key = verify_totp::KeyUri::parse(uri)?;
    let config = key.config(verify_totp::Skew::new(1)?);
    Ok(verify_totp::generate(key.secret(), &config, now)?.to_string())
}

async fn totp(
    verify: &Engine,
    clock: &ManualClock,
    service: verify_model::ServiceSid,
) -> Result<()> {
    println!("\n== TOTP ==");
    let alice = Identity::parse("alice-0001")?;
    let created = verify
        .create_totp_factor(service, &alice, NewTotpFactor::new("alice@owl.example"))
        .await?;
    let factor = created.factor.sid();
    println!(
        "[totp] factor {factor} created ({}), QR code: otpauth://totp/…",
        created.factor.status()
    );
    let first = app_code(&created.uri, clock.get())?;
    verify
        .verify_factor(service, &alice, factor, &first)
        .await?;
    println!("[totp] first code from the app verifies the factor");

    clock.advance(Duration::from_secs(30));
    let code = app_code(&created.uri, clock.get())?;
    let request = NewChallengeRequest::new().with_auth_payload(&code);
    let signed_in = verify
        .create_challenge(service, &alice, factor, request.clone())
        .await?;
    println!(
        "[totp] sign-in with the next code: challenge {} {}",
        signed_in.challenge.sid(),
        signed_in.challenge.status_at(clock.get())
    );
    let replay = verify
        .create_challenge(service, &alice, factor, request)
        .await?;
    println!(
        "[totp] the same code again: refused, challenge stays {} ({:?})",
        replay.challenge.status_at(clock.get()),
        replay.outcome
    );
    let mut last = replay;
    for _ in 0..4 {
        last = verify
            .update_challenge(service, &alice, last.challenge.sid(), "000000", None)
            .await?;
    }
    println!(
        "[totp] four more wrong codes: {:?}, challenge {} (code {:?})",
        last.outcome,
        last.challenge.status_at(clock.get()),
        last.code()
    );
    let locked = verify
        .update_challenge(service, &alice, last.challenge.sid(), &code, None)
        .await;
    if let Err(error) = locked {
        println!(
            "[totp] after the lockout: {error} (code {}, HTTP {})",
            error.code(),
            error.http_status()
        );
    }
    Ok(())
}

/// A phone holding a P-256 key, signing as the mobile SDKs do.
struct Phone(SigningKey);

impl Phone {
    fn binding(&self) -> Result<String> {
        Ok(STANDARD.encode(self.0.verifying_key().to_public_key_der()?.as_bytes()))
    }

    fn sign_sid(&self, sid: &str) -> String {
        let signature: DerSignature = self.0.sign(sid.as_bytes());
        STANDARD.encode(signature.as_bytes())
    }

    fn answer(&self, served: &ServedChallenge, status: &str) -> Result<String> {
        let mut signed = serde_json::Map::new();
        for field in served.signature_fields.split(',') {
            let value = served.json.get(field).cloned().unwrap_or(Value::Null);
            signed.insert(field.to_owned(), value);
        }
        signed.insert("status".into(), Value::String(status.into()));
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&signed)?)
        );
        let signature: Signature = self.0.sign(input.as_bytes());
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

async fn push(
    verify: &Engine,
    clock: &ManualClock,
    service: verify_model::ServiceSid,
) -> Result<()> {
    println!("\n== Push ==");
    let bob = Identity::parse("bob-00000002")?;
    let token = verify
        .create_access_token(service, &bob, None, None)
        .await?;
    println!(
        "[push] host mints enrollment access token {} (ttl 60 s, single use)",
        token.token.sid()
    );
    let phone = Phone(SigningKey::random(&mut ChaCha20Rng::seed_from_u64(99)));
    let factor = verify
        .create_push_factor(
            service,
            &bob,
            token.credential(),
            NewPushFactor::new("Bob's phone", &phone.binding()?, "com.owl.bank"),
        )
        .await?;
    println!(
        "[push] device creates factor {} with its public key",
        factor.sid()
    );
    let reuse = verify
        .create_push_factor(
            service,
            &bob,
            token.credential(),
            NewPushFactor::new("Bob's phone", &phone.binding()?, "com.owl.bank"),
        )
        .await;
    if let Err(error) = reuse {
        println!(
            "[push] the token again: {error} (HTTP {})",
            error.http_status()
        );
    }
    verify
        .verify_factor(
            service,
            &bob,
            factor.sid(),
            &phone.sign_sid(&factor.sid().to_string()),
        )
        .await?;
    println!("[push] device signs the factor sid: factor verified");

    let details = Details::new(
        "Approve login to Owl Bank?",
        vec![DetailField::new("IP", "203.0.113.7")?],
    )?;
    let request = || NewChallengeRequest::new().with_details(details.clone());
    let challenge = verify
        .create_challenge(service, &bob, factor.sid(), request())
        .await?
        .challenge;
    let served = verify
        .serve_push_challenge(service, &bob, challenge.sid())
        .await?;
    println!(
        "[push] challenge {} served with Twilio-Verify-Signature-Fields: {}",
        challenge.sid(),
        served.signature_fields
    );
    clock.advance(Duration::from_secs(5));
    let answer = phone.answer(&served, "approved")?;
    let approved = verify
        .update_challenge(service, &bob, challenge.sid(), &answer, None)
        .await?;
    println!(
        "[push] device approves: challenge {}",
        approved.challenge.status_at(clock.get())
    );
    let replay = verify
        .update_challenge(service, &bob, challenge.sid(), &answer, None)
        .await;
    if let Err(error) = replay {
        println!(
            "[push] replayed approval: {error} (HTTP {})",
            error.http_status()
        );
    }

    let second = verify
        .create_challenge(service, &bob, factor.sid(), request())
        .await?
        .challenge;
    let served = verify
        .serve_push_challenge(service, &bob, second.sid())
        .await?;
    let denied = verify
        .update_challenge(
            service,
            &bob,
            second.sid(),
            &phone.answer(&served, "denied")?,
            None,
        )
        .await?;
    println!(
        "[push] second challenge, device denies: {}",
        denied.challenge.status_at(clock.get())
    );

    let third = verify
        .create_challenge(service, &bob, factor.sid(), request())
        .await?
        .challenge;
    let served = verify
        .serve_push_challenge(service, &bob, third.sid())
        .await?;
    clock.advance(Duration::from_secs(301));
    let late = verify
        .update_challenge(
            service,
            &bob,
            third.sid(),
            &phone.answer(&served, "approved")?,
            None,
        )
        .await?;
    println!(
        "[push] third challenge answered after 5 min: {} (code {:?})",
        late.challenge.status_at(clock.get()),
        late.code()
    );
    Ok(())
}

async fn webhooks(verify: &Engine) -> Result<()> {
    println!("\n== Events and webhooks ==");
    let events = verify.drain_events(1000).await?;
    for event in &events {
        for request in verify.webhook_requests(event).await? {
            println!(
                "[webhook] #{} {} -> POST {} webhook-id={} webhook-signature={}…",
                event.sequence,
                event.event.event_type,
                request.url,
                request.header("webhook-id").unwrap_or_default(),
                request
                    .header("webhook-signature")
                    .and_then(|s| s.get(..12))
                    .unwrap_or_default()
            );
        }
    }
    println!(
        "[webhook] {} events drained; the outbox is now empty",
        events.len()
    );
    Ok(())
}

const RP_ID: &str = "owl.example";
const ORIGIN: &str = "https://owl.example";

/// A software authenticator: one P-256 credential, `none` attestation.
struct Authenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
}

impl Authenticator {
    fn auth_data(&self, count: u32, attested: bool) -> Result<Vec<u8>> {
        use sha2::Digest as _;
        let mut data = sha2::Sha256::digest(RP_ID.as_bytes()).to_vec();
        // UP | UV, plus AT when the credential is attached.
        data.push(if attested { 0x45 } else { 0x05 });
        data.extend_from_slice(&count.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0; 16]);
            data.extend_from_slice(&u16::try_from(self.credential_id.len())?.to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            let point = self.key.verifying_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err("uncompressed point".into());
            };
            data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
            data.extend_from_slice(x);
            data.extend_from_slice(&[0x22, 0x58, 0x20]);
            data.extend_from_slice(y);
        }
        Ok(data)
    }

    fn client_data(kind: &str, options: &Value) -> Result<Vec<u8>> {
        let challenge = options
            .pointer("/publicKey/challenge")
            .and_then(Value::as_str)
            .ok_or("options without a challenge")?;
        Ok(serde_json::to_vec(&serde_json::json!({
            "type": kind, "challenge": challenge, "origin": ORIGIN,
        }))?)
    }

    /// `navigator.credentials.create()`.
    fn create(&self, options: &Value) -> Result<String> {
        let client_data = Self::client_data("webauthn.create", options)?;
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(self.auth_data(0, true)?),
            ),
        ]);
        let mut attestation = Vec::new();
        ciborium::ser::into_writer(&object, &mut attestation)?;
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        Ok(serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "attestationObject": URL_SAFE_NO_PAD.encode(&attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
        .to_string())
    }

    /// `navigator.credentials.get()` with signature counter `count`.
    fn get(&self, options: &Value, count: u32, user_handle: &[u8]) -> Result<String> {
        use sha2::Digest as _;
        let client_data = Self::client_data("webauthn.get", options)?;
        let auth_data = self.auth_data(count, false)?;
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&message);
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        Ok(serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()),
                "userHandle": URL_SAFE_NO_PAD.encode(user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string())
    }
}

async fn passkeys(
    verify: &Engine,
    clock: &ManualClock,
    service: verify_model::ServiceSid,
) -> Result<()> {
    println!("\n== Passkeys ==");
    let carol = Identity::parse("carol-0003")?;
    let created = verify
        .create_passkey_factor(service, &carol, "Carol's laptop")
        .await?;
    println!(
        "[passkeys] factor {} created ({}); creation options for the browser: rp {}, user.id {}",
        created.factor.sid(),
        created.factor.status(),
        created
            .options
            .pointer("/publicKey/rp/id")
            .unwrap_or(&Value::Null),
        created
            .options
            .pointer("/publicKey/user/id")
            .unwrap_or(&Value::Null),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let authenticator = Authenticator {
        key: SigningKey::random(&mut rng),
        credential_id: vec![0xc7; 16],
    };
    // The body of POST /Passkeys/VerifyFactor is the bare browser response: the
    // factor is found by the sid at the start of its WebAuthn challenge.
    let response = authenticator.create(&created.options)?;
    let factor = verify
        .verify_passkey_factor_response(service, &response)
        .await?;
    println!(
        "[passkeys] attestation (none) checked: factor {} {}",
        factor.sid(),
        factor.status()
    );
    let user_handle = factor.entity_sid().to_string().into_bytes();
    let phone = Authenticator {
        key: SigningKey::random(&mut rng),
        credential_id: vec![0xd8; 16],
    };
    let second = verify
        .create_passkey_factor(service, &carol, "Carol's phone")
        .await?;
    let phone_factor = verify
        .verify_passkey_factor_response(service, &phone.create(&second.options)?)
        .await?;
    println!(
        "[passkeys] a second passkey: factor {} {}",
        phone_factor.sid(),
        phone_factor.status()
    );

    let challenge = verify
        .create_passkey_challenge(service, Some(&carol), None, None)
        .await?
        .challenge;
    let options = challenge
        .passkey()
        .map(|p| serde_json::json!({ "publicKey": p.options }))
        .ok_or("no options")?;
    println!(
        "[passkeys] sign-in by identity: challenge {} offers {} credentials",
        challenge.sid(),
        options
            .pointer("/publicKey/allowCredentials")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    );
    // The body of POST /Passkeys/ApproveChallenge: routed by its challenge.
    let assertion = phone.get(&options, 1, &user_handle)?;
    let approved = verify
        .approve_passkey_challenge_response(service, &assertion)
        .await?;
    println!(
        "[passkeys] the phone answered: challenge {} {} by factor {}",
        challenge.sid(),
        approved.challenge.status_at(clock.get()),
        approved
            .challenge
            .factor_sid()
            .map_or_else(|| "?".to_owned(), |sid| sid.to_string())
    );
    match verify
        .approve_passkey_challenge_response(service, &assertion)
        .await
    {
        Ok(update) => println!(
            "[passkeys] replay unexpectedly answered: {:?}",
            update.outcome
        ),
        Err(error) => println!("[passkeys] the same assertion again: refused ({error})"),
    }

    let usernameless = verify
        .create_passkey_challenge(service, None, None, None)
        .await?
        .challenge;
    let options = usernameless
        .passkey()
        .map(|p| serde_json::json!({ "publicKey": p.options }))
        .ok_or("no options")?;
    let assertion = authenticator.get(&options, 2, &user_handle)?;
    let approved = verify
        .approve_passkey_challenge_response(service, &assertion)
        .await?;
    println!(
        "[passkeys] usernameless sign-in: challenge {} {} for identity {}",
        usernameless.sid(),
        approved.challenge.status_at(clock.get()),
        approved.challenge.identity().map_or("?", Identity::as_str),
    );

    let cloned = verify
        .create_passkey_challenge(service, Some(&carol), None, None)
        .await?
        .challenge;
    let options = cloned
        .passkey()
        .map(|p| serde_json::json!({ "publicKey": p.options }))
        .ok_or("no options")?;
    let assertion = authenticator.get(&options, 2, &user_handle)?;
    match verify
        .approve_passkey_challenge_response(service, &assertion)
        .await
    {
        Ok(update) => println!(
            "[passkeys] clone unexpectedly answered: {:?}",
            update.outcome
        ),
        Err(error) => {
            println!("[passkeys] a cloned authenticator (counter not above 2): refused ({error})")
        }
    }
    Ok(())
}
