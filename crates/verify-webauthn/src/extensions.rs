//! WebAuthn extensions (L3 §9, §10; CTAP 2.1 §12): typed per-ceremony inputs, the
//! `extensions` member of the options JSON built from them, and the strict reading of
//! the two places outputs come back:
//!
//! - `clientExtensionResults` (JSON, **not signed**: the client, not the
//!   authenticator, reports them). Outputs for an extension the ceremony did not
//!   request are ignored (L3 §9: clients may add outputs); an output of a requested
//!   extension with the wrong JSON type is refused
//!   ([`WebauthnError::ExtensionOutputMalformed`]).
//! - the authenticator data's extensions map (CBOR, ED flag; **signed** with the
//!   authenticator data). [`AuthenticatorExtensionOutputs::parse`] reads the outputs
//!   this crate knows (`credProtect`, `minPinLength`) strictly whether requested or not
//!   (a wrong type there is a broken authenticator), and ignores unknown keys and
//!   outputs nobody requested (L3 §9: the relying party MAY ignore them).
//!
//! `docs/webauthn.md` ("Extensions") lists, per extension, what is requested, checked
//! and returned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base64url::{self, Base64UrlBytes};
use crate::error::{ParseError, WebauthnError};
use crate::limits::{MAX_LARGE_BLOB_BYTES, MAX_PRF_EVAL_BY_CREDENTIAL, MAX_PRF_OUTPUT_BYTES};

/// CTAP 2.1 `credentialProtectionPolicy` (§12.1): how the authenticator guards the
/// credential. Ordered: a higher level protects more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CredentialProtectionPolicy {
    /// Level 1, `userVerificationOptional`.
    #[serde(rename = "userVerificationOptional")]
    UserVerificationOptional,
    /// Level 2, `userVerificationOptionalWithCredentialIDList`: without UV only when
    /// the credential id is in an allow list (no discoverable use without UV).
    #[serde(rename = "userVerificationOptionalWithCredentialIDList")]
    UserVerificationOptionalWithCredentialIdList,
    /// Level 3, `userVerificationRequired`.
    #[serde(rename = "userVerificationRequired")]
    UserVerificationRequired,
}

impl CredentialProtectionPolicy {
    /// The client input string (`credentialProtectionPolicy`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserVerificationOptional => "userVerificationOptional",
            Self::UserVerificationOptionalWithCredentialIdList => {
                "userVerificationOptionalWithCredentialIDList"
            }
            Self::UserVerificationRequired => "userVerificationRequired",
        }
    }

    /// The authenticator output value (1, 2 or 3).
    #[must_use]
    pub const fn level(self) -> u8 {
        match self {
            Self::UserVerificationOptional => 1,
            Self::UserVerificationOptionalWithCredentialIdList => 2,
            Self::UserVerificationRequired => 3,
        }
    }

    /// The policy of an authenticator output value, if it is 1, 2 or 3.
    #[must_use]
    pub const fn from_level(level: u64) -> Option<Self> {
        match level {
            1 => Some(Self::UserVerificationOptional),
            2 => Some(Self::UserVerificationOptionalWithCredentialIdList),
            3 => Some(Self::UserVerificationRequired),
            _ => None,
        }
    }
}

/// A `credProtect` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredProtectRequest {
    /// The level asked for.
    pub policy: CredentialProtectionPolicy,
    /// `enforceCredentialProtectionPolicy`: the client must fail rather than create a
    /// weaker credential, and [`finish_registration`](crate::registration::finish_registration)
    /// refuses authenticator data that does not carry at least `policy`
    /// ([`WebauthnError::ExtensionRequirementNotMet`]).
    pub enforce: bool,
}

impl CredProtectRequest {
    /// A request for `policy`, enforced or not.
    #[must_use]
    pub const fn new(policy: CredentialProtectionPolicy, enforce: bool) -> Self {
        Self { policy, enforce }
    }
}

/// PRF inputs (`AuthenticationExtensionsPRFValues`): one or two salts' inputs, sent
/// base64url-encoded in the options JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrfValues {
    /// `first`.
    pub first: Base64UrlBytes,
    /// `second`, if a second output is wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second: Option<Base64UrlBytes>,
}

