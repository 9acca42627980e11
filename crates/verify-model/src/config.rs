//! Configuration values shared by services and factors: TOTP parameters, passkey
//! relying-party settings, push notification platforms.

use serde::{Deserialize, Serialize};

use crate::error::{Field, ModelError, check_text};
use crate::limits::{
    DEFAULT_TOTP_CODE_LENGTH, DEFAULT_TOTP_SKEW, DEFAULT_TOTP_TIME_STEP, MAX_RELYING_PARTY_LEN,
    MAX_RELYING_PARTY_ORIGINS, MAX_TOTP_CODE_LENGTH, MAX_TOTP_SKEW, MAX_TOTP_TIME_STEP,
    MAX_URL_LEN, MIN_TOTP_CODE_LENGTH, MIN_TOTP_TIME_STEP,
};
// `string_enum!` lives in the leaf `crate::macros`; its old path stays.
pub(crate) use crate::macros::string_enum;

string_enum!(
    @exhaustive
    /// The HMAC hash of a TOTP factor (`config.alg`).
    TotpAlgorithm, Field::TotpAlgorithm, {
        /// HMAC-SHA1, the default and what every authenticator app supports.
        Sha1 => "sha1",
        /// HMAC-SHA256.
        Sha256 => "sha256",
        /// HMAC-SHA512.
        Sha512 => "sha512",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is declared by a macro")]
impl Default for TotpAlgorithm {
    fn default() -> Self {
        Self::Sha1
    }
}

string_enum!(
    /// Where push notifications for a factor go (`config.notification_platform`).
    NotificationPlatform, Field::NotificationPlatform, {
        /// Apple Push Notification service.
        Apn => "apn",
        /// Firebase Cloud Messaging.
        Fcm => "fcm",
        /// No notifications: the device polls.
        None => "none",
    }
);

string_enum!(
    @exhaustive
    /// `authenticator_attachment` of a passkeys configuration.
    AuthenticatorAttachment, Field::AuthenticatorAttachment, {
        /// Built into the device.
        Platform => "platform",
        /// A roaming authenticator (security key, phone).
        CrossPlatform => "cross-platform",
        /// Either.
        Any => "any",
    }
);

string_enum!(
    @exhaustive
    /// `discoverable_credentials` of a passkeys configuration (WebAuthn `residentKey`).
    DiscoverableCredentials, Field::DiscoverableCredentials, {
        /// Must be discoverable.
        Required => "required",
        /// Discoverable if possible.
        Preferred => "preferred",
        /// Server-side credential preferred.
        Discouraged => "discouraged",
    }
);

string_enum!(
    @exhaustive
    /// `user_verification` of a passkeys configuration.
    UserVerification, Field::UserVerification, {
        /// The authenticator must verify the user.
        Required => "required",
        /// Verify the user if possible.
        Preferred => "preferred",
        /// Do not ask for user verification.
        Discouraged => "discouraged",
    }
);

string_enum!(
    @exhaustive
    /// `allow_credentials` of a passkeys configuration: what a sign-in by identity puts
    /// in the request options' `allowCredentials`. An extension of this server, not
    /// in the service's documents.
    AllowCredentials, Field::AllowCredentials, {
        /// The user's verified passkeys (the default): the browser offers only those.
        List => "list",
        /// An empty list: the browser offers the user's discoverable passkeys for the
        /// RP, and the server still accepts only a passkey of the identified user. For
        /// clients that hand `allowCredentials` to the browser without decoding its
        /// ids (the service's web SDK does), with which a listed sign-in cannot work.
        Empty => "empty",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is declared by a macro")]
impl Default for AllowCredentials {
    fn default() -> Self {
        Self::List
    }
}

impl AllowCredentials {
    /// Whether this is the default, [`AllowCredentials::List`] (not serialized then).
    #[must_use]
    pub const fn is_list(&self) -> bool {
        matches!(self, Self::List)
    }
}

string_enum!(
    @exhaustive
    /// `attestation_conveyance` of a passkeys configuration: the `attestation` member
    /// of the creation options (WebAuthn `AttestationConveyancePreference`). An
    /// extension of this server; the default `none` is what the service's documents
    /// show.
    AttestationConveyance, Field::AttestationConveyance, {
        /// `"none"`: no attestation asked for (the default).
        None => "none",
        /// `"indirect"`: an attestation the client may anonymize.
        Indirect => "indirect",
        /// `"direct"`: the authenticator's attestation as it made it.
        Direct => "direct",
        /// `"enterprise"`: uniquely identifying attestation (managed devices).
        Enterprise => "enterprise",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is declared by a macro")]
impl Default for AttestationConveyance {
    fn default() -> Self {
        Self::None
    }
}

impl AttestationConveyance {
    /// Whether this is the default, [`AttestationConveyance::None`] (not serialized
    /// then).
    #[must_use]
    pub const fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }
}

string_enum!(
    @exhaustive
    /// One of a passkeys configuration's `hints` (WebAuthn L3
    /// `PublicKeyCredentialHint`): the kind of authenticator the relying party
    /// expects. An extension of this server.
    PasskeyHint, Field::PasskeyHints, {
        /// `"security-key"`: a roaming security key.
        SecurityKey => "security-key",
        /// `"client-device"`: the platform authenticator of the device in use.
        ClientDevice => "client-device",
        /// `"hybrid"`: a phone, over the hybrid transport.
        Hybrid => "hybrid",
    }
);

string_enum!(
    @exhaustive
    /// One of a passkeys configuration's `attestation_formats` (WebAuthn L3
    /// `attestationFormats`, the registered statement format identifiers). An
    /// extension of this server.
    AttestationFormat, Field::AttestationFormats, {
        /// `"packed"`.
        Packed => "packed",
        /// `"tpm"`.
        Tpm => "tpm",
        /// `"android-key"`.
        AndroidKey => "android-key",
        /// `"android-safetynet"`.
        AndroidSafetynet => "android-safetynet",
        /// `"fido-u2f"`.
        FidoU2f => "fido-u2f",
        /// `"apple"`.
        Apple => "apple",
        /// `"none"`.
        None => "none",
        /// `"compound"`.
        Compound => "compound",
    }
);

string_enum!(
    @exhaustive
    /// The CTAP 2.1 `credProtect` level a passkeys configuration requests, spelled as
    /// the WebAuthn client input `credentialProtectionPolicy`. Ordered: a later
    /// variant protects more.
    CredentialProtection, Field::CredProtect, {
        /// Level 1, `userVerificationOptional`.
        UserVerificationOptional => "userVerificationOptional",
        /// Level 2: without user verification only when the credential id is listed.
        UserVerificationOptionalWithCredentialIdList => "userVerificationOptionalWithCredentialIDList",
        /// Level 3, `userVerificationRequired`.
        UserVerificationRequired => "userVerificationRequired",
    }
);

/// At most this many `hints` (there are three values, each allowed once).
pub const MAX_PASSKEY_HINTS: usize = 3;
/// At most this many `attestation_formats` (there are eight values, each allowed
/// once).
pub const MAX_ATTESTATION_FORMATS: usize = 8;

/// `Ok` when `items` holds at most `max` values and none twice.
fn check_distinct<T: PartialEq>(field: Field, items: &[T], max: usize) -> Result<(), ModelError> {
    if items.len() > max {
        return Err(ModelError::TooManyItems {
            field,
            max,
            count: items.len(),
        });
    }
    for (index, item) in items.iter().enumerate() {
        if items.iter().take(index).any(|earlier| earlier == item) {
            return Err(ModelError::DuplicateItem { field });
        }
    }
    Ok(())
}

/// Declares a list of distinct values of a closed set, most preferred first, kept
/// inline (a passkeys configuration sits in every passkey factor): serialized as a
/// JSON array, checked when built and when read.
macro_rules! distinct_list {
    ($(#[$meta:meta])* $name:ident, $item:ty, $max:expr, $field:expr, $field_text:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name([Option<$item>; $max]);

        impl $name {
            /// Checks the count and that no value repeats.
            ///
            /// # Errors
            #[doc = concat!("[`ModelError::TooManyItems`] or [`ModelError::DuplicateItem`] naming `", $field_text, "`.")]
            pub fn new(items: Vec<$item>) -> Result<Self, ModelError> {
                check_distinct($field, &items, $max)?;
                let mut slots = [None; $max];
                for (slot, item) in slots.iter_mut().zip(items) {
                    *slot = Some(item);
                }
                Ok(Self(slots))
            }

            /// None (the default).
            #[must_use]
            pub const fn empty() -> Self {
                Self([None; $max])
            }

            /// The values, most preferred first.
            #[must_use]
            pub fn to_vec(&self) -> Vec<$item> {
                self.0.iter().flatten().copied().collect()
            }

            /// Whether there is none (the default, not serialized then).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.0.iter().all(Option::is_none)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().flatten())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Self::new(Vec::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

distinct_list!(
    /// A passkeys configuration's `hints`, most preferred first: at most
    /// [`MAX_PASSKEY_HINTS`], each once. Empty by default (no `hints` in the options).
    PasskeyHints, PasskeyHint, MAX_PASSKEY_HINTS, Field::PasskeyHints, "passkeys.hints"
);

distinct_list!(
    /// A passkeys configuration's `attestation_formats`, most preferred first: at
    /// most [`MAX_ATTESTATION_FORMATS`], each once. Empty by default (no
    /// `attestationFormats` in the options). A client may ignore them; what a
    /// registration accepts is not narrowed by them.
    AttestationFormats, AttestationFormat, MAX_ATTESTATION_FORMATS, Field::AttestationFormats,
    "passkeys.attestation_formats"
);

/// A `credProtect` request: the level, and whether it is enforced (the client must
/// not create a weaker credential, and a registration whose signed authenticator
/// data does not carry at least `level` is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredProtect {
    /// The level asked for.
    pub level: CredentialProtection,
    /// Whether it is enforced; `false` when absent.
    #[serde(default)]
    pub enforce: bool,
}

impl CredProtect {
    /// A request for `level`, enforced or not.
    #[must_use]
    pub const fn new(level: CredentialProtection, enforce: bool) -> Self {
        Self { level, enforce }
    }

    /// The request a form names with a level and an enforcement flag, each optional:
    /// `None` without a level.
    ///
    /// # Errors
    /// [`ModelError::MissingField`] naming `passkeys.extensions.cred_protect` when
    /// enforcement is asked for without a level.
    pub fn from_parts(
        level: Option<CredentialProtection>,
        enforce: Option<bool>,
    ) -> Result<Option<Self>, ModelError> {
        match (level, enforce) {
            (Some(level), enforce) => Ok(Some(Self::new(level, enforce.unwrap_or(false)))),
            (None, Some(true)) => Err(ModelError::MissingField {
                field: Field::CredProtect,
            }),
            (None, _) => Ok(None),
        }
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if"
)]
const fn is_false(value: &bool) -> bool {
    !*value
}

/// The WebAuthn extensions a passkeys configuration requests at registration (an
/// extension of this server): `credProps` (the client reports whether the credential
/// is discoverable), `credProtect` and `minPinLength` (the authenticator reports its
/// minimum PIN length). Nothing by default; each member is serialized only when set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyExtensions {
    /// Request `credProps`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cred_props: bool,
    /// Request `credProtect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_protect: Option<CredProtect>,
    /// Request `minPinLength`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub min_pin_length: bool,
}

impl PasskeyExtensions {
    /// Nothing requested.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            cred_props: false,
            cred_protect: None,
            min_pin_length: false,
        }
    }

    /// Requesting (or not) `credProps`.
    #[must_use]
    pub const fn with_cred_props(mut self, request: bool) -> Self {
        self.cred_props = request;
        self
    }

    /// Requesting `credProtect` (or not, with `None`).
    #[must_use]
    pub const fn with_cred_protect(mut self, request: Option<CredProtect>) -> Self {
        self.cred_protect = request;
        self
    }

    /// Requesting (or not) `minPinLength`.
    #[must_use]
    pub const fn with_min_pin_length(mut self, request: bool) -> Self {
        self.min_pin_length = request;
        self
    }

    /// Whether nothing is requested (the default, not serialized then).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::new()
    }
}

/// What a registration reported for the extensions its [`PasskeyExtensions`]
/// requested, as a verified passkey's credential record keeps it (an extension of
/// this server): `credProps.rk` (the client's word, not signed: whether the
/// credential is discoverable) and the `minPinLength` in the signed authenticator
/// data. A member is `None` when not requested or not reported; each is serialized
/// only when present, so a record without outputs keeps its earlier shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyExtensionOutputs {
    /// `credProps.rk`, when `credProps` was requested and the client reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_props_rk: Option<bool>,
    /// The authenticator's minimum PIN length, when `minPinLength` was requested and
    /// the authenticator data carried it. CTAP 2.1 caps a PIN at 63 bytes, so a
    /// length above 255 is no real authenticator's and is not kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pin_length: Option<u8>,
}

impl PasskeyExtensionOutputs {
    /// Nothing reported.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            cred_props_rk: None,
            min_pin_length: None,
        }
    }

    /// With the reported `credProps.rk` (or none).
    #[must_use]
    pub const fn with_cred_props_rk(mut self, rk: Option<bool>) -> Self {
        self.cred_props_rk = rk;
        self
    }

    /// With the reported minimum PIN length (or none).
    #[must_use]
    pub const fn with_min_pin_length(mut self, length: Option<u8>) -> Self {
        self.min_pin_length = length;
        self
    }

    /// Whether nothing was reported (the default, not serialized then).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.cred_props_rk.is_none() && self.min_pin_length.is_none()
    }
}

