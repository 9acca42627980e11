//! Authentication (WebAuthn L3 §7.2): request options out, a verified assertion in,
//! including discoverable (usernameless) sign-in by user handle.

use rand_core::{CryptoRng, RngCore};
use verify_model::UnixTime;

use crate::authenticator_data::AuthenticatorData;
use crate::base64url::Base64UrlBytes;
use crate::challenge::CeremonyChallenge;
use crate::client_data::{CeremonyType, CollectedClientData};
use crate::cose::CoseKey;
use crate::error::{ParseError, WebauthnError};
use crate::extensions::{
    AuthenticationExtensionOutputs, AuthenticationExtensions, appid_claimed,
    check_authentication_outputs,
};
use crate::limits::{
    MAX_CLIENT_DATA_JSON_BYTES, MAX_CREDENTIAL_DESCRIPTORS, MAX_SIGNATURE_BYTES,
    MAX_USER_HANDLE_BYTES,
};
use crate::policy::{
    BackupEligibilityPolicy, CeremonyPolicy, CounterPolicy, Hint, UserVerification, hint_strings,
};
use crate::registration::{CredentialRecord, check_expiry, expiry, random_challenge, sha256};
use crate::relying_party::RelyingParty;
use crate::wire::{AuthenticationResponseJson, CredentialDescriptor, RequestOptionsJson};

/// A stored credential, its key parsed once: build it when loading the record and
/// reuse it for any number of assertions.
#[derive(Clone, Debug)]
pub struct StoredCredential {
    id: Vec<u8>,
    key: CoseKey,
    sign_count: u32,
    backup_eligible: Option<bool>,
    user_handle: Option<Vec<u8>>,
}

impl StoredCredential {
    /// A stored credential from its parts. `backup_eligible` is the BE flag recorded
    /// at registration, if known (then a changed BE is handled per policy).
    ///
    /// # Errors
    /// [`WebauthnError::Malformed`] or [`WebauthnError::Key`] when `public_key_cose`
    /// is not a usable credential key.
    pub fn new(
        id: Vec<u8>,
        public_key_cose: &[u8],
        sign_count: u32,
        backup_eligible: Option<bool>,
    ) -> Result<Self, WebauthnError> {
        Ok(Self {
            id,
            key: CoseKey::from_bytes(public_key_cose)?,
            sign_count,
            backup_eligible,
            user_handle: None,
        })
    }

    /// The same, with the user handle the credential belongs to: required for a
    /// discoverable sign-in and for a sign-in by an identified user started with an
    /// empty allow-list (otherwise [`WebauthnError::CredentialOwnerUnknown`]; see
    /// [`finish_authentication`]).
    #[must_use]
    pub fn with_user_handle(mut self, user_handle: Vec<u8>) -> Self {
        self.user_handle = Some(user_handle);
        self
    }

    /// From a [`CredentialRecord`] persisted after registration.
    ///
    /// # Errors
    /// As [`StoredCredential::new`].
    pub fn from_record(record: &CredentialRecord) -> Result<Self, WebauthnError> {
        let mut stored = Self::new(
            record.id.0.clone(),
            record.public_key_cose.as_slice(),
            record.sign_count,
            Some(record.backup_eligible),
        )?;
        stored.user_handle = record.user_handle.as_ref().map(|h| h.0.clone());
        Ok(stored)
    }

    /// The credential id.
    #[must_use]
    pub fn id(&self) -> &[u8] {
        &self.id
    }
}

/// What an assertion is checked against.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct AuthenticationInput<'a> {
    /// The RP ID.
    pub rp_id: &'a str,
    /// The accepted origins.
    pub origins: &'a [String],
    /// The challenge issued for this ceremony.
    pub challenge: &'a [u8],
    /// The policies.
    pub policy: &'a CeremonyPolicy,
    /// The extensions the ceremony requested (default: none): `appid` decides which
    /// `rpIdHash` is accepted; outputs are reported in
    /// [`VerifiedAuthentication::extensions`].
    pub extensions: &'a AuthenticationExtensions,
}

/// What `AuthenticationInput::new` requests: nothing.
static NO_EXTENSIONS: AuthenticationExtensions = AuthenticationExtensions::NONE;