impl PrfValues {
    /// Inputs `first` and optionally `second`.
    #[must_use]
    pub fn new(first: Vec<u8>, second: Option<Vec<u8>>) -> Self {
        Self {
            first: Base64UrlBytes(first),
            second: second.map(Base64UrlBytes),
        }
    }
}

/// `prf` inputs (L3 §10.1.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PrfRequest {
    /// `eval`: evaluated for whichever credential answers (at registration: at
    /// creation, if the authenticator can).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval: Option<PrfValues>,
    /// `evalByCredential` (authentication only), keyed by base64url credential id;
    /// every key must be in `allowCredentials` (L3 §10.1.4: the client refuses
    /// otherwise, so starting such a ceremony is a configuration error).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub eval_by_credential: BTreeMap<String, PrfValues>,
}

impl PrfRequest {
    /// `prf: {}`: no inputs (at registration: ask only whether PRF is enabled).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `eval`.
    #[must_use]
    pub fn with_eval(mut self, values: PrfValues) -> Self {
        self.eval = Some(values);
        self
    }

    /// Adds an `evalByCredential` entry for `credential_id` (authentication only).
    #[must_use]
    pub fn with_eval_by_credential(mut self, credential_id: &[u8], values: PrfValues) -> Self {
        self.eval_by_credential
            .insert(base64url::encode(credential_id), values);
        self
    }

    /// The inputs the client evaluates for `credential_id`: its `evalByCredential`
    /// entry, else `eval` (L3 §10.1.4 client processing).
    fn inputs_for(&self, credential_id: &[u8]) -> Option<&PrfValues> {
        self.eval_by_credential
            .get(&base64url::encode(credential_id))
            .or(self.eval.as_ref())
    }
}

/// `largeBlob` at registration: `support`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LargeBlobSupport {
    /// `"required"`: the registration is refused unless the client reports
    /// `supported: true`.
    Required,
    /// `"preferred"`: `supported` is reported, never required.
    Preferred,
}

/// `largeBlob` at authentication: read the blob, or write one (never both: L3
/// §10.1.5 makes that a client error).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LargeBlobRequest {
    /// `read: true`.
    Read,
    /// `write`: these bytes.
    Write(Base64UrlBytes),
}

/// The extensions a registration requests (serde-able, for configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
#[non_exhaustive]
pub struct RegistrationExtensions {
    /// `credProps: true` (L3 §10.1.3): report whether the credential is discoverable.
    pub cred_props: bool,
    /// CTAP 2.1 `credProtect`.
    pub cred_protect: Option<CredProtectRequest>,
    /// `prf` (L3 §10.1.4): `prf: {}` asks only whether PRF is enabled.
    pub prf: Option<PrfRequest>,
    /// `largeBlob` (L3 §10.1.5) `support`.
    pub large_blob: Option<LargeBlobSupport>,
    /// CTAP 2.1 `minPinLength: true`: the authenticator reports its minimum PIN
    /// length in the authenticator data (if this RP ID is on its list).
    pub min_pin_length: bool,
    /// `appidExclude` (L3 §10.1.2): a FIDO U2F AppID whose credentials the client
    /// also excludes.
    pub appid_exclude: Option<String>,
}

/// The extensions an authentication requests (serde-able, for configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
#[non_exhaustive]
pub struct AuthenticationExtensions {
    /// `appid` (L3 §10.1.1): a FIDO U2F AppID. An assertion whose `rpIdHash` is
    /// SHA-256 of this AppID is accepted only when the client also reports
    /// `clientExtensionResults.appid: true`.
    pub appid: Option<String>,
    /// `prf` (L3 §10.1.4).
    pub prf: Option<PrfRequest>,
    /// `largeBlob` (L3 §10.1.5) `read` or `write`.
    pub large_blob: Option<LargeBlobRequest>,
}

impl RegistrationExtensions {
    /// Nothing requested (the default), as a constant for `const` contexts.
    pub const NONE: Self = Self {
        cred_props: false,
        cred_protect: None,
        prf: None,
        large_blob: None,
        min_pin_length: false,
        appid_exclude: None,
    };

    /// Nothing requested.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests `credProps`.
    #[must_use]
    pub fn with_cred_props(mut self) -> Self {
        self.cred_props = true;
        self
    }