/// TOTP parameters: digits (`code_length` 3..=8, default 6), period (`time_step`
/// 20..=60 s, default 30) and tolerated drift (`skew` 0..=2 steps, default 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TotpParams {
    code_length: u8,
    time_step: u8,
    skew: u8,
}

impl TotpParams {
    /// Checks each parameter against its range.
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] naming `code_length`, `time_step` or `skew`.
    pub fn new(code_length: u8, time_step: u8, skew: u8) -> Result<Self, ModelError> {
        check_range(
            Field::TotpCodeLength,
            code_length,
            MIN_TOTP_CODE_LENGTH,
            MAX_TOTP_CODE_LENGTH,
        )?;
        check_range(
            Field::TotpTimeStep,
            time_step,
            MIN_TOTP_TIME_STEP,
            MAX_TOTP_TIME_STEP,
        )?;
        check_range(Field::TotpSkew, skew, 0, MAX_TOTP_SKEW)?;
        Ok(Self {
            code_length,
            time_step,
            skew,
        })
    }

    /// Digits in a code.
    #[must_use]
    pub const fn code_length(self) -> u8 {
        self.code_length
    }

    /// Seconds per time step.
    #[must_use]
    pub const fn time_step(self) -> u8 {
        self.time_step
    }

    /// Steps tolerated either side of the current one.
    #[must_use]
    pub const fn skew(self) -> u8 {
        self.skew
    }
}

