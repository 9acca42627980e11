//! Fixtures shared by the benches: a software WebAuthn authenticator (P-256, `none`
//! attestation), a one-thread executor for the engine's futures, a fixed clock value.
//!
//! Everything is deterministic (seeded RNGs, fixed `now`), so two runs measure the
//! same bytes.
#![allow(
    dead_code,
    reason = "each bench uses a different subset of the fixtures"
)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use sha2::Digest as _;

/// The RP ID every passkey fixture uses.
pub(crate) const RP_ID: &str = "example.org";
/// The origin every passkey fixture uses.
pub(crate) const ORIGIN: &str = "https://example.org";
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread (the in-memory store never waits, so
/// this is one poll per call).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// A software authenticator with one P-256 credential, answering as a browser would
/// (`clientDataJSON` with type, challenge, origin, crossOrigin).
pub(crate) struct Authenticator {
    pub(crate) key: p256::ecdsa::SigningKey,
    pub(crate) credential_id: Vec<u8>,
}

/// One signed assertion, with its parts (for the bare-verify comparisons).
pub(crate) struct Assertion {
    /// The `AuthenticationResponseJSON` text.
    pub(crate) json: String,
    /// `authenticatorData || SHA-256(clientDataJSON)`: the signed message.
    pub(crate) signed_message: Vec<u8>,
    /// The DER signature.
    pub(crate) signature: Vec<u8>,
}

impl Authenticator {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut credential_id = vec![0; 32];
        rand_core::RngCore::fill_bytes(&mut rng, &mut credential_id);
        Self {
            key: p256::ecdsa::SigningKey::random(&mut rng),
            credential_id,
        }
    }

    /// The credential public key as a COSE_Key (EC2, ES256, P-256).
    pub(crate) fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(point.x().unwrap());
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(point.y().unwrap());
        cose
    }

    /// The uncompressed SEC1 point of the credential key.
    pub(crate) fn sec1_point(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn auth_data(&self, rp_id: &str, flags: u8, count: u32, attested: bool) -> Vec<u8> {
        let mut data = sha2::Sha256::digest(rp_id.as_bytes()).to_vec();
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

    /// `navigator.credentials.create()` answered with `none` attestation, for the
    /// base64url `challenge`.
    pub(crate) fn create(&self, rp_id: &str, origin: &str, challenge: &str) -> String {
        let client_data = client_data("webauthn.create", challenge, origin);
        let object = ciborium::Value::Map(vec![
            ("fmt".into(), "none".into()),
            ("attStmt".into(), ciborium::Value::Map(vec![])),
            (
                "authData".into(),
                ciborium::Value::Bytes(self.auth_data(rp_id, UP | UV, 0, true)),
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
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// `navigator.credentials.get()` for the base64url `challenge`, sign count
    /// `count`, returning `user_handle`.
    pub(crate) fn get(
        &self,
        rp_id: &str,
        origin: &str,
        challenge: &str,
        count: u32,
        user_handle: &[u8],
    ) -> Assertion {
        let client_data = client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data(rp_id, UP | UV, count, false);
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha2::Sha256::digest(&client_data));
        let signature: p256::ecdsa::Signature = self.key.sign(&message);
        let der = signature.to_der().as_bytes().to_vec();
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        let json = serde_json::json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(&der),
                "userHandle": URL_SAFE_NO_PAD.encode(user_handle),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        })
        .to_string();
        Assertion {
            json,
            signed_message: message,
            signature: der,
        }
    }
}

/// The client data a browser serializes (WebAuthn L3 §5.8.1.1's member order).
pub(crate) fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#
    )
    .into_bytes()
}