    /// Requests `credProtect` at `policy`, enforced or not.
    #[must_use]
    pub fn with_cred_protect(mut self, policy: CredentialProtectionPolicy, enforce: bool) -> Self {
        self.cred_protect = Some(CredProtectRequest::new(policy, enforce));
        self
    }

    /// Requests `prf`.
    #[must_use]
    pub fn with_prf(mut self, prf: PrfRequest) -> Self {
        self.prf = Some(prf);
        self
    }

    /// Requests `largeBlob` with `support`.
    #[must_use]
    pub fn with_large_blob(mut self, support: LargeBlobSupport) -> Self {
        self.large_blob = Some(support);
        self
    }

    /// Requests `minPinLength`.
    #[must_use]
    pub fn with_min_pin_length(mut self) -> Self {
        self.min_pin_length = true;
        self
    }

    /// Requests `appidExclude` for the FIDO U2F `appid`.
    #[must_use]
    pub fn with_appid_exclude(mut self, appid: impl Into<String>) -> Self {
        self.appid_exclude = Some(appid.into());
        self
    }

    /// Whether nothing is requested (then the options carry no `extensions`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The `extensions` member of `PublicKeyCredentialCreationOptionsJSON`, as L3
    /// §10.1 and CTAP 2.1 §12 name the client inputs; `None` when nothing is
    /// requested.
    ///
    /// # Errors
    /// [`WebauthnError::InvalidConfig`] for `evalByCredential` at registration (L3
    /// §10.1.4: only `get()` takes it).
    pub fn to_json(&self) -> Result<Option<Map<String, Value>>, WebauthnError> {
        let mut map = Map::new();
        if self.cred_props {
            map.insert("credProps".to_owned(), Value::Bool(true));
        }
        if let Some(request) = &self.cred_protect {
            map.insert(
                "credentialProtectionPolicy".to_owned(),
                Value::String(request.policy.as_str().to_owned()),
            );
            map.insert(
                "enforceCredentialProtectionPolicy".to_owned(),
                Value::Bool(request.enforce),
            );
        }
        if let Some(prf) = &self.prf {
            if !prf.eval_by_credential.is_empty() {
                return Err(WebauthnError::InvalidConfig {
                    what: "prf evalByCredential is for authentication only".to_owned(),
                });
            }
            map.insert("prf".to_owned(), to_value(prf)?);
        }
        if let Some(support) = self.large_blob {
            map.insert(
                "largeBlob".to_owned(),
                serde_json::json!({ "support": to_value(&support)? }),
            );
        }
        if self.min_pin_length {
            map.insert("minPinLength".to_owned(), Value::Bool(true));
        }
        if let Some(appid) = &self.appid_exclude {
            map.insert("appidExclude".to_owned(), Value::String(appid.clone()));
        }
        Ok((!map.is_empty()).then_some(map))
    }
}

impl AuthenticationExtensions {
    /// Nothing requested (the default), as a constant for `const` contexts.
    pub const NONE: Self = Self {
        appid: None,
        prf: None,
        large_blob: None,
    };

    /// Nothing requested.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests `appid` for the FIDO U2F `appid`.
    #[must_use]
    pub fn with_appid(mut self, appid: impl Into<String>) -> Self {
        self.appid = Some(appid.into());
        self
    }

    /// Requests `prf`.
    #[must_use]
    pub fn with_prf(mut self, prf: PrfRequest) -> Self {
        self.prf = Some(prf);
        self
    }

    /// Requests a `largeBlob` read or write.
    #[must_use]
    pub fn with_large_blob(mut self, request: LargeBlobRequest) -> Self {
        self.large_blob = Some(request);
        self
    }