impl Default for TotpParams {
    fn default() -> Self {
        Self {
            code_length: DEFAULT_TOTP_CODE_LENGTH,
            time_step: DEFAULT_TOTP_TIME_STEP,
            skew: DEFAULT_TOTP_SKEW,
        }
    }
}

#[derive(Deserialize)]
struct TotpParamsWire {
    code_length: u8,
    time_step: u8,
    skew: u8,
}

impl<'de> Deserialize<'de> for TotpParams {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = TotpParamsWire::deserialize(deserializer)?;
        Self::new(wire.code_length, wire.time_step, wire.skew).map_err(serde::de::Error::custom)
    }
}

fn check_range(field: Field, value: u8, min: u8, max: u8) -> Result<(), ModelError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ModelError::ValueOutOfRange {
            field,
            min: u64::from(min),
            max: u64::from(max),
            value: u64::from(value),
        })
    }
}

/// The WebAuthn relying party: `id` (a domain), `name`, and the `origins` allowed to
/// use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelyingParty {
    id: String,
    name: String,
    origins: Vec<String>,
}

impl RelyingParty {
    /// Checks the sizes and characters: the id (1..=253 characters: ASCII letters,
    /// digits, `-` and `.`), the name (1..=253 characters), and 1..=20 origins of at
    /// most 2048 characters each.
    ///
    /// What makes an RP ID and its origins usable for WebAuthn (a lower-case host
    /// name; `https://` origins of that host or its subdomains, `http://localhost`,
    /// Android and iOS app origins) is decided once, by `verify-webauthn`'s
    /// `RelyingParty`; the engine checks a configuration through it when a service
    /// is created or updated.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`], [`ModelError::InvalidCharacters`],
    /// [`ModelError::TooManyItems`] or [`ModelError::InvalidUrl`] naming the field.
    pub fn new(id: &str, name: &str, origins: Vec<String>) -> Result<Self, ModelError> {
        check_text(Field::RelyingPartyId, id, 1, MAX_RELYING_PARTY_LEN)?;
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(ModelError::InvalidCharacters {
                field: Field::RelyingPartyId,
            });
        }
        check_text(Field::RelyingPartyName, name, 1, MAX_RELYING_PARTY_LEN)?;
        if origins.is_empty() {
            return Err(ModelError::MissingField {
                field: Field::RelyingPartyOrigins,
            });
        }
        if origins.len() > MAX_RELYING_PARTY_ORIGINS {
            return Err(ModelError::TooManyItems {
                field: Field::RelyingPartyOrigins,
                max: MAX_RELYING_PARTY_ORIGINS,
                count: origins.len(),
            });
        }
        for origin in &origins {
            check_text(Field::RelyingPartyOrigins, origin, 1, MAX_URL_LEN)?;
        }
        Ok(Self {
            id: id.to_owned(),
            name: name.to_owned(),
            origins,
        })
    }

    /// The RP ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The RP name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The allowed origins.
    #[must_use]
    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}

#[derive(Deserialize)]
struct RelyingPartyWire {
    id: String,
    name: String,
    origins: Vec<String>,
}

impl<'de> Deserialize<'de> for RelyingParty {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = RelyingPartyWire::deserialize(deserializer)?;
        Self::new(&wire.id, &wire.name, wire.origins).map_err(serde::de::Error::custom)
    }
}

