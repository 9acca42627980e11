//! Size and nesting limits on untrusted input, each named.

/// Largest `clientDataJSON` accepted, in bytes (browsers send well under 1 KiB; the
/// margin covers long origins and extra members).
pub const MAX_CLIENT_DATA_JSON_BYTES: usize = 16 * 1024;
/// Largest attestation object accepted, in bytes (TPM and android-key chains with
/// several certificates stay under 16 KiB).
pub const MAX_ATTESTATION_OBJECT_BYTES: usize = 64 * 1024;
/// Largest authenticator data accepted, in bytes.
pub const MAX_AUTHENTICATOR_DATA_BYTES: usize = 16 * 1024;
/// Largest credential id (WebAuthn L3 §5.8.3: at most 1023 bytes).
pub const MAX_CREDENTIAL_ID_BYTES: usize = 1023;
/// Largest user handle (WebAuthn L3 §5.4.3: at most 64 bytes).
pub const MAX_USER_HANDLE_BYTES: usize = 64;
/// Largest assertion signature, in bytes (an 8192-bit RSA signature).
pub const MAX_SIGNATURE_BYTES: usize = 1024;
/// Largest encoded COSE_Key, in bytes (an 8192-bit RSA key is about 1.1 KiB).
pub const MAX_COSE_KEY_BYTES: usize = 2048;
/// Largest response JSON document accepted by the `from_json` constructors, in
/// bytes.
pub const MAX_RESPONSE_JSON_BYTES: usize = 128 * 1024;
/// Deepest CBOR nesting accepted (the deepest legitimate structure, an attestation
/// statement inside the attestation object, nests four levels).
pub const MAX_CBOR_DEPTH: usize = 16;
/// Largest number of entries in `allowCredentials` / `excludeCredentials` emitted:
/// enough for every passkey a user may hold in the `verify-engine` crate (100), so a
/// sign-in by identity offers all of them. Browsers pass longer lists to the
/// authenticator in batches; the bound keeps options and ceremony state small
/// (at most about 136 KiB of base64 even with 1023-byte credential ids).
pub const MAX_CREDENTIAL_DESCRIPTORS: usize = 100;
/// Most transports kept from a client's `transports` (a registration response, a
/// credential descriptor, a stored [`CredentialRecord`]): after unknown values are
/// dropped and repeated ones merged (see [`wire::known_transports`]), so every
/// known value fits; the verify-model record accepts as many.
///
/// [`CredentialRecord`]: crate::registration::CredentialRecord
/// [`wire::known_transports`]: crate::wire::known_transports
pub const MAX_TRANSPORTS: usize = 8;
const _: () = assert!(
    MAX_TRANSPORTS >= crate::wire::KNOWN_TRANSPORTS.len()
        && MAX_TRANSPORTS <= verify_model::limits::MAX_TRANSPORTS
);
/// Largest PRF output (`prf.results.first` / `second`) accepted from a client, in
/// bytes: CTAP `hmac-secret` outputs are 32 bytes; the margin covers other
/// authenticator implementations without letting a client hand the host arbitrary
/// data.
pub const MAX_PRF_OUTPUT_BYTES: usize = 64;
/// Most `prf.evalByCredential` entries in one request: one per allowed credential.
pub const MAX_PRF_EVAL_BY_CREDENTIAL: usize = MAX_CREDENTIAL_DESCRIPTORS;
/// Largest `largeBlob.blob` accepted from a client, in bytes (CTAP 2.1 authenticators
/// store a few KiB; the whole response is bounded by [`MAX_RESPONSE_JSON_BYTES`]).
pub const MAX_LARGE_BLOB_BYTES: usize = 64 * 1024;
/// Most inner statements in a `compound` attestation statement (WebAuthn L3 §8.9:
/// at least two): one per format a device could plausibly combine.
pub const MAX_COMPOUND_STATEMENTS: usize = 8;
