//! A software device that signs the way the SDKs do (p256, RFC 7515 compact JWS).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::{RandomizedSigner as _, Signer as _};
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;

/// The header the SDKs put on approve/deny payloads.
pub(crate) const APPROVAL_HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

pub(crate) struct Device {
    pub(crate) key: SigningKey,
    rng: ChaCha20Rng,
}

impl Device {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        Self {
            key: SigningKey::random(&mut rng),
            rng,
        }
    }

    pub(crate) fn from_scalar_hex(hex_scalar: &str) -> Self {
        let bytes = hex::decode(hex_scalar).unwrap();
        Self {
            key: SigningKey::from_slice(&bytes).unwrap(),
            rng: ChaCha20Rng::seed_from_u64(0),
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

    /// The factor verification payload: standard base64 of a DER signature.
    pub(crate) fn sign_factor(&self, factor_sid: &str) -> String {
        let sig: DerSignature = self.key.sign(factor_sid.as_bytes());
        STANDARD.encode(sig.as_bytes())
    }

    /// A fresh (randomized) raw signature over `message`.
    pub(crate) fn raw(&mut self, message: &[u8]) -> Signature {
        self.key.sign_with_rng(&mut self.rng, message)
    }

    /// `base64url(header).base64url(payload)`.
    pub(crate) fn signing_input(header: &str, payload: &str) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.as_bytes()),
            URL_SAFE_NO_PAD.encode(payload.as_bytes())
        )
    }

    /// A compact JWS over exactly these header and payload texts.
    pub(crate) fn jws(&mut self, header: &str, payload: &str) -> String {
        let input = Self::signing_input(header, payload);
        let sig = self.raw(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// A compact JWS whose signature bytes are produced by `encode`.
    pub(crate) fn jws_with(
        &mut self,
        header: &str,
        payload: &str,
        encode: impl Fn(&Signature) -> Vec<u8>,
    ) -> String {
        let input = Self::signing_input(header, payload);
        let sig = self.raw(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(encode(&sig)))
    }

    /// An approve/deny payload as the SDKs sign it.
    pub(crate) fn answer(&mut self, payload: &str) -> String {
        self.jws(APPROVAL_HEADER, payload)
    }
}

/// The same signature with `s` replaced by `n - s` (if it was low) or as is (if high):
/// always the high-S form.
pub(crate) fn high_s(sig: &Signature) -> Signature {
    if sig.normalize_s().is_some() {
        return *sig;
    }
    let (r, s) = sig.split_scalars();
    let negated = -*s;
    Signature::from_scalars(r.to_bytes(), negated.to_bytes()).unwrap()
}
