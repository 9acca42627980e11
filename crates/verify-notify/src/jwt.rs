//! Compact JWS signing (ES256 for APNs, RS256 for Google) with the RustCrypto crates.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// An ES256 JWT: the signature is the 64-byte `r || s`.
pub(crate) fn es256(key: &p256::ecdsa::SigningKey, header: &Value, claims: &Value) -> String {
    use p256::ecdsa::signature::Signer as _;
    let input = signing_input(header, claims);
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// An RS256 JWT (RSASSA-PKCS1-v1_5 with SHA-256).
pub(crate) fn rs256(
    key: &rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    header: &Value,
    claims: &Value,
) -> String {
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    let input = signing_input(header, claims);
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}
