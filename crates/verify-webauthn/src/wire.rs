//! WebAuthn Level 3 JSON: `PublicKeyCredentialCreationOptionsJSON`,
//! `PublicKeyCredentialRequestOptionsJSON` (what the browser's
//! `parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` and
//! @github/webauthn-json consume), and `RegistrationResponseJSON` /
//! `AuthenticationResponseJSON` (what `PublicKeyCredential.toJSON()` produces; unknown
//! members are ignored, base64url may be padded or not).

use serde::{Deserialize, Serialize};

use crate::base64url::Base64UrlBytes;
use crate::error::ParseError;
use crate::limits::{MAX_RESPONSE_JSON_BYTES, MAX_TRANSPORTS};

/// The transports kept (WebAuthn L3 §5.8.4 `AuthenticatorTransport`: `usb`, `nfc`,
/// `ble`, `smart-card`, `hybrid`, `internal`), the list verify-model's credential
/// record accepts.
pub const KNOWN_TRANSPORTS: &[&str] = &verify_model::factor::PasskeyCredential::KNOWN_TRANSPORTS;

/// Transports a client reported, reduced to what a relying party keeps and echoes:
/// the [`KNOWN_TRANSPORTS`] (the legacy Chromium name `cable` read as `hybrid`),
/// in their first order, each once, at most [`MAX_TRANSPORTS`]. Unknown values are
/// dropped, never an error (WebAuthn L3 §5.8.4: relying parties ignore them).
#[must_use]
pub fn known_transports<I, S>(reported: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut kept = Vec::new();
    for name in reported {
        keep_transport(&mut kept, name.as_ref());
    }
    kept
}

fn keep_transport(kept: &mut Vec<String>, name: &str) {
    if kept.len() < MAX_TRANSPORTS
        && let Some(known) = verify_model::factor::PasskeyCredential::known_transport(name)
        && !kept.iter().any(|k| k == known)
    {
        kept.push(known.to_owned());
    }
}

/// Deserializes a `transports` list as [`known_transports`] reduces it, one element
/// at a time (a long list of unknown values is never held).
pub(crate) fn deserialize_transports<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Transports;
    impl<'de> serde::de::Visitor<'de> for Transports {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of transport names")
        }

        fn visit_seq<A>(self, mut seq: A) -> Result<Vec<String>, A::Error>
        where
            A: serde::de::SeqAccess<'de>,
        {
            let mut kept = Vec::new();
            while let Some(name) = seq.next_element::<String>()? {
                keep_transport(&mut kept, &name);
            }
            Ok(kept)
        }
    }
    deserializer.deserialize_seq(Transports)
}

/// `PublicKeyCredentialRpEntity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RpEntity {
    /// The RP ID.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// A human-palatable name.
    pub name: String,
}

/// `PublicKeyCredentialUserEntityJSON`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserEntity {
    /// The user handle (at most 64 bytes, never PII).
    pub id: Base64UrlBytes,
    /// The account name.
    pub name: String,
    /// The display name.
    pub display_name: String,
}

impl UserEntity {
    /// A user entity.
    #[must_use]
    pub fn new(id: Vec<u8>, name: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            id: Base64UrlBytes(id),
            name: name.into(),
            display_name: display_name.into(),
        }
    }
}

/// `PublicKeyCredentialParameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PubKeyCredParam {
    /// Always `"public-key"`.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// The COSE algorithm identifier.
    pub alg: i64,
}

/// `PublicKeyCredentialDescriptorJSON`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredentialDescriptor {
    /// Always `"public-key"`.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// The credential id.
    pub id: Base64UrlBytes,
    /// Transport hints, the [`KNOWN_TRANSPORTS`] only (reduced by
    /// [`known_transports`] when built or read).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        default,
        deserialize_with = "deserialize_transports"
    )]
    pub transports: Vec<String>,
}

impl CredentialDescriptor {
    /// A descriptor for credential `id` with its transports, reduced to the known
    /// ones ([`known_transports`]): what is stored is echoed to the browser.
    #[must_use]
    pub fn new(id: Vec<u8>, transports: Vec<String>) -> Self {
        Self {
            credential_type: "public-key".to_owned(),
            id: Base64UrlBytes(id),
            transports: known_transports(transports),
        }
    }
}

