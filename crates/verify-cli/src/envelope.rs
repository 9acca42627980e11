//! The request envelope and the exit-code contract of crates/verify-cli/README.md.
//!
//! Exit 0 = accepted, 1 = rejected (the output says why), 2 = the envelope itself is
//! unusable: stdin is not one JSON object, a required field is missing, or a field has
//! the wrong JSON type or a value outside its enumeration or range. Every defect in
//! what is being verified is a rejection (exit 1), never a usage error.

use std::ops::RangeInclusive;

use serde_json::{Map, Value, json};

/// What a command concluded about a usable request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Exit 0: the JSON object to print (it carries `"ok": true` where the contract
    /// says so).
    Accepted(Value),
    /// Exit 1: `{"ok": false, "error": {"code", "message"}}`.
    Rejected {
        /// A stable, snake_case machine code.
        code: String,
        /// A human-readable explanation.
        message: String,
    },
}

impl Outcome {
    /// A rejection with `code` and `message`.
    pub(crate) fn rejected(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Rejected {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Why the envelope is unusable (exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvelopeError {
    /// Standard input is not exactly one JSON object.
    #[error("standard input is not one JSON object: {0}")]
    NotAnObject(String),
    /// A required field is absent (or null).
    #[error("missing required field `{0}`")]
    Missing(String),
    /// A field has the wrong JSON type.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field's name.
        field: String,
        /// What it must be, in words.
        expected: &'static str,
    },
    /// A field's value is outside its enumeration or range.
    #[error("field `{field}` must be {allowed}")]
    OutOfRange {
        /// The field's name.
        field: String,
        /// The allowed values, in words.
        allowed: String,
    },
    /// The command line names no known command.
    #[error("{0}")]
    Usage(String),
}

impl EnvelopeError {
    /// The stable machine code printed in the error object.
    pub(crate) const fn code(&self) -> &'static str {
        match self {
            Self::NotAnObject(_) => "invalid_json",
            Self::Missing(_) => "missing_field",
            Self::WrongType { .. } => "wrong_type",
            Self::OutOfRange { .. } => "out_of_range",
            Self::Usage(_) => "usage",
        }
    }
}

/// The request: one JSON object read from stdin, with typed field accessors that turn
/// envelope defects into [`EnvelopeError`].
#[derive(Debug)]
pub(crate) struct Envelope {
    fields: Map<String, Value>,
}

impl Envelope {
    /// Parses `input` as exactly one JSON object.
    pub(crate) fn parse(input: &str) -> Result<Self, EnvelopeError> {
        match serde_json::from_str::<Value>(input) {
            Ok(Value::Object(fields)) => Ok(Self { fields }),
            Ok(_) => Err(EnvelopeError::NotAnObject("not an object".into())),
            Err(err) => Err(EnvelopeError::NotAnObject(err.to_string())),
        }
    }

    /// The raw value of `name`, treating JSON `null` as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|value| !value.is_null())
    }

    /// The required value of `name`, of any JSON type.
    pub(crate) fn required(&self, name: &str) -> Result<&Value, EnvelopeError> {
        self.get(name)
            .ok_or_else(|| EnvelopeError::Missing(name.into()))
    }

    /// A required string.
    pub(crate) fn str(&self, name: &str) -> Result<&str, EnvelopeError> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| wrong_type(name, "a string"))
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&str>, EnvelopeError> {
        self.get(name)
            .map(|value| value.as_str().ok_or_else(|| wrong_type(name, "a string")))
            .transpose()
    }

    /// A required JSON object.
    pub(crate) fn object(&self, name: &str) -> Result<&Map<String, Value>, EnvelopeError> {
        self.required(name)?
            .as_object()
            .ok_or_else(|| wrong_type(name, "a JSON object"))
    }

    /// An optional boolean, `default` when absent.
    pub(crate) fn bool_or(&self, name: &str, default: bool) -> Result<bool, EnvelopeError> {
        self.get(name).map_or(Ok(default), |value| {
            value
                .as_bool()
                .ok_or_else(|| wrong_type(name, "true or false"))
        })
    }

    /// A required non-negative integer.
    pub(crate) fn u64(&self, name: &str) -> Result<u64, EnvelopeError> {
        as_u64(name, self.required(name)?)
    }

