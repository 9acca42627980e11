//! The request envelope and the exit-code contract of crates/verify-cli/README.md.
//!
//! Exit 0 = accepted, 1 = rejected (the output says why), 2 = the envelope itself is
//! unusable: stdin is not one JSON object, a required field is missing, or a field has
//! the wrong JSON type or a value outside its enumeration or range. Every defect in
//! what is being verified is a rejection (exit 1), never a usage error. A member the
//! command does not know is an envelope error too (`unknown_field`): each command's
//! request is a serde struct with `#[serde(deny_unknown_fields)]`.

use std::ops::RangeInclusive;

use serde::de::DeserializeOwned;
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
    /// A member the command does not know (serde's `deny_unknown_fields` message,
    /// which names it and lists the known ones).
    #[error("{0}")]
    UnknownField(String),
}

impl EnvelopeError {
    /// The stable machine code printed in the error object.
    pub(crate) const fn code(&self) -> &'static str {
        match self {
            Self::NotAnObject(_) => "invalid_json",
            Self::Missing(_) => "missing_field",
            Self::WrongType { .. } => "wrong_type",
            Self::OutOfRange { .. } => "out_of_range",
            Self::UnknownField(_) => "unknown_field",
        }
    }
}

/// Parses `input` as exactly one JSON object, then deserializes it as the command's
/// request `T`: a struct with `#[serde(deny_unknown_fields)]` whose fields are
/// `Option<Value>` (JSON `null` counts as absent), so the only thing serde can refuse
/// is a member the command does not know: [`EnvelopeError::UnknownField`], naming it.
/// The fields' types and ranges are then checked through [`Field`], which names the
/// field in every error.
pub(crate) fn parse<T: DeserializeOwned>(input: &str) -> Result<T, EnvelopeError> {
    let value = match serde_json::from_str::<Value>(input) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) => return Err(EnvelopeError::NotAnObject("not an object".into())),
        Err(err) => return Err(EnvelopeError::NotAnObject(err.to_string())),
    };
    from_object(value, None)
}

/// Deserializes a nested object of the request (`credential_record`) as `T`, with the
/// same unknown-field rule; `parent` prefixes the error message.
pub(crate) fn nested<T: DeserializeOwned>(
    parent: &str,
    object: &Map<String, Value>,
) -> Result<T, EnvelopeError> {
    from_object(Value::Object(object.clone()), Some(parent))
}

fn from_object<T: DeserializeOwned>(
    value: Value,
    parent: Option<&str>,
) -> Result<T, EnvelopeError> {
    serde_json::from_value(value).map_err(|err| {
        EnvelopeError::UnknownField(match parent {
            Some(parent) => format!("in `{parent}`: {err}"),
            None => err.to_string(),
        })
    })
}

/// `Field::new(stringify!(name), request.name.as_ref())`: the request member `name`
/// with its JSON name, checked by [`Field`]'s typed accessors.
macro_rules! field {
    ($request:ident . $name:ident) => {
        $crate::envelope::Field::new(stringify!($name), $request.$name.as_ref())
    };
}
pub(crate) use field;

/// One member of a request: its name (for error messages) and its value, `None` when
/// absent or `null`. The typed accessors turn envelope defects into [`EnvelopeError`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    name: &'a str,
    value: Option<&'a Value>,
}

impl<'a> Field<'a> {
    /// The member `name` with `value` (`None`, or `Some(null)`, when absent).
    pub(crate) fn new(name: &'a str, value: Option<&'a Value>) -> Self {
        Self {
            name,
            value: value.filter(|value| !value.is_null()),
        }
    }

