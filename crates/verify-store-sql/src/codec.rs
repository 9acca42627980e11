//! Records to rows and back: the serialized record, sealing of its secret fields,
//! conversions of times and versions, and mapping of database errors.

use std::sync::Arc;

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use verify_model::list::Listable;
use verify_model::{Factor, FactorKind, UnixTime, paginate};
use verify_store::{ListQuery, Listing, Resource, StoreError, UniqueKey};
use zeroize::Zeroizing;

use crate::sealer::{SecretSealer, SharedSealer};

/// The JSON key that marks a sealed field: `{"sealed_v1": "<base64url>"}`.
const SEALED_KEY: &str = "sealed_v1";

/// `record_format` of a factor or challenge row in release 0.1.0's shape: every row
/// that existed when schema 0002 was applied (the column's default), and every row a
/// 0.1.0 process inserts afterwards.
pub(crate) const LEGACY_RECORD_FORMAT: i64 = 1;

/// `record_format` of a factor or challenge row in this release's shape: what every
/// write of this release stores.
pub(crate) const RECORD_FORMAT: i64 = 2;

/// How many rows one transaction of the record upgrade rewrites. Bounded so that a
/// transaction holds a bounded number of row locks and of decoded records in memory,
/// and a crash rolls back at most this much work; large enough that a database of a
/// million rows is upgraded in a few thousand commits.
pub(crate) const UPGRADE_BATCH: i64 = 256;

/// How many passes over a table the record upgrade makes before giving up. One pass
/// upgrades every row it finds; another is needed only for rows a release 0.1.0
/// process inserted or rewrote behind the pass's cursor, which happens only while
/// such a process still writes to the database.
pub(crate) const MAX_UPGRADE_PASSES: usize = 4;

/// Serializes records (sealing secret fields) and reads them back (opening them).
#[derive(Debug, Clone, Default)]
pub(crate) struct Codec {
    sealer: Option<SharedSealer>,
    /// Whether a secret stored in the clear is accepted although a sealer is set
    /// (a database written before the sealer was introduced).
    accept_plaintext: bool,
}

/// The secret fields of a record kind, as JSON paths.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Secrets {
    /// No secret fields.
    None,
    /// `kind.secret` (TOTP) and `kind.binding` (push).
    Factor,
    /// `secret` and, after a rotation, `previous_secret.secret`.
    Webhook,
}

impl Secrets {
    const fn paths(self) -> &'static [&'static [&'static str]] {
        match self {
            Self::None => &[],
            Self::Factor => &[&["kind", "secret"], &["kind", "binding"]],
            Self::Webhook => &[&["secret"], &["previous_secret", "secret"]],
        }
    }
}

fn field_mut<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    path.iter()
        .try_fold(value, |v, key| v.as_object_mut()?.get_mut(*key))
}

fn context(resource: Resource, sid: &str, path: &[&str]) -> Vec<u8> {
    format!("{}:{sid}:{}", resource.as_str(), path.join(".")).into_bytes()
}

fn corrupt(resource: Resource, rule: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        resource,
        rule: rule.into(),
    }
}

impl Codec {
    pub(crate) fn with_sealer(sealer: Arc<dyn SecretSealer>, accept_plaintext: bool) -> Self {
        Self {
            sealer: Some(SharedSealer(sealer)),
            accept_plaintext,
        }
    }

    /// Whether secrets are sealed.
    pub(crate) const fn has_sealer(&self) -> bool {
        self.sealer.is_some()
    }