    /// An optional non-negative integer.
    pub(crate) fn opt_u64(&self, name: &str) -> Result<Option<u64>, EnvelopeError> {
        self.get(name).map(|value| as_u64(name, value)).transpose()
    }

    /// An optional integer within `range`, `default` when absent.
    pub(crate) fn u64_in(
        &self,
        name: &str,
        range: RangeInclusive<u64>,
        default: u64,
    ) -> Result<u64, EnvelopeError> {
        let value = self.opt_u64(name)?.unwrap_or(default);
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(EnvelopeError::OutOfRange {
                field: name.into(),
                allowed: format!("an integer from {} to {}", range.start(), range.end()),
            })
        }
    }

    /// A required string that must be one of `allowed`.
    pub(crate) fn choice<'a>(
        &self,
        name: &str,
        allowed: &[&'a str],
    ) -> Result<&'a str, EnvelopeError> {
        let text = self.str(name)?;
        pick(name, text, allowed)
    }

    /// An optional string that must be one of `allowed`; `default` when absent.
    pub(crate) fn choice_or<'a>(
        &self,
        name: &str,
        allowed: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str, EnvelopeError> {
        match self.opt_str(name)? {
            Some(text) => pick(name, text, allowed),
            None => Ok(default),
        }
    }

    /// An optional array of strings.
    pub(crate) fn opt_str_array(&self, name: &str) -> Result<Option<Vec<&str>>, EnvelopeError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let items = value
            .as_array()
            .ok_or_else(|| wrong_type(name, "an array of strings"))?;
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| wrong_type(name, "an array of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A required array of strings.
    pub(crate) fn str_array(&self, name: &str) -> Result<Vec<&str>, EnvelopeError> {
        self.opt_str_array(name)?
            .ok_or_else(|| EnvelopeError::Missing(name.into()))
    }
}

fn wrong_type(name: &str, expected: &'static str) -> EnvelopeError {
    EnvelopeError::WrongType {
        field: name.into(),
        expected,
    }
}

fn as_u64(name: &str, value: &Value) -> Result<u64, EnvelopeError> {
    match value {
        Value::Number(number) => number.as_u64().ok_or_else(|| EnvelopeError::OutOfRange {
            field: name.into(),
            allowed: "a non-negative integer".into(),
        }),
        _ => Err(wrong_type(name, "a non-negative integer")),
    }
}

fn pick<'a>(name: &str, text: &str, allowed: &[&'a str]) -> Result<&'a str, EnvelopeError> {
    allowed
        .iter()
        .find(|candidate| **candidate == text)
        .copied()
        .ok_or_else(|| EnvelopeError::OutOfRange {
            field: name.into(),
            allowed: format!("one of {}", allowed.join(", ")),
        })
}

/// The JSON printed for a rejection or an envelope error.
pub(crate) fn error_json(code: &str, message: &str) -> Value {
    json!({"ok": false, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_object_is_an_envelope() {
        for bad in ["", "[]", "1", "\"x\"", "{} {}", "{"] {
            assert!(Envelope::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Envelope::parse(" {\"a\": 1}\n").is_ok());
    }

    #[test]
    fn accessors_classify_defects() {
        let envelope = Envelope::parse(
            r#"{"s": "x", "n": 5, "neg": -1, "b": true, "arr": ["a", 1], "nul": null}"#,
        )
        .unwrap();
        assert!(matches!(
            envelope.str("missing"),
            Err(EnvelopeError::Missing(_))
        ));
        assert!(matches!(
            envelope.str("nul"),
            Err(EnvelopeError::Missing(_))
        ));
        assert!(matches!(
            envelope.str("n"),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(matches!(
            envelope.u64("s"),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(matches!(
            envelope.u64("neg"),
            Err(EnvelopeError::OutOfRange { .. })
        ));
        assert!(matches!(
            envelope.u64_in("n", 6..=8, 6),
            Err(EnvelopeError::OutOfRange { .. })
        ));
        assert_eq!(envelope.u64_in("absent", 6..=8, 6).unwrap(), 6);
        assert!(matches!(
            envelope.choice("s", &["a", "b"]),
            Err(EnvelopeError::OutOfRange { .. })
        ));
        assert!(matches!(
            envelope.str_array("arr"),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(envelope.bool_or("b", false).unwrap());
        assert!(matches!(
            envelope.bool_or("s", false),
            Err(EnvelopeError::WrongType { .. })
        ));
    }
}
