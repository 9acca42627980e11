//! The served challenge fields a push device signs, serialized alone.
//!
//! The engine checks an approve/deny answer against the challenge's JSON view as
//! the device was served it, but only the signature fields matter (by default 6 of
//! 18). Serializing the whole view into a `serde_json::Map` and throwing most of it
//! away cost more than the rest of the engine's approve path; this serializer runs
//! the view's own `Serialize` impl and keeps only the listed fields, so each kept
//! value is exactly what the full serialization would have produced.

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::{Map, Value};
use verify_push::SignatureFields;

/// The listed top-level fields of `view` (a struct) as JSON values; fields the view
/// does not serialize are absent from the result.
pub(crate) fn signed_fields<T: Serialize>(
    view: &T,
    fields: &SignatureFields,
) -> Result<Map<String, Value>, serde_json::Error> {
    view.serialize(SelectFields { fields })
}

struct SelectFields<'a> {
    fields: &'a SignatureFields,
}

struct SelectedStruct<'a> {
    fields: &'a SignatureFields,
    values: Map<String, Value>,
}

fn not_a_struct() -> serde_json::Error {
    ser::Error::custom("the signed view must serialize as a struct")
}

impl<'a> ser::Serializer for SelectFields<'a> {
    type Ok = Map<String, Value>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = Impossible<Self::Ok, Self::Error>;
    type SerializeStruct = SelectedStruct<'a>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Ok(SelectedStruct {
            fields: self.fields,
            values: Map::new(),
        })
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_i8(self, _: i8) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_i16(self, _: i16) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_i32(self, _: i32) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_i64(self, _: i64) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_u8(self, _: u8) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_u16(self, _: u16) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_u32(self, _: u32) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_u64(self, _: u64) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_f32(self, _: f32) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_f64(self, _: f64) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_char(self, _: char) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_str(self, _: &str) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_none(self) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_unit(self) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(not_a_struct())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(not_a_struct())
    }
}

impl ser::SerializeStruct for SelectedStruct<'_> {
    type Ok = Map<String, Value>;
    type Error = serde_json::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        if self.fields.iter().any(|field| field == key) {
            self.values
                .insert(key.to_owned(), serde_json::to_value(value)?);
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        Ok(self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct View {
        sid: &'static str,
        details: Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        status: &'static str,
    }

    fn view(details: Option<Value>, url: Option<&str>) -> View {
        View {
            sid: "YC0123456789abcdef0123456789abcdef",
            details,
            url: url.map(str::to_owned),
            status: "pending",
        }
    }

    /// The full serialization, filtered: what the selection must equal.
    fn filtered(view: &View, fields: &SignatureFields) -> Map<String, Value> {
        let Value::Object(all) = serde_json::to_value(view).unwrap() else {
            panic!("a struct serializes to an object");
        };
        all.into_iter()
            .filter(|(key, _)| fields.iter().any(|field| field == key))
            .collect()
    }

    #[test]
    fn keeps_exactly_the_listed_fields_as_the_full_serialization_has_them() {
        let views = [
            view(
                Some(json!({"message": "hi", "fields": [{"label": "a", "value": "b"}]})),
                None,
            ),
            view(None, Some("https://example.org/x")),
            view(Some(json!({})), Some("")),
        ];
        let lists: [&[&str]; 4] = [
            &["sid"],
            &["sid", "details"],
            &["url", "sid", "details", "absent"],
            &["details", "sid", "url"],
        ];
        for v in &views {
            for list in lists {
                let fields = SignatureFields::new(list).unwrap();
                assert_eq!(signed_fields(v, &fields).unwrap(), filtered(v, &fields));
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_struct() {
        let fields = SignatureFields::recommended();
        assert!(signed_fields(&json!({"sid": "x"}), &fields).is_err());
        assert!(signed_fields(&"sid", &fields).is_err());
        assert!(signed_fields(&vec![1, 2], &fields).is_err());
    }
}