    /// Whether nothing is requested (then the options carry no `extensions`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The `extensions` member of `PublicKeyCredentialRequestOptionsJSON`; `None`
    /// when nothing is requested. `allowed` is the ceremony's `allowCredentials`
    /// ids.
    ///
    /// # Errors
    /// [`WebauthnError::InvalidConfig`] when `evalByCredential` is used with an empty
    /// allow list, names a credential not in it, has more than
    /// [`MAX_PRF_EVAL_BY_CREDENTIAL`] entries or a key that is not base64url (L3
    /// §10.1.4: the client would refuse each).
    pub fn to_json(
        &self,
        allowed: &[Vec<u8>],
    ) -> Result<Option<Map<String, Value>>, WebauthnError> {
        let mut map = Map::new();
        if let Some(appid) = &self.appid {
            map.insert("appid".to_owned(), Value::String(appid.clone()));
        }
        if let Some(prf) = &self.prf {
            let by_credential = &prf.eval_by_credential;
            if by_credential.len() > MAX_PRF_EVAL_BY_CREDENTIAL {
                return Err(WebauthnError::InvalidConfig {
                    what: format!(
                        "prf evalByCredential has {} entries (at most {MAX_PRF_EVAL_BY_CREDENTIAL})",
                        by_credential.len()
                    ),
                });
            }
            if !by_credential.is_empty() && allowed.is_empty() {
                return Err(WebauthnError::InvalidConfig {
                    what: "prf evalByCredential needs a non-empty allowCredentials".to_owned(),
                });
            }
            for key in by_credential.keys() {
                let id = base64url::decode(key, "evalByCredential").map_err(|_| {
                    WebauthnError::InvalidConfig {
                        what: format!("prf evalByCredential key {key:?} is not base64url"),
                    }
                })?;
                if !allowed.contains(&id) {
                    return Err(WebauthnError::InvalidConfig {
                        what: format!(
                            "prf evalByCredential key {key:?} is not in allowCredentials"
                        ),
                    });
                }
            }
            map.insert("prf".to_owned(), to_value(prf)?);
        }
        match &self.large_blob {
            Some(LargeBlobRequest::Read) => {
                map.insert("largeBlob".to_owned(), serde_json::json!({ "read": true }));
            }
            Some(LargeBlobRequest::Write(blob)) => {
                map.insert(
                    "largeBlob".to_owned(),
                    serde_json::json!({ "write": to_value(blob)? }),
                );
            }
            None => {}
        }
        Ok((!map.is_empty()).then_some(map))
    }
}

fn to_value<T: Serialize>(value: &T) -> Result<Value, WebauthnError> {
    serde_json::to_value(value).map_err(|e| WebauthnError::InvalidConfig {
        what: format!("extension input: {e}"),
    })
}

/// PRF outputs (`results`): client outputs, **not signed** by the authenticator.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrfOutputs {
    /// `results.first`.
    pub first: Vec<u8>,
    /// `results.second`, when a second input was evaluated.
    pub second: Option<Vec<u8>>,
}

impl std::fmt::Debug for PrfOutputs {
    // PRF outputs are key material for the host (e.g. for encryption keys): keep
    // them out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrfOutputs")
            .field("first", &format_args!("<{} bytes>", self.first.len()))
            .field(
                "second",
                &self.second.as_ref().map(|s| format!("<{} bytes>", s.len())),
            )
            .finish()
    }
}

/// The extension outputs of a verified registration. `None` / `false`: not requested,
/// or requested and not reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationExtensionOutputs {
    /// `credProps.rk` (client output, not signed): whether the client says the
    /// credential is discoverable.
    pub cred_props_rk: Option<bool>,
    /// The `credProtect` level in the (signed) authenticator data.
    pub cred_protect: Option<CredentialProtectionPolicy>,
    /// `prf.enabled` (client output, not signed).
    pub prf_enabled: Option<bool>,
    /// `prf.results` at creation (client output, not signed).
    pub prf_results: Option<PrfOutputs>,
    /// `largeBlob.supported` (client output, not signed).
    pub large_blob_supported: Option<bool>,
    /// The `minPinLength` in the (signed) authenticator data.
    pub min_pin_length: Option<u64>,
    /// `appidExclude` (client output, not signed): whether the client processed it.
    pub appid_exclude: Option<bool>,
}

/// The extension outputs of a verified authentication (all client outputs, not
/// signed, except that `appid_used` was checked against the signed `rpIdHash`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticationExtensionOutputs {
    /// The assertion was made for the requested FIDO AppID: `rpIdHash` is SHA-256 of
    /// the AppID and the client reported `appid: true`.
    pub appid_used: bool,
    /// `prf.results`.
    pub prf_results: Option<PrfOutputs>,
    /// `largeBlob.blob` (a read).
    pub large_blob: Option<Vec<u8>>,
    /// `largeBlob.written` (a write).
    pub large_blob_written: Option<bool>,
}

