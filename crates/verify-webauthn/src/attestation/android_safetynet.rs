//! The `android-safetynet` attestation statement format (WebAuthn L3 §8.5).
//!
//! `response` is a compact JWS whose header carries `alg` and `x5c` (standard base64
//! DER, leaf first). The JWS signature verifies with the leaf's key; the leaf is issued
//! to `attest.android.com` (subject CN or a SAN dNSName); the payload's `nonce` is
//! `base64(SHA-256(authData || clientDataHash))`; `ctsProfileMatch` is `true` (unless
//! the policy relaxes it); `timestampMs` is not in the future (beyond the policy's skew)
//! and not older than the policy's window, both measured against `now`. The type is
//! [`AttestationType::Basic`]. SafetyNet was retired by Google; this exists for old
//! registrations and captures.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use der::Decode as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use x509_cert::ext::pkix::name::GeneralName;

use super::statement::{self, Statement};
use super::x509::{self, Cert};
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};
use crate::crypto::{PublicKeyMaterial, SignatureAlgorithm};

const FORMAT: AttestationFormat = AttestationFormat::AndroidSafetynet;
/// The largest JWS accepted.
const MAX_RESPONSE_LEN: usize = 64 * 1024;
const HOSTNAME: &str = "attest.android.com";

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);

#[derive(Deserialize)]
struct Header {
    alg: String,
    x5c: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    nonce: String,
    timestamp_ms: u64,
    #[serde(default)]
    cts_profile_match: bool,
}

const fn check(check: &'static str) -> AttestationError {
    AttestationError::SafetynetCheck { check }
}

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let stmt = Statement::new(FORMAT, input.statement)?;
    if stmt.text("ver")?.is_empty() {
        return Err(AttestationError::InvalidField {
            format: FORMAT.name(),
            field: "ver",
        });
    }
    let response = stmt.bytes("response")?;
    if response.len() > MAX_RESPONSE_LEN {
        return Err(check("response size <= 64 KiB"));
    }
    let response =
        core::str::from_utf8(response).map_err(|_| check("response is a compact JWS"))?;
    let mut parts = response.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(check("response is a compact JWS"));
    };
    let header: Header = B64URL
        .decode(header_b64)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(check("JWS header is base64url JSON with alg and x5c"))?;
    let payload: Payload = B64URL
        .decode(payload_b64)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(check(
            "JWS payload is base64url JSON with nonce and timestampMs",
        ))?;
    let signature = B64URL
        .decode(signature_b64)
        .map_err(|_| check("JWS signature is base64url"))?;

    let certificates = header
        .x5c
        .iter()
        .map(|c| B64.decode(c).map(ciborium::Value::Bytes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| check("JWS x5c entries are base64"))?;
    let chain = x509::parse_chain(FORMAT.name(), &certificates)?;
    let leaf = statement::leaf(FORMAT.name(), &chain)?;
    let key = statement::leaf_key(leaf)?;
    let algorithm = jws_algorithm(&header.alg, &key)?;
    let signature = if let PublicKeyMaterial::Ec { curve, .. } = key {
        raw_ecdsa_to_der(&signature, curve.coordinate_len())
            .ok_or(AttestationError::SignatureInvalid)?
    } else {
        signature
    };
    let signing_input_len = header_b64
        .len()
        .saturating_add(1)
        .saturating_add(payload_b64.len());
    let signing_input = response
        .get(..signing_input_len)
        .ok_or(check("response is a compact JWS"))?;
    statement::verify_with(
        FORMAT.name(),
        algorithm.cose().unwrap_or(0),
        algorithm,
        &key,
        signing_input.as_bytes(),
        &signature,
    )?;
    if !issued_to_hostname(leaf) {
        return Err(check(
            "attestation certificate is issued to attest.android.com",
        ));
    }

    let expected = Sha256::digest(statement::signed_data(input));
    let nonce = B64
        .decode(&payload.nonce)
        .map_err(|_| check("nonce is base64"))?;
    if !bool::from(nonce.ct_eq(&expected[..])) {
        return Err(check(
            "nonce == base64(SHA-256(authData || clientDataHash))",
        ));
    }
    if input.policy.safetynet_require_cts_profile_match && !payload.cts_profile_match {
        return Err(check("ctsProfileMatch == true"));
    }
    let now_ms = input.now.as_secs().saturating_mul(1000);
    let newest = now_ms.saturating_add(
        input
            .policy
            .safetynet_max_future_skew_secs
            .saturating_mul(1000),
    );
    let oldest = now_ms.saturating_sub(input.policy.safetynet_max_age_secs.saturating_mul(1000));
    if payload.timestamp_ms > newest || payload.timestamp_ms < oldest {
        return Err(AttestationError::SafetynetTimestamp {
            timestamp_ms: payload.timestamp_ms,
            now: input.now.as_secs(),
        });
    }
    statement::finish_with_chain(FORMAT, AttestationType::Basic, &chain, input)
}

