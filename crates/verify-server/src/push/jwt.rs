//! The two JWTs the push services want: an ES256 provider token for APNs and an
//! RS256 service-account assertion for Google's OAuth token endpoint. The
//! signatures are the `p256` and `rsa` crates' (already the engine's backends);
//! this is only the compact framing (`b64url(header).b64url(claims).b64url(sig)`).

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

/// An ES256 JWT (the raw 64-byte `r || s` signature, as JWS requires).
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

/// The `Retry-After` of an answer, in seconds (the push services send seconds;
/// an HTTP date is not used by either and is ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(std::time::Duration::from_secs)
}

/// Seconds since the Unix epoch, from the system clock (the push services check
/// `iat` against their own clocks).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(
            retry_after(&headers),
            Some(std::time::Duration::from_secs(7))
        );
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn es256_tokens_verify() {
        use p256::ecdsa::signature::Verifier as _;
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let token = es256(
            &key,
            &serde_json::json!({"alg": "ES256", "kid": "ABC123DEFG"}),
            &serde_json::json!({"iss": "DEF123GHIJ", "iat": 1}),
        );
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
                .unwrap();
        key.verifying_key()
            .verify(input.as_bytes(), &signature)
            .unwrap();
    }
}