/// The authenticator extension outputs this crate knows, from the authenticator
/// data's (signed) extensions map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticatorExtensionOutputs {
    /// `credProtect`: 1, 2 or 3.
    pub cred_protect: Option<CredentialProtectionPolicy>,
    /// `minPinLength`: an unsigned integer.
    pub min_pin_length: Option<u64>,
}

const AUTH_DATA_EXTENSIONS: &str = "authenticatorData extensions";

impl AuthenticatorExtensionOutputs {
    /// Reads the known outputs of an extensions map (already checked to be a map
    /// with unique keys). Unknown keys are ignored (L3 §9).
    ///
    /// # Errors
    /// [`ParseError::Cbor`] when `credProtect` is not 1, 2 or 3 or `minPinLength` is
    /// not an unsigned integer.
    pub fn parse(extensions: &ciborium::Value) -> Result<Self, ParseError> {
        let mut out = Self::default();
        let Some(entries) = extensions.as_map() else {
            return Err(ParseError::Cbor {
                field: AUTH_DATA_EXTENSIONS,
                reason: "not a map",
            });
        };
        for (key, value) in entries {
            match key.as_text() {
                Some("credProtect") => {
                    let level = unsigned(value).and_then(CredentialProtectionPolicy::from_level);
                    out.cred_protect = Some(level.ok_or(ParseError::Cbor {
                        field: AUTH_DATA_EXTENSIONS,
                        reason: "credProtect is not 1, 2 or 3",
                    })?);
                }
                Some("minPinLength") => {
                    out.min_pin_length = Some(unsigned(value).ok_or(ParseError::Cbor {
                        field: AUTH_DATA_EXTENSIONS,
                        reason: "minPinLength is not an unsigned integer",
                    })?);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

fn unsigned(value: &ciborium::Value) -> Option<u64> {
    value.as_integer().and_then(|i| u64::try_from(i).ok())
}

/// An error for a requested extension's client output of the wrong shape.
const fn malformed(extension: &'static str, reason: &'static str) -> WebauthnError {
    WebauthnError::ExtensionOutputMalformed { extension, reason }
}

/// The output object of a requested extension: absent is `None`, a non-object is
/// refused.
fn object<'a>(
    results: &'a Map<String, Value>,
    extension: &'static str,
) -> Result<Option<&'a Map<String, Value>>, WebauthnError> {
    match results.get(extension) {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(malformed(extension, "not an object")),
    }
}

fn optional_bool(
    map: &Map<String, Value>,
    member: &str,
    extension: &'static str,
    reason: &'static str,
) -> Result<Option<bool>, WebauthnError> {
    match map.get(member) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(malformed(extension, reason)),
    }
}

fn bytes(
    value: &Value,
    max: usize,
    extension: &'static str,
    reason: &'static str,
) -> Result<Vec<u8>, WebauthnError> {
    let Value::String(text) = value else {
        return Err(malformed(extension, reason));
    };
    let decoded = base64url::decode(text, extension).map_err(|_| malformed(extension, reason))?;
    if decoded.len() > max {
        return Err(malformed(extension, "output exceeds its size limit"));
    }
    Ok(decoded)
}

/// `prf.results` for the inputs the client was given (`None`: no input, so no
/// results may come back).
fn prf_results(
    prf: &Map<String, Value>,
    inputs: Option<&PrfValues>,
) -> Result<Option<PrfOutputs>, WebauthnError> {
    const PRF: &str = "prf";
    let Some(results) = prf.get("results") else {
        return Ok(None);
    };
    let Value::Object(results) = results else {
        return Err(malformed(PRF, "results is not an object"));
    };
    let Some(inputs) = inputs else {
        return Err(malformed(PRF, "results without an eval input"));
    };
    let first = results
        .get("first")
        .ok_or(malformed(PRF, "results.first missing"))?;
    let first = bytes(
        first,
        MAX_PRF_OUTPUT_BYTES,
        PRF,
        "results.first is not base64url",
    )?;
    let second = match (results.get("second"), &inputs.second) {
        (None, _) => None,
        (Some(_), None) => return Err(malformed(PRF, "results.second without a second input")),
        (Some(second), Some(_)) => Some(bytes(
            second,
            MAX_PRF_OUTPUT_BYTES,
            PRF,
            "results.second is not base64url",
        )?),
    };
    Ok(Some(PrfOutputs { first, second }))
}

/// Checks a registration's client and authenticator extension outputs against what
/// it requested, and returns what the host gets.
///
/// # Errors
/// [`WebauthnError::ExtensionOutputMalformed`] for a requested extension's output of
/// the wrong type; [`WebauthnError::ExtensionRequirementNotMet`] for an enforced
/// `credProtect` level the authenticator data does not carry, or `largeBlob`
/// `required` without `supported: true`.
pub fn check_registration_outputs(
    requested: &RegistrationExtensions,
    client: &Map<String, Value>,
    authenticator: &AuthenticatorExtensionOutputs,
    credential_id: &[u8],
) -> Result<RegistrationExtensionOutputs, WebauthnError> {
    let mut out = RegistrationExtensionOutputs::default();
    if requested.cred_props {
        match client.get("credProps") {
            None => {}
            Some(Value::Object(props)) => {
                out.cred_props_rk = optional_bool(props, "rk", "credProps", "rk is not a boolean")?;
            }
            Some(_) => return Err(malformed("credProps", "not an object")),
        }
    }
    if let Some(request) = &requested.cred_protect {
        out.cred_protect = authenticator.cred_protect;
        // CTAP 2.1 §12.1: with enforcement the platform must not create a weaker
        // credential; a response that carries a lower (or no) level is refused here
        // too, from the signed authenticator data, not the client's word.
        if request.enforce
            && authenticator
                .cred_protect
                .is_none_or(|got| got < request.policy)
        {
            return Err(WebauthnError::ExtensionRequirementNotMet {
                extension: "credProtect",
                reason: "the authenticator data does not carry the enforced level",
            });
        }
    }
    if let Some(prf) = &requested.prf
        && let Some(output) = object(client, "prf")?
    {
        out.prf_enabled = optional_bool(output, "enabled", "prf", "enabled is not a boolean")?;
        out.prf_results = prf_results(output, prf.inputs_for(credential_id))?;
    }
    if let Some(support) = requested.large_blob {
        if let Some(output) = object(client, "largeBlob")? {
            out.large_blob_supported = optional_bool(
                output,
                "supported",
                "largeBlob",
                "supported is not a boolean",
            )?;
        }
        if support == LargeBlobSupport::Required && out.large_blob_supported != Some(true) {
            return Err(WebauthnError::ExtensionRequirementNotMet {
                extension: "largeBlob",
                reason: "support is required but the client did not report supported: true",
            });
        }
    }
    if requested.min_pin_length {
        out.min_pin_length = authenticator.min_pin_length;
    }
    if requested.appid_exclude.is_some() {
        out.appid_exclude = match client.get("appidExclude") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(malformed("appidExclude", "not a boolean")),
        };
    }
    Ok(out)
}

/// Whether an assertion was made for the requested AppID (L3 §10.1.1): the ceremony
/// asked for `appid` and the client reports `appid: true`. The caller then expects
/// `rpIdHash` = SHA-256 of the AppID instead of the RP ID's.
///
/// # Errors
/// [`WebauthnError::ExtensionOutputMalformed`] when `appid` was requested and its
/// output is not a boolean.
pub fn appid_claimed<'a>(
    requested: &'a AuthenticationExtensions,
    client: &Map<String, Value>,
) -> Result<Option<&'a str>, WebauthnError> {
    let Some(appid) = requested.appid.as_deref() else {
        return Ok(None);
    };
    match client.get("appid") {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(appid)),
        Some(_) => Err(malformed("appid", "not a boolean")),
    }
}