impl<'a> AuthenticationInput<'a> {
    /// The same inputs for a ceremony that requested `extensions`.
    #[must_use]
    pub const fn with_extensions(mut self, extensions: &'a AuthenticationExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// Bundles the inputs.
    #[must_use]
    pub const fn new(
        rp_id: &'a str,
        origins: &'a [String],
        challenge: &'a [u8],
        policy: &'a CeremonyPolicy,
    ) -> Self {
        Self {
            rp_id,
            origins,
            challenge,
            policy,
            extensions: &NO_EXTENSIONS,
        }
    }
}

/// A verified assertion: what to persist.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedAuthentication {
    /// The credential id that signed.
    pub credential_id: Vec<u8>,
    /// The new sign count to store.
    pub sign_count: u32,
    /// UV.
    pub user_verified: bool,
    /// BE.
    pub backup_eligible: bool,
    /// BS: store it (a credential may become backed up).
    pub backup_state: bool,
    /// The count did not increase but the policy is [`CounterPolicy::Warn`].
    pub counter_warning: bool,
    /// The `userHandle` the authenticator returned, if any.
    pub user_handle: Option<Vec<u8>>,
    /// The requested extensions' outputs (client outputs, not signed: see
    /// [`AuthenticationExtensionOutputs`]).
    pub extensions: AuthenticationExtensionOutputs,
}

/// Verifies an assertion against explicit expectations and a stored credential
/// (WebAuthn L3 §7.2 steps 5-24).
///
/// There is no ceremony state here, so which user is signing in is the caller's
/// business: the caller vouches that `credential` belongs to the user it
/// authenticates (WebAuthn L3 §7.2 step 6). What can be checked is: a returned
/// `userHandle` must equal the owner recorded with
/// [`StoredCredential::with_user_handle`], when one is. Prefer
/// [`finish_authentication`], which also enforces the ceremony's user.
///
/// # Errors
/// The [`WebauthnError`] naming the first failed check
/// ([`WebauthnError::UserHandleMismatch`] for a `userHandle` that is not the
/// recorded owner).
pub fn verify_authentication(
    input: &AuthenticationInput<'_>,
    credential: &StoredCredential,
    response: &AuthenticationResponseJson,
) -> Result<VerifiedAuthentication, WebauthnError> {
    let client_data = CollectedClientData::parse(response.response.client_data_json.as_slice())?;
    verify_assertion(input, credential, response, &client_data)
}

/// As [`verify_authentication`], for a response whose `clientDataJSON` was parsed
/// when it was received (routed by its claimed challenge): not parsed again.
///
/// # Errors
/// As [`verify_authentication`].
pub fn verify_parsed_authentication(
    input: &AuthenticationInput<'_>,
    credential: &StoredCredential,
    parsed: &ParsedAuthentication,
) -> Result<VerifiedAuthentication, WebauthnError> {
    verify_assertion(input, credential, &parsed.response, &parsed.client_data)
}

