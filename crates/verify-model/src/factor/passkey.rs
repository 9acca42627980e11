//! A passkey factor's data ([`PasskeyFactor`]) and its credential record
//! ([`PasskeyCredential`], with the check of its transport and attestation tokens).

use serde::{Deserialize, Serialize};

use crate::ceremony::PasskeyRegistration;
use crate::config::PasskeysConfig;
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
    /// Transports the client reported (`internal`, `hybrid`, `usb`, ...).
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
}

impl PasskeyCredential {
    /// Checks the sizes: id 1..=1023 bytes, COSE key 1..=2048 bytes, at most 8
    /// transports and each transport / the attestation type 1..=32 printable ASCII
    /// characters.
    ///
    /// # Errors
    /// [`ModelError::LengthOutOfRange`], [`ModelError::TooManyItems`] or
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
        let credential = Self {
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
        };
        credential.check()?;
        Ok(credential)
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
            check_token(Field::CredentialTransports, transport)?;
        }
        check_token(Field::AttestationType, &self.attestation_type)
    }
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