/// `AuthenticatorSelectionCriteria`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthenticatorSelection {
    /// `"platform"` or `"cross-platform"`; absent for any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub authenticator_attachment: Option<String>,
    /// `"required"`, `"preferred"` or `"discouraged"`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resident_key: Option<String>,
    /// Level 1 compatibility: true iff `residentKey` is `"required"`.
    #[serde(default)]
    pub require_resident_key: bool,
    /// `"required"`, `"preferred"` or `"discouraged"`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_verification: Option<String>,
}

/// `PublicKeyCredentialCreationOptionsJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreationOptionsJson {
    /// The relying party.
    pub rp: RpEntity,
    /// The user.
    pub user: UserEntity,
    /// The challenge.
    pub challenge: Base64UrlBytes,
    /// Accepted algorithms, most preferred first.
    pub pub_key_cred_params: Vec<PubKeyCredParam>,
    /// Milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timeout: Option<u32>,
    /// Credentials the user already has.
    #[serde(default)]
    pub exclude_credentials: Vec<CredentialDescriptor>,
    /// Authenticator selection criteria.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub authenticator_selection: Option<AuthenticatorSelection>,
    /// Hints (`"security-key"`, `"client-device"`, `"hybrid"`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hints: Vec<String>,
    /// Attestation conveyance.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attestation: Option<String>,
    /// Preferred attestation formats.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attestation_formats: Vec<String>,
    /// Client extension inputs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `PublicKeyCredentialRequestOptionsJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestOptionsJson {
    /// The challenge.
    pub challenge: Base64UrlBytes,
    /// Milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timeout: Option<u32>,
    /// The RP ID.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rp_id: Option<String>,
    /// Credentials that may answer; empty for discoverable (usernameless) sign-in.
    #[serde(default)]
    pub allow_credentials: Vec<CredentialDescriptor>,
    /// User verification requirement.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_verification: Option<String>,
    /// Hints.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hints: Vec<String>,
    /// Client extension inputs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `AuthenticatorAttestationResponseJSON` (the members a relying party uses; the
/// others `toJSON()` adds, such as `publicKey`, are ignored: everything is taken from
/// the signed attestation object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttestationResponseJson {
    /// `clientDataJSON`.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: Base64UrlBytes,
    /// `attestationObject`.
    pub attestation_object: Base64UrlBytes,
    /// `transports` (from `getTransports()`), reduced when parsed to the
    /// [`KNOWN_TRANSPORTS`] ([`known_transports`]): unknown values are dropped, not
    /// refused.
    #[serde(default, deserialize_with = "deserialize_transports")]
    pub transports: Vec<String>,
}

/// `RegistrationResponseJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RegistrationResponseJson {
    /// base64url of `rawId`.
    pub id: String,
    /// The credential id.
    pub raw_id: Base64UrlBytes,
    /// The attestation response.
    pub response: AttestationResponseJson,
    /// `"platform"` or `"cross-platform"`, if reported.
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    /// Client extension outputs.
    #[serde(default)]
    pub client_extension_results: serde_json::Map<String, serde_json::Value>,
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub credential_type: String,
}

/// `AuthenticatorAssertionResponseJSON`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AssertionResponseJson {
    /// `clientDataJSON`.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: Base64UrlBytes,
    /// `authenticatorData`.
    pub authenticator_data: Base64UrlBytes,
    /// `signature`.
    pub signature: Base64UrlBytes,
    /// `userHandle`, if the authenticator returned one.
    #[serde(default)]
    pub user_handle: Option<Base64UrlBytes>,
}

/// `AuthenticationResponseJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthenticationResponseJson {
    /// base64url of `rawId`.
    pub id: String,
    /// The credential id.
    pub raw_id: Base64UrlBytes,
    /// The assertion response.
    pub response: AssertionResponseJson,
    /// `"platform"` or `"cross-platform"`, if reported.
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    /// Client extension outputs.
    #[serde(default)]
    pub client_extension_results: serde_json::Map<String, serde_json::Value>,
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub credential_type: String,
}

fn from_json<T: serde::de::DeserializeOwned>(
    json: &str,
    field: &'static str,
) -> Result<T, ParseError> {
    from_slice(json.as_bytes(), field)
}

fn from_slice<T: serde::de::DeserializeOwned>(
    json: &[u8],
    field: &'static str,
) -> Result<T, ParseError> {
    if json.len() > MAX_RESPONSE_JSON_BYTES {
        return Err(ParseError::TooLarge {
            field,
            len: json.len(),
            max: MAX_RESPONSE_JSON_BYTES,
        });
    }
    serde_json::from_slice(json).map_err(|e| ParseError::Json {
        field,
        reason: e.to_string(),
    })
}

