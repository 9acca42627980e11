//! The `packed` attestation statement format (WebAuthn L3 §8.2).
//!
//! With `x5c`: the signature over `authData || clientDataHash` verifies with the
//! attestation certificate's key under `alg`; the certificate meets §8.2.1 (version 3;
//! subject C, O, OU = "Authenticator Attestation", CN; not a CA; a non-critical AAGUID
//! extension equal to authData's when present). The type reported is
//! [`AttestationType::Basic`]: telling basic from AttCA needs metadata about the
//! issuing CA, which the host has and verify does not.
//!
//! Without `x5c`: self attestation; `alg` must be the credential's algorithm and the
//! signature verifies with the credential key.

use super::statement::{self, Statement};
use super::x509::{self, Cert};
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};

const FORMAT: AttestationFormat = AttestationFormat::Packed;

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let stmt = Statement::new(FORMAT, input.statement)?;
    let (alg, algorithm) = stmt.signature_algorithm(false)?;
    let sig = stmt.bytes("sig")?;
    let data = statement::signed_data(input);
    if stmt.get("ecdaaKeyId").is_some() {
        return Err(AttestationError::UnexpectedField {
            format: FORMAT.name(),
            field: "ecdaaKeyId".into(),
        });
    }
    match stmt.optional_array("x5c")? {
        Some(x5c) => {
            let chain = x509::parse_chain(FORMAT.name(), x5c)?;
            let leaf = statement::leaf(FORMAT.name(), &chain)?;
            let key = statement::leaf_key(leaf)?;
            statement::verify_with(FORMAT.name(), alg, algorithm, &key, &data, sig)?;
            check_certificate(FORMAT.name(), leaf, &input.aaguid)?;
            statement::finish_with_chain(FORMAT, AttestationType::Basic, &chain, input)
        }
        None => {
            if input.credential_algorithm != algorithm {
                return Err(AttestationError::AlgorithmMismatch {
                    format: FORMAT.name(),
                    statement: alg,
                    credential: input.credential_algorithm.cose().unwrap_or(0),
                });
            }
            statement::verify_with(
                FORMAT.name(),
                alg,
                algorithm,
                &input.credential_key,
                &data,
                sig,
            )?;
            Ok(VerifiedStatement {
                format: FORMAT,
                attestation_type: AttestationType::SelfAttestation,
                trust_path: Vec::new(),
                trusted: false,
                inner: Vec::new(),
            })
        }
    }
}

/// §8.2.1 Certificate Requirements for Packed Attestation Statements.
pub(crate) fn check_certificate(
    format: &'static str,
    cert: &Cert,
    aaguid: &[u8; 16],
) -> Result<(), AttestationError> {
    let requirement = |requirement| AttestationError::CertificateRequirement {
        format,
        requirement,
    };
    if cert.version() != 3 {
        return Err(requirement("version must be 3"));
    }
    let country = cert.subject_values(x509::OID_COUNTRY);
    if country.len() != 1
        || !country
            .iter()
            .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(requirement("subject C must be an ISO 3166 country code"));
    }
    if cert
        .subject_values(x509::OID_ORGANIZATION)
        .iter()
        .all(|o| o.is_empty())
    {
        return Err(requirement("subject O must name the authenticator vendor"));
    }
    if cert.subject_values(x509::OID_ORGANIZATIONAL_UNIT) != ["Authenticator Attestation"] {
        return Err(requirement(
            "subject OU must be \"Authenticator Attestation\"",
        ));
    }
    if cert
        .subject_values(x509::OID_COMMON_NAME)
        .iter()
        .all(|cn| cn.is_empty())
    {
        return Err(requirement("subject CN must be present"));
    }
    if cert.basic_constraints_ca() == Some(true) {
        return Err(requirement("basic constraints CA must be false"));
    }
    x509::check_aaguid_extension(format, cert, aaguid)
}