/// WebAuthn L3 §7.2 steps 5-24 on a response and its parsed `clientDataJSON`.
fn verify_assertion(
    input: &AuthenticationInput<'_>,
    credential: &StoredCredential,
    response: &AuthenticationResponseJson,
    client_data: &CollectedClientData,
) -> Result<VerifiedAuthentication, WebauthnError> {
    response.check_envelope()?;
    if response.raw_id.as_slice() != credential.id.as_slice() {
        return Err(WebauthnError::CredentialIdMismatch);
    }
    let assertion = &response.response;
    let client_data_json = assertion.client_data_json.as_slice();
    if client_data_json.len() > MAX_CLIENT_DATA_JSON_BYTES {
        return Err(ParseError::TooLarge {
            field: "clientDataJSON",
            len: client_data_json.len(),
            max: MAX_CLIENT_DATA_JSON_BYTES,
        }
        .into());
    }
    let signature = assertion.signature.as_slice();
    if signature.len() > MAX_SIGNATURE_BYTES {
        return Err(ParseError::TooLarge {
            field: "signature",
            len: signature.len(),
            max: MAX_SIGNATURE_BYTES,
        }
        .into());
    }
    if let Some(handle) = &assertion.user_handle
        && handle.as_slice().len() > MAX_USER_HANDLE_BYTES
    {
        return Err(ParseError::TooLarge {
            field: "userHandle",
            len: handle.as_slice().len(),
            max: MAX_USER_HANDLE_BYTES,
        }
        .into());
    }
    // WebAuthn L3 §7.2 step 6: a returned userHandle must be the user account's,
    // here the owner recorded on the credential (when the host recorded one).
    if let (Some(handle), Some(owner)) = (&assertion.user_handle, &credential.user_handle)
        && handle.as_slice() != owner.as_slice()
    {
        return Err(WebauthnError::UserHandleMismatch);
    }
    client_data.check(
        CeremonyType::Get,
        input.challenge,
        input.origins,
        &input.policy.cross_origin,
    )?;
    let raw_auth_data = assertion.authenticator_data.as_slice();
    let auth_data = AuthenticatorData::parse(raw_auth_data)?;
    if auth_data.attested_credential_data.is_some() {
        return Err(WebauthnError::UnexpectedAttestedCredentialData);
    }
    // L3 §10.1.1: the AppID's hash replaces the RP ID's only when the ceremony asked
    // for `appid` and the client says it used it; either way exactly one is accepted.
    let appid = appid_claimed(input.extensions, &response.client_extension_results)?;
    let expected_rp_id = appid.unwrap_or(input.rp_id);
    if auth_data.rp_id_hash != sha256(expected_rp_id.as_bytes()) {
        return Err(WebauthnError::RpIdHashMismatch {
            rp_id: expected_rp_id.to_owned(),
        });
    }
    let flags = auth_data.flags;
    if !flags.user_present() {
        return Err(WebauthnError::UserNotPresent);
    }
    if input.policy.user_verification == UserVerification::Required && !flags.user_verified() {
        return Err(WebauthnError::UserVerificationRequired);
    }
    if let Some(stored) = credential.backup_eligible
        && stored != flags.backup_eligible()
        && input.policy.backup_eligibility == BackupEligibilityPolicy::Reject
    {
        return Err(WebauthnError::BackupEligibilityChanged {
            stored,
            got: flags.backup_eligible(),
        });
    }
    let mut message = Vec::with_capacity(raw_auth_data.len().saturating_add(32));
    message.extend_from_slice(raw_auth_data);
    message.extend_from_slice(&sha256(client_data_json));
    credential
        .key
        .verifying_key()
        .verify(&message, signature)
        .map_err(|_| WebauthnError::SignatureInvalid)?;

    let (stored, got) = (credential.sign_count, auth_data.sign_count);
    let regressed = (stored != 0 || got != 0) && got <= stored;
    let counter_warning = match (regressed, input.policy.counter) {
        (false, _) => false,
        (true, CounterPolicy::Warn) => true,
        (true, CounterPolicy::Reject) => {
            return Err(WebauthnError::SignCountRegressed { stored, got });
        }
    };
    let extensions = check_authentication_outputs(
        input.extensions,
        &response.client_extension_results,
        &credential.id,
        appid.is_some(),
    )?;
    Ok(VerifiedAuthentication {
        credential_id: credential.id.clone(),
        sign_count: got,
        user_verified: flags.user_verified(),
        backup_eligible: flags.backup_eligible(),
        backup_state: flags.backup_state(),
        counter_warning,
        user_handle: assertion.user_handle.as_ref().map(|h| h.0.clone()),
        extensions,
    })
}

/// The server-side state of an authentication: store it until the response arrives,
/// then pass it to [`finish_authentication`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthenticationState {
    challenge: Base64UrlBytes,
    allowed: Vec<Base64UrlBytes>,
    user_handle: Option<Base64UrlBytes>,
    expires_at: UnixTime,
    /// Absent in states stored before extensions existed: nothing requested.
    #[serde(default, skip_serializing_if = "AuthenticationExtensions::is_empty")]
    extensions: AuthenticationExtensions,
}

impl AuthenticationState {
    /// The state from its parts, as a host stored them: the challenge, the allowed
    /// credential ids (empty: any), the identified user's handle (`None`: a
    /// discoverable sign-in) and when the ceremony stops being answerable.
    #[must_use]
    pub fn from_parts(
        challenge: Vec<u8>,
        allowed: Vec<Vec<u8>>,
        user_handle: Option<Vec<u8>>,
        expires_at: UnixTime,
    ) -> Self {
        Self {
            challenge: Base64UrlBytes(challenge),
            allowed: allowed.into_iter().map(Base64UrlBytes).collect(),
            user_handle: user_handle.map(Base64UrlBytes),
            expires_at,
            extensions: AuthenticationExtensions::default(),
        }
    }

