//! [`UnixTime`]'s text parsing, answering the model's error. Apart from time.rs so the
//! dependency runs one way: error.rs names `UnixTime`, and this module names both.

use std::str::FromStr;

use crate::error::ModelError;
use crate::time::{UnixTime, parse_timestamp};

impl UnixTime {
    /// Parses the service's timestamp form `YYYY-MM-DDTHH:MM:SSZ`.
    ///
    /// # Errors
    /// [`ModelError::InvalidTimestamp`] when the text is not exactly that form or names
    /// an impossible date or time.
    pub fn parse_rfc3339(text: &str) -> Result<Self, ModelError> {
        parse_timestamp(text).ok_or(ModelError::InvalidTimestamp { length: text.len() })
    }
}

impl FromStr for UnixTime {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_rfc3339(s)
    }
}
