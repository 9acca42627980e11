//! The WebAuthn ceremony data a passkey factor or challenge keeps between the options
//! it served and the browser's answer, as plain typed values.
//!
//! The model stores what the WebAuthn crate needs to finish a ceremony (challenge
//! bytes, allowed or excluded credential ids, the user handle, the expiry) and what
//! the browser was sent, and nothing else: no JSON trees. The engine converts these
//! to `verify-webauthn`'s state types; their serde forms are the ones `verify-webauthn`
//! wrote before these types existed, so records stored by earlier releases load.

use serde::{Deserialize, Serialize};

use crate::config::{PasskeyHints, UserVerification};
use crate::time::UnixTime;

/// A credential the browser may use (`PublicKeyCredentialDescriptorJSON`): its id and
/// the transports its authenticator reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AllowedCredential {
    /// Always `"public-key"` on the wire.
    #[serde(rename = "type", default = "public_key")]
    credential_type: PublicKeyType,
    /// The credential id.
    #[serde(with = "crate::b64url")]
    pub id: Vec<u8>,
    /// Transport hints (`internal`, `hybrid`, `usb`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<String>,
}

/// The one credential type WebAuthn defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum PublicKeyType {
    #[serde(rename = "public-key")]
    PublicKey,
}

const fn public_key() -> PublicKeyType {
    PublicKeyType::PublicKey
}

impl AllowedCredential {
    /// A descriptor for credential `id` with its transports.
    #[must_use]
    pub const fn new(id: Vec<u8>, transports: Vec<String>) -> Self {
        Self {
            credential_type: PublicKeyType::PublicKey,
            id,
            transports,
        }
    }
}

/// The request options a passkey challenge served
/// (`PublicKeyCredentialRequestOptionsJSON`, the members this service sets).
///
/// Its serde form is the WebAuthn JSON the browser's
/// `PublicKeyCredential.parseRequestOptionsFromJSON` takes; the API's challenge view
/// wraps it as `{"publicKey": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PasskeyRequestOptions {
    /// The challenge: the challenge sid's routing text and random characters.
    #[serde(with = "crate::b64url")]
    pub challenge: Vec<u8>,
    /// How long the browser waits, in milliseconds: the challenge's remaining
    /// lifetime when it was created.
    pub timeout: u32,
    /// The RP ID.
    pub rp_id: String,
    /// The credentials that may answer; empty for a discoverable sign-in.
    #[serde(default)]
    pub allow_credentials: Vec<AllowedCredential>,
    /// The user verification requirement.
    pub user_verification: UserVerification,
    /// `hints` (WebAuthn L3), most preferred first: the service's passkeys
    /// `hints`. Serialized only when not empty; absent from challenges stored
    /// before it existed.
    #[serde(default, skip_serializing_if = "PasskeyHints::is_empty")]
    pub hints: PasskeyHints,
}

impl PasskeyRequestOptions {
    /// Request options from their members.
    #[must_use]
    pub const fn new(
        challenge: Vec<u8>,
        timeout: u32,
        rp_id: String,
        allow_credentials: Vec<AllowedCredential>,
        user_verification: UserVerification,
    ) -> Self {
        Self {
            challenge,
            timeout,
            rp_id,
            allow_credentials,
            user_verification,
            hints: PasskeyHints::empty(),
        }
    }

    /// The same options with `hints`.
    #[must_use]
    pub const fn with_hints(mut self, hints: PasskeyHints) -> Self {
        self.hints = hints;
        self
    }
}

/// A passkey challenge's ceremony: the options served to the browser and, for a
/// sign-in of a known user, that user's handle. The state `verify-webauthn` needs to
/// finish the ceremony is derived from these (the challenge, the allowed ids) and the
/// challenge's `expiration_date` (the ceremony lives as long as its challenge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyCeremony {
    /// The options as served.
    pub options: PasskeyRequestOptions,
    /// The user handle of the identified user; `None` for a discoverable sign-in,
    /// where the response's `userHandle` names the user.
    #[serde(default, with = "crate::b64url::option")]
    pub user_handle: Option<Vec<u8>>,
}

impl PasskeyCeremony {
    /// Pairs the served options with the identified user's handle (if any).
    #[must_use]
    pub const fn new(options: PasskeyRequestOptions, user_handle: Option<Vec<u8>>) -> Self {
        Self {
            options,
            user_handle,
        }
    }

