//! A passkey factor's data ([`PasskeyFactor`]) and its credential record
//! ([`PasskeyCredential`], with the check of its transport and attestation tokens).

use serde::{Deserialize, Serialize};

use crate::ceremony::PasskeyRegistration;
use crate::config::{PasskeyExtensionOutputs, PasskeysConfig};
use crate::error::{Field, ModelError, check_len};
use crate::limits::{
    MAX_COSE_KEY_LEN, MAX_CREDENTIAL_ID_LEN, MAX_CREDENTIAL_TOKEN_LEN, MAX_TRANSPORTS,
};

/// A verified passkey's credential record (WebAuthn L3 §4 "credential record"), as
/// the WebAuthn crate returns it after registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PasskeyCredential {
    /// The credential id (1..=1023 bytes).
    #[serde(with = "crate::b64url")]
    pub id: Vec<u8>,
    /// The COSE_Key public key (1..=2048 bytes).
    #[serde(with = "crate::b64url")]
    pub public_key_cose: Vec<u8>,
    /// The COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256, ...).
    pub algorithm: i64,
    /// The signature counter last seen.
    pub sign_count: u32,
    /// Transports the client reported, reduced to the known values
    /// ([`PasskeyCredential::KNOWN_TRANSPORTS`]), each once, at most
    /// [`MAX_TRANSPORTS`]. A record stored by an earlier release with other values
    /// loads with them dropped ([`PasskeyCredential::known_transports`]).
    #[serde(deserialize_with = "transports_on_load")]
    pub transports: Vec<String>,
    /// The BE flag at registration.
    pub backup_eligible: bool,
    /// The BS flag last seen.
    pub backup_state: bool,
    /// The authenticator's AAGUID.
    pub aaguid: [u8; 16],
    /// The attestation type (`none`, `self`, `basic`, `attca`, ...).
    pub attestation_type: String,
    /// Whether the UV flag was set at registration.
    pub user_verified: bool,
    /// Assertions accepted although their signature counter did not increase (the
    /// service's `warn` sign-count policy); 0 in records older than this field.
    #[serde(default)]
    pub sign_count_regressions: u32,
    /// What the registration reported for the extensions the factor's
    /// configuration requested (`credProps.rk`, `minPinLength`). Serialized only
    /// when something was reported; absent in older records.
    #[serde(default, skip_serializing_if = "PasskeyExtensionOutputs::is_empty")]
    pub extension_outputs: PasskeyExtensionOutputs,
}

impl PasskeyCredential {
    /// The transports a record may list: WebAuthn L3 §5.8.4 `AuthenticatorTransport`.
    /// Relying parties ignore other values (clients may invent them), so they are
    /// never stored nor echoed in `allowCredentials` / `excludeCredentials`.
    pub const KNOWN_TRANSPORTS: [&'static str; 6] =
        ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"];

    /// The known spelling of a transport a client reported: itself when it is one
    /// of [`KNOWN_TRANSPORTS`](Self::KNOWN_TRANSPORTS); `hybrid` for `cable`, the
    /// name Chromium reported before `hybrid` was standardised for the same
    /// transport (current clients act on `hybrid` only); `None` for anything else.
    #[must_use]
    pub fn known_transport(reported: &str) -> Option<&'static str> {
        if reported == "cable" {
            return Some("hybrid");
        }
        Self::KNOWN_TRANSPORTS
            .into_iter()
            .find(|known| *known == reported)
    }

    /// Reported transports reduced to what a record keeps: the known ones
    /// ([`known_transport`](Self::known_transport)), in their first order, each
    /// once, at most [`MAX_TRANSPORTS`]. Unknown values are dropped, not refused
    /// (WebAuthn L3 §5.8.4: relying parties ignore unknown transports).
    #[must_use]
    pub fn known_transports<I, S>(reported: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut kept: Vec<String> = Vec::new();
        for name in reported {
            if kept.len() >= MAX_TRANSPORTS {
                break;
            }
            if let Some(known) = Self::known_transport(name.as_ref())
                && !kept.iter().any(|k| k == known)
            {
                kept.push(known.to_owned());
            }
        }
        kept
    }

