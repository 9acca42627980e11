//! The `none` attestation statement format (WebAuthn L3 §8.7).

use super::statement::Statement;
use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
};

/// `attStmt` must be the empty map.
pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let statement = Statement::new(AttestationFormat::None, input.statement)?;
    if let Some(key) = statement.first_key() {
        return Err(AttestationError::UnexpectedField {
            format: statement.format(),
            field: key.chars().take(64).collect(),
        });
    }
    Ok(VerifiedStatement {
        format: AttestationFormat::None,
        attestation_type: AttestationType::None,
        trust_path: Vec::new(),
        trusted: false,
        inner: Vec::new(),
    })
}