    /// The stored text of `record`, with its secret fields sealed when a sealer is set.
    pub(crate) fn encode<T: Serialize>(
        &self,
        resource: Resource,
        sid: &str,
        secrets: Secrets,
        record: &T,
    ) -> Result<Zeroizing<String>, StoreError> {
        let encode_failed = |error: serde_json::Error| StoreError::Backend(Box::new(error));
        let Some(SharedSealer(sealer)) = &self.sealer else {
            return serde_json::to_string(record)
                .map(Zeroizing::new)
                .map_err(encode_failed);
        };
        let mut value = serde_json::to_value(record).map_err(encode_failed)?;
        for path in secrets.paths() {
            let Some(field) = field_mut(&mut value, path) else {
                continue;
            };
            let Value::String(plain) = field else {
                continue;
            };
            let plain = Zeroizing::new(std::mem::take(plain));
            let sealed = sealer
                .seal(plain.as_bytes(), &context(resource, sid, path))
                .map_err(StoreError::Backend)?;
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed);
            *field = serde_json::json!({ SEALED_KEY: text });
        }
        serde_json::to_string(&value)
            .map(Zeroizing::new)
            .map_err(encode_failed)
    }

    /// Reads a stored record back (opening sealed fields), re-validated by its type.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        resource: Resource,
        secrets: Secrets,
        text: &str,
    ) -> Result<T, StoreError> {
        let unreadable =
            |error: serde_json::Error| corrupt(resource, format!("record does not load: {error}"));
        let strict = self.sealer.is_some() && !self.accept_plaintext;
        if !strict && !text.contains(SEALED_KEY) {
            return serde_json::from_str(text).map_err(unreadable);
        }
        let mut value: Value = serde_json::from_str(text).map_err(unreadable)?;
        let sid = value
            .get("sid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default();
        for path in secrets.paths() {
            let Some(field) = field_mut(&mut value, path) else {
                continue;
            };
            let Some(sealed) = field.get(SEALED_KEY).and_then(Value::as_str) else {
                if strict && field.is_string() {
                    // A secret in the clear where the store seals: someone wrote
                    // the row around the store (perhaps to plant a known secret).
                    return Err(corrupt(
                        resource,
                        "a secret stored in the clear, but the store seals secrets",
                    ));
                }
                continue;
            };
            let Some(SharedSealer(sealer)) = &self.sealer else {
                return Err(corrupt(
                    resource,
                    "a sealed secret, but the store has no sealer",
                ));
            };
            let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sealed)
                .map_err(|_| corrupt(resource, "a sealed secret is not base64url"))?;
            let plain = sealer
                .open(&sealed, &context(resource, &sid, path))
                .map_err(|_| corrupt(resource, "a sealed secret does not open"))?;
            let plain = std::str::from_utf8(&plain)
                .map_err(|_| corrupt(resource, "an opened secret is not UTF-8"))?;
            *field = Value::String(plain.to_owned());
        }
        serde_json::from_value(value).map_err(unreadable)
    }
}

/// A passkey factor's credential id, if it has one.
pub(crate) fn credential_id(factor: &Factor) -> Option<&[u8]> {
    match factor.kind() {
        FactorKind::Passkeys(passkey) => passkey.credential().map(|c| c.id.as_slice()),
        _ => None,
    }
}

/// A time as a column value.
pub(crate) fn secs(resource: Resource, time: UnixTime) -> Result<i64, StoreError> {
    i64::try_from(time.as_secs()).map_err(|_| StoreError::InvalidWrite {
        resource,
        rule: "times fit a signed 64-bit column",
    })
}

/// A version as a column value.
pub(crate) fn version(resource: Resource, version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::InvalidWrite {
        resource,
        rule: "versions fit a signed 64-bit column",
    })
}

/// The version a compare-and-set write of `new_version` expects to replace.
pub(crate) fn expected_version(resource: Resource, new_version: u64) -> Result<i64, StoreError> {
    let expected = new_version.checked_sub(1).ok_or(StoreError::InvalidWrite {
        resource,
        rule: "an updated record's version is the stored version plus one",
    })?;
    version(resource, expected)
}

/// A stored version back.
pub(crate) fn stored_version(resource: Resource, stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| corrupt(resource, "negative version column"))
}

pub(crate) fn conflict(
    resource: Resource,
    sid: impl std::fmt::Display,
    expected: Option<u64>,
) -> StoreError {
    StoreError::Conflict {
        resource,
        sid: sid.to_string(),
        expected_version: expected,
    }
}

pub(crate) fn not_found(resource: Resource, sid: impl std::fmt::Display) -> StoreError {
    StoreError::NotFound {
        resource,
        sid: sid.to_string(),
    }
}

pub(crate) const fn invalid(resource: Resource, rule: &'static str) -> StoreError {
    StoreError::InvalidWrite { resource, rule }
}

/// A failed database call: [`StoreError::Unavailable`] when the fault passes
/// (the database unreachable or busy), else [`StoreError::Backend`].
pub(crate) fn backend(error: sqlx::Error) -> StoreError {
    crate::error::store_error(error)
}

