//! Authenticator data (WebAuthn L3 §6.1): rpIdHash, flags, signCount, attested
//! credential data and extensions, with trailing bytes rejected.

use crate::cose::CoseKey;
use crate::error::{ParseError, WebauthnError};
use crate::extensions::AuthenticatorExtensionOutputs;
use crate::limits::{MAX_AUTHENTICATOR_DATA_BYTES, MAX_CBOR_DEPTH, MAX_CREDENTIAL_ID_BYTES};

/// The flags byte of authenticator data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    /// UP: user present.
    pub const USER_PRESENT: u8 = 0x01;
    /// UV: user verified.
    pub const USER_VERIFIED: u8 = 0x04;
    /// BE: backup eligible.
    pub const BACKUP_ELIGIBLE: u8 = 0x08;
    /// BS: backed up.
    pub const BACKUP_STATE: u8 = 0x10;
    /// AT: attested credential data included.
    pub const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
    /// ED: extension data included.
    pub const EXTENSION_DATA: u8 = 0x80;

    /// The raw byte.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// UP.
    #[must_use]
    pub const fn user_present(self) -> bool {
        self.0 & Self::USER_PRESENT != 0
    }
    /// UV.
    #[must_use]
    pub const fn user_verified(self) -> bool {
        self.0 & Self::USER_VERIFIED != 0
    }
    /// BE.
    #[must_use]
    pub const fn backup_eligible(self) -> bool {
        self.0 & Self::BACKUP_ELIGIBLE != 0
    }
    /// BS.
    #[must_use]
    pub const fn backup_state(self) -> bool {
        self.0 & Self::BACKUP_STATE != 0
    }
    /// AT.
    #[must_use]
    pub const fn attested_credential_data(self) -> bool {
        self.0 & Self::ATTESTED_CREDENTIAL_DATA != 0
    }
    /// ED.
    #[must_use]
    pub const fn extension_data(self) -> bool {
        self.0 & Self::EXTENSION_DATA != 0
    }
}

/// Attested credential data (§6.5.2).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AttestedCredentialData {
    /// The authenticator's AAGUID.
    pub aaguid: [u8; 16],
    /// The credential id (at most [`MAX_CREDENTIAL_ID_BYTES`]).
    pub credential_id: Vec<u8>,
    /// The credential public key.
    pub public_key: CoseKey,
}

/// Parsed authenticator data, borrowing the raw bytes it was parsed from (which are
/// what signatures cover).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthenticatorData<'a> {
    /// The bytes as received.
    pub raw: &'a [u8],
    /// SHA-256 of the RP ID.
    pub rp_id_hash: [u8; 32],
    /// The flags.
    pub flags: Flags,
    /// The signature counter.
    pub sign_count: u32,
    /// Attested credential data, present iff AT is set.
    pub attested_credential_data: Option<AttestedCredentialData>,
    /// Extension outputs (a CBOR map), present iff ED is set.
    pub extensions: Option<ciborium::Value>,
    /// The outputs of [`extensions`](Self::extensions) this crate knows
    /// (`credProtect`, `minPinLength`), read strictly; default when ED is clear.
    pub extension_outputs: AuthenticatorExtensionOutputs,
}

const FIELD: &str = "authenticatorData";