/// What an assertion whose signature counter did not increase does (both counters
/// zero is never a regression: most passkeys keep no counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignCountRegression {
    /// Refuse the assertion (default: a regression suggests a cloned
    /// authenticator).
    #[default]
    Reject,
    /// Approve it, keep the stored (higher) counter, and report the regression to
    /// the host.
    Warn,
}

/// A service's passkey policy: host decisions the documents do not show, kept in the
/// storage record only (the API's JSON views never carry it). Both default to the
/// strict-but-compatible choice; a record stored before these fields existed reads
/// as the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyPolicy {
    /// Sign-count regressions. Default [`SignCountRegression::Reject`].
    #[serde(default)]
    pub sign_count_regression: SignCountRegression,
    /// Whether a registration's attestation must chain to one of the host's trust
    /// anchors (then `none` and self attestation are refused). Default `false`:
    /// attestation is checked and its trust reported, not required.
    #[serde(default)]
    pub require_trusted_attestation: bool,
}

impl PasskeyPolicy {
    /// The defaults: reject regressions, do not require trusted attestation.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            sign_count_regression: SignCountRegression::Reject,
            require_trusted_attestation: false,
        }
    }

    /// With a sign-count regression policy.
    #[must_use]
    pub const fn with_sign_count_regression(mut self, policy: SignCountRegression) -> Self {
        self.sign_count_regression = policy;
        self
    }

    /// Requiring (or not) a trusted attestation at registration.
    #[must_use]
    pub const fn with_require_trusted_attestation(mut self, require: bool) -> Self {
        self.require_trusted_attestation = require;
        self
    }

    /// Whether this is the default policy (then it is not even stored).
    #[must_use]
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// At most this many AAGUIDs on each of `aaguid_allow_list` and `aaguid_deny_list`.
pub const MAX_AAGUID_LIST: usize = 64;
/// At most this many `top_origins`.
pub const MAX_TOP_ORIGINS: usize = MAX_RELYING_PARTY_ORIGINS;
/// At most this many `related_origins`.
pub const MAX_RELATED_ORIGINS: usize = MAX_RELYING_PARTY_ORIGINS;

/// An authenticator's AAGUID, written as a UUID (8-4-4-4-12 hexadecimal digits, read
/// in either case, written in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aaguid([u8; 16]);

impl Aaguid {
    /// The AAGUID of these 16 bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Its 16 bytes.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Reads the UUID text of `field`.
    ///
    /// # Errors
    /// [`ModelError::InvalidCharacters`] naming `field` when `text` is not
    /// 8-4-4-4-12 hexadecimal digits.
    pub fn parse(field: Field, text: &str) -> Result<Self, ModelError> {
        let bad = ModelError::InvalidCharacters { field };
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return Err(bad);
        }
        let mut out = [0_u8; 16];
        let mut digits = bytes.iter().enumerate().filter_map(|(index, byte)| {
            if matches!(index, 8 | 13 | 18 | 23) {
                None
            } else {
                Some(*byte)
            }
        });
        if bytes
            .iter()
            .enumerate()
            .any(|(index, byte)| matches!(index, 8 | 13 | 18 | 23) != (*byte == b'-'))
        {
            return Err(bad);
        }
        for slot in &mut out {
            let (Some(high), Some(low)) = (digits.next(), digits.next()) else {
                return Err(bad);
            };
            let hex = |digit: u8| char::from(digit).to_digit(16);
            let (Some(high), Some(low)) = (hex(high), hex(low)) else {
                return Err(bad);
            };
            *slot = u8::try_from(high * 16 + low).map_err(|_| bad.clone())?;
        }
        Ok(Self(out))
    }
}

impl std::fmt::Display for Aaguid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, byte) in self.0.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Aaguid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The registration and ceremony restrictions a service sets (this server's
/// extensions, docs/api.md "Services"): refusing backup-eligible credentials, AAGUID
/// allow- and deny-lists, cross-origin ceremonies and their top origins, and the
/// related origins outside the RP ID it accepts. All off by default, and then kept out of line as nothing (a passkeys configuration sits in
/// every passkey factor); in JSON their members sit in the passkeys block itself,
/// each only when set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasskeyRestrictions(Option<Box<RestrictionValues>>);

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
struct RestrictionValues {
    #[serde(default, skip_serializing_if = "is_false")]
    refuse_backup_eligible: bool,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "aaguid_allow_list"
    )]
    aaguid_allow_list: Vec<Aaguid>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "aaguid_deny_list"
    )]
    aaguid_deny_list: Vec<Aaguid>,
    #[serde(default, skip_serializing_if = "is_false")]
    allow_cross_origin: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    top_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    related_origins: Vec<String>,
}

/// Reads a list of UUID texts as AAGUIDs of `field`.
fn aaguid_list<'de, D: serde::Deserializer<'de>>(
    field: Field,
    deserializer: D,
) -> Result<Vec<Aaguid>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| Aaguid::parse(field, text).map_err(serde::de::Error::custom))
        .collect()
}

fn aaguid_allow_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Aaguid>, D::Error> {
    aaguid_list(Field::AaguidAllowList, d)
}

fn aaguid_deny_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Aaguid>, D::Error> {
    aaguid_list(Field::AaguidDenyList, d)
}

impl PasskeyRestrictions {
    /// None (the default).
    #[must_use]
    pub const fn new() -> Self {
        Self(None)
    }

