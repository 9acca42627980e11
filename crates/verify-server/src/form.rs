//! Form-encoded request bodies with the service's dotted parameter names.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::error::ApiError;

/// The largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// A parsed `application/x-www-form-urlencoded` body (or query string): each name
/// with its values in order (`EventTypes` and `Passkeys.RelyingParty.Origins` repeat).
#[derive(Debug, Clone, Default)]
pub struct Form(BTreeMap<String, Vec<String>>);

impl Form {
    /// Parses `bytes`.
    ///
    /// # Errors
    /// [`ApiError::invalid`] for a body that is not form-encoded.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
            .map_err(|_| ApiError::invalid("the body is not application/x-www-form-urlencoded"))?;
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in pairs {
            map.entry(name).or_default().push(value);
        }
        Ok(Self(map))
    }

    /// The first value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    /// Every value of `name` (empty when absent).
    #[must_use]
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    /// The value of `name`, required.
    ///
    /// # Errors
    /// [`ApiError::invalid`] naming the missing parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::invalid(format!("missing required parameter {name}")))
    }

    /// The value of `name` parsed with `FromStr`, if present.
    ///
    /// # Errors
    /// [`ApiError::invalid`] naming the malformed parameter.
    pub fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|text| {
                text.parse::<T>()
                    .map_err(|_| ApiError::invalid(format!("parameter {name} is malformed")))
            })
            .transpose()
    }
}
