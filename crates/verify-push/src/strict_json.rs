//! Untrusted JSON: a bounded, duplicate-refusing JSON parser and JSON value equality.
//!
//! `serde_json` silently keeps the last of two equal keys; a signed payload that says
//! `"status":"denied"` and then `"status":"approved"` must not mean whatever the
//! parser happens to pick. [`parse_object`] refuses a repeated key at any depth,
//! bounds the input size and the nesting depth, and refuses trailing text.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{JsonError, clip};

/// Deepest nesting of objects and arrays accepted in untrusted JSON.
pub const MAX_JSON_DEPTH: usize = 16;

/// Parses `bytes` as one JSON object, refusing duplicate keys at any depth, nesting
/// deeper than [`MAX_JSON_DEPTH`], input longer than `max_len` bytes and trailing text.
///
/// # Errors
/// [`JsonError`] naming the defect.
pub fn parse_object(bytes: &[u8], max_len: usize) -> Result<Map<String, Value>, JsonError> {
    if bytes.len() > max_len {
        return Err(JsonError::TooLarge {
            length: bytes.len(),
            max: max_len,
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut failure = None;
    let value = StrictSeed {
        depth: 0,
        failure: &mut failure,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (value, failure) {
        (_, Some(failure)) => Err(failure),
        (Ok(Value::Object(map)), None) => Ok(map),
        (Ok(_), None) => Err(JsonError::NotAnObject),
        (Err(err), None) => Err(JsonError::Syntax {
            line: err.line(),
            column: err.column(),
        }),
    }
}

/// A seed that builds a [`Value`], recording the first structural refusal in
/// `failure` (serde's error type cannot carry our typed error).
struct StrictSeed<'f> {
    depth: usize,
    failure: &'f mut Option<JsonError>,
}

impl StrictSeed<'_> {
    fn refuse<E: de::Error>(self, failure: JsonError) -> E {
        let message = failure.to_string();
        *self.failure = Some(failure);
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.depth.saturating_add(1);
        if depth > MAX_JSON_DEPTH {
            return Err(self.refuse(JsonError::TooDeep {
                max: MAX_JSON_DEPTH,
            }));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed {
            depth,
            failure: &mut *self.failure,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.depth.saturating_add(1);
        if depth > MAX_JSON_DEPTH {
            return Err(self.refuse(JsonError::TooDeep {
                max: MAX_JSON_DEPTH,
            }));
        }
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(self.refuse(JsonError::DuplicateKey { key: clip(&key) }));
            }
            let value = map.next_value_seed(StrictSeed {
                depth,
                failure: &mut *self.failure,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// JSON equality: numbers by value (`1`, `1.0` and `1e0` are equal), strings after
/// unescaping (`"a/b"` equals `"a\/b"`), objects regardless of key order, arrays in
/// order.
///
/// Integers are compared exactly; a comparison involving a fraction or exponent
/// compares the IEEE-754 double values.
#[must_use]
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| json_eq(x, y)))
        }
        _ => false,
    }
}

fn number_eq(x: &Number, y: &Number) -> bool {
    match (integer(x), integer(y)) {
        (Some(x), Some(y)) => x == y,
        _ => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn integer(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_duplicates_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"a":1,"a":1}}"#,
            r#"{"x":[{"a":1},{"b":1,"b":2}]}"#,
            r#"{"status":"denied","status":"approved"}"#,
        ] {
            assert!(
                matches!(
                    parse_object(text.as_bytes(), 1000),
                    Err(JsonError::DuplicateKey { .. })
                ),
                "{text}"
            );
        }
        assert!(parse_object(br#"{"a":{"b":1},"b":{"a":1}}"#, 1000).is_ok());
    }

    #[test]
    fn refuses_depth_size_trailing_and_non_objects() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let deep = format!(r#"{{"a":{deep}}}"#);
        assert_eq!(
            parse_object(deep.as_bytes(), 1000),
            Err(JsonError::TooDeep {
                max: MAX_JSON_DEPTH
            })
        );
        assert!(matches!(
            parse_object(b"{}", 1),
            Err(JsonError::TooLarge { length: 2, max: 1 })
        ));
        assert!(matches!(
            parse_object(b"{} x", 100),
            Err(JsonError::Syntax { .. })
        ));
        assert_eq!(parse_object(b"[1]", 100), Err(JsonError::NotAnObject));
        assert!(matches!(
            parse_object(b"{\"a\":", 100),
            Err(JsonError::Syntax { .. })
        ));
    }

    #[test]
    fn unescapes_strings() {
        let map = parse_object(br#"{"u":"a\/b \u00e9 \ud83d\ude00"}"#, 100).unwrap();
        assert_eq!(map["u"], json!("a/b \u{e9} \u{1f600}"));
    }

    #[test]
    fn json_equality_is_by_value() {
        assert!(json_eq(
            &json!({"a":1,"b":[1,2]}),
            &json!({"b":[1,2],"a":1})
        ));
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(json_eq(&json!(-3), &json!(-3.0)));
        assert!(!json_eq(&json!(1), &json!("1")));
        assert!(!json_eq(&json!([1, 2]), &json!([2, 1])));
        assert!(!json_eq(&json!({"a":1}), &json!({"a":1,"b":null})));
        assert!(!json_eq(&json!(u64::MAX), &json!(-1)));
        assert!(!json_eq(&json!(null), &json!(false)));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = parse_object(&bytes, 200);
        }

        #[test]
        fn agrees_with_serde_json_without_duplicates(
            map in proptest::collection::btree_map("[a-z]{1,4}", proptest::prelude::any::<i32>(), 0..8)
        ) {
            let text = serde_json::to_string(&map).unwrap();
            let ours = parse_object(text.as_bytes(), 10_000).unwrap();
            let theirs: Map<String, Value> = serde_json::from_str(&text).unwrap();
            proptest::prop_assert!(json_eq(&Value::Object(ours), &Value::Object(theirs)));
        }
    }
}
