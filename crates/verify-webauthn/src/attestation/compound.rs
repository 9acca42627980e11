//! The `compound` attestation statement format (WebAuthn L3 §8.9): `attStmt` is an
//! array of at least two `{fmt, attStmt}` statements, each verified by its own
//! format over the same authenticator data and client data hash.
//!
//! The result combines them: `trusted` only if **every** inner statement is trusted;
//! the attestation type is the weakest inner one (`none` below `self` below the
//! certificate-backed types, which are reported as the first inner statement's), so
//! a policy that refuses `none` or self attestation refuses a compound that contains
//! one; each inner result is kept in [`VerifiedStatement::inner`]. Refused: fewer
//! than two or more than [`MAX_COMPOUND_STATEMENTS`] statements, an inner
//! `compound` (no nesting), an unknown inner format, the same format twice, and an
//! inner statement that is not exactly `{fmt: text, attStmt: map}`.

use ciborium::Value;

use super::{
    AttestationError, AttestationFormat, AttestationType, StatementInput, VerifiedStatement,
    verify_statement,
};
use crate::limits::MAX_COMPOUND_STATEMENTS;

const fn refused(reason: &'static str) -> AttestationError {
    AttestationError::Compound { reason }
}

/// One inner `{fmt, attStmt}`, each member exactly once, nothing else.
fn inner(item: &Value) -> Result<(AttestationFormat, &Value), AttestationError> {
    let Value::Map(entries) = item else {
        return Err(refused("an inner statement is not a map"));
    };
    let (mut format, mut statement) = (None, None);
    for (key, value) in entries {
        let slot_filled = match (key.as_text(), value) {
            (Some("fmt"), Value::Text(name)) => format.replace(name.as_str()).is_some(),
            (Some("attStmt"), map @ Value::Map(_)) => statement.replace(map).is_some(),
            (Some("fmt" | "attStmt"), _) => {
                return Err(refused("an inner fmt or attStmt has the wrong type"));
            }
            _ => {
                return Err(refused(
                    "an inner statement has a member other than fmt and attStmt",
                ));
            }
        };
        if slot_filled {
            return Err(refused("an inner statement repeats fmt or attStmt"));
        }
    }
    let (Some(name), Some(statement)) = (format, statement) else {
        return Err(refused("an inner statement misses fmt or attStmt"));
    };
    let format = AttestationFormat::from_name(name)
        .ok_or(refused("an inner statement's format is unknown"))?;
    if format == AttestationFormat::Compound {
        return Err(refused("compound statements do not nest"));
    }
    Ok((format, statement))
}

/// How weak an attestation type is, for the combination (lower is weaker).
const fn strength(attestation_type: AttestationType) -> u8 {
    match attestation_type {
        AttestationType::None => 0,
        AttestationType::SelfAttestation => 1,
        AttestationType::Basic | AttestationType::AttCa | AttestationType::AnonCa => 2,
    }
}

/// The combined result of verified inner statements (see the module docs).
pub(crate) fn combine(inner: Vec<VerifiedStatement>) -> VerifiedStatement {
    let trusted = !inner.is_empty() && inner.iter().all(|s| s.trusted);
    let mut attestation_type = AttestationType::None;
    let mut weakest = u8::MAX;
    for statement in &inner {
        // Strictly weaker only: among equals the first inner statement's type stays.
        if strength(statement.attestation_type) < weakest {
            weakest = strength(statement.attestation_type);
            attestation_type = statement.attestation_type;
        }
    }
    VerifiedStatement {
        format: AttestationFormat::Compound,
        attestation_type,
        trust_path: Vec::new(),
        trusted,
        inner,
    }
}