/// The JWS `alg` (RFC 7518), which must fit the leaf key.
pub(crate) fn jws_algorithm(
    alg: &str,
    key: &PublicKeyMaterial<'_>,
) -> Result<SignatureAlgorithm, AttestationError> {
    let algorithm = match alg {
        "RS256" => SignatureAlgorithm::Rs256,
        "RS384" => SignatureAlgorithm::Rs384,
        "RS512" => SignatureAlgorithm::Rs512,
        "PS256" => SignatureAlgorithm::Ps256,
        "PS384" => SignatureAlgorithm::Ps384,
        "PS512" => SignatureAlgorithm::Ps512,
        "ES256" => SignatureAlgorithm::Es256,
        "ES384" => SignatureAlgorithm::Es384,
        "ES512" => SignatureAlgorithm::Es512,
        _ => return Err(check("JWS alg is a supported RS/PS/ES algorithm")),
    };
    let fits = match key {
        PublicKeyMaterial::Rsa { .. } => algorithm.is_rsa(),
        PublicKeyMaterial::Ec { curve, .. } => algorithm.ec_curve() == Some(*curve),
        _ => false,
    };
    if fits {
        Ok(algorithm)
    } else {
        Err(check("JWS alg fits the attestation certificate key"))
    }
}

fn issued_to_hostname(leaf: &Cert) -> bool {
    if leaf
        .subject_values(x509::OID_COMMON_NAME)
        .contains(&HOSTNAME)
    {
        return true;
    }
    let Ok(Some(san)) = leaf.extension(x509::OID_SUBJECT_ALT_NAME) else {
        return false;
    };
    x509_cert::ext::pkix::SubjectAltName::from_der(san.extn_value.as_bytes())
        .map(|names| {
            names
                .0
                .iter()
                .any(|n| matches!(n, GeneralName::DnsName(d) if d.as_str() == HOSTNAME))
        })
        .unwrap_or(false)
}

/// A JWS ECDSA signature (`r || s`, fixed width) as an ASN.1 DER `Ecdsa-Sig-Value`.
pub(crate) fn raw_ecdsa_to_der(raw: &[u8], width: usize) -> Option<Vec<u8>> {
    if raw.len() != width.checked_mul(2)? {
        return None;
    }
    let (r, s) = raw.split_at_checked(width)?;
    let mut body = der_uint(r)?;
    body.extend(der_uint(s)?);
    let mut out = vec![0x30];
    push_len(&mut out, body.len())?;
    out.extend(body);
    Some(out)
}

fn der_uint(bytes: &[u8]) -> Option<Vec<u8>> {
    let start = bytes.iter().position(|b| *b != 0)?; // zero is not a valid r or s
    let trimmed = bytes.get(start..)?;
    let mut out = vec![0x02];
    let pad = trimmed.first().is_some_and(|b| b & 0x80 != 0);
    push_len(&mut out, trimmed.len().checked_add(usize::from(pad))?)?;
    if pad {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
    Some(out)
}

fn push_len(out: &mut Vec<u8>, len: usize) -> Option<()> {
    if len < 0x80 {
        out.push(u8::try_from(len).ok()?);
    } else {
        out.push(0x81);
        out.push(u8::try_from(len).ok()?);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_signature_converts_to_der() {
        let mut raw = vec![0_u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = raw_ecdsa_to_der(&raw, 32).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert!(raw_ecdsa_to_der(&raw[..63], 32).is_none());
        assert!(raw_ecdsa_to_der(&[0; 64], 32).is_none());
    }
}