fn check_envelope(id: &str, raw_id: &[u8], credential_type: &str) -> Result<(), ParseError> {
    if credential_type != "public-key" {
        return Err(ParseError::InvalidValue { field: "type" });
    }
    let id = crate::base64url::decode(id, "id")?;
    if id != raw_id {
        return Err(ParseError::IdMismatch);
    }
    Ok(())
}

/// The challenge a `clientDataJSON` claims (bounded parse, then base64url decode).
fn claimed_challenge(client_data_json: &[u8]) -> Result<Vec<u8>, ParseError> {
    crate::client_data::CollectedClientData::parse(client_data_json)?.claimed_challenge()
}

impl RegistrationResponseJson {
    /// Parses the JSON a browser sends (bounded by
    /// [`MAX_RESPONSE_JSON_BYTES`]).
    ///
    /// # Errors
    /// [`ParseError::TooLarge`] or [`ParseError::Json`].
    pub fn from_json(json: &str) -> Result<Self, ParseError> {
        from_json(json, "RegistrationResponseJSON")
    }

    /// Parses the JSON bytes as received (a request body), bounded as
    /// [`from_json`](Self::from_json).
    ///
    /// # Errors
    /// [`ParseError::TooLarge`] or [`ParseError::Json`].
    pub fn from_slice(json: &[u8]) -> Result<Self, ParseError> {
        from_slice(json, "RegistrationResponseJSON")
    }

    /// The challenge bytes the response's `clientDataJSON` **claims**. Untrusted:
    /// for routing the response to its stored ceremony only (e.g. by the prefix of
    /// [`start_registration_with_prefix`](crate::registration::start_registration_with_prefix));
    /// [`finish_registration`](crate::registration::finish_registration) still
    /// compares the whole stored challenge in constant time.
    ///
    /// # Errors
    /// [`ParseError`] when `clientDataJSON` is too large, not JSON of the expected
    /// shape, or its `challenge` is not base64url.
    pub fn claimed_challenge(&self) -> Result<Vec<u8>, ParseError> {
        claimed_challenge(self.response.client_data_json.as_slice())
    }

    /// Checks `type` is `"public-key"` and `id` encodes `rawId`.
    ///
    /// # Errors
    /// [`ParseError::InvalidValue`], [`ParseError::Base64`] or [`ParseError::IdMismatch`].
    pub fn check_envelope(&self) -> Result<(), ParseError> {
        check_envelope(&self.id, self.raw_id.as_slice(), &self.credential_type)
    }
}

impl AuthenticationResponseJson {
    /// Parses the JSON a browser sends (bounded by
    /// [`MAX_RESPONSE_JSON_BYTES`]).
    ///
    /// # Errors
    /// [`ParseError::TooLarge`] or [`ParseError::Json`].
    pub fn from_json(json: &str) -> Result<Self, ParseError> {
        from_json(json, "AuthenticationResponseJSON")
    }

    /// Parses the JSON bytes as received (a request body), bounded as
    /// [`from_json`](Self::from_json).
    ///
    /// # Errors
    /// [`ParseError::TooLarge`] or [`ParseError::Json`].
    pub fn from_slice(json: &[u8]) -> Result<Self, ParseError> {
        from_slice(json, "AuthenticationResponseJSON")
    }

    /// The challenge bytes the response's `clientDataJSON` **claims**. Untrusted:
    /// for routing the response to its stored ceremony only (e.g. by the prefix of
    /// [`start_authentication_with_prefix`](crate::authentication::start_authentication_with_prefix));
    /// [`finish_authentication`](crate::authentication::finish_authentication)
    /// still compares the whole stored challenge in constant time.
    ///
    /// # Errors
    /// [`ParseError`] when `clientDataJSON` is too large, not JSON of the expected
    /// shape, or its `challenge` is not base64url.
    pub fn claimed_challenge(&self) -> Result<Vec<u8>, ParseError> {
        claimed_challenge(self.response.client_data_json.as_slice())
    }

    /// Checks `type` is `"public-key"` and `id` encodes `rawId`.
    ///
    /// # Errors
    /// [`ParseError::InvalidValue`], [`ParseError::Base64`] or [`ParseError::IdMismatch`].
    pub fn check_envelope(&self) -> Result<(), ParseError> {
        check_envelope(&self.id, self.raw_id.as_slice(), &self.credential_type)
    }
}