impl<'a> AuthenticatorData<'a> {
    /// Parses authenticator data, enforcing the flag consistency rules: BS only with
    /// BE; AT set iff attested credential data follows; ED set iff an extensions map
    /// follows; nothing after that.
    ///
    /// # Errors
    /// [`WebauthnError::Malformed`] for truncation, trailing bytes, inconsistent
    /// flags, an over-long credential id or malformed CBOR;
    /// [`WebauthnError::Key`] for an unusable credential key.
    pub fn parse(raw: &'a [u8]) -> Result<Self, WebauthnError> {
        if raw.len() > MAX_AUTHENTICATOR_DATA_BYTES {
            return Err(ParseError::TooLarge {
                field: FIELD,
                len: raw.len(),
                max: MAX_AUTHENTICATOR_DATA_BYTES,
            }
            .into());
        }
        let truncated = ParseError::Truncated { field: FIELD };
        let (rp_id_hash, rest) = raw.split_first_chunk::<32>().ok_or(truncated.clone())?;
        let (&flags, rest) = rest.split_first().ok_or(truncated.clone())?;
        let (count, mut rest) = rest.split_first_chunk::<4>().ok_or(truncated.clone())?;
        let flags = Flags(flags);
        if flags.backup_state() && !flags.backup_eligible() {
            return Err(ParseError::Flags {
                reason: "BS set without BE",
            }
            .into());
        }
        let attested_credential_data = if flags.attested_credential_data() {
            let (aaguid, after) = rest.split_first_chunk::<16>().ok_or(truncated.clone())?;
            let (id_len, after) = after.split_first_chunk::<2>().ok_or(truncated.clone())?;
            let id_len = usize::from(u16::from_be_bytes(*id_len));
            // §6.5.2: credentialId is a Credential ID, "a probabilistically-unique byte
            // sequence identifying a public key credential source" (§4) of 1 to 1023
            // bytes; an empty one identifies nothing. (Authenticators emit at least 16
            // bytes, but 16 is not a rule for the relying party: 1 is the minimum.)
            if id_len == 0 {
                return Err(ParseError::InvalidValue {
                    field: "credentialId",
                }
                .into());
            }
            if id_len > MAX_CREDENTIAL_ID_BYTES {
                return Err(ParseError::TooLarge {
                    field: "credentialId",
                    len: id_len,
                    max: MAX_CREDENTIAL_ID_BYTES,
                }
                .into());
            }
            let (credential_id, after) = after.split_at_checked(id_len).ok_or(truncated)?;
            let (public_key, used) = CoseKey::from_prefix(after)?;
            rest = after.get(used..).unwrap_or(&[]);
            Some(AttestedCredentialData {
                aaguid: *aaguid,
                credential_id: credential_id.to_vec(),
                public_key,
            })
        } else {
            None
        };
        let extensions = if flags.extension_data() {
            let mut reader = rest;
            let value: ciborium::Value =
                ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_CBOR_DEPTH)
                    .map_err(|_| ParseError::Cbor {
                        field: "authenticatorData extensions",
                        reason: "malformed, truncated or nested too deeply",
                    })?;
            if !value.is_map() {
                return Err(ParseError::Cbor {
                    field: "authenticatorData extensions",
                    reason: "not a map",
                }
                .into());
            }
            if has_duplicate_map_key(&value) {
                return Err(ParseError::Cbor {
                    field: "authenticatorData extensions",
                    reason: "duplicate key",
                }
                .into());
            }
            rest = reader;
            Some(value)
        } else {
            None
        };
        // Parsed here, not on demand, so every reader of authenticator data (and the
        // authenticator-data fuzz target) goes through the strict reading.
        let extension_outputs = extensions
            .as_ref()
            .map(AuthenticatorExtensionOutputs::parse)
            .transpose()?
            .unwrap_or_default();
        if !rest.is_empty() {
            let reason = if flags.attested_credential_data() || flags.extension_data() {
                None
            } else {
                Some("data follows signCount but AT and ED are clear")
            };
            return Err(match reason {
                Some(reason) => ParseError::Flags { reason },
                None => ParseError::TrailingBytes {
                    field: FIELD,
                    count: rest.len(),
                },
            }
            .into());
        }
        Ok(Self {
            raw,
            rp_id_hash: *rp_id_hash,
            flags,
            sign_count: u32::from_be_bytes(*count),
            attested_credential_data,
            extensions,
            extension_outputs,
        })
    }
}