    /// Checks the sizes: id 1..=1023 bytes, COSE key 1..=2048 bytes, at most
    /// [`MAX_TRANSPORTS`] transports as given, each one of
    /// [`KNOWN_TRANSPORTS`](Self::KNOWN_TRANSPORTS) (a repeated one is then kept
    /// once; reduce what a client reported with
    /// [`known_transports`](Self::known_transports) first), and the attestation type
    /// 1..=32 printable ASCII characters.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`], [`ModelError::TooManyItems`],
    /// [`ModelError::UnknownValue`] (a transport that is not known) or
    /// [`ModelError::InvalidCharacters`] naming the field.
    #[expect(
        clippy::too_many_arguments,
        reason = "a flat record with one constructor"
    )]
    pub fn new(
        id: Vec<u8>,
        public_key_cose: Vec<u8>,
        algorithm: i64,
        sign_count: u32,
        transports: Vec<String>,
        backup_eligible: bool,
        backup_state: bool,
        aaguid: [u8; 16],
        attestation_type: &str,
        user_verified: bool,
    ) -> Result<Self, ModelError> {
        let mut credential = Self {
            id,
            public_key_cose,
            algorithm,
            sign_count,
            transports,
            backup_eligible,
            backup_state,
            aaguid,
            attestation_type: attestation_type.to_owned(),
            user_verified,
            sign_count_regressions: 0,
            extension_outputs: PasskeyExtensionOutputs::new(),
        };
        credential.check()?;
        let mut unique: Vec<String> = Vec::with_capacity(credential.transports.len());
        for transport in credential.transports {
            if !unique.contains(&transport) {
                unique.push(transport);
            }
        }
        credential.transports = unique;
        Ok(credential)
    }

    /// The same record with the registration's extension outputs.
    #[must_use]
    pub const fn with_extension_outputs(mut self, outputs: PasskeyExtensionOutputs) -> Self {
        self.extension_outputs = outputs;
        self
    }

    pub(super) fn check(&self) -> Result<(), ModelError> {
        check_len(Field::CredentialId, self.id.len(), 1, MAX_CREDENTIAL_ID_LEN)?;
        check_len(
            Field::CredentialPublicKey,
            self.public_key_cose.len(),
            1,
            MAX_COSE_KEY_LEN,
        )?;
        if self.transports.len() > MAX_TRANSPORTS {
            return Err(ModelError::TooManyItems {
                field: Field::CredentialTransports,
                max: MAX_TRANSPORTS,
                count: self.transports.len(),
            });
        }
        for transport in &self.transports {
            if !Self::KNOWN_TRANSPORTS.contains(&transport.as_str()) {
                return Err(ModelError::UnknownValue {
                    field: Field::CredentialTransports,
                    length: transport.len(),
                });
            }
        }
        check_token(Field::AttestationType, &self.attestation_type)
    }
}

/// A stored record's transports, as [`PasskeyCredential::known_transports`] keeps
/// them: a record an earlier release stored with unknown, repeated or too many
/// values still loads (with those dropped) instead of failing.
fn transports_on_load<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let stored = Vec::<String>::deserialize(deserializer)?;
    Ok(PasskeyCredential::known_transports(stored))
}

fn check_token(field: Field, text: &str) -> Result<(), ModelError> {
    check_len(field, text.len(), 1, MAX_CREDENTIAL_TOKEN_LEN)?;
    if text.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(ModelError::InvalidCharacters { field })
    }
}

/// A passkey factor's data: the relying-party configuration it was created under and,
/// once verified, its credential record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyFactor {
    pub(super) config: PasskeysConfig,
    pub(super) credential: Option<PasskeyCredential>,
    /// The WebAuthn registration ceremony state while unverified (private: never
    /// served), cleared on verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) registration: Option<PasskeyRegistration>,
}

impl PasskeyFactor {
    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &PasskeysConfig {
        &self.config
    }

    /// The credential record, present once verified.
    #[must_use]
    pub const fn credential(&self) -> Option<&PasskeyCredential> {
        self.credential.as_ref()
    }

