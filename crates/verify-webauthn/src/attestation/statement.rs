//! Reading an `attStmt` CBOR map, and helpers shared by the formats.

use ciborium::Value;

use super::x509::{self, Cert};
use super::{AttestationError, AttestationFormat, StatementInput, VerifiedStatement};
use crate::crypto::{PublicKeyMaterial, SignatureAlgorithm, VerifyingKey};

/// The members of an `attStmt` map, by text key.
#[derive(Debug)]
pub(crate) struct Statement<'a> {
    format: &'static str,
    members: Vec<(&'a str, &'a Value)>,
}

impl<'a> Statement<'a> {
    /// Reads `value` as a map with unique text keys.
    pub(crate) fn new(
        format: AttestationFormat,
        value: &'a Value,
    ) -> Result<Self, AttestationError> {
        let format = format.name();
        let not_map = AttestationError::StatementNotMap { format };
        let Value::Map(entries) = value else {
            return Err(not_map);
        };
        let mut members: Vec<(&'a str, &'a Value)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Value::Text(key) = key else {
                return Err(not_map);
            };
            if members.iter().any(|(k, _)| *k == key.as_str()) {
                return Err(not_map);
            }
            members.push((key.as_str(), value));
        }
        Ok(Self { format, members })
    }

    /// The format's name.
    pub(crate) const fn format(&self) -> &'static str {
        self.format
    }

    /// The first member's name, for errors.
    pub(crate) fn first_key(&self) -> Option<&'a str> {
        self.members.first().map(|(k, _)| *k)
    }

    /// The member `field`, if present.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.members
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| *v)
    }

    fn require(&self, field: &'static str) -> Result<&'a Value, AttestationError> {
        self.get(field).ok_or(AttestationError::MissingField {
            format: self.format,
            field,
        })
    }

    fn invalid(&self, field: &'static str) -> AttestationError {
        AttestationError::InvalidField {
            format: self.format,
            field,
        }
    }

    /// A required byte-string member.
    pub(crate) fn bytes(&self, field: &'static str) -> Result<&'a [u8], AttestationError> {
        self.require(field)?
            .as_bytes()
            .map(Vec::as_slice)
            .ok_or_else(|| self.invalid(field))
    }

    /// A required text member.
    pub(crate) fn text(&self, field: &'static str) -> Result<&'a str, AttestationError> {
        self.require(field)?
            .as_text()
            .ok_or_else(|| self.invalid(field))
    }

    /// A required array member.
    pub(crate) fn array(&self, field: &'static str) -> Result<&'a [Value], AttestationError> {
        self.require(field)?
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.invalid(field))
    }

    /// An optional array member.
    pub(crate) fn optional_array(
        &self,
        field: &'static str,
    ) -> Result<Option<&'a [Value]>, AttestationError> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => value
                .as_array()
                .map(|a| Some(a.as_slice()))
                .ok_or_else(|| self.invalid(field)),
        }
    }

    /// The required `alg` member as a COSE algorithm identifier.
    pub(crate) fn alg(&self) -> Result<i64, AttestationError> {
        let value = self.require("alg")?;
        let integer = value.as_integer().ok_or_else(|| self.invalid("alg"))?;
        i64::try_from(integer).map_err(|_| self.invalid("alg"))
    }

    /// The required `alg`, resolved to an algorithm verify supports for statement
    /// signatures (`allow_rs1` only for TPM).
    pub(crate) fn signature_algorithm(
        &self,
        allow_rs1: bool,
    ) -> Result<(i64, SignatureAlgorithm), AttestationError> {
        let alg = self.alg()?;
        match SignatureAlgorithm::from_cose(alg) {
            Some(SignatureAlgorithm::Rs1) if !allow_rs1 => {}
            Some(found) => return Ok((alg, found)),
            None => {}
        }
        Err(AttestationError::AlgorithmUnsupported {
            format: self.format,
            alg,
        })
    }
}

/// `authData || clientDataHash`, the bytes most formats sign.
pub(crate) fn signed_data(input: &StatementInput<'_>) -> Vec<u8> {
    let mut data = Vec::with_capacity(input.authenticator_data.len().saturating_add(32));
    data.extend_from_slice(input.authenticator_data);
    data.extend_from_slice(input.client_data_hash);
    data
}

/// Verifies `signature` over `message` with `key` under `algorithm`; a key that does
/// not fit the algorithm is [`AttestationError::AlgorithmKeyMismatch`].
pub(crate) fn verify_with(
    format: &'static str,
    cose_alg: i64,
    algorithm: SignatureAlgorithm,
    key: &PublicKeyMaterial<'_>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), AttestationError> {
    let key = VerifyingKey::new(algorithm, key).map_err(|e| match e {
        crate::crypto::CryptoError::KeyAlgorithmMismatch { .. } => {
            AttestationError::AlgorithmKeyMismatch {
                format,
                alg: cose_alg,
            }
        }
        other => AttestationError::from_crypto("attestation key", other),
    })?;
    key.verify(message, signature)
        .map_err(|_| AttestationError::SignatureInvalid)
}

/// The leaf's public key, or `CertificateKeyUnsupported`.
pub(crate) fn leaf_key(leaf: &Cert) -> Result<PublicKeyMaterial<'_>, AttestationError> {
    leaf.public_key()
        .ok_or(AttestationError::CertificateKeyUnsupported { index: 0 })
}

/// The chain's first certificate.
pub(crate) fn leaf<'c>(
    format: &'static str,
    chain: &'c [Cert],
) -> Result<&'c Cert, AttestationError> {
    chain
        .first()
        .ok_or(AttestationError::EmptyCertificateChain { format })
}

/// Checks the chain at `now` and builds the result with its trust decision.
pub(crate) fn finish_with_chain(
    format: AttestationFormat,
    attestation_type: super::AttestationType,
    chain: &[Cert],
    input: &StatementInput<'_>,
) -> Result<VerifiedStatement, AttestationError> {
    x509::check_chain(chain, input.now, x509::Sha1::for_format(format))?;
    let trusted = input
        .trust
        .chain_is_trusted(format, &input.aaguid, chain, input.now);
    Ok(VerifiedStatement {
        format,
        attestation_type,
        trust_path: chain.iter().map(|c| c.der().to_vec()).collect(),
        trusted,
        inner: Vec::new(),
    })
}