/// What a failed write's database error means.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnWrite {
    /// The record written.
    pub(crate) resource: Resource,
    /// The record a foreign-key violation names (the parent that is missing).
    pub(crate) parent: Resource,
    /// The parent's sid, for the error.
    pub(crate) parent_sid: Option<[u8; 16]>,
}

impl OnWrite {
    pub(crate) const fn new(resource: Resource, parent: Resource) -> Self {
        Self {
            resource,
            parent,
            parent_sid: None,
        }
    }

    /// Maps unique and foreign-key violations to [`StoreError::Duplicate`] and
    /// [`StoreError::NotFound`]; everything else as [`backend`] does.
    pub(crate) fn map(self, error: sqlx::Error) -> StoreError {
        let sqlx::Error::Database(db) = &error else {
            return backend(error);
        };
        let names = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                let key = if names.contains("identity") {
                    UniqueKey::Identity
                } else if names.contains("credential") {
                    UniqueKey::CredentialId
                } else {
                    UniqueKey::Sid
                };
                StoreError::Duplicate {
                    resource: self.resource,
                    key,
                }
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::NotFound {
                resource: self.parent,
                sid: self.parent_sid.map(hex_sid).unwrap_or_default(),
            },
            _ => backend(error),
        }
    }
}

fn hex_sid(bytes: [u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored 16-byte sid column.
pub(crate) fn sid_bytes(resource: Resource, bytes: &[u8]) -> Result<[u8; 16], StoreError> {
    <[u8; 16]>::try_from(bytes).map_err(|_| corrupt(resource, "sid column is not 16 bytes"))
}

/// A row's list key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub(crate) time: UnixTime,
    pub(crate) sid: [u8; 16],
}

impl Listable for Key {
    fn list_key(&self) -> (UnixTime, [u8; 16]) {
        (self.time, self.sid)
    }
}

impl Key {
    pub(crate) fn from_columns(
        resource: Resource,
        time: i64,
        sid: &[u8],
    ) -> Result<Self, StoreError> {
        let time = u64::try_from(time).map_err(|_| corrupt(resource, "negative time column"))?;
        Ok(Self {
            time: UnixTime::from_secs(time),
            sid: sid_bytes(resource, sid)?,
        })
    }
}

/// The page of `keys` (every matching row's list key) that `query` asks for, as
/// keys, with the listing's tokens (items to be filled in).
pub(crate) fn page_keys(keys: &[Key], query: &ListQuery) -> Result<Listing<Key>, StoreError> {
    let page = paginate(
        keys,
        |_| true,
        query.order,
        query.page_size,
        query.page_token.as_ref(),
    )
    .map_err(|_| StoreError::InvalidPageToken)?;
    Ok(Listing::new(
        page.items.into_iter().copied().collect(),
        page.next_page_token,
        page.previous_page_token,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

    use crate::sealer::SealerError;

    /// AES-256-GCM with a nonce derived from a counter (unit tests only).
    struct Aead {
        key: LessSafeKey,
        counter: std::sync::atomic::AtomicU64,
    }

    impl Aead {
        fn shared(key: u8) -> Arc<dyn SecretSealer> {
            Arc::new(Self {
                key: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[key; 32]).unwrap()),
                counter: std::sync::atomic::AtomicU64::new(1),
            })
        }
    }

    impl SecretSealer for Aead {
        fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealerError> {
            let n = self
                .counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut nonce = [0_u8; NONCE_LEN];
            nonce[4..].copy_from_slice(&n.to_be_bytes());
            let mut out = plaintext.to_vec();
            self.key
                .seal_in_place_append_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(context),
                    &mut out,
                )
                .map_err(|_| "seal")?;
            let mut sealed = nonce.to_vec();
            sealed.extend_from_slice(&out);
            Ok(sealed)
        }

        fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealerError> {
            let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or("short")?;
            let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "nonce")?;
            let mut body = Zeroizing::new(body.to_vec());
            let len = self
                .key
                .open_in_place(nonce, Aad::from(context), &mut body)
                .map_err(|_| "open")?
                .len();
            body.truncate(len);
            Ok(body)
        }
    }

    fn factor_like(secret: &str) -> Value {
        serde_json::json!({
            "sid": "YF0123456789abcdef0123456789abcdef",
            "kind": { "factor_type": "totp", "secret": secret, "alg": "sha1" },
            "friendly_name": "sealed_v1 in a name is just text",
        })
    }

    #[test]
    fn without_a_sealer_the_record_is_its_serde_form() {
        let record = factor_like("JBSWY3DPEHPK3PXP");
        let text = Codec::default()
            .encode(Resource::Factor, "YF1", Secrets::Factor, &record)
            .unwrap();
        assert_eq!(*text, serde_json::to_string(&record).unwrap());
        let back: Value = Codec::default()
            .decode(Resource::Factor, Secrets::Factor, &text)
            .unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn a_sealed_field_is_bound_to_its_record_and_path() {
        let codec = Codec::with_sealer(Aead::shared(3), false);
        let record = factor_like("JBSWY3DPEHPK3PXP");
        let text = codec
            .encode(
                Resource::Factor,
                "YF0123456789abcdef0123456789abcdef",
                Secrets::Factor,
                &record,
            )
            .unwrap();
        assert!(!text.contains("JBSWY3DPEHPK3PXP"));
        // Moved to another record (other sid): does not open.
        let moved = text.replace(
            "YF0123456789abcdef0123456789abcdef",
            "YFffffffffffffffffffffffffffffffff",
        );
        let refused: Result<Value, _> = codec.decode(Resource::Factor, Secrets::Factor, &moved);
        assert!(matches!(refused, Err(StoreError::Corrupt { .. })));
        // Read as another resource kind (another context): does not open either.
        let refused: Result<Value, _> = codec.decode(Resource::Webhook, Secrets::Factor, &text);
        assert!(matches!(refused, Err(StoreError::Corrupt { .. })));
        // Another key: does not open.
        let other = Codec::with_sealer(Aead::shared(4), false);
        let refused: Result<Value, _> = other.decode(Resource::Factor, Secrets::Factor, &text);
        assert!(matches!(refused, Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn a_plain_secret_is_refused_by_a_strict_codec_and_read_by_a_migrating_one() {
        let plain = serde_json::to_string(&factor_like("JBSWY3DPEHPK3PXP")).unwrap();
        let strict = Codec::with_sealer(Aead::shared(5), false);
        let refused: Result<Value, _> = strict.decode(Resource::Factor, Secrets::Factor, &plain);
        assert!(matches!(refused, Err(StoreError::Corrupt { .. })));
        let migrating = Codec::with_sealer(Aead::shared(5), true);
        let read: Value = migrating
            .decode(Resource::Factor, Secrets::Factor, &plain)
            .unwrap();
        assert_eq!(read, factor_like("JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn times_and_versions_out_of_column_range_are_refused() {
        assert_eq!(
            secs(Resource::Factor, UnixTime::from_secs(1_767_225_600)).unwrap(),
            1_767_225_600
        );
        assert!(matches!(
            version(Resource::Factor, u64::MAX),
            Err(StoreError::InvalidWrite { .. })
        ));
        assert!(matches!(
            expected_version(Resource::Factor, 0),
            Err(StoreError::InvalidWrite { .. })
        ));
        assert_eq!(expected_version(Resource::Factor, 5).unwrap(), 4);
        assert!(matches!(
            stored_version(Resource::Factor, -1),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(sid_bytes(Resource::Factor, &[0; 15]).is_err());
    }

    proptest! {
        #[test]
        fn sealing_round_trips_and_hides_the_secret(secret in "[A-Z2-7]{16,64}", seal in any::<bool>()) {
            let codec = if seal {
                Codec::with_sealer(Aead::shared(7), false)
            } else {
                Codec::default()
            };
            let record = factor_like(&secret);
            let text = codec
                .encode(Resource::Factor, "YF0123456789abcdef0123456789abcdef", Secrets::Factor, &record)
                .unwrap();
            prop_assert_eq!(text.contains(secret.as_str()), !seal);
            let back: Value = codec.decode(Resource::Factor, Secrets::Factor, &text).unwrap();
            prop_assert_eq!(back, record);
        }

        #[test]
        fn arbitrary_stored_text_never_panics(text in ".{0,200}") {
            let codec = Codec::with_sealer(Aead::shared(8), false);
            let _: Result<Value, _> = codec.decode(Resource::Factor, Secrets::Factor, &text);
            let _: Result<Value, _> = Codec::default().decode(Resource::Webhook, Secrets::Webhook, &text);
        }
    }
}