    /// Checks and bundles the restrictions: at most [`MAX_AAGUID_LIST`] distinct
    /// AAGUIDs per list and none on both; `top_origins` (at most
    /// [`MAX_TOP_ORIGINS`], distinct, each 1..=2048 characters) only with
    /// `allow_cross_origin`. Whether each top origin is a usable web origin is
    /// decided by `verify-webauthn`, when the engine checks the configuration.
    ///
    /// # Errors
    /// [`ModelError::TooManyItems`], [`ModelError::DuplicateItem`],
    /// [`ModelError::LengthOutOfRange`] or [`ModelError::UnexpectedField`] naming
    /// the list.
    pub fn new_checked(
        refuse_backup_eligible: bool,
        aaguid_allow_list: Vec<Aaguid>,
        aaguid_deny_list: Vec<Aaguid>,
        allow_cross_origin: bool,
        top_origins: Vec<String>,
    ) -> Result<Self, ModelError> {
        check_distinct(Field::AaguidAllowList, &aaguid_allow_list, MAX_AAGUID_LIST)?;
        check_distinct(Field::AaguidDenyList, &aaguid_deny_list, MAX_AAGUID_LIST)?;
        if aaguid_deny_list
            .iter()
            .any(|denied| aaguid_allow_list.contains(denied))
        {
            return Err(ModelError::DuplicateItem {
                field: Field::AaguidDenyList,
            });
        }
        check_distinct(Field::TopOrigins, &top_origins, MAX_TOP_ORIGINS)?;
        for origin in &top_origins {
            check_text(Field::TopOrigins, origin, 1, MAX_URL_LEN)?;
        }
        if !allow_cross_origin && !top_origins.is_empty() {
            return Err(ModelError::UnexpectedField {
                field: Field::TopOrigins,
            });
        }
        let values = RestrictionValues {
            refuse_backup_eligible,
            aaguid_allow_list,
            aaguid_deny_list,
            allow_cross_origin,
            top_origins,
            related_origins: Vec::new(),
        };
        Ok(Self::boxed(values))
    }

    fn boxed(values: RestrictionValues) -> Self {
        Self((values != RestrictionValues::default()).then(|| Box::new(values)))
    }

    /// The same with `related_origins` (WebAuthn L3 §5.11, related origin
    /// requests): at most [`MAX_RELATED_ORIGINS`] distinct `https://` origins of
    /// 1..=2048 characters. The engine accepts an origin of the relying party
    /// outside its RP ID only when it is listed here, and each listed one must be
    /// such an origin (checked by `verify-webauthn` when the service is created or
    /// updated); they are what `/.well-known/webauthn` of the RP ID answers.
    ///
    /// # Errors
    /// [`ModelError::TooManyItems`], [`ModelError::DuplicateItem`],
    /// [`ModelError::LengthOutOfRange`] or [`ModelError::InvalidUrl`] naming
    /// `passkeys.related_origins`.
    pub fn with_related_origins(self, related_origins: Vec<String>) -> Result<Self, ModelError> {
        check_distinct(Field::RelatedOrigins, &related_origins, MAX_RELATED_ORIGINS)?;
        for origin in &related_origins {
            check_text(Field::RelatedOrigins, origin, 1, MAX_URL_LEN)?;
            if !origin.starts_with("https://") {
                return Err(ModelError::InvalidUrl {
                    field: Field::RelatedOrigins,
                    length: origin.len(),
                });
            }
        }
        let mut values = self.0.map(|boxed| *boxed).unwrap_or_default();
        values.related_origins = related_origins;
        Ok(Self::boxed(values))
    }

    /// The origins outside the RP ID the relying party accepts (and
    /// `/.well-known/webauthn` lists).
    #[must_use]
    pub fn related_origins(&self) -> &[String] {
        self.0.as_ref().map_or(&[], |v| &v.related_origins)
    }

    /// Whether a registration of a backup-eligible (synced) credential is refused.
    #[must_use]
    pub fn refuse_backup_eligible(&self) -> bool {
        self.0.as_ref().is_some_and(|v| v.refuse_backup_eligible)
    }

    /// When not empty, the only AAGUIDs a registration accepts, and only when a
    /// trusted attestation signs them.
    #[must_use]
    pub fn aaguid_allow_list(&self) -> &[Aaguid] {
        self.0.as_ref().map_or(&[], |v| &v.aaguid_allow_list)
    }

    /// The AAGUIDs a registration refuses (signed or not).
    #[must_use]
    pub fn aaguid_deny_list(&self) -> &[Aaguid] {
        self.0.as_ref().map_or(&[], |v| &v.aaguid_deny_list)
    }

    /// Whether ceremonies in a cross-origin iframe are accepted.
    #[must_use]
    pub fn allow_cross_origin(&self) -> bool {
        self.0.as_ref().is_some_and(|v| v.allow_cross_origin)
    }

    /// With cross-origin ceremonies allowed: the accepted top-level origins (empty:
    /// any).
    #[must_use]
    pub fn top_origins(&self) -> &[String] {
        self.0.as_ref().map_or(&[], |v| &v.top_origins)
    }

    /// Whether none is set (the default, serialized as nothing).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Serialize for PasskeyRestrictions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(values) => values.serialize(serializer),
            None => RestrictionValues::default().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PasskeyRestrictions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = RestrictionValues::deserialize(deserializer)?;
        Self::new_checked(
            v.refuse_backup_eligible,
            v.aaguid_allow_list,
            v.aaguid_deny_list,
            v.allow_cross_origin,
            v.top_origins,
        )
        .and_then(|checked| checked.with_related_origins(v.related_origins))
        .map_err(serde::de::Error::custom)
    }
}

/// A passkeys configuration, as in the service's `passkeys` block and a passkey
/// factor's `config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeysConfig {
    /// The relying party.
    pub relying_party: RelyingParty,
    /// Which authenticators may be used.
    pub authenticator_attachment: AuthenticatorAttachment,
    /// Whether credentials must be discoverable.
    pub discoverable_credentials: DiscoverableCredentials,
    /// Whether user verification is required.
    pub user_verification: UserVerification,
    /// What a sign-in by identity lists in `allowCredentials`. Serialized only when
    /// not the default; absent in older records.
    #[serde(default, skip_serializing_if = "AllowCredentials::is_list")]
    pub allow_credentials: AllowCredentials,
    /// The creation options' `attestation`. Serialized only when not `none`;
    /// absent in older records.
    #[serde(default, skip_serializing_if = "AttestationConveyance::is_none")]
    pub attestation_conveyance: AttestationConveyance,
    /// The `hints` of the creation options. Serialized only when not empty; absent
    /// in older records.
    #[serde(default, skip_serializing_if = "PasskeyHints::is_empty")]
    pub hints: PasskeyHints,
    /// The creation options' `attestationFormats`. Serialized only when not empty;
    /// absent in older records.
    #[serde(default, skip_serializing_if = "AttestationFormats::is_empty")]
    pub attestation_formats: AttestationFormats,
    /// The extensions a registration requests. Serialized only when one is;
    /// absent in older records.
    #[serde(default, skip_serializing_if = "PasskeyExtensions::is_empty")]
    pub extensions: PasskeyExtensions,
    /// The service's restrictions (backup eligibility, AAGUIDs, cross origin): their
    /// members sit in this block, each serialized only when set; absent in older
    /// records.
    #[serde(flatten)]
    pub restrictions: PasskeyRestrictions,
    /// The host's policy (not part of the API's JSON: [`PasskeysConfig::public_view`]
    /// drops it). Serialized only when not the default; absent in older records.
    #[serde(default, skip_serializing_if = "PasskeyPolicy::is_default")]
    pub policy: PasskeyPolicy,
}

