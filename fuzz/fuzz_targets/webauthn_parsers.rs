//! The entry points of the `webauthn_*` fuzz targets, shared with
//! `crates/verify-webauthn/tests/fuzz_corpus.rs`, which replays every committed corpus
//! file through the same functions under `cargo test`.
//!
//! Each function feeds untrusted bytes to the public parser verify-webauthn uses for
//! that input and checks what is cheap to check: nothing panics, a parsed value's
//! encoded length fits the input, re-encoded bytes round-trip. Errors are the
//! expected outcome for almost every input and are ignored.

use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};
use verify_model::UnixTime;
use verify_webauthn::attestation::{
    AttestationFormat, AttestationPolicy, StatementInput, TrustAnchors, verify_statement,
};
use verify_webauthn::authentication::{
    AuthenticationInput, StoredCredential, verify_authentication,
};
use verify_webauthn::authenticator_data::AuthenticatorData;
use verify_webauthn::client_data::{CollectedClientData, is_valid_origin};
use verify_webauthn::cose::CoseKey;
use verify_webauthn::limits::MAX_CREDENTIAL_ID_BYTES;
use verify_webauthn::policy::CeremonyPolicy;
use verify_webauthn::registration::{AttestationObject, RegistrationInput, verify_registration};
use verify_webauthn::wire::{AuthenticationResponseJson, RegistrationResponseJson};

/// A registration to splice fuzzed statement parts into: the raw attestation object
/// and clientDataJSON of a W3C L3 test vector.
struct Template {
    auth_data: Vec<u8>,
    client_data_hash: [u8; 32],
    statement: Vec<(ciborium::Value, ciborium::Value)>,
    cose_key: Vec<u8>,
    credential_id: Vec<u8>,
    aaguid: [u8; 16],
}

impl Template {
    /// Splits the vector by hand (rpIdHash 32, flags 1, signCount 4, AAGUID 16, credential
    /// id length 2, credential id, COSE key), so a parser bug cannot hide here.
    fn new(attestation_object: &[u8], client_data_json: &[u8]) -> Option<Self> {
        let value: ciborium::Value = ciborium::de::from_reader(attestation_object).ok()?;
        let map = value.into_map().ok()?;
        let mut auth_data = None;
        let mut statement = None;
        for (key, value) in map {
            match key.as_text() {
                Some("authData") => auth_data = value.into_bytes().ok(),
                Some("attStmt") => statement = value.into_map().ok(),
                _ => {}
            }
        }
        let auth_data = auth_data?;
        let aaguid: [u8; 16] = auth_data.get(37..53)?.try_into().ok()?;
        let id_len = usize::from(u16::from_be_bytes(auth_data.get(53..55)?.try_into().ok()?));
        let credential_id = auth_data.get(55..55 + id_len)?.to_vec();
        let key_bytes = auth_data.get(55 + id_len..)?;
        let (_, key_len) = CoseKey::from_prefix(key_bytes).ok()?;
        let cose_key = key_bytes.get(..key_len)?.to_vec();
        Some(Self {
            client_data_hash: Sha256::digest(client_data_json).into(),
            auth_data,
            statement: statement?,
            cose_key,
            credential_id,
            aaguid,
        })
    }

    /// Verifies the template's statement with `field` replaced by `replacement`,
    /// against the vectors' own CA as the only anchor, at a time inside its validity.
    fn verify_with(&self, format: AttestationFormat, field: &str, replacement: ciborium::Value) {
        let Ok(key) = CoseKey::from_bytes(&self.cose_key) else {
            return;
        };
        let mut entries = self.statement.clone();
        for (key, value) in &mut entries {
            if key.as_text() == Some(field) {
                *value = replacement.clone();
            }
        }
        let statement = ciborium::Value::Map(entries);
        let trust = anchors();
        let policy = AttestationPolicy::default();
        let input = StatementInput::new(
            &self.auth_data,
            &self.client_data_hash,
            self.aaguid,
            &self.credential_id,
            key.material(),
            key.algorithm(),
            &statement,
            UnixTime::from_secs(1_800_000_000),
            trust,
            &policy,
        );
        if let Ok(verified) = verify_statement(format, &input) {
            assert_eq!(verified.format, format);
        }
    }
}

