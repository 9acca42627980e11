//! The `apple` anonymous attestation statement format (WebAuthn L3 §8.8).
//!
//! The credential certificate (first in `x5c`) carries extension
//! 1.2.840.113635.100.8.2, `SEQUENCE { [1] EXPLICIT OCTET STRING nonce }`, whose nonce
//! must equal `SHA-256(authData || clientDataHash)`, and its public key must be the
//! credential public key. The type is [`AttestationType::AnonCa`].

use const_oid::ObjectIdentifier;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::der_tlv::Tlv;
use super::statement::{self, Statement};
use super::x509;
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};

const FORMAT: AttestationFormat = AttestationFormat::Apple;
const OID_APPLE_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113635.100.8.2");
const OID_APPLE_NONCE_TEXT: &str = "1.2.840.113635.100.8.2";

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let stmt = Statement::new(FORMAT, input.statement)?;
    let chain = x509::parse_chain(FORMAT.name(), stmt.array("x5c")?)?;
    let leaf = statement::leaf(FORMAT.name(), &chain)?;
    let malformed = AttestationError::ExtensionMalformed {
        format: FORMAT.name(),
        oid: OID_APPLE_NONCE_TEXT,
    };
    let ext = leaf
        .extension(OID_APPLE_NONCE)
        .map_err(|()| malformed.clone())?
        .ok_or(AttestationError::ExtensionMissing {
            format: FORMAT.name(),
            oid: OID_APPLE_NONCE_TEXT,
        })?;
    let nonce = parse_nonce(ext.extn_value.as_bytes()).ok_or(malformed)?;
    let expected = Sha256::digest(statement::signed_data(input));
    if !bool::from(nonce.ct_eq(&expected[..])) {
        return Err(AttestationError::AppleNonceMismatch);
    }
    let key = statement::leaf_key(leaf)?;
    if !x509::same_key(&key, &input.credential_key) {
        return Err(AttestationError::CertificateKeyMismatch {
            format: FORMAT.name(),
        });
    }
    statement::finish_with_chain(FORMAT, AttestationType::AnonCa, &chain, input)
}

/// `SEQUENCE { [1] EXPLICIT OCTET STRING }` → the 32-byte nonce.
fn parse_nonce(value: &[u8]) -> Option<&[u8]> {
    let seq = Tlv::parse_exact(value)?;
    if seq.tag != Tlv::SEQUENCE {
        return None;
    }
    let tagged = Tlv::parse_exact(seq.value)?;
    if tagged.tag != Tlv::context_constructed(1) {
        return None;
    }
    let octets = Tlv::parse_exact(tagged.value)?;
    (octets.tag == Tlv::OCTET_STRING && octets.value.len() == 32).then_some(octets.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_extension_is_parsed_exactly() {
        let mut good = vec![0x30, 0x24, 0xa1, 0x22, 0x04, 0x20];
        good.extend([7_u8; 32]);
        assert_eq!(parse_nonce(&good), Some(&[7_u8; 32][..]));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(parse_nonce(&trailing), None);
        let mut wrong_tag = good.clone();
        wrong_tag[2] = 0xa2;
        assert_eq!(parse_nonce(&wrong_tag), None);
    }
}