/// Whether `value` holds, at any depth, a map with two equal keys (RFC 8949 §5.6: a
/// map with duplicate keys is not valid; this crate refuses it everywhere, as
/// `AttestationObject::parse` and the `attStmt` reader do).
fn has_duplicate_map_key(value: &ciborium::Value) -> bool {
    match value {
        ciborium::Value::Map(entries) => {
            entries.iter().enumerate().any(|(i, (key, _))| {
                entries
                    .get(..i)
                    .unwrap_or_default()
                    .iter()
                    .any(|(earlier, _)| earlier == key)
            }) || entries
                .iter()
                .any(|(k, v)| has_duplicate_map_key(k) || has_duplicate_map_key(v))
        }
        ciborium::Value::Array(items) => items.iter().any(has_duplicate_map_key),
        ciborium::Value::Tag(_, inner) => has_duplicate_map_key(inner),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REG: &str = "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b559000000008446ccb9ab1db374750b2367ff6f3a1f0020f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220";

    #[test]
    fn parses_w3c_registration_authenticator_data() {
        let raw = hex::decode(REG).unwrap();
        let ad = AuthenticatorData::parse(&raw).unwrap();
        assert_eq!(ad.flags.bits(), 0x59);
        assert!(ad.flags.user_present() && !ad.flags.user_verified());
        assert!(ad.flags.backup_eligible() && ad.flags.backup_state());
        assert_eq!(ad.sign_count, 0);
        let at = ad.attested_credential_data.unwrap();
        assert_eq!(hex::encode(at.aaguid), "8446ccb9ab1db374750b2367ff6f3a1f");
        assert_eq!(at.credential_id.len(), 32);
        assert_eq!(at.public_key.cose_algorithm(), -7);
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut raw = hex::decode(REG).unwrap();
        raw.push(0);
        assert!(matches!(
            AuthenticatorData::parse(&raw),
            Err(WebauthnError::Malformed(ParseError::TrailingBytes {
                count: 1,
                ..
            }))
        ));
        let mut assertion = hex::decode(&REG[..74]).unwrap();
        assertion[32] = 0x01;
        AuthenticatorData::parse(&assertion).unwrap();
        assertion.push(0xa0);
        assert!(matches!(
            AuthenticatorData::parse(&assertion),
            Err(WebauthnError::Malformed(ParseError::Flags { .. }))
        ));
    }

    #[test]
    fn flag_rules() {
        let mut raw = hex::decode(&REG[..74]).unwrap();
        raw[32] = 0x11; // UP + BS without BE
        assert!(matches!(
            AuthenticatorData::parse(&raw),
            Err(WebauthnError::Malformed(ParseError::Flags {
                reason: "BS set without BE"
            }))
        ));
        raw[32] = 0x41; // AT without data
        assert!(matches!(
            AuthenticatorData::parse(&raw),
            Err(WebauthnError::Malformed(ParseError::Truncated { .. }))
        ));
        raw[32] = 0x81; // ED without data
        assert!(matches!(
            AuthenticatorData::parse(&raw),
            Err(WebauthnError::Malformed(ParseError::Cbor { .. }))
        ));
        raw.push(0xa1);
        raw.extend_from_slice(b"\x63abc\xf5"); // {"abc": true}
        let ad = AuthenticatorData::parse(&raw).unwrap();
        assert!(ad.extensions.is_some());
        raw[32] = 0x01; // extensions but ED clear
        assert!(AuthenticatorData::parse(&raw).is_err());
    }

    #[test]
    fn extensions_after_the_credential_key() {
        let mut raw = hex::decode(REG).unwrap();
        raw[32] |= Flags::EXTENSION_DATA;
        raw.extend_from_slice(&[0xa1, 0x6b]);
        raw.extend_from_slice(b"credProtect");
        raw.push(0x02);
        let ad = AuthenticatorData::parse(&raw).unwrap();
        assert!(ad.attested_credential_data.is_some());
        assert!(ad.extensions.is_some());
        assert_eq!(
            ad.extension_outputs.cred_protect,
            Some(crate::extensions::CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList)
        );
        // A known output with an impossible value is refused by the parse itself.
        let last = raw.len() - 1;
        raw[last] = 0x04;
        assert!(matches!(
            AuthenticatorData::parse(&raw),
            Err(WebauthnError::Malformed(ParseError::Cbor {
                reason: "credProtect is not 1, 2 or 3",
                ..
            }))
        ));
        raw[last] = 0x02;
        raw.push(0x00);
        assert!(matches!(
            AuthenticatorData::parse(&raw),
            Err(WebauthnError::Malformed(ParseError::TrailingBytes {
                count: 1,
                ..
            }))
        ));
    }

    #[test]
    fn truncation_and_credential_id_limit() {
        let raw = hex::decode(REG).unwrap();
        for len in [0, 10, 36, 37, 50, 54, 55, 100] {
            assert!(AuthenticatorData::parse(&raw[..len]).is_err(), "{len}");
        }
        let mut long = raw[..53].to_vec();
        long.extend_from_slice(&1024_u16.to_be_bytes());
        long.extend_from_slice(&[0; 1024]);
        assert!(matches!(
            AuthenticatorData::parse(&long),
            Err(WebauthnError::Malformed(ParseError::TooLarge {
                len: 1024,
                ..
            }))
        ));
    }

    /// REG with its credential id replaced by `len` bytes.
    fn with_credential_id_len(len: usize) -> Vec<u8> {
        let raw = hex::decode(REG).unwrap();
        let mut out = raw[..53].to_vec();
        out.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        out.extend(std::iter::repeat_n(0x5a, len));
        out.extend_from_slice(&raw[55 + 32..]);
        out
    }

    #[test]
    fn credential_id_length_bounds() {
        // Class 5 of "WebAuthn to the last step": an empty credential id was accepted.
        assert!(matches!(
            AuthenticatorData::parse(&with_credential_id_len(0)),
            Err(WebauthnError::Malformed(ParseError::InvalidValue {
                field: "credentialId"
            }))
        ));
        for len in [1, 2, 15, 16, 17, 32, 255, 256, MAX_CREDENTIAL_ID_BYTES] {
            let raw = with_credential_id_len(len);
            let ad = AuthenticatorData::parse(&raw).unwrap();
            assert_eq!(
                ad.attested_credential_data.unwrap().credential_id.len(),
                len
            );
        }
        assert!(matches!(
            AuthenticatorData::parse(&with_credential_id_len(MAX_CREDENTIAL_ID_BYTES + 1)),
            Err(WebauthnError::Malformed(ParseError::TooLarge { .. }))
        ));
    }

    /// Generates extension maps with one key duplicated, at the top level and nested in
    /// maps, arrays and tags, after a credential and alone.
    #[test]
    fn duplicate_extension_keys_are_refused_at_any_depth() {
        use ciborium::Value;
        let text = |s: &str| Value::Text(s.to_owned());
        let entry = |k: Value, v: Value| (k, v);
        let unique = vec![
            entry(text("credProtect"), Value::Integer(2.into())),
            entry(text("hmac-secret"), Value::Bool(true)),
            entry(Value::Integer(1.into()), Value::Bytes(vec![1, 2])),
        ];
        let mut variants = Vec::new();
        for i in 0..unique.len() {
            // The same key twice, with the same and with another value.
            let mut same = unique.clone();
            same.push(unique[i].clone());
            variants.push(Value::Map(same));
            let mut other = unique.clone();
            other.insert(0, entry(unique[i].0.clone(), Value::Null));
            variants.push(Value::Map(other));
        }
        let duplicated = Value::Map(vec![
            entry(text("a"), Value::Null),
            entry(text("a"), Value::Null),
        ]);
        for wrap in [
            |d: Value| Value::Map(vec![(Value::Text("outer".into()), d)]),
            |d: Value| Value::Map(vec![(Value::Text("outer".into()), Value::Array(vec![d]))]),
            |d: Value| {
                Value::Map(vec![(
                    Value::Text("outer".into()),
                    Value::Tag(24, Box::new(d)),
                )])
            },
        ] {
            variants.push(wrap(duplicated.clone()));
        }
        let encode = |value: &Value| {
            let mut out = Vec::new();
            ciborium::into_writer(value, &mut out).unwrap();
            out
        };
        let with_extensions = |prefix: &[u8], flags: u8, value: &Value| {
            let mut raw = prefix.to_vec();
            raw[32] = flags;
            raw.extend(encode(value));
            raw
        };
        let registration = hex::decode(REG).unwrap();
        let assertion = hex::decode(&REG[..74]).unwrap();
        let cases = [
            (&registration, 0x59 | Flags::EXTENSION_DATA),
            (&assertion, 0x81),
        ];
        for (prefix, flags) in cases {
            AuthenticatorData::parse(&with_extensions(prefix, flags, &Value::Map(unique.clone())))
                .unwrap();
            for variant in &variants {
                assert!(
                    matches!(
                        AuthenticatorData::parse(&with_extensions(prefix, flags, variant)),
                        Err(WebauthnError::Malformed(ParseError::Cbor {
                            reason: "duplicate key",
                            ..
                        }))
                    ),
                    "{variant:?}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = AuthenticatorData::parse(&bytes);
        }

        #[test]
        fn mutations_never_panic(index in 0_usize..132, value in any::<u8>()) {
            let mut raw = hex::decode(REG).unwrap();
            raw[index] = value;
            let _ = AuthenticatorData::parse(&raw);
        }
    }
}