/// The W3C vectors' attestation CA (`sctn-test-vectors-attestation-root-cert`), as a
/// one-certificate CBOR `x5c` array (itself a corpus seed).
const W3C_CA_X5C: &[u8] = include_bytes!("../corpus/webauthn_x5c_chain/w3c-ca-only.cbor");

fn anchors() -> &'static TrustAnchors {
    static ANCHORS: OnceLock<TrustAnchors> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let der = ciborium::de::from_reader::<ciborium::Value, _>(W3C_CA_X5C)
            .ok()
            .and_then(|value| value.into_array().ok())
            .and_then(|certs| certs.into_iter().next())
            .and_then(|cert| cert.into_bytes().ok())
            .unwrap_or_default();
        TrustAnchors::from_der([der.as_slice()]).unwrap_or_default()
    })
}

fn packed_template() -> Option<&'static Template> {
    static TEMPLATE: OnceLock<Option<Template>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            Template::new(
                include_bytes!("../corpus/webauthn_attestation_object/w3c-packed-es256.cbor"),
                include_bytes!("../corpus/webauthn_client_data/w3c-packed-es256-reg.json"),
            )
        })
        .as_ref()
}

fn tpm_template() -> Option<&'static Template> {
    static TEMPLATE: OnceLock<Option<Template>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            Template::new(
                include_bytes!("../corpus/webauthn_attestation_object/w3c-tpm-es256.cbor"),
                include_bytes!("../corpus/webauthn_client_data/w3c-tpm-es256-reg.json"),
            )
        })
        .as_ref()
}

/// `webauthn_cose_key`: a credential public key (COSE_Key bytes).
pub(crate) fn cose_key(data: &[u8]) {
    if let Ok((key, used)) = CoseKey::from_prefix(data) {
        assert!(used <= data.len());
        assert_eq!(Some(key.as_bytes()), data.get(..used));
        // The stored bytes parse back to the same key.
        let again = CoseKey::from_bytes(key.as_bytes()).map(|k| k.cose_algorithm());
        assert_eq!(again.ok(), Some(key.cose_algorithm()));
    }
    if let Ok(key) = CoseKey::from_bytes(data) {
        assert_eq!(key.as_bytes(), data);
    }
}

/// `webauthn_x5c_chain`: a CBOR `x5c` array (what `attStmt.x5c` holds), spliced into
/// the W3C packed ES256 registration and verified as a packed statement.
pub(crate) fn x5c_chain(data: &[u8]) {
    let Some(template) = packed_template() else {
        return;
    };
    let Ok(x5c) = ciborium::de::from_reader::<ciborium::Value, _>(data) else {
        return;
    };
    template.verify_with(AttestationFormat::Packed, "x5c", x5c);
}

/// `webauthn_tpm_structures`: the first byte picks the TPM structure (even: `pubArea`,
/// odd: `certInfo`), the rest replaces it in the W3C TPM registration.
pub(crate) fn tpm_structures(data: &[u8]) {
    let Some(template) = tpm_template() else {
        return;
    };
    let Some((selector, body)) = data.split_first() else {
        return;
    };
    let field = if selector % 2 == 0 {
        "pubArea"
    } else {
        "certInfo"
    };
    template.verify_with(
        AttestationFormat::Tpm,
        field,
        ciborium::Value::Bytes(body.to_vec()),
    );
}

/// `webauthn_authenticator_data`: raw authenticator data (registration or assertion).
pub(crate) fn authenticator_data(data: &[u8]) {
    if let Ok(parsed) = AuthenticatorData::parse(data) {
        assert_eq!(parsed.raw, data);
        assert!(data.len() >= 37);
        assert_eq!(Some(parsed.rp_id_hash.as_slice()), data.get(..32));
        assert_eq!(Some(&parsed.flags.bits()), data.get(32));
        // AT and ED are set exactly when their parts are present.
        assert_eq!(
            parsed.flags.attested_credential_data(),
            parsed.attested_credential_data.is_some()
        );
        assert_eq!(parsed.flags.extension_data(), parsed.extensions.is_some());
        if let Some(attested) = &parsed.attested_credential_data {
            assert!(attested.credential_id.len() <= MAX_CREDENTIAL_ID_BYTES);
            cose_key(attested.public_key.as_bytes());
        }
    }
}