impl PasskeysConfig {
    /// A configuration with the given relying party and the documents' defaults:
    /// attachment `any`, discoverable credentials `preferred`, user verification
    /// `preferred`.
    #[must_use]
    pub const fn new(relying_party: RelyingParty) -> Self {
        Self {
            relying_party,
            authenticator_attachment: AuthenticatorAttachment::Any,
            discoverable_credentials: DiscoverableCredentials::Preferred,
            user_verification: UserVerification::Preferred,
            allow_credentials: AllowCredentials::List,
            attestation_conveyance: AttestationConveyance::None,
            hints: PasskeyHints([None; MAX_PASSKEY_HINTS]),
            attestation_formats: AttestationFormats([None; MAX_ATTESTATION_FORMATS]),
            extensions: PasskeyExtensions::new(),
            restrictions: PasskeyRestrictions::new(),
            policy: PasskeyPolicy::new(),
        }
    }

    /// The same configuration with the host's passkey policy.
    #[must_use]
    pub const fn with_policy(mut self, policy: PasskeyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The configuration as the API shows it: the documented fields only (the
    /// policy reset to its default, which serializes to nothing).
    #[must_use]
    pub fn public_view(&self) -> Self {
        Self {
            policy: PasskeyPolicy::default(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_param_boundaries() {
        assert!(TotpParams::new(3, 20, 0).is_ok());
        assert!(TotpParams::new(8, 60, 2).is_ok());
        assert_eq!(
            TotpParams::new(2, 30, 1),
            Err(ModelError::ValueOutOfRange {
                field: Field::TotpCodeLength,
                min: 3,
                max: 8,
                value: 2
            })
        );
        assert!(TotpParams::new(9, 30, 1).is_err());
        assert!(TotpParams::new(6, 19, 1).is_err());
        assert!(TotpParams::new(6, 61, 1).is_err());
        assert_eq!(
            TotpParams::new(6, 30, 3),
            Err(ModelError::ValueOutOfRange {
                field: Field::TotpSkew,
                min: 0,
                max: 2,
                value: 3
            })
        );
        assert!(
            serde_json::from_str::<TotpParams>(r#"{"code_length":9,"time_step":30,"skew":1}"#)
                .is_err()
        );
    }

    #[test]
    fn passkey_policy_defaults_and_old_records() {
        let rp = RelyingParty::new("example.com", "Example", vec!["https://example.com".into()])
            .unwrap();
        let config = PasskeysConfig::new(rp);
        // The default policy is not serialized, so existing records are unchanged...
        let json = serde_json::to_value(&config).unwrap();
        assert!(json.get("policy").is_none());
        // ...and a record without it reads as the default.
        let old = r#"{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"authenticator_attachment":"any","discoverable_credentials":"preferred","user_verification":"preferred"}"#;
        let read: PasskeysConfig = serde_json::from_str(old).unwrap();
        assert_eq!(read, config);
        assert_eq!(
            read.policy.sign_count_regression,
            SignCountRegression::Reject
        );
        assert!(!read.policy.require_trusted_attestation);
        // A non-default policy round-trips through the record, not the public view.
        let strict = config.with_policy(
            PasskeyPolicy::new()
                .with_sign_count_regression(SignCountRegression::Warn)
                .with_require_trusted_attestation(true),
        );
        let stored = serde_json::to_string(&strict).unwrap();
        assert!(stored.contains(r#""sign_count_regression":"warn""#));
        assert_eq!(
            serde_json::from_str::<PasskeysConfig>(&stored).unwrap(),
            strict
        );
        assert!(
            serde_json::to_value(strict.public_view())
                .unwrap()
                .get("policy")
                .is_none()
        );
        assert!(
            serde_json::from_str::<PasskeysConfig>(&format!(
                r#"{},"policy":{{"sign_count_regression":"sometimes"}}}}"#,
                old.strip_suffix('}').unwrap()
            ))
            .is_err()
        );
    }

    fn example_config() -> PasskeysConfig {
        PasskeysConfig::new(
            RelyingParty::new("example.com", "Example", vec!["https://example.com".into()])
                .unwrap(),
        )
    }

    #[test]
    fn ceremony_options_validate_their_values() {
        assert_eq!(
            "direct".parse::<AttestationConveyance>(),
            Ok(AttestationConveyance::Direct)
        );
        assert_eq!(
            "Direct".parse::<AttestationConveyance>(),
            Err(ModelError::UnknownValue {
                field: Field::AttestationConveyance,
                length: 6
            })
        );
        assert_eq!(
            AttestationConveyance::default(),
            AttestationConveyance::None
        );
        assert!("usb".parse::<PasskeyHint>().is_err());
        assert!("packed ".parse::<AttestationFormat>().is_err());
        assert_eq!(
            "userVerificationOptionalWithCredentialIDList".parse::<CredentialProtection>(),
            Ok(CredentialProtection::UserVerificationOptionalWithCredentialIdList)
        );
        assert!("3".parse::<CredentialProtection>().is_err());
        // Lists: each value once, bounded.
        assert!(PasskeyHints::new(vec![PasskeyHint::SecurityKey, PasskeyHint::Hybrid]).is_ok());
        assert_eq!(
            PasskeyHints::new(vec![PasskeyHint::Hybrid, PasskeyHint::Hybrid]),
            Err(ModelError::DuplicateItem {
                field: Field::PasskeyHints
            })
        );
        assert_eq!(
            PasskeyHints::new(vec![PasskeyHint::Hybrid; 4]),
            Err(ModelError::TooManyItems {
                field: Field::PasskeyHints,
                max: MAX_PASSKEY_HINTS,
                count: 4
            })
        );
        assert_eq!(
            AttestationFormats::new(vec![AttestationFormat::Packed, AttestationFormat::Packed]),
            Err(ModelError::DuplicateItem {
                field: Field::AttestationFormats
            })
        );
        assert!(matches!(
            AttestationFormats::new(vec![AttestationFormat::Tpm; 9]),
            Err(ModelError::TooManyItems {
                max: 8,
                count: 9,
                ..
            })
        ));
        // The same checks when a record is read.
        assert!(serde_json::from_str::<PasskeyHints>(r#"["hybrid","hybrid"]"#).is_err());
        assert!(serde_json::from_str::<AttestationFormats>(r#"["packed","tpm"]"#).is_ok());
        assert!(serde_json::from_str::<AttestationFormats>(r#"["packed","x"]"#).is_err());
        // Enforcement names a level.
        assert_eq!(CredProtect::from_parts(None, None), Ok(None));
        assert_eq!(CredProtect::from_parts(None, Some(false)), Ok(None));
        assert_eq!(
            CredProtect::from_parts(None, Some(true)),
            Err(ModelError::MissingField {
                field: Field::CredProtect
            })
        );
        assert_eq!(
            CredProtect::from_parts(Some(CredentialProtection::UserVerificationRequired), None),
            Ok(Some(CredProtect::new(
                CredentialProtection::UserVerificationRequired,
                false
            )))
        );
    }

    #[test]
    fn ceremony_options_are_absent_from_old_records_and_round_trip() {
        let old = r#"{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"authenticator_attachment":"any","discoverable_credentials":"preferred","user_verification":"preferred"}"#;
        let read: PasskeysConfig = serde_json::from_str(old).unwrap();
        assert_eq!(read, example_config());
        assert_eq!(read.attestation_conveyance, AttestationConveyance::None);
        assert!(read.hints.is_empty() && read.attestation_formats.is_empty());
        assert!(read.extensions.is_empty());
        // Defaults serialize to nothing: a record written today is the old shape.
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::from_str::<serde_json::Value>(old).unwrap()
        );
        let mut config = example_config();
        config.attestation_conveyance = AttestationConveyance::Enterprise;
        config.hints = PasskeyHints::new(vec![PasskeyHint::ClientDevice]).unwrap();
        config.attestation_formats =
            AttestationFormats::new(vec![AttestationFormat::AndroidKey, AttestationFormat::None])
                .unwrap();
        config.extensions = PasskeyExtensions::new()
            .with_cred_props(true)
            .with_cred_protect(Some(CredProtect::new(
                CredentialProtection::UserVerificationRequired,
                true,
            )))
            .with_min_pin_length(true);
        let json = serde_json::to_value(config.public_view()).unwrap();
        assert_eq!(json["attestation_conveyance"], "enterprise");
        assert_eq!(json["hints"], serde_json::json!(["client-device"]));
        assert_eq!(
            json["attestation_formats"],
            serde_json::json!(["android-key", "none"])
        );
        assert_eq!(
            json["extensions"],
            serde_json::json!({
                "cred_props": true,
                "cred_protect": {"level": "userVerificationRequired", "enforce": true},
                "min_pin_length": true
            })
        );
        assert_eq!(
            serde_json::from_value::<PasskeysConfig>(json.clone()).unwrap(),
            config
        );
        let mut bad = json;
        bad["hints"] = serde_json::json!(["hybrid", "hybrid"]);
        assert!(serde_json::from_value::<PasskeysConfig>(bad).is_err());
    }

    #[test]
    fn aaguid_text() {
        let text = "08987058-CADC-4b81-b6e1-30de50dcbe96";
        let aaguid = Aaguid::parse(Field::AaguidAllowList, text).unwrap();
        assert_eq!(aaguid.to_string(), text.to_ascii_lowercase());
        assert_eq!(aaguid.to_bytes()[0..2], [0x08, 0x98]);
        for bad in [
            "",
            "08987058cadc4b81b6e130de50dcbe96",
            "08987058-cadc-4b81-b6e1-30de50dcbe9",
            "08987058-cadc-4b81-b6e1-30de50dcbe9g",
            "0898705-8cadc-4b81-b6e1-30de50dcbe96",
            "+8987058-cadc-4b81-b6e1-30de50dcbe96",
        ] {
            assert_eq!(
                Aaguid::parse(Field::AaguidDenyList, bad),
                Err(ModelError::InvalidCharacters {
                    field: Field::AaguidDenyList
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn restrictions_validate_their_values() {
        let a = Aaguid::from_bytes([1; 16]);
        let b = Aaguid::from_bytes([2; 16]);
        let none = PasskeyRestrictions::new_checked(false, vec![], vec![], false, vec![]).unwrap();
        assert!(none.is_empty());
        let set = PasskeyRestrictions::new_checked(
            true,
            vec![a],
            vec![b],
            true,
            vec!["https://top.example".into()],
        )
        .unwrap();
        assert!(set.refuse_backup_eligible() && set.allow_cross_origin());
        assert_eq!(set.aaguid_allow_list(), [a]);
        assert_eq!(set.aaguid_deny_list(), [b]);
        assert_eq!(set.top_origins(), ["https://top.example"]);
        let err = |allow, deny, cross, top| {
            PasskeyRestrictions::new_checked(false, allow, deny, cross, top).unwrap_err()
        };
        assert_eq!(
            err(vec![a, a], vec![], false, vec![]),
            ModelError::DuplicateItem {
                field: Field::AaguidAllowList
            }
        );
        assert_eq!(
            err(vec![a], vec![a], false, vec![]),
            ModelError::DuplicateItem {
                field: Field::AaguidDenyList
            }
        );
        let many: Vec<Aaguid> = (0..=MAX_AAGUID_LIST)
            .map(|i| Aaguid::from_bytes([u8::try_from(i).unwrap(); 16]))
            .collect();
        assert_eq!(
            err(vec![], many.clone(), false, vec![]),
            ModelError::TooManyItems {
                field: Field::AaguidDenyList,
                max: MAX_AAGUID_LIST,
                count: MAX_AAGUID_LIST + 1
            }
        );
        assert!(
            PasskeyRestrictions::new_checked(false, many[1..].to_vec(), vec![], false, vec![])
                .is_ok()
        );
        assert_eq!(
            err(vec![], vec![], false, vec!["https://top.example".into()]),
            ModelError::UnexpectedField {
                field: Field::TopOrigins
            }
        );
        assert!(matches!(
            err(vec![], vec![], true, vec![String::new()]),
            ModelError::LengthOutOfRange {
                field: Field::TopOrigins,
                ..
            }
        ));
    }

    #[test]
    fn restrictions_are_absent_from_old_records_and_round_trip() {
        // A record of before (with a ceremony option and a host policy): read and
        // written back byte for byte.
        let old = r#"{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"authenticator_attachment":"any","discoverable_credentials":"preferred","user_verification":"preferred","hints":["hybrid"],"policy":{"sign_count_regression":"warn","require_trusted_attestation":true}}"#;
        let read: PasskeysConfig = serde_json::from_str(old).unwrap();
        assert!(read.restrictions.is_empty());
        assert_eq!(serde_json::to_string(&read).unwrap(), old);

        let mut config = example_config();
        config.restrictions = PasskeyRestrictions::new_checked(
            true,
            vec![Aaguid::from_bytes([0xab; 16])],
            vec![Aaguid::from_bytes([0; 16])],
            true,
            vec!["https://top.example".into()],
        )
        .unwrap();
        let json = serde_json::to_value(config.public_view()).unwrap();
        assert_eq!(json["refuse_backup_eligible"], true);
        assert_eq!(
            json["aaguid_allow_list"],
            serde_json::json!(["abababab-abab-abab-abab-abababababab"])
        );
        assert_eq!(
            json["aaguid_deny_list"],
            serde_json::json!(["00000000-0000-0000-0000-000000000000"])
        );
        assert_eq!(json["allow_cross_origin"], true);
        assert_eq!(
            json["top_origins"],
            serde_json::json!(["https://top.example"])
        );
        assert_eq!(
            serde_json::from_value::<PasskeysConfig>(json.clone()).unwrap(),
            config
        );
        for (member, value) in [
            ("aaguid_allow_list", serde_json::json!(["not-a-uuid"])),
            (
                "aaguid_deny_list",
                serde_json::json!(["abababab-abab-abab-abab-abababababab"]),
            ),
            ("allow_cross_origin", serde_json::json!(false)),
        ] {
            let mut bad = json.clone();
            bad[member] = value;
            assert!(
                serde_json::from_value::<PasskeysConfig>(bad).is_err(),
                "{member}"
            );
        }
    }

    #[test]
    fn related_origins_validate_and_round_trip() {
        let related = PasskeyRestrictions::new()
            .with_related_origins(vec!["https://example.net".into()])
            .unwrap();
        assert!(!related.is_empty());
        assert_eq!(related.related_origins(), ["https://example.net"]);
        // Kept beside the other restrictions, and cleared back to nothing.
        let both = PasskeyRestrictions::new_checked(true, vec![], vec![], false, vec![])
            .unwrap()
            .with_related_origins(vec!["https://example.net".into()])
            .unwrap();
        assert!(both.refuse_backup_eligible());
        assert!(related.with_related_origins(vec![]).unwrap().is_empty());
        for (bad, error) in [
            (
                vec!["http://example.net".to_owned()],
                ModelError::InvalidUrl {
                    field: Field::RelatedOrigins,
                    length: 18,
                },
            ),
            (
                vec![
                    "https://a.example".to_owned(),
                    "https://a.example".to_owned(),
                ],
                ModelError::DuplicateItem {
                    field: Field::RelatedOrigins,
                },
            ),
            (
                (0..=MAX_RELATED_ORIGINS)
                    .map(|i| format!("https://{i}.example"))
                    .collect(),
                ModelError::TooManyItems {
                    field: Field::RelatedOrigins,
                    max: MAX_RELATED_ORIGINS,
                    count: MAX_RELATED_ORIGINS + 1,
                },
            ),
        ] {
            assert_eq!(
                PasskeyRestrictions::new().with_related_origins(bad),
                Err(error)
            );
        }
        let mut config = example_config();
        config.restrictions = both;
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json["related_origins"],
            serde_json::json!(["https://example.net"])
        );
        assert_eq!(
            serde_json::from_value::<PasskeysConfig>(json.clone()).unwrap(),
            config
        );
        let mut bad = json;
        bad["related_origins"] = serde_json::json!(["ftp://example.net"]);
        assert!(serde_json::from_value::<PasskeysConfig>(bad).is_err());
    }

    #[test]
    fn enums_use_the_api_spellings() {
        assert_eq!(
            serde_json::to_string(&AuthenticatorAttachment::CrossPlatform).unwrap(),
            "\"cross-platform\""
        );
        assert_eq!(
            "sha256".parse::<TotpAlgorithm>().unwrap(),
            TotpAlgorithm::Sha256
        );
        assert!("SHA256".parse::<TotpAlgorithm>().is_err());
        assert_eq!(NotificationPlatform::Apn.to_string(), "apn");
    }

    #[test]
    fn relying_party_checks() {
        let rp = RelyingParty::new("example.com", "Example", vec!["https://example.com".into()]);
        assert!(rp.is_ok());
        assert!(
            RelyingParty::new(
                "exa mple.com",
                "Example",
                vec!["https://example.com".into()]
            )
            .is_err()
        );
        assert!(RelyingParty::new("example.com", "Example", vec![]).is_err());
        // What makes an origin usable is verify-webauthn's rule, not a copy here.
        assert!(RelyingParty::new("example.com", "Example", vec![String::new()]).is_err());
        assert!(RelyingParty::new("example.com", "Example", vec!["x".repeat(2049)]).is_err());
        assert!(
            RelyingParty::new(
                "example.com",
                "Example",
                vec!["https://example.com".into(); 21]
            )
            .is_err()
        );
    }
}