    /// The same state for a ceremony that requested `extensions` (a host that
    /// stores the parts also stores [`extensions`](Self::extensions)).
    #[must_use]
    pub fn with_extensions(mut self, extensions: AuthenticationExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// The extensions the ceremony requested.
    #[must_use]
    pub const fn extensions(&self) -> &AuthenticationExtensions {
        &self.extensions
    }

    /// The challenge.
    #[must_use]
    pub fn challenge(&self) -> &[u8] {
        self.challenge.as_slice()
    }

    /// The identified user's handle; `None` for a discoverable sign-in.
    #[must_use]
    pub fn user_handle(&self) -> Option<&[u8]> {
        self.user_handle.as_ref().map(Base64UrlBytes::as_slice)
    }

    /// When the ceremony stops being answerable.
    #[must_use]
    pub const fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// Whether this is a discoverable (usernameless) sign-in: no `allowCredentials`,
    /// the response's `userHandle` names the user.
    #[must_use]
    pub fn is_discoverable(&self) -> bool {
        self.user_handle.is_none()
    }
}

/// Starts an authentication.
///
/// With `user` = `Some((user_handle, credentials))`, the options list that user's
/// credentials in `allowCredentials`; with `None` they list none, for discoverable
/// (usernameless) sign-in, where the response's `userHandle` identifies the user and
/// the host looks the credential up by its id.
pub fn start_authentication<R>(
    rp: &RelyingParty,
    user: Option<(&[u8], &[CredentialDescriptor])>,
    now: UnixTime,
    rng: &mut R,
) -> (RequestOptionsJson, AuthenticationState)
where
    R: RngCore + CryptoRng + ?Sized,
{
    let challenge = random_challenge(rng);
    start_with_challenge(rp, user, challenge, now)
}

/// Starts an authentication as [`start_authentication`] does, with a challenge of
/// `challenge_prefix` followed by [`CHALLENGE_BYTES`](crate::registration::CHALLENGE_BYTES)
/// random bytes from `rng`.
///
/// The prefix is for routing, not secrecy: a host that receives the browser's bare
/// `AuthenticationResponseJSON` can read it back with
/// [`AuthenticationResponseJson::claimed_challenge`] to find the stored
/// [`AuthenticationState`]; [`finish_authentication`] compares the **whole**
/// stored challenge in constant time, so a forged prefix naming another ceremony
/// fails with [`WebauthnError::ChallengeMismatch`].
///
/// # Errors
/// [`WebauthnError::ChallengePrefixTooLong`] above
/// [`MAX_CHALLENGE_PREFIX_BYTES`](crate::registration::MAX_CHALLENGE_PREFIX_BYTES).
pub fn start_authentication_with_prefix<R>(
    rp: &RelyingParty,
    user: Option<(&[u8], &[CredentialDescriptor])>,
    challenge_prefix: &[u8],
    now: UnixTime,
    rng: &mut R,
) -> Result<(RequestOptionsJson, AuthenticationState), WebauthnError>
where
    R: RngCore + CryptoRng + ?Sized,
{
    let challenge = CeremonyChallenge::with_prefix(challenge_prefix, rng)?;
    Ok(start_authentication_with_challenge(
        rp, user, challenge, now,
    ))
}

/// Starts an authentication on a challenge made by [`CeremonyChallenge`] (for
/// example [`CeremonyChallenge::with_text_prefix`], for clients that decode it with
/// `atob`), as [`start_authentication`] does otherwise.
#[must_use]
pub fn start_authentication_with_challenge(
    rp: &RelyingParty,
    user: Option<(&[u8], &[CredentialDescriptor])>,
    challenge: CeremonyChallenge,
    now: UnixTime,
) -> (RequestOptionsJson, AuthenticationState) {
    start_with_challenge(rp, user, challenge.into_bytes(), now)
}

/// Per-ceremony request options beyond the [`RelyingParty`]'s configuration: a plain
/// serde value. The default adds nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AuthenticationOptions {
    /// The extensions requested; their outputs are checked by
    /// [`finish_authentication`] (the state remembers them).
    pub extensions: AuthenticationExtensions,
    /// `hints`, most preferred first (repeats dropped).
    pub hints: Vec<Hint>,
}

