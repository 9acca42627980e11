//! Test harness: a tiny executor, a fixed clock, a seeded RNG, a software push device.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use verify_engine::{EngineConfig, ManualClock, Verify};
use verify_model::{AccountSid, UnixTime};
use verify_store::MemoryStore;

/// 2025-01-01T00:00:00Z.
pub(crate) const T0: u64 = 1_735_689_600;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread.
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

pub(crate) struct Harness {
    pub(crate) verify: Verify<MemoryStore>,
    pub(crate) clock: ManualClock,
}

impl Harness {
    pub(crate) fn new(seed: u64) -> Self {
        Self::with_config(seed, |config| config)
    }

    pub(crate) fn with_config(seed: u64, f: impl FnOnce(EngineConfig) -> EngineConfig) -> Self {
        let clock = ManualClock::new(UnixTime::from_secs(T0));
        let account = AccountSid::from_bytes([0xac; 16]);
        let config = f(EngineConfig::new(account));
        let verify = Verify::new(
            MemoryStore::new(),
            config,
            clock.clone(),
            ChaCha20Rng::seed_from_u64(seed),
        );
        Self { verify, clock }
    }

    pub(crate) fn now(&self) -> UnixTime {
        self.clock.get()
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(std::time::Duration::from_secs(secs));
    }
}

/// A software push device holding a P-256 key, signing as the SDKs do.
pub(crate) struct Device {
    key: SigningKey,
}

impl Device {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        Self {
            key: SigningKey::random(&mut rng),
        }
    }

    /// `Binding.PublicKey`: standard base64 of the SPKI DER.
    pub(crate) fn binding(&self) -> String {
        STANDARD.encode(
            self.key
                .verifying_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes(),
        )
    }

    /// The factor verification payload: standard base64 of a DER signature over the sid.
    pub(crate) fn sign_factor(&self, factor_sid: &str) -> String {
        let sig: DerSignature = self.key.sign(factor_sid.as_bytes());
        STANDARD.encode(sig.as_bytes())
    }

    /// `Authorization: Basic base64("token:" + JWT)` with the request JWT the SDKs
    /// sign for factor `credential_sid`, valid for ten minutes from `nbf`.
    pub(crate) fn authorization(&self, credential_sid: &str, account: &str, nbf: u64) -> String {
        let header = format!(
            r#"{{"cty":"twilio-pba;v=1","kid":"{credential_sid}","typ":"JWT","alg":"ES256"}}"#
        );
        let claims = format!(r#"{{"sub":"{account}","exp":{},"nbf":{nbf}}}"#, nbf + 600);
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.as_bytes()),
            URL_SAFE_NO_PAD.encode(claims.as_bytes())
        );
        let sig: Signature = self.key.sign(input.as_bytes());
        let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()));
        format!("Basic {}", STANDARD.encode(format!("token:{jwt}")))
    }

    /// An approve/deny compact JWS over `payload` (a JSON text).
    pub(crate) fn answer(&self, payload: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(payload.as_bytes())
        );
        let sig: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// A passkey challenge's `options` as the API serves them (`{"publicKey": ...}`), for
/// the software authenticator.
pub(crate) fn request_options(challenge: &verify_model::Challenge) -> serde_json::Value {
    let ceremony = challenge.passkey().expect("a passkey challenge");
    serde_json::json!({ "publicKey": ceremony.options })
}
