//! Validated text values shared by several resources: [`FriendlyName`],
//! [`StringMap`] (`metadata`, `hidden_details`) and the challenge [`Details`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{Field, ModelError, check_len, check_text};
use crate::limits::{
    MAX_DETAILS_FIELD_LABEL_LEN, MAX_DETAILS_FIELD_VALUE_LEN, MAX_DETAILS_FIELDS,
    MAX_DETAILS_MESSAGE_LEN, MAX_PASSKEY_FRIENDLY_NAME_LEN, MAX_STRING_MAP_LEN,
};
use crate::time::UnixTime;

/// A human-readable name: 1 to `max` characters, no control characters other than
/// tab and line breaks.
///
/// The limit depends on what is named (see [`crate::limits`]); each resource's
/// constructor checks its own. Deserialization checks the widest limit,
/// [`MAX_PASSKEY_FRIENDLY_NAME_LEN`].
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FriendlyName(String);

impl FriendlyName {
    /// Checks `text` against `1..=max` characters for `field`.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] with `max` and the character count, or
    /// [`ModelError::InvalidCharacters`] for control characters.
    pub fn new(field: Field, text: &str, max: usize) -> Result<Self, ModelError> {
        check_text(field, text, 1, max)?;
        Ok(Self(text.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FriendlyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FriendlyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<'de> Deserialize<'de> for FriendlyName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(
            Field::FactorFriendlyName,
            &text,
            MAX_PASSKEY_FRIENDLY_NAME_LEN,
        )
        .map_err(serde::de::Error::custom)
    }
}

/// A JSON object whose values are all strings, at most [`MAX_STRING_MAP_LEN`]
/// characters when serialized: the type of `metadata` and `hidden_details`.
///
/// Keys are unique (a repeated key is rejected, never silently merged) and kept in
/// sorted order, so the serialized form is canonical.
///
/// ```
/// use verify_model::{StringMap, error::Field};
/// let map = StringMap::parse_json(Field::HiddenDetails, r#"{"ip": "172.168.1.234"}"#).unwrap();
/// assert_eq!(map.get("ip"), Some("172.168.1.234"));
/// assert!(StringMap::parse_json(Field::HiddenDetails, r#"{"n": 1}"#).is_err());
/// assert!(StringMap::parse_json(Field::HiddenDetails, r#"{"a": "1", "a": "2"}"#).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct StringMap(BTreeMap<String, String>);

impl StringMap {
    /// Builds a map from pairs, checking the serialized length.
    ///
    /// # Errors
    /// [`ModelError::NotAStringMap`] when a key repeats;
    /// [`ModelError::LengthOutOfRange`] when the serialized JSON exceeds
    /// [`MAX_STRING_MAP_LEN`] characters.
    pub fn new<K, V, I>(field: Field, pairs: I) -> Result<Self, ModelError>
    where
        K: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut map = BTreeMap::new();
        for (key, value) in pairs {
            if map.insert(key.into(), value.into()).is_some() {
                return Err(ModelError::NotAStringMap { field });
            }
        }
        Self::checked(field, map)
    }

    /// Parses the stringified JSON the API takes (`HiddenDetails={"ip": "..."}`).
    ///
    /// # Errors
    /// [`ModelError::NotAStringMap`] when `json` is not one JSON object of string
    /// values with unique keys; [`ModelError::LengthOutOfRange`] when the text or the
    /// re-serialized map exceeds [`MAX_STRING_MAP_LEN`] characters.
    pub fn parse_json(field: Field, json: &str) -> Result<Self, ModelError> {
        // Bound the work before parsing; whitespace may make the text longer than
        // the canonical form, so allow some slack but not unbounded input.
        check_len(field, json.len(), 0, MAX_STRING_MAP_LEN.saturating_mul(4))?;
        let raw: RawStringMap =
            serde_json::from_str(json).map_err(|_| ModelError::NotAStringMap { field })?;
        Self::checked(field, raw.0)
    }

    fn checked(field: Field, map: BTreeMap<String, String>) -> Result<Self, ModelError> {
        let length = serde_json::to_string(&map)
            .map_err(|_| ModelError::NotAStringMap { field })?
            .chars()
            .count();
        check_len(field, length, 0, MAX_STRING_MAP_LEN)?;
        Ok(Self(map))
    }

    /// The value under `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The serialized JSON, as served (`{"ip":"172.168.1.234"}`).
    #[must_use]
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for StringMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawStringMap::deserialize(deserializer)?;
        Self::checked(Field::Metadata, raw.0).map_err(serde::de::Error::custom)
    }
}

