//! Serde for bytes stored as unpadded base64url (credential ids, keys, WebAuthn
//! challenges): the form `verify-webauthn` writes, so the two crates' records agree.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize as _;

pub(crate) fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    decode(&text).map_err(serde::de::Error::custom)
}

fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text.as_bytes())
}

/// `Option<Vec<u8>>` as an optional base64url string (`null` when absent).
pub(crate) mod option {
    use super::{URL_SAFE_NO_PAD, decode};
    use base64::Engine as _;
    use serde::Deserialize as _;

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: serde::Serializer>(
        bytes: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_some(&URL_SAFE_NO_PAD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?
            .map(|text| decode(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `Vec<Vec<u8>>` as a list of base64url strings.
pub(crate) mod list {
    use super::{URL_SAFE_NO_PAD, decode};
    use base64::Engine as _;
    use serde::Deserialize as _;
    use serde::ser::SerializeSeq as _;

    pub(crate) fn serialize<S: serde::Serializer>(
        items: &[Vec<u8>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(items.len()))?;
        for item in items {
            seq.serialize_element(&URL_SAFE_NO_PAD.encode(item))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        <Vec<std::borrow::Cow<'de, str>>>::deserialize(d)?
            .iter()
            .map(|text| decode(text).map_err(serde::de::Error::custom))
            .collect()
    }
}