impl AuthenticationOptions {
    /// The default: nothing beyond the relying party's configuration.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests `extensions`.
    #[must_use]
    pub fn with_extensions(mut self, extensions: AuthenticationExtensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// Sets `hints`.
    #[must_use]
    pub fn with_hints(mut self, hints: Vec<Hint>) -> Self {
        self.hints = hints;
        self
    }
}

/// Starts an authentication as [`start_authentication_with_challenge`] does, with
/// per-ceremony [`AuthenticationOptions`] (extension inputs, `hints`). The returned
/// state remembers the requested extensions for [`finish_authentication`].
///
/// # Errors
/// [`WebauthnError::InvalidConfig`] for extension inputs no client would take (see
/// [`AuthenticationExtensions::to_json`]).
pub fn start_authentication_with_options(
    rp: &RelyingParty,
    user: Option<(&[u8], &[CredentialDescriptor])>,
    challenge: CeremonyChallenge,
    options: &AuthenticationOptions,
    now: UnixTime,
) -> Result<(RequestOptionsJson, AuthenticationState), WebauthnError> {
    let allowed: Vec<Vec<u8>> = user
        .map(|(_, creds)| {
            creds
                .iter()
                .take(MAX_CREDENTIAL_DESCRIPTORS)
                .map(|d| d.id.0.clone())
                .collect()
        })
        .unwrap_or_default();
    let extensions = options.extensions.to_json(&allowed)?;
    let (mut request, mut state) = start_with_challenge(rp, user, challenge.into_bytes(), now);
    request.hints = hint_strings(&options.hints);
    request.extensions = extensions;
    state.extensions = options.extensions.clone();
    Ok((request, state))
}

fn start_with_challenge(
    rp: &RelyingParty,
    user: Option<(&[u8], &[CredentialDescriptor])>,
    challenge: Vec<u8>,
    now: UnixTime,
) -> (RequestOptionsJson, AuthenticationState) {
    let allow: Vec<CredentialDescriptor> = user
        .map(|(_, creds)| {
            creds
                .iter()
                .take(MAX_CREDENTIAL_DESCRIPTORS)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let options = RequestOptionsJson {
        challenge: Base64UrlBytes(challenge.clone()),
        timeout: Some(rp.timeout_ms),
        rp_id: Some(rp.id().to_owned()),
        allow_credentials: allow.clone(),
        user_verification: Some(rp.policy.user_verification.as_str().to_owned()),
        hints: Vec::new(),
        extensions: None,
    };
    let state = AuthenticationState {
        challenge: Base64UrlBytes(challenge),
        allowed: allow.into_iter().map(|d| d.id).collect(),
        user_handle: user.map(|(handle, _)| Base64UrlBytes(handle.to_vec())),
        expires_at: expiry(now, rp.timeout_ms),
        extensions: AuthenticationExtensions::default(),
    };
    (options, state)
}

/// Finishes an authentication started with [`start_authentication`], against the
/// credential the host loaded by the response's `rawId`.
///
/// The credential must be shown to belong to the user (WebAuthn L3 §7.2 step 6;
/// fail closed):
/// - identified user (the state has a user handle): a returned `userHandle` must be
///   that user's, and the credential's recorded owner
///   ([`StoredCredential::with_user_handle`], [`StoredCredential::from_record`])
///   must be that user; a credential without a recorded owner passes only when the
///   ceremony was started with a non-empty allow-list naming it. With an empty
///   allow-list it is [`WebauthnError::CredentialOwnerUnknown`]: the host found a
///   credential by `rawId`, nothing says whose it is.
/// - discoverable (no user handle in the state): the `userHandle` is required and
///   must be the credential's recorded owner; a credential without one is
///   [`WebauthnError::CredentialOwnerUnknown`].
///
/// # Errors
/// [`WebauthnError::CeremonyExpired`], [`WebauthnError::CredentialNotAllowed`],
/// [`WebauthnError::UserHandleMissing`], [`WebauthnError::UserHandleMismatch`],
/// [`WebauthnError::CredentialOwnerUnknown`], or any error of
/// [`verify_authentication`].
pub fn finish_authentication(
    rp: &RelyingParty,
    state: &AuthenticationState,
    response: &AuthenticationResponseJson,
    credential: &StoredCredential,
    now: UnixTime,
) -> Result<VerifiedAuthentication, WebauthnError> {
    check_ceremony(state, response, credential, now)?;
    verify_authentication(&ceremony_input(rp, state), credential, response)
}

/// As [`finish_authentication`], for a response parsed once when it was received
/// ([`ParsedAuthentication`]: routed to its ceremony by the claimed challenge, then
/// finished without parsing `clientDataJSON` again).
///
/// # Errors
/// As [`finish_authentication`].
pub fn finish_parsed_authentication(
    rp: &RelyingParty,
    state: &AuthenticationState,
    parsed: &ParsedAuthentication,
    credential: &StoredCredential,
    now: UnixTime,
) -> Result<VerifiedAuthentication, WebauthnError> {
    check_ceremony(state, &parsed.response, credential, now)?;
    verify_parsed_authentication(&ceremony_input(rp, state), credential, parsed)
}

fn ceremony_input<'a>(
    rp: &'a RelyingParty,
    state: &'a AuthenticationState,
) -> AuthenticationInput<'a> {
    AuthenticationInput::new(
        rp.id(),
        rp.origins(),
        state.challenge.as_slice(),
        &rp.policy,
    )
    .with_extensions(&state.extensions)
}

/// The ceremony's own checks before the assertion's: expiry, the allowed
/// credentials, the user handle and the credential's owner (WebAuthn L3 §7.2
/// step 6, as [`finish_authentication`] documents it).
fn check_ceremony(
    state: &AuthenticationState,
    response: &AuthenticationResponseJson,
    credential: &StoredCredential,
    now: UnixTime,
) -> Result<(), WebauthnError> {
    check_expiry(state.expires_at, now)?;
    if !state.allowed.is_empty() && !state.allowed.contains(&response.raw_id) {
        return Err(WebauthnError::CredentialNotAllowed);
    }
    let returned = response.response.user_handle.as_ref();
    let owner = credential.user_handle.as_deref();
    match &state.user_handle {
        // Discoverable: the userHandle is required and must be the credential's
        // recorded owner (a credential without one proves no user).
        None => {
            let handle = returned.ok_or(WebauthnError::UserHandleMissing)?;
            match owner {
                None => return Err(WebauthnError::CredentialOwnerUnknown),
                Some(owner) if owner != handle.as_slice() => {
                    return Err(WebauthnError::UserHandleMismatch);
                }
                Some(_) => {}
            }
        }
        // Identified user (WebAuthn L3 §7.2 step 6): a returned userHandle must be
        // that user's, and the credential must be theirs: its recorded owner is the
        // user, or (owner unknown) the ceremony's non-empty allow-list named it.
        Some(expected) => {
            if returned.is_some_and(|handle| handle != expected) {
                return Err(WebauthnError::UserHandleMismatch);
            }
            match owner {
                Some(owner) if owner != expected.as_slice() => {
                    return Err(WebauthnError::UserHandleMismatch);
                }
                Some(_) => {}
                // The allow-list check above let only its members through.
                None if !state.allowed.is_empty() => {}
                None => return Err(WebauthnError::CredentialOwnerUnknown),
            }
        }
    }
    Ok(())
}

/// An `AuthenticationResponseJSON` parsed once, as received: the JSON read and its
/// `clientDataJSON` parsed. Route it to its ceremony by
/// [`claimed_challenge`](Self::claimed_challenge), then finish it with
/// [`finish_parsed_authentication`]; nothing is parsed twice.
#[derive(Clone, Debug)]
pub struct ParsedAuthentication {
    response: AuthenticationResponseJson,
    client_data: CollectedClientData,
}

impl ParsedAuthentication {
    /// Parses the response JSON bytes as received (bounded by
    /// [`MAX_RESPONSE_JSON_BYTES`](crate::limits::MAX_RESPONSE_JSON_BYTES)) and its
    /// `clientDataJSON`.
    ///
    /// # Errors
    /// [`ParseError`] when the JSON or its `clientDataJSON` cannot be read.
    pub fn from_slice(json: &[u8]) -> Result<Self, ParseError> {
        Self::new(AuthenticationResponseJson::from_slice(json)?)
    }