/// Checks an authentication's client extension outputs against what it requested
/// (the `appid` decision is [`appid_claimed`]'s), and returns what the host gets.
///
/// # Errors
/// [`WebauthnError::ExtensionOutputMalformed`] for a requested extension's output of
/// the wrong type, PRF results without an input, or a `largeBlob` output that does
/// not answer the request (`blob` for a write, `written` for a read).
pub fn check_authentication_outputs(
    requested: &AuthenticationExtensions,
    client: &Map<String, Value>,
    credential_id: &[u8],
    appid_used: bool,
) -> Result<AuthenticationExtensionOutputs, WebauthnError> {
    let mut out = AuthenticationExtensionOutputs {
        appid_used,
        ..AuthenticationExtensionOutputs::default()
    };
    if let Some(prf) = &requested.prf
        && let Some(output) = object(client, "prf")?
    {
        out.prf_results = prf_results(output, prf.inputs_for(credential_id))?;
    }
    if let Some(request) = &requested.large_blob
        && let Some(output) = object(client, "largeBlob")?
    {
        match request {
            LargeBlobRequest::Read => {
                if output.contains_key("written") {
                    return Err(malformed("largeBlob", "written in answer to a read"));
                }
                out.large_blob = output
                    .get("blob")
                    .map(|blob| {
                        bytes(
                            blob,
                            MAX_LARGE_BLOB_BYTES,
                            "largeBlob",
                            "blob is not base64url",
                        )
                    })
                    .transpose()?;
            }
            LargeBlobRequest::Write(_) => {
                if output.contains_key("blob") {
                    return Err(malformed("largeBlob", "blob in answer to a write"));
                }
                out.large_blob_written =
                    optional_bool(output, "written", "largeBlob", "written is not a boolean")?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn creation_inputs_are_the_spec_names() {
        let request = RegistrationExtensions {
            cred_props: true,
            cred_protect: Some(CredProtectRequest::new(
                CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList,
                true,
            )),
            prf: Some(PrfRequest {
                eval: Some(PrfValues::new(vec![1, 2], Some(vec![3]))),
                ..PrfRequest::default()
            }),
            large_blob: Some(LargeBlobSupport::Required),
            min_pin_length: true,
            appid_exclude: Some("https://example.org/appid.json".to_owned()),
        };
        assert_eq!(
            Value::Object(request.to_json().unwrap().unwrap()),
            json!({
                "credProps": true,
                "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
                "enforceCredentialProtectionPolicy": true,
                "prf": {"eval": {"first": "AQI", "second": "Aw"}},
                "largeBlob": {"support": "required"},
                "minPinLength": true,
                "appidExclude": "https://example.org/appid.json",
            })
        );
        assert_eq!(RegistrationExtensions::default().to_json().unwrap(), None);
        let prf_only = RegistrationExtensions {
            prf: Some(PrfRequest::default()),
            ..RegistrationExtensions::default()
        };
        assert_eq!(
            Value::Object(prf_only.to_json().unwrap().unwrap()),
            json!({"prf": {}})
        );
    }

    #[test]
    fn request_inputs_and_eval_by_credential_rules() {
        let id = vec![0xc1; 16];
        let key = base64url::encode(&id);
        let mut by = BTreeMap::new();
        by.insert(key.clone(), PrfValues::new(vec![9], None));
        let request = AuthenticationExtensions {
            appid: Some("https://example.org/appid.json".to_owned()),
            prf: Some(PrfRequest {
                eval: None,
                eval_by_credential: by.clone(),
            }),
            large_blob: Some(LargeBlobRequest::Write(Base64UrlBytes(vec![0xff]))),
        };
        assert_eq!(
            Value::Object(request.to_json(std::slice::from_ref(&id)).unwrap().unwrap()),
            json!({
                "appid": "https://example.org/appid.json",
                "prf": {"evalByCredential": {key: {"first": "CQ"}}},
                "largeBlob": {"write": "_w"},
            })
        );
        assert!(matches!(
            request.to_json(&[]),
            Err(WebauthnError::InvalidConfig { .. })
        ));
        assert!(matches!(
            request.to_json(&[vec![1]]),
            Err(WebauthnError::InvalidConfig { .. })
        ));
        let read = AuthenticationExtensions {
            large_blob: Some(LargeBlobRequest::Read),
            ..AuthenticationExtensions::default()
        };
        assert_eq!(
            Value::Object(read.to_json(&[]).unwrap().unwrap()),
            json!({"largeBlob": {"read": true}})
        );
        // evalByCredential at registration is a configuration error.
        let registration = RegistrationExtensions {
            prf: Some(PrfRequest {
                eval: None,
                eval_by_credential: by,
            }),
            ..RegistrationExtensions::default()
        };
        assert!(registration.to_json().is_err());
    }

    #[test]
    fn config_round_trips_through_serde() {
        let request = RegistrationExtensions {
            cred_props: true,
            cred_protect: Some(CredProtectRequest::new(
                CredentialProtectionPolicy::UserVerificationRequired,
                false,
            )),
            large_blob: Some(LargeBlobSupport::Preferred),
            ..RegistrationExtensions::default()
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<RegistrationExtensions>(&text).unwrap(),
            request
        );
        assert_eq!(
            serde_json::from_str::<RegistrationExtensions>("{}").unwrap(),
            RegistrationExtensions::default()
        );
    }

    #[test]
    fn unrequested_client_outputs_are_ignored_even_malformed() {
        let client = map(json!({"credProps": 5, "prf": "x", "largeBlob": [], "appidExclude": 1}));
        let out = check_registration_outputs(
            &RegistrationExtensions::default(),
            &client,
            &AuthenticatorExtensionOutputs::default(),
            b"id",
        )
        .unwrap();
        assert_eq!(out, RegistrationExtensionOutputs::default());
        let out = check_authentication_outputs(
            &AuthenticationExtensions::default(),
            &map(json!({"prf": 1, "largeBlob": true, "appid": "yes"})),
            b"id",
            false,
        )
        .unwrap();
        assert_eq!(out, AuthenticationExtensionOutputs::default());
    }

    #[test]
    fn authenticator_outputs_are_strict() {
        use ciborium::Value as C;
        let parse = |entries: Vec<(C, C)>| AuthenticatorExtensionOutputs::parse(&C::Map(entries));
        let out = parse(vec![
            (C::Text("credProtect".into()), C::Integer(2.into())),
            (C::Text("minPinLength".into()), C::Integer(8.into())),
            (C::Text("hmac-secret".into()), C::Bool(true)),
        ])
        .unwrap();
        assert_eq!(
            out.cred_protect,
            Some(CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList)
        );
        assert_eq!(out.min_pin_length, Some(8));
        for bad in [
            (C::Text("credProtect".into()), C::Integer(0.into())),
            (C::Text("credProtect".into()), C::Integer(4.into())),
            (C::Text("credProtect".into()), C::Text("2".into())),
            (C::Text("minPinLength".into()), C::Integer((-1).into())),
            (C::Text("minPinLength".into()), C::Bool(true)),
        ] {
            assert!(
                matches!(parse(vec![bad.clone()]), Err(ParseError::Cbor { .. })),
                "{bad:?}"
            );
        }
        assert!(AuthenticatorExtensionOutputs::parse(&C::Array(vec![])).is_err());
    }

    proptest! {
        #[test]
        fn authenticator_output_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(value) = ciborium::de::from_reader::<ciborium::Value, _>(bytes.as_slice()) {
                let _ = AuthenticatorExtensionOutputs::parse(&value);
            }
        }

        #[test]
        fn client_output_checks_never_panic(text in "[\\[\\]{}\":,a-zA-Z0-9_ -]{0,120}") {
            if let Ok(Value::Object(client)) = serde_json::from_str::<Value>(&text) {
                let registration = RegistrationExtensions {
                    cred_props: true,
                    prf: Some(PrfRequest { eval: Some(PrfValues::new(vec![1], Some(vec![2]))), ..PrfRequest::default() }),
                    large_blob: Some(LargeBlobSupport::Preferred),
                    appid_exclude: Some("a".into()),
                    ..RegistrationExtensions::default()
                };
                let _ = check_registration_outputs(&registration, &client, &AuthenticatorExtensionOutputs::default(), b"id");
                let authentication = AuthenticationExtensions {
                    appid: Some("a".into()),
                    prf: registration.prf,
                    large_blob: Some(LargeBlobRequest::Read),
                };
                let _ = appid_claimed(&authentication, &client);
                let _ = check_authentication_outputs(&authentication, &client, b"id", false);
            }
        }
    }
}