/// A string-valued object that rejects repeated keys.
struct RawStringMap(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for RawStringMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = RawStringMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((key, value)) = access.next_entry::<String, String>()? {
                    if map.contains_key(&key) {
                        return Err(serde::de::Error::custom("duplicate key"));
                    }
                    map.insert(key, value);
                }
                Ok(RawStringMap(map))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// One `details.fields[]` entry: a label (1..=36 characters) and a value
/// (0..=128 characters), shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailField {
    label: String,
    value: String,
}

impl DetailField {
    /// Checks the label against [`MAX_DETAILS_FIELD_LABEL_LEN`] and the value against
    /// [`MAX_DETAILS_FIELD_VALUE_LEN`].
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] naming `details.fields[].label` or `.value`,
    /// or [`ModelError::InvalidCharacters`].
    pub fn new(label: &str, value: &str) -> Result<Self, ModelError> {
        check_text(
            Field::DetailsFieldLabel,
            label,
            1,
            MAX_DETAILS_FIELD_LABEL_LEN,
        )?;
        check_text(
            Field::DetailsFieldValue,
            value,
            0,
            MAX_DETAILS_FIELD_VALUE_LEN,
        )?;
        Ok(Self {
            label: label.to_owned(),
            value: value.to_owned(),
        })
    }

    /// The label.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

#[derive(Deserialize)]
struct DetailFieldWire {
    label: String,
    value: String,
}

impl<'de> Deserialize<'de> for DetailField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = DetailFieldWire::deserialize(deserializer)?;
        Self::new(&wire.label, &wire.value).map_err(serde::de::Error::custom)
    }
}

/// A challenge's `details`: what the user is shown.
///
/// `message` is 1..=256 characters (required for push challenges), `fields` holds at
/// most 20 [`DetailField`]s, and `date` is an optional time to display (the
/// documents' examples carry it; it defaults to none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Details {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<UnixTime>,
    fields: Vec<DetailField>,
}