    /// The stored registration ceremony state, present while the factor awaits its
    /// attestation (see [`FactorKind::passkeys_registering`]).
    ///
    /// [`FactorKind::passkeys_registering`]: super::FactorKind::passkeys_registering
    #[must_use]
    pub const fn registration(&self) -> Option<&PasskeyRegistration> {
        self.registration.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(transports: &[&str]) -> Result<PasskeyCredential, ModelError> {
        PasskeyCredential::new(
            vec![1; 16],
            vec![0xa5; 77],
            -7,
            0,
            transports.iter().map(|t| (*t).to_owned()).collect(),
            false,
            false,
            [0; 16],
            "none",
            true,
        )
    }

    #[test]
    fn a_record_is_built_with_known_transports_only() {
        let all = PasskeyCredential::KNOWN_TRANSPORTS;
        assert_eq!(record(&all).unwrap().transports, all);
        assert_eq!(
            record(&["usb", "internal", "usb"]).unwrap().transports,
            ["usb", "internal"]
        );
        for unknown in ["<script>", "cable", "USB", "", "bluetooth"] {
            assert_eq!(
                record(&["usb", unknown]),
                Err(ModelError::UnknownValue {
                    field: Field::CredentialTransports,
                    length: unknown.len(),
                }),
                "{unknown:?}"
            );
        }
        assert_eq!(
            record(&["usb"; MAX_TRANSPORTS + 1]),
            Err(ModelError::TooManyItems {
                field: Field::CredentialTransports,
                max: MAX_TRANSPORTS,
                count: MAX_TRANSPORTS + 1,
            })
        );
        // Every known value fits, whatever the order.
        const _: () = assert!(PasskeyCredential::KNOWN_TRANSPORTS.len() <= MAX_TRANSPORTS);
    }

    #[test]
    fn reported_transports_are_reduced_not_refused() {
        let mut reported: Vec<String> = (0..2000).map(|i| format!("t{i}")).collect();
        reported.extend(["<script>", "hybrid", "cable", "usb", "usb"].map(String::from));
        assert_eq!(
            PasskeyCredential::known_transports(&reported),
            ["hybrid", "usb"]
        );
        assert_eq!(PasskeyCredential::known_transport("cable"), Some("hybrid"));
        assert_eq!(
            PasskeyCredential::known_transport("smart-card"),
            Some("smart-card")
        );
        assert_eq!(PasskeyCredential::known_transport("Internal"), None);
        let kept = PasskeyCredential::known_transports(
            PasskeyCredential::KNOWN_TRANSPORTS
                .iter()
                .chain(PasskeyCredential::KNOWN_TRANSPORTS.iter())
                .rev(),
        );
        assert_eq!(kept.len(), PasskeyCredential::KNOWN_TRANSPORTS.len());
        assert!(kept.len() <= MAX_TRANSPORTS);
    }

    #[test]
    fn a_stored_record_with_odd_transports_still_loads_filtered() {
        let mut stored = serde_json::to_value(record(&["usb"]).unwrap()).unwrap();
        let mut odd: Vec<String> = vec!["<script>".into(), "cable".into(), "nfc".into()];
        odd.extend((0..2000).map(|i| format!("x{i}")));
        odd.push("nfc".into());
        stored["transports"] = serde_json::json!(odd);
        let loaded: PasskeyCredential = serde_json::from_value(stored).unwrap();
        assert_eq!(loaded.transports, ["hybrid", "nfc"]);
        assert_eq!(loaded.check(), Ok(()));
        // A record of today's shape loads unchanged.
        let today = record(&["internal", "hybrid"]).unwrap();
        let again: PasskeyCredential =
            serde_json::from_value(serde_json::to_value(&today).unwrap()).unwrap();
        assert_eq!(again, today);
    }

    /// A verified passkey factor's storage record as written before the extension
    /// outputs existed (the credential holds `sign_count_regressions`, nothing more).
    const OLD_VERIFIED_FACTOR: &str = concat!(
        r#"{"config":{"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},"#,
        r#""authenticator_attachment":"any","discoverable_credentials":"preferred","user_verification":"preferred"},"#,
        r#""credential":{"id":"AQEBAQEBAQEBAQEBAQEBAQ","public_key_cose":"paWl","algorithm":-7,"sign_count":3,"#,
        r#""transports":["usb"],"backup_eligible":false,"backup_state":false,"#,
        r#""aaguid":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"attestation_type":"none","user_verified":true,"#,
        r#""sign_count_regressions":0}}"#
    );

    #[test]
    fn an_old_verified_factor_record_loads_and_writes_back_unchanged() {
        let factor: PasskeyFactor = serde_json::from_str(OLD_VERIFIED_FACTOR).unwrap();
        let credential = factor.credential().unwrap();
        assert_eq!(credential.extension_outputs, PasskeyExtensionOutputs::new());
        assert!(credential.extension_outputs.is_empty());
        assert_eq!(credential.sign_count, 3);
        // Nothing reported serializes to nothing: the record keeps its bytes.
        assert_eq!(serde_json::to_string(&factor).unwrap(), OLD_VERIFIED_FACTOR);
    }

    #[test]
    fn reported_extension_outputs_round_trip_through_the_record() {
        let mut factor: PasskeyFactor = serde_json::from_str(OLD_VERIFIED_FACTOR).unwrap();
        let outputs = PasskeyExtensionOutputs::new()
            .with_cred_props_rk(Some(false))
            .with_min_pin_length(Some(6));
        factor.credential = factor
            .credential
            .map(|credential| credential.with_extension_outputs(outputs));
        let stored = serde_json::to_value(&factor).unwrap();
        assert_eq!(
            stored["credential"]["extension_outputs"],
            serde_json::json!({"cred_props_rk": false, "min_pin_length": 6})
        );
        let loaded: PasskeyFactor = serde_json::from_value(stored).unwrap();
        assert_eq!(loaded, factor);
        assert_eq!(loaded.credential().unwrap().extension_outputs, outputs);
        // One member alone keeps only that member.
        let rk_only = PasskeyExtensionOutputs::new().with_cred_props_rk(Some(true));
        assert_eq!(
            serde_json::to_value(rk_only).unwrap(),
            serde_json::json!({"cred_props_rk": true})
        );
        assert_eq!(
            serde_json::from_str::<PasskeyExtensionOutputs>("{}").unwrap(),
            PasskeyExtensionOutputs::new()
        );
    }
}
