//! A compact JWS signed by the leaf of the certificate chain in its `x5c` header: the
//! shape shared by the `android-safetynet` attestation response and the FIDO MDS3
//! metadata BLOB.
//!
//! The signature is checked over the received `header.payload` bytes (never a
//! re-serialization). Whether the chain is trusted is the caller's decision: each
//! format anchors it differently.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use super::AttestationError;
use super::statement;
use super::x509::{self, Cert};
use crate::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);
/// base64url, padding optional (JWS segments).
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
/// Standard base64, padding optional (`x5c` entries, SafetyNet's nonce).
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);

/// Builds the format's check error from the name of the failed check.
pub(crate) type CheckError = fn(&'static str) -> AttestationError;

#[derive(Deserialize)]
struct Header {
    alg: String,
    x5c: Vec<String>,
}

/// A compact JWS split into its segments, header and signature decoded.
pub(crate) struct CompactJws<'a> {
    header: Header,
    /// `header.payload` as received: the signing input.
    signed: &'a str,
    payload_b64: &'a str,
    signature: Vec<u8>,
    check: CheckError,
}

impl<'a> CompactJws<'a> {
    /// Splits `text` (exactly three segments) and decodes its header and signature.
    /// `malformed` names the check a text that is not a compact JWS fails.
    pub(crate) fn parse(
        text: &'a str,
        malformed: &'static str,
        check: CheckError,
    ) -> Result<Self, AttestationError> {
        let mut parts = text.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(check(malformed));
        };
        let header: Header = B64URL
            .decode(header_b64)
            .ok()
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or(check("JWS header is base64url JSON with alg and x5c"))?;
        let signature = B64URL
            .decode(signature_b64)
            .map_err(|_| check("JWS signature is base64url"))?;
        let signed_len = header_b64
            .len()
            .saturating_add(1)
            .saturating_add(payload_b64.len());
        let signed = text.get(..signed_len).ok_or(check(malformed))?;
        Ok(Self {
            header,
            signed,
            payload_b64,
            signature,
            check,
        })
    }

    /// The payload segment, still base64url.
    pub(crate) const fn payload_b64(&self) -> &'a str {
        self.payload_b64
    }

    /// Parses the `x5c` chain (leaf first) and verifies the signature with the leaf's
    /// key under the header's `alg`, which must fit that key. Returns the chain, not
    /// yet checked against any anchor or date.
    pub(crate) fn verify_with_x5c(
        &self,
        format: &'static str,
    ) -> Result<Vec<Cert>, AttestationError> {
        let check = self.check;
        let certificates = self
            .header
            .x5c
            .iter()
            .map(|c| B64.decode(c).map(ciborium::Value::Bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| check("JWS x5c entries are base64"))?;
        let chain = x509::parse_chain(format, &certificates)?;
        let leaf = statement::leaf(format, &chain)?;
        let key = statement::leaf_key(leaf)?;
        let algorithm = jws_algorithm(&self.header.alg, &key, check)?;
        let der;
        let signature = if let PublicKeyMaterial::Ec { curve, .. } = key {
            der = raw_ecdsa_to_der(&self.signature, curve)
                .ok_or(AttestationError::SignatureInvalid)?;
            der.as_slice()
        } else {
            self.signature.as_slice()
        };
        statement::verify_with(
            format,
            algorithm.cose().unwrap_or(0),
            algorithm,
            &key,
            self.signed.as_bytes(),
            signature,
        )?;
        Ok(chain)
    }
}

/// The JWS `alg` (RFC 7518), which must fit the leaf key.
fn jws_algorithm(
    alg: &str,
    key: &PublicKeyMaterial<'_>,
    check: CheckError,
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

/// A JWS ECDSA signature (`r || s`, fixed width, RFC 7518 §3.4) as the ASN.1 DER
/// `Ecdsa-Sig-Value` the backends verify, converted by the `ecdsa` crate: `None` for
/// a length other than twice the curve's field size, or an `r` or `s` that is zero
/// or not below the curve's order (no valid signature has one).
pub(crate) fn raw_ecdsa_to_der(raw: &[u8], curve: EcCurve) -> Option<Vec<u8>> {
    let der = match curve {
        EcCurve::P256 => p256::ecdsa::Signature::from_slice(raw)
            .ok()?
            .to_der()
            .to_bytes(),
        EcCurve::P384 => p384::ecdsa::Signature::from_slice(raw)
            .ok()?
            .to_der()
            .to_bytes(),
        EcCurve::P521 => p521::ecdsa::Signature::from_slice(raw)
            .ok()?
            .to_der()
            .to_bytes(),
    };
    Some(der.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn check(check: &'static str) -> AttestationError {
        AttestationError::MdsCheck { check }
    }

    #[test]
    fn raw_signature_converts_to_der() {
        let mut raw = vec![0_u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = raw_ecdsa_to_der(&raw, EcCurve::P256).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert!(raw_ecdsa_to_der(&raw[..63], EcCurve::P256).is_none());
        assert!(raw_ecdsa_to_der(&raw, EcCurve::P384).is_none());
        assert!(raw_ecdsa_to_der(&[0; 64], EcCurve::P256).is_none());
        // s = n, the order of P-256: no signature has it.
        let mut at_order = raw.clone();
        at_order[32..].copy_from_slice(
            &hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
                .unwrap(),
        );
        assert!(raw_ecdsa_to_der(&at_order, EcCurve::P256).is_none());
        // P-384 and P-521 widths (48 and 66 bytes per scalar).
        let mut wide = vec![0_u8; 96];
        wide[47] = 2;
        wide[95] = 3;
        assert_eq!(
            raw_ecdsa_to_der(&wide, EcCurve::P384).unwrap(),
            [0x30, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03]
        );
        let mut p521 = vec![0_u8; 132];
        p521[65] = 1;
        p521[131] = 0xff;
        assert_eq!(
            raw_ecdsa_to_der(&p521, EcCurve::P521).unwrap(),
            [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0xff]
        );
    }

    #[test]
    fn parse_refuses_anything_but_three_segments() {
        for text in ["", "a.b", "a.b.c.d", "..."] {
            assert!(
                matches!(
                    CompactJws::parse(text, "is a compact JWS", check),
                    Err(AttestationError::MdsCheck { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn parse_keeps_the_received_signing_input() {
        let header = B64URL.encode(br#"{"alg":"ES256","x5c":[]}"#);
        let text = format!("{header}.cGF5bG9hZA.c2ln");
        let jws = CompactJws::parse(&text, "is a compact JWS", check).unwrap();
        assert_eq!(jws.signed, format!("{header}.cGF5bG9hZA"));
        assert_eq!(jws.payload_b64(), "cGF5bG9hZA");
        assert_eq!(jws.signature, b"sig");
    }
}