impl Details {
    /// Checks the message against [`MAX_DETAILS_MESSAGE_LEN`] and the field count
    /// against [`MAX_DETAILS_FIELDS`].
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`] for the message,
    /// [`ModelError::TooManyItems`] for the fields.
    pub fn new(message: &str, fields: Vec<DetailField>) -> Result<Self, ModelError> {
        check_text(Field::DetailsMessage, message, 1, MAX_DETAILS_MESSAGE_LEN)?;
        if fields.len() > MAX_DETAILS_FIELDS {
            return Err(ModelError::TooManyItems {
                field: Field::DetailsFields,
                max: MAX_DETAILS_FIELDS,
                count: fields.len(),
            });
        }
        Ok(Self {
            message: message.to_owned(),
            date: None,
            fields,
        })
    }

    /// The same details with a display `date`.
    #[must_use]
    pub fn with_date(mut self, date: UnixTime) -> Self {
        self.date = Some(date);
        self
    }

    /// The message shown in the notification.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The labelled fields.
    #[must_use]
    pub fn fields(&self) -> &[DetailField] {
        &self.fields
    }

    /// The display date, if any.
    #[must_use]
    pub const fn date(&self) -> Option<UnixTime> {
        self.date
    }
}

#[derive(Deserialize)]
struct DetailsWire {
    message: String,
    #[serde(default)]
    date: Option<UnixTime>,
    #[serde(default)]
    fields: Vec<DetailField>,
}

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = DetailsWire::deserialize(deserializer)?;
        let details = Self::new(&wire.message, wire.fields).map_err(serde::de::Error::custom)?;
        Ok(Self {
            date: wire.date,
            ..details
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_name_limits() {
        assert!(FriendlyName::new(Field::ServiceFriendlyName, "", 32).is_err());
        assert!(FriendlyName::new(Field::ServiceFriendlyName, &"x".repeat(32), 32).is_ok());
        assert_eq!(
            FriendlyName::new(Field::ServiceFriendlyName, &"x".repeat(33), 32),
            Err(ModelError::LengthOutOfRange {
                field: Field::ServiceFriendlyName,
                min: 1,
                max: 32,
                length: 33
            })
        );
    }

    fn map_of_len(len: usize) -> String {
        // {"k":"vvv"} is 8 characters plus the value.
        format!("{{\"k\":\"{}\"}}", "v".repeat(len - 8))
    }

    #[test]
    fn string_map_length_boundary() {
        let at = map_of_len(MAX_STRING_MAP_LEN);
        assert_eq!(at.chars().count(), MAX_STRING_MAP_LEN);
        let map = StringMap::parse_json(Field::Metadata, &at).unwrap();
        assert_eq!(map.to_json_string(), at);
        let past = map_of_len(MAX_STRING_MAP_LEN + 1);
        assert_eq!(
            StringMap::parse_json(Field::Metadata, &past),
            Err(ModelError::LengthOutOfRange {
                field: Field::Metadata,
                min: 0,
                max: MAX_STRING_MAP_LEN,
                length: MAX_STRING_MAP_LEN + 1
            })
        );
    }

    #[test]
    fn string_map_rejects_non_strings_and_duplicates() {
        for bad in [
            "[]",
            "\"x\"",
            "{\"a\":1}",
            "{\"a\":null}",
            "{\"a\":{\"b\":\"c\"}}",
            "{\"a\":\"1\",\"a\":\"2\"}",
            "{",
        ] {
            assert_eq!(
                StringMap::parse_json(Field::HiddenDetails, bad),
                Err(ModelError::NotAStringMap {
                    field: Field::HiddenDetails
                }),
                "{bad}"
            );
        }
        assert!(StringMap::new(Field::Metadata, [("a", "1"), ("a", "2")]).is_err());
        assert!(serde_json::from_str::<StringMap>("{\"a\":\"1\",\"a\":\"2\"}").is_err());
    }

    #[test]
    fn details_limits() {
        let field = DetailField::new("Action", "Sign up").unwrap();
        assert!(Details::new(&"m".repeat(256), vec![]).is_ok());
        assert!(Details::new(&"m".repeat(257), vec![]).is_err());
        assert!(Details::new("", vec![]).is_err());
        assert!(Details::new("m", vec![field.clone(); 20]).is_ok());
        assert_eq!(
            Details::new("m", vec![field; 21]),
            Err(ModelError::TooManyItems {
                field: Field::DetailsFields,
                max: 20,
                count: 21
            })
        );
        assert!(DetailField::new(&"l".repeat(36), "v").is_ok());
        assert!(DetailField::new(&"l".repeat(37), "v").is_err());
        assert!(DetailField::new("", "v").is_err());
        assert!(DetailField::new("l", &"v".repeat(128)).is_ok());
        assert!(DetailField::new("l", &"v".repeat(129)).is_err());
    }

    #[test]
    fn details_serde_round_trip_and_validation() {
        let details = Details::new("Hi", vec![DetailField::new("Action", "Sign up").unwrap()])
            .unwrap()
            .with_date(UnixTime::from_secs(1_593_605_594));
        let json = serde_json::to_value(&details).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"message": "Hi", "date": "2020-07-01T12:13:14Z",
                "fields": [{"label": "Action", "value": "Sign up"}]})
        );
        assert_eq!(serde_json::from_value::<Details>(json).unwrap(), details);
        let too_long = serde_json::json!({"message": "m".repeat(257), "fields": []});
        assert!(serde_json::from_value::<Details>(too_long).is_err());
    }
}