    /// Parses the `clientDataJSON` of an already read response.
    ///
    /// # Errors
    /// [`ParseError`] when `clientDataJSON` cannot be read.
    pub fn new(response: AuthenticationResponseJson) -> Result<Self, ParseError> {
        let client_data =
            CollectedClientData::parse(response.response.client_data_json.as_slice())?;
        Ok(Self {
            response,
            client_data,
        })
    }

    /// The response as read.
    #[must_use]
    pub const fn response(&self) -> &AuthenticationResponseJson {
        &self.response
    }

    /// Its parsed `clientDataJSON` (unchecked until the ceremony is finished).
    #[must_use]
    pub const fn client_data(&self) -> &CollectedClientData {
        &self.client_data
    }

    /// The challenge bytes the client data **claims**: untrusted, for routing only
    /// (the finish compares the whole stored challenge in constant time).
    ///
    /// # Errors
    /// [`ParseError::Base64`] when the claimed challenge is not base64url.
    pub fn claimed_challenge(&self) -> Result<Vec<u8>, ParseError> {
        self.client_data.claimed_challenge()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url;
    use crate::registration::{CHALLENGE_BYTES, MAX_CHALLENGE_PREFIX_BYTES};
    use p256::ecdsa::signature::Signer as _;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;

    const ORIGIN: &str = "https://example.org";

    fn rp() -> RelyingParty {
        RelyingParty::new("example.org", "Example", vec![ORIGIN.to_owned()]).unwrap()
    }

    fn key() -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[5; 32]).unwrap()
    }