pub(crate) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    let Value::Array(items) = input.statement else {
        return Err(refused("attStmt is not an array"));
    };
    if items.len() < 2 {
        return Err(refused("fewer than two statements"));
    }
    if items.len() > MAX_COMPOUND_STATEMENTS {
        return Err(AttestationError::TooManyCompoundStatements {
            count: items.len(),
            max: MAX_COMPOUND_STATEMENTS,
        });
    }
    // Shape first, for every statement, so a malformed one is reported as such even
    // after a valid one, and no signature is checked for a statement that is refused
    // anyway.
    let mut statements: Vec<(AttestationFormat, &Value)> = Vec::with_capacity(items.len());
    for item in items {
        let (format, statement) = inner(item)?;
        if statements.iter().any(|(seen, _)| *seen == format) {
            return Err(refused("the same format appears twice"));
        }
        statements.push((format, statement));
    }
    let mut verified = Vec::with_capacity(statements.len());
    for (format, statement) in statements {
        let inner_input = StatementInput {
            statement,
            ..*input
        };
        verified.push(verify_statement(format, &inner_input)?);
    }
    Ok(combine(verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(attestation_type: AttestationType, trusted: bool) -> VerifiedStatement {
        VerifiedStatement {
            format: AttestationFormat::Packed,
            attestation_type,
            trust_path: Vec::new(),
            trusted,
            inner: Vec::new(),
        }
    }

    #[test]
    fn trusted_only_if_every_inner_statement_is_and_the_weakest_type_wins() {
        use AttestationType as T;
        let all = combine(vec![statement(T::Basic, true), statement(T::AttCa, true)]);
        assert!(all.trusted);
        assert_eq!(all.attestation_type, T::Basic);
        assert_eq!(all.inner.len(), 2);
        let one = combine(vec![statement(T::AttCa, true), statement(T::Basic, false)]);
        assert!(!one.trusted);
        assert_eq!(one.attestation_type, T::AttCa);
        let weak = combine(vec![
            statement(T::Basic, true),
            statement(T::SelfAttestation, false),
        ]);
        assert_eq!(weak.attestation_type, T::SelfAttestation);
        let none = combine(vec![
            statement(T::SelfAttestation, false),
            statement(T::None, false),
        ]);
        assert_eq!(none.attestation_type, T::None);
        assert!(!combine(Vec::new()).trusted);
    }

    #[test]
    fn inner_shape_rules() {
        let text = |s: &str| Value::Text(s.to_owned());
        let good = Value::Map(vec![
            (text("fmt"), text("none")),
            (text("attStmt"), Value::Map(vec![])),
        ]);
        assert_eq!(inner(&good).unwrap().0, AttestationFormat::None);
        for bad in [
            Value::Array(vec![]),
            Value::Map(vec![(text("fmt"), text("none"))]),
            Value::Map(vec![(text("attStmt"), Value::Map(vec![]))]),
            Value::Map(vec![
                (text("fmt"), text("compound")),
                (text("attStmt"), Value::Map(vec![])),
            ]),
            Value::Map(vec![
                (text("fmt"), text("x-unknown")),
                (text("attStmt"), Value::Map(vec![])),
            ]),
            Value::Map(vec![
                (text("fmt"), text("none")),
                (text("attStmt"), Value::Array(vec![])),
            ]),
            Value::Map(vec![
                (text("fmt"), Value::Integer(1.into())),
                (text("attStmt"), Value::Map(vec![])),
            ]),
            Value::Map(vec![
                (text("fmt"), text("none")),
                (text("fmt"), text("none")),
                (text("attStmt"), Value::Map(vec![])),
            ]),
            Value::Map(vec![
                (text("fmt"), text("none")),
                (text("attStmt"), Value::Map(vec![])),
                (text("authData"), Value::Bytes(vec![])),
            ]),
        ] {
            assert!(
                matches!(inner(&bad), Err(AttestationError::Compound { .. })),
                "{bad:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_untrusted_statements(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let Ok(statement) = ciborium::de::from_reader::<Value, _>(bytes.as_slice()) else {
                return Ok(());
            };
            let key = crate::crypto::PublicKeyMaterial::Ec {
                curve: crate::crypto::EcCurve::P256,
                x: &[1; 32],
                y: &[2; 32],
            };
            let (trust, policy) = (super::super::TrustAnchors::new(), super::super::AttestationPolicy::default());
            let input = StatementInput::new(
                &[0; 37], &[0; 32], [0; 16], b"id", key,
                crate::crypto::SignatureAlgorithm::Es256, &statement,
                verify_model::UnixTime::from_secs(1_767_225_600), &trust, &policy,
            );
            let _ = verify(&input);
            // Wrapped as the array of a compound statement, too.
            let wrapped = Value::Array(vec![statement.clone(), statement.clone()]);
            let _ = verify(&StatementInput { statement: &wrapped, ..input });
        }
    }
}