    /// The member's JSON name.
    pub(crate) const fn name(&self) -> &'a str {
        self.name
    }

    /// The raw value, `None` when absent.
    pub(crate) const fn get(&self) -> Option<&'a Value> {
        self.value
    }

    /// The required value, of any JSON type.
    pub(crate) fn required(&self) -> Result<&'a Value, EnvelopeError> {
        self.value
            .ok_or_else(|| EnvelopeError::Missing(self.name.into()))
    }

    /// A required string.
    pub(crate) fn str(&self) -> Result<&'a str, EnvelopeError> {
        self.required()?
            .as_str()
            .ok_or_else(|| wrong_type(self.name, "a string"))
    }

    /// An optional string.
    pub(crate) fn opt_str(&self) -> Result<Option<&'a str>, EnvelopeError> {
        self.value
            .map(|value| {
                value
                    .as_str()
                    .ok_or_else(|| wrong_type(self.name, "a string"))
            })
            .transpose()
    }

    /// A required JSON object.
    pub(crate) fn object(&self) -> Result<&'a Map<String, Value>, EnvelopeError> {
        self.required()?
            .as_object()
            .ok_or_else(|| wrong_type(self.name, "a JSON object"))
    }

    /// An optional boolean, `default` when absent.
    pub(crate) fn bool_or(&self, default: bool) -> Result<bool, EnvelopeError> {
        self.value.map_or(Ok(default), |value| {
            value
                .as_bool()
                .ok_or_else(|| wrong_type(self.name, "true or false"))
        })
    }

    /// A required non-negative integer.
    pub(crate) fn u64(&self) -> Result<u64, EnvelopeError> {
        as_u64(self.name, self.required()?)
    }

    /// An optional non-negative integer.
    pub(crate) fn opt_u64(&self) -> Result<Option<u64>, EnvelopeError> {
        self.value.map(|value| as_u64(self.name, value)).transpose()
    }

    /// An optional integer within `range`, `default` when absent.
    pub(crate) fn u64_in(
        &self,
        range: RangeInclusive<u64>,
        default: u64,
    ) -> Result<u64, EnvelopeError> {
        let value = self.opt_u64()?.unwrap_or(default);
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(EnvelopeError::OutOfRange {
                field: self.name.into(),
                allowed: format!("an integer from {} to {}", range.start(), range.end()),
            })
        }
    }

    /// A required string that must be one of `allowed`.
    pub(crate) fn choice<'b>(&self, allowed: &[&'b str]) -> Result<&'b str, EnvelopeError> {
        pick(self.name, self.str()?, allowed)
    }

    /// An optional string that must be one of `allowed`; `default` when absent.
    pub(crate) fn choice_or<'b>(
        &self,
        allowed: &[&'b str],
        default: &'b str,
    ) -> Result<&'b str, EnvelopeError> {
        match self.opt_str()? {
            Some(text) => pick(self.name, text, allowed),
            None => Ok(default),
        }
    }

    /// An optional array of strings.
    pub(crate) fn opt_str_array(&self) -> Result<Option<Vec<&'a str>>, EnvelopeError> {
        let Some(value) = self.value else {
            return Ok(None);
        };
        let items = value
            .as_array()
            .ok_or_else(|| wrong_type(self.name, "an array of strings"))?;
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| wrong_type(self.name, "an array of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A required array of strings.
    pub(crate) fn str_array(&self) -> Result<Vec<&'a str>, EnvelopeError> {
        self.opt_str_array()?
            .ok_or_else(|| EnvelopeError::Missing(self.name.into()))
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
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Request {
        s: Option<Value>,
        n: Option<Value>,
        neg: Option<Value>,
        b: Option<Value>,
        arr: Option<Value>,
        nul: Option<Value>,
        missing: Option<Value>,
    }

    #[test]
    fn only_one_object_is_an_envelope() {
        for bad in ["", "[]", "1", "\"x\"", "{} {}", "{"] {
            assert!(
                matches!(parse::<Request>(bad), Err(EnvelopeError::NotAnObject(_))),
                "{bad:?}"
            );
        }
        assert!(parse::<Request>(" {\"s\": 1}\n").is_ok());
    }

    #[test]
    fn an_unknown_member_is_refused_by_name() {
        let err = parse::<Request>(r#"{"s": "x", "digit": 8}"#).unwrap_err();
        assert_eq!(err.code(), "unknown_field");
        assert!(err.to_string().contains("`digit`"), "{err}");
        let err =
            nested::<Request>("outer", &json!({"x": 1}).as_object().unwrap().clone()).unwrap_err();
        assert!(
            err.to_string().starts_with("in `outer`: unknown field `x`"),
            "{err}"
        );
    }

    #[test]
    fn accessors_classify_defects() {
        let request: Request =
            parse(r#"{"s": "x", "n": 5, "neg": -1, "b": true, "arr": ["a", 1], "nul": null}"#)
                .unwrap();
        assert!(matches!(
            field!(request.missing).str(),
            Err(EnvelopeError::Missing(_))
        ));
        assert!(matches!(
            field!(request.nul).str(),
            Err(EnvelopeError::Missing(_))
        ));
        assert!(matches!(
            field!(request.n).str(),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(matches!(
            field!(request.s).u64(),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(matches!(
            field!(request.neg).u64(),
            Err(EnvelopeError::OutOfRange { .. })
        ));
        assert!(matches!(
            field!(request.n).u64_in(6..=8, 6),
            Err(EnvelopeError::OutOfRange { .. })
        ));
        assert_eq!(field!(request.missing).u64_in(6..=8, 6).unwrap(), 6);
        assert!(matches!(
            field!(request.s).choice(&["a", "b"]),
            Err(EnvelopeError::OutOfRange { .. })
        ));
        assert!(matches!(
            field!(request.arr).str_array(),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(field!(request.b).bool_or(false).unwrap());
        assert!(matches!(
            field!(request.s).bool_or(false),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert_eq!(field!(request.s).name(), "s");
    }
}