    fn stored() -> StoredCredential {
        let point = key().verifying_key().to_encoded_point(false);
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(point.x().unwrap());
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(point.y().unwrap());
        StoredCredential::new(vec![0xc2; 16], &cose, 0, Some(false))
            .unwrap()
            .with_user_handle(b"user-1".to_vec())
    }

    /// A signed assertion (counter 1) answering `challenge`.
    fn assertion(challenge: &[u8]) -> AuthenticationResponseJson {
        let client_data = format!(
            r#"{{"type":"webauthn.get","challenge":"{}","origin":"{ORIGIN}"}}"#,
            base64url::encode(challenge)
        );
        let mut auth_data = sha256(b"example.org").to_vec();
        auth_data.push(0x05);
        auth_data.extend_from_slice(&1_u32.to_be_bytes());
        let mut message = auth_data.clone();
        message.extend_from_slice(&sha256(client_data.as_bytes()));
        let signature: p256::ecdsa::Signature = key().sign(&message);
        let id = base64url::encode(&[0xc2; 16]);
        AuthenticationResponseJson::from_json(
            &serde_json::json!({
                "id": id, "rawId": id, "type": "public-key",
                "response": {
                    "clientDataJSON": base64url::encode(client_data.as_bytes()),
                    "authenticatorData": base64url::encode(&auth_data),
                    "signature": base64url::encode(signature.to_der().as_bytes()),
                    "userHandle": base64url::encode(b"user-1"),
                },
            })
            .to_string(),
        )
        .unwrap()
    }

    fn start(prefix: &[u8], seed: u64) -> (RequestOptionsJson, AuthenticationState) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        start_authentication_with_prefix(&rp(), None, prefix, UnixTime::EPOCH, &mut rng).unwrap()
    }

    #[test]
    fn prefixed_challenges_route_but_the_whole_challenge_is_compared() {
        let (options, state) = start(b"challenge-a", 1);
        let challenge = options.challenge.as_slice();
        assert_eq!(challenge.len(), 11 + CHALLENGE_BYTES);
        assert!(challenge.starts_with(b"challenge-a"));
        let good = assertion(challenge);
        assert_eq!(good.claimed_challenge().unwrap(), challenge);
        let verified =
            finish_authentication(&rp(), &state, &good, &stored(), UnixTime::EPOCH).unwrap();
        assert_eq!(verified.sign_count, 1);

        // A forged prefix naming ceremony b with ceremony a's random part.
        let (_, state_b) = start(b"challenge-b", 2);
        let mut forged = b"challenge-b".to_vec();
        forged.extend_from_slice(challenge.get(11..).unwrap());
        let forged = assertion(&forged);
        for state in [&state, &state_b] {
            assert!(matches!(
                finish_authentication(&rp(), state, &forged, &stored(), UnixTime::EPOCH),
                Err(WebauthnError::ChallengeMismatch)
            ));
        }
    }

    #[test]
    fn prefix_length_is_bounded() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let long = [1_u8; MAX_CHALLENGE_PREFIX_BYTES + 1];
        assert!(matches!(
            start_authentication_with_prefix(&rp(), None, &long, UnixTime::EPOCH, &mut rng),
            Err(WebauthnError::ChallengePrefixTooLong { len: 33, max: 32 })
        ));
        let (options, _) = start(&long[1..], 4);
        assert_eq!(
            options.challenge.as_slice().len(),
            MAX_CHALLENGE_PREFIX_BYTES + CHALLENGE_BYTES
        );
        // Without a prefix it is start_authentication's 32 random bytes.
        let (plain, _) = start(b"", 4);
        assert_eq!(plain.challenge.as_slice().len(), CHALLENGE_BYTES);
    }
}