/// `webauthn_client_data`: raw `clientDataJSON` bytes.
pub(crate) fn client_data(data: &[u8]) {
    if let Ok(parsed) = CollectedClientData::parse(data) {
        // The origin check must cope with whatever string the client sent.
        let _ = is_valid_origin(&parsed.origin);
        if let Some(top) = &parsed.top_origin {
            let _ = is_valid_origin(top);
        }
    }
}

/// `webauthn_attestation_object`: a raw attestation object, decoded by the library's
/// parser; its authenticator data and statement are then checked as a registration
/// would (against the W3C packed ES256 client data hash).
pub(crate) fn attestation_object(data: &[u8]) {
    let Ok(object) = AttestationObject::parse(data) else {
        return;
    };
    authenticator_data(&object.auth_data);
    let Some(format) = AttestationFormat::from_name(&object.format) else {
        return;
    };
    let Ok(parsed) = AuthenticatorData::parse(&object.auth_data) else {
        return;
    };
    let Some(attested) = &parsed.attested_credential_data else {
        return;
    };
    let client_data_hash = packed_template().map_or([0; 32], |t| t.client_data_hash);
    let policy = AttestationPolicy::default();
    let input = StatementInput::new(
        &object.auth_data,
        &client_data_hash,
        attested.aaguid,
        &attested.credential_id,
        attested.public_key.material(),
        attested.public_key.algorithm(),
        &object.statement,
        UnixTime::from_secs(1_800_000_000),
        anchors(),
        &policy,
    );
    if let Ok(verified) = verify_statement(format, &input) {
        assert_eq!(verified.format, format);
    }
}

/// `webauthn_registration_json`: a `RegistrationResponseJSON` text, parsed and then
/// verified as a registration for rp `example.org` / `https://example.org` with the
/// challenge its own clientDataJSON claims (so the fuzzer reaches the deep checks).
pub(crate) fn registration_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(response) = RegistrationResponseJson::from_json(text) else {
        return;
    };
    let _ = response.check_envelope();
    client_data(response.response.client_data_json.as_slice());
    attestation_object(response.response.attestation_object.as_slice());
    let challenge = claimed_challenge(response.response.client_data_json.as_slice());
    let policy = CeremonyPolicy::default();
    for (rp_id, origin) in CONTEXTS {
        let origins = [(*origin).to_owned()];
        let input = RegistrationInput::new(
            rp_id,
            &origins,
            &challenge,
            &policy,
            anchors(),
            UnixTime::from_secs(1_800_000_000),
        );
        if let Ok(verified) = verify_registration(&input, &response) {
            let record = &verified.credential;
            assert_eq!(record.id.as_slice(), response.raw_id.as_slice());
            cose_key(record.public_key_cose.as_slice());
        }
    }
}

/// `webauthn_authentication_json`: an `AuthenticationResponseJSON` text, parsed and
/// verified against a stored credential made from the first W3C vector's key with the
/// response's own id and claimed challenge.
pub(crate) fn authentication_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(response) = AuthenticationResponseJson::from_json(text) else {
        return;
    };
    let _ = response.check_envelope();
    client_data(response.response.client_data_json.as_slice());
    authenticator_data(response.response.authenticator_data.as_slice());
    let Some(template) = packed_template() else {
        return;
    };
    let Ok(stored) = StoredCredential::new(
        response.raw_id.as_slice().to_vec(),
        &template.cose_key,
        0,
        None,
    ) else {
        return;
    };
    let challenge = claimed_challenge(response.response.client_data_json.as_slice());
    let policy = CeremonyPolicy::default();
    for (rp_id, origin) in CONTEXTS {
        let origins = [(*origin).to_owned()];
        let input = AuthenticationInput::new(rp_id, &origins, &challenge, &policy);
        if let Ok(verified) = verify_authentication(&input, &stored, &response) {
            assert_eq!(verified.credential_id, response.raw_id.as_slice());
        }
    }
}

/// The relying parties of the corpus seeds: the W3C vectors' and the Chromium captures'
/// (whose port varies; the first capture's is good enough for reaching deep code).
const CONTEXTS: &[(&str, &str)] = &[("example.org", "https://example.org")];

/// The challenge a clientDataJSON claims, decoded (empty when it has none).
fn claimed_challenge(client_data_json: &[u8]) -> Vec<u8> {
    CollectedClientData::parse(client_data_json)
        .ok()
        .and_then(|parsed| verify_webauthn::base64url::decode(&parsed.challenge, "challenge").ok())
        .unwrap_or_default()
}
