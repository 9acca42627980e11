//! The `fido-u2f` attestation statement format (WebAuthn L3 §8.6).
//!
//! `x5c` holds exactly one certificate with an EC P-256 key; the credential key must be
//! an EC P-256 key too. The signature is checked over
//! `0x00 || rpIdHash || clientDataHash || credentialId || 0x04 || x || y` with ES256.
//! The type reported is [`AttestationType::Basic`] (see `packed` for why not AttCA).
//!
//! That signature does not cover authData's flags, signCount or AAGUID: a platform
//! writes them when it converts the U2F registration (CTAP 2.1, "Using the CTAP2
//! authenticatorMakeCredential Command with CTAP1/U2F authenticators": flags UP and AT
//! only, signCount 0, AAGUID 16 zero bytes). Nothing vouches for other values, so they
//! are refused ([`AttestationError::U2fUnsignedField`]), and an
//! [`super::AnchorScope::Aaguid`] anchor never applies to this format (see
//! [`super::trust`]).

use super::statement::{self, Statement};
use super::x509;
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};
use crate::crypto::{EcCurve, PublicKeyMaterial, SignatureAlgorithm};

const FORMAT: AttestationFormat = AttestationFormat::FidoU2f;

/// authData flags a platform writes for a U2F device: UP | AT.
const U2F_FLAGS: u8 = 0x41;

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let stmt = Statement::new(FORMAT, input.statement)?;
    check_unsigned_fields(input)?;
    let sig = stmt.bytes("sig")?;
    let x5c = stmt.array("x5c")?;
    if x5c.len() != 1 {
        return Err(AttestationError::CertificateRequirement {
            format: FORMAT.name(),
            requirement: "x5c must hold exactly one certificate",
        });
    }
    let chain = x509::parse_chain(FORMAT.name(), x5c)?;
    let leaf = statement::leaf(FORMAT.name(), &chain)?;
    let cert_key = statement::leaf_key(leaf)?;
    if !matches!(
        cert_key,
        PublicKeyMaterial::Ec {
            curve: EcCurve::P256,
            ..
        }
    ) {
        return Err(AttestationError::U2fKeyNotP256 {
            which: "certificate",
        });
    }
    let PublicKeyMaterial::Ec {
        curve: EcCurve::P256,
        x,
        y,
    } = input.credential_key
    else {
        return Err(AttestationError::U2fKeyNotP256 {
            which: "credential",
        });
    };
    if input.credential_algorithm != SignatureAlgorithm::Es256 {
        return Err(AttestationError::U2fKeyNotP256 {
            which: "credential",
        });
    }
    let rp_id_hash = input
        .authenticator_data
        .get(..32)
        .ok_or(AttestationError::InvalidField {
            format: FORMAT.name(),
            field: "authData",
        })?;
    let mut data = Vec::with_capacity(
        1_usize
            .saturating_add(64)
            .saturating_add(input.credential_id.len())
            .saturating_add(65),
    );
    data.push(0x00);
    data.extend_from_slice(rp_id_hash);
    data.extend_from_slice(input.client_data_hash);
    data.extend_from_slice(input.credential_id);
    data.push(0x04);
    data.extend_from_slice(x);
    data.extend_from_slice(y);
    statement::verify_with(
        FORMAT.name(),
        -7,
        SignatureAlgorithm::Es256,
        &cert_key,
        &data,
        sig,
    )?;
    statement::finish_with_chain(FORMAT, AttestationType::Basic, &chain, input)
}

/// The authData fields outside the U2F signature must hold the values a platform
/// writes for a U2F device: AAGUID zero, flags UP | AT, signCount 0.
fn check_unsigned_fields(input: &StatementInput<'_>) -> Result<(), AttestationError> {
    let unsigned = |field| AttestationError::U2fUnsignedField { field };
    let header = input
        .authenticator_data
        .get(..53)
        .ok_or(AttestationError::InvalidField {
            format: FORMAT.name(),
            field: "authData",
        })?;
    let (flags, count, aaguid) = (
        header.get(32).copied(),
        header.get(33..37),
        header.get(37..53),
    );
    if input.aaguid != [0; 16] || aaguid.is_none_or(|a| a.iter().any(|b| *b != 0)) {
        return Err(unsigned("aaguid"));
    }
    if flags != Some(U2F_FLAGS) {
        return Err(unsigned("flags"));
    }
    if count.is_none_or(|c| c.iter().any(|b| *b != 0)) {
        return Err(unsigned("signCount"));
    }
    Ok(())
}