    /// Whether the browser may pick any discoverable credential (no user named).
    #[must_use]
    pub const fn is_discoverable(&self) -> bool {
        self.user_handle.is_none()
    }
}

/// The registration ceremony an unverified passkey factor waits on: what
/// `verify-webauthn`'s `RegistrationState` holds, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyRegistration {
    /// The challenge sent in the creation options.
    #[serde(with = "crate::b64url")]
    pub challenge: Vec<u8>,
    /// The user handle (`user.id`) the credential is created for.
    #[serde(with = "crate::b64url")]
    pub user_id: Vec<u8>,
    /// Credential ids the browser was told to exclude.
    #[serde(default, with = "crate::b64url::list")]
    pub exclude: Vec<Vec<u8>>,
    /// When the ceremony stops being answerable.
    pub expires_at: UnixTime,
}

impl PasskeyRegistration {
    /// The registration state from its parts.
    #[must_use]
    pub const fn new(
        challenge: Vec<u8>,
        user_id: Vec<u8>,
        exclude: Vec<Vec<u8>>,
        expires_at: UnixTime,
    ) -> Self {
        Self {
            challenge,
            user_id,
            exclude,
            expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PasskeyHint;

    #[test]
    fn request_options_serialize_as_webauthn_json() {
        let options = PasskeyRequestOptions {
            challenge: b"YC00".to_vec(),
            timeout: 300_000,
            rp_id: "example.com".to_owned(),
            allow_credentials: vec![AllowedCredential::new(vec![1, 2, 3], vec!["usb".into()])],
            user_verification: UserVerification::Preferred,
            hints: PasskeyHints::empty(),
        };
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "challenge": "WUMwMA",
                "timeout": 300_000,
                "rpId": "example.com",
                "allowCredentials": [{"type": "public-key", "id": "AQID", "transports": ["usb"]}],
                "userVerification": "preferred",
            })
        );
        let back: PasskeyRequestOptions = serde_json::from_value(json).unwrap();
        assert_eq!(back, options);
    }

    #[test]
    fn request_options_carry_hints_when_set() {
        let hints =
            PasskeyHints::new(vec![PasskeyHint::ClientDevice, PasskeyHint::SecurityKey]).unwrap();
        let options = PasskeyRequestOptions::new(
            b"YC00".to_vec(),
            300_000,
            "example.com".to_owned(),
            Vec::new(),
            UserVerification::Required,
        )
        .with_hints(hints);
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "challenge": "WUMwMA",
                "timeout": 300_000,
                "rpId": "example.com",
                "allowCredentials": [],
                "userVerification": "required",
                "hints": ["client-device", "security-key"],
            })
        );
        let back: PasskeyRequestOptions = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, options);
        // Read with the same checks as the service's hints.
        let mut repeated = json;
        repeated["hints"] = serde_json::json!(["hybrid", "hybrid"]);
        assert!(serde_json::from_value::<PasskeyRequestOptions>(repeated).is_err());
    }

    #[test]
    fn a_ceremony_stored_before_hints_loads_and_writes_back_unchanged() {
        let stored = r#"{"options":{"challenge":"WUMwMA","timeout":300000,"rpId":"example.com","allowCredentials":[{"type":"public-key","id":"AQID"}],"userVerification":"preferred"},"user_handle":"WUUw"}"#;
        let ceremony: PasskeyCeremony = serde_json::from_str(stored).unwrap();
        assert!(ceremony.options.hints.is_empty());
        assert_eq!(ceremony.user_handle.as_deref(), Some(&b"YE0"[..]));
        assert_eq!(serde_json::to_string(&ceremony).unwrap(), stored);
    }

    #[test]
    fn a_descriptor_of_another_type_is_refused() {
        let json = serde_json::json!({"type": "other", "id": "AQID"});
        assert!(serde_json::from_value::<AllowedCredential>(json).is_err());
    }

    #[test]
    fn registration_reads_the_webauthn_crates_earlier_serde_form() {
        let stored = r#"{"challenge":"AQID","user_id":"WUUw","exclude":["BAU"],"expires_at":"2025-01-01T00:10:00Z"}"#;
        let state: PasskeyRegistration = serde_json::from_str(stored).unwrap();
        assert_eq!(state.challenge, [1, 2, 3]);
        assert_eq!(state.user_id, b"YE0");
        assert_eq!(state.exclude, [vec![4, 5]]);
        assert_eq!(serde_json::to_string(&state).unwrap(), stored);
    }
}
