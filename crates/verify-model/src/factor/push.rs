//! A push factor's data ([`PushFactor`]): the device key ([`PushBinding`], with its
//! P-256 SPKI prefix) and the configuration ([`PushConfig`], with its wire form).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::config::NotificationPlatform;
use crate::error::{Field, ModelError, check_len, check_text};
use crate::id::CredentialSid;
use crate::limits::{
    MAX_NOTIFICATION_TOKEN_LEN, MAX_PUSH_APP_ID_LEN, MAX_PUSH_SDK_VERSION_LEN,
    MIN_NOTIFICATION_TOKEN_LEN, PUSH_PUBLIC_KEY_SPKI_LEN,
};

/// A push factor's binding: the device's P-256 public key as SPKI DER (91 bytes,
/// always beginning `MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE` in base64), algorithm
/// `ES256`.
///
/// The model checks the shape (length, SPKI prefix, uncompressed point marker); the
/// push crate checks that the point is on the curve when it verifies a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushBinding {
    public_key: Vec<u8>,
}

/// The fixed DER prefix of a P-256 SPKI with an uncompressed point: SEQUENCE,
/// AlgorithmIdentifier {id-ecPublicKey, prime256v1}, BIT STRING header, 0x04.
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

impl PushBinding {
    /// The only algorithm: ECDSA P-256 with SHA-256.
    pub const ALG: &'static str = "ES256";

    /// Checks the SPKI DER bytes.
    ///
    /// # Errors
    /// [`ModelError::InvalidPublicKey`] unless `der` is 91 bytes starting with the
    /// P-256 SPKI prefix and the uncompressed-point marker.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, ModelError> {
        if der.len() != PUSH_PUBLIC_KEY_SPKI_LEN || !der.starts_with(&P256_SPKI_PREFIX) {
            return Err(ModelError::InvalidPublicKey {
                expected: PUSH_PUBLIC_KEY_SPKI_LEN,
                length: der.len(),
            });
        }
        Ok(Self {
            public_key: der.to_vec(),
        })
    }

    /// Parses `Binding.PublicKey`: standard base64 (padded) of the SPKI DER.
    ///
    /// # Errors
    /// [`ModelError::InvalidPublicKey`] when the text is not base64 or the bytes are
    /// not a P-256 SPKI.
    pub fn from_base64(text: &str) -> Result<Self, ModelError> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| ModelError::InvalidPublicKey {
                expected: PUSH_PUBLIC_KEY_SPKI_LEN,
                length: text.len(),
            })?;
        Self::from_spki_der(&der)
    }

    /// The SPKI DER bytes.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.public_key
    }

    /// Standard padded base64 of the SPKI DER, as the API returns it.
    #[must_use]
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.public_key)
    }
}

impl Serialize for PushBinding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for PushBinding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

/// A push factor's `config`: the app, where notifications go, the SDK version and
/// the credential sid the SDK uses as its JWT `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    sdk_version: Option<String>,
    app_id: String,
    notification_platform: NotificationPlatform,
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_token: Option<String>,
    pub(super) credential_sid: CredentialSid,
}

impl PushConfig {
    /// Checks `app_id` (1..=100), the token (32..=255 printable ASCII, required for
    /// `apn` / `fcm`, refused for `none`) and `sdk_version` (1..=64). The
    /// `credential_sid` is drawn by [`Factor::create`]'s caller with
    /// [`CredentialSid::generate`].
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`], [`ModelError::InvalidCharacters`],
    /// [`ModelError::MissingField`] or [`ModelError::UnexpectedField`] naming the field.
    ///
    /// [`Factor::create`]: super::Factor::create
    pub fn new(
        app_id: &str,
        notification_platform: NotificationPlatform,
        notification_token: Option<&str>,
        sdk_version: Option<&str>,
        credential_sid: CredentialSid,
    ) -> Result<Self, ModelError> {
        check_text(Field::PushAppId, app_id, 1, MAX_PUSH_APP_ID_LEN)?;
        let notification_token = match (notification_platform, notification_token) {
            (NotificationPlatform::None, None) => None,
            (NotificationPlatform::None, Some(_)) => {
                return Err(ModelError::UnexpectedField {
                    field: Field::NotificationToken,
                });
            }
            (_, None) => {
                return Err(ModelError::MissingField {
                    field: Field::NotificationToken,
                });
            }
            (_, Some(token)) => {
                check_len(
                    Field::NotificationToken,
                    token.chars().count(),
                    MIN_NOTIFICATION_TOKEN_LEN,
                    MAX_NOTIFICATION_TOKEN_LEN,
                )?;
                if !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ModelError::InvalidCharacters {
                        field: Field::NotificationToken,
                    });
                }
                Some(token.to_owned())
            }
        };
        if let Some(version) = sdk_version {
            check_text(Field::PushSdkVersion, version, 1, MAX_PUSH_SDK_VERSION_LEN)?;
        }
        Ok(Self {
            sdk_version: sdk_version.map(str::to_owned),
            app_id: app_id.to_owned(),
            notification_platform,
            notification_token,
            credential_sid,
        })
    }

    /// `config.app_id`.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// `config.notification_platform`.
    #[must_use]
    pub const fn notification_platform(&self) -> NotificationPlatform {
        self.notification_platform
    }

    /// `config.notification_token` (absent for platform `none`).
    #[must_use]
    pub fn notification_token(&self) -> Option<&str> {
        self.notification_token.as_deref()
    }

    /// `config.sdk_version`.
    #[must_use]
    pub fn sdk_version(&self) -> Option<&str> {
        self.sdk_version.as_deref()
    }

    /// `config.credential_sid`, the SDK's JWT `kid`.
    #[must_use]
    pub const fn credential_sid(&self) -> CredentialSid {
        self.credential_sid
    }
}

#[derive(Deserialize)]
struct PushConfigWire {
    #[serde(default)]
    sdk_version: Option<String>,
    app_id: String,
    notification_platform: NotificationPlatform,
    #[serde(default)]
    notification_token: Option<String>,
    credential_sid: CredentialSid,
}

impl<'de> Deserialize<'de> for PushConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = PushConfigWire::deserialize(deserializer)?;
        Self::new(
            &w.app_id,
            w.notification_platform,
            w.notification_token.as_deref(),
            w.sdk_version.as_deref(),
            w.credential_sid,
        )
        .map_err(serde::de::Error::custom)
    }
}

/// A push factor's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFactor {
    pub(super) binding: PushBinding,
    pub(super) config: PushConfig,
    /// Set when APNs or FCM answered that `config.notification_token` is no
    /// longer registered; cleared when the device sends a new configuration.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub(super) notification_token_invalid: bool,
}

impl PushFactor {
    /// The device's public key.
    #[must_use]
    pub const fn binding(&self) -> &PushBinding {
        &self.binding
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &PushConfig {
        &self.config
    }

    /// Whether the push service answered that the notification token is no
    /// longer registered (no notification goes to it until the device updates
    /// its configuration).
    #[must_use]
    pub const fn notification_token_invalid(&self) -> bool {
        self.notification_token_invalid
    }

    /// The token notifications go to: `config.notification_token`, unless the
    /// push service reported it unregistered. `None` for platform `none`.
    #[must_use]
    pub fn deliverable_token(&self) -> Option<&str> {
        if self.notification_token_invalid {
            None
        } else {
            self.config.notification_token()
        }
    }
}
