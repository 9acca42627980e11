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
use der::Decode as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use x509_cert::ext::pkix::name::GeneralName;

use super::jws::{B64, B64URL, CompactJws};
use super::statement::{self, Statement};
use super::x509::{self, Cert};
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};

const FORMAT: AttestationFormat = AttestationFormat::AndroidSafetynet;
/// The largest JWS accepted.
const MAX_RESPONSE_LEN: usize = 64 * 1024;
const HOSTNAME: &str = "attest.android.com";

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
    let jws = CompactJws::parse(response, "response is a compact JWS", check)?;
    let payload: Payload = B64URL
        .decode(jws.payload_b64())
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(check(
            "JWS payload is base64url JSON with nonce and timestampMs",
        ))?;
    let chain = jws.verify_with_x5c(FORMAT.name())?;
    let leaf = statement::leaf(FORMAT.name(), &chain)?;
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
