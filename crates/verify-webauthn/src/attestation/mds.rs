//! FIDO Metadata Service (MDS3) BLOBs as an offline source of per-AAGUID trust anchors.
//!
//! The host downloads the BLOB (a compact JWS) itself, on its own schedule, and passes
//! the text in with the FIDO MDS root it trusts and the current time; verify checks the
//! JWS signature and its `x5c` chain to that root at `now`, then adds every entry's
//! `attestationRootCertificates` as roots scoped to the entry's AAGUID. Entries without
//! an AAGUID (U2F key identifiers), entries with any compromise status report, and
//! certificates that do not parse are skipped and counted. `nextUpdate` is returned,
//! not enforced: the host decides how stale a BLOB it accepts.
//!
//! The import also records:
//!
//! - **refused AAGUIDs**: every entry with a compromise status report (`REVOKED`,
//!   `ATTESTATION_KEY_COMPROMISE`, `USER_VERIFICATION_BYPASS`,
//!   `USER_KEY_REMOTE_COMPROMISE`, `USER_KEY_PHYSICAL_COMPROMISE`) *anywhere* in its
//!   `statusReports`, not only as the last one. MDS3 lists the reports that apply to
//!   the authenticator and defines no report that cancels a compromise; a later
//!   `UPDATE_AVAILABLE` or `FIDO_CERTIFIED*` concerns a newer firmware, which
//!   authData does not tell apart from the compromised one, and an
//!   `ATTESTATION_KEY_COMPROMISE` naming one batch `certificate` is applied to the
//!   whole AAGUID. Both choices fail closed. A registration whose authData names a
//!   refused AAGUID is refused under every trust policy and every format, `none` and
//!   self attestation included ([`TrustAnchors::refusal`]); the all-zero AAGUID
//!   (unknown; always so for `fido-u2f`) is never refused.
//! - **metadata** per AAGUID ([`TrustAnchors::metadata`]): the statement's
//!   `description` (at most [`MAX_DESCRIPTION_CHARS`] characters, cut beyond) and
//!   `icon` (a `data:image/png;base64,` URL of at most [`MAX_ICON_BYTES`], else
//!   dropped), for display only.
//!
//! An expired root in an entry is added like any other (it is counted in
//! `roots_added`) and vouches for nothing outside its validity: anchors are checked
//! at each registration's `now`.

use base64::Engine as _;
use serde::Deserialize;

use super::AttestationError;
use super::jws::{B64, B64URL, CompactJws};
use super::trust::{AnchorScope, TrustAnchors};
use super::x509::{self, Cert};

/// The largest BLOB accepted (the production BLOB is a few MiB).
const MAX_BLOB_LEN: usize = 64 * 1024 * 1024;

/// Status reports after which an authenticator's attestation is not trusted.
const COMPROMISED: [&str; 5] = [
    "REVOKED",
    "ATTESTATION_KEY_COMPROMISE",
    "USER_VERIFICATION_BYPASS",
    "USER_KEY_REMOTE_COMPROMISE",
    "USER_KEY_PHYSICAL_COMPROMISE",
];

/// The longest `description` kept, in characters (MDS3 asks for at most 200).
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// The largest `icon` kept, in bytes of its `data:` URL.
pub const MAX_ICON_BYTES: usize = 128 * 1024;

/// The [`AttestationError::MdsCheck`] checks a refused AAGUID fails, one per
/// compromise status (the error of a refused registration is
/// `AttestationError::MdsCheck { check }` with one of these).
pub const REFUSAL_CHECKS: [&str; 5] = [
    "AAGUID has no REVOKED status report",
    "AAGUID has no ATTESTATION_KEY_COMPROMISE status report",
    "AAGUID has no USER_VERIFICATION_BYPASS status report",
    "AAGUID has no USER_KEY_REMOTE_COMPROMISE status report",
    "AAGUID has no USER_KEY_PHYSICAL_COMPROMISE status report",
];

/// The check of an AAGUID refused by [`TrustAnchors::refuse_aaguid`].
pub const HOST_REFUSAL_CHECK: &str = "AAGUID is not refused by the host";

/// What an MDS3 entry says about an authenticator model, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticatorMetadata {
    /// The statement's `description` (at most [`MAX_DESCRIPTION_CHARS`] characters).
    pub description: String,
    /// The statement's `icon`, a `data:image/png;base64,` URL of at most
    /// [`MAX_ICON_BYTES`] (`None` when absent, larger, or of another kind).
    pub icon: Option<String>,
    /// The status of the entry's last status report (`"FIDO_CERTIFIED_L1"`, ...),
    /// when it is a plain upper-case name of at most 64 bytes.
    pub status: Option<String>,
}

/// What [`TrustAnchors::add_mds3_blob`] imported.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MdsImport {
    /// The BLOB's serial number (`no`).
    pub serial: u64,
    /// The BLOB's `nextUpdate` date (`YYYY-MM-DD`), for the host's freshness policy.
    pub next_update: String,
    /// Roots added (each scoped to its entry's AAGUID).
    pub roots_added: usize,
    /// Entries whose roots were not added: no AAGUID, a compromise status, or an
    /// unparsable root.
    pub entries_skipped: usize,
    /// AAGUIDs refused for a compromise status report (see the module docs).
    pub aaguids_refused: usize,
    /// AAGUIDs with a description recorded ([`TrustAnchors::metadata`]).
    pub metadata_recorded: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    no: u64,
    next_update: String,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    aaguid: Option<String>,
    #[serde(default)]
    metadata_statement: Option<Statement>,
    #[serde(default)]
    status_reports: Vec<StatusReport>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(default)]
    attestation_root_certificates: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    icon: Option<String>,
}

#[derive(Deserialize)]
struct StatusReport {
    status: String,
}

/// The refusal check of a compromise status, if `status` is one.
fn refusal_check(status: &str) -> Option<&'static str> {
    COMPROMISED
        .iter()
        .zip(REFUSAL_CHECKS)
        .find(|(s, _)| **s == status)
        .map(|(_, check)| check)
}

fn metadata_of(entry: &Entry) -> Option<AuthenticatorMetadata> {
    let statement = entry.metadata_statement.as_ref()?;
    let description: String = statement
        .description
        .as_deref()?
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DESCRIPTION_CHARS)
        .collect();
    let icon = statement.icon.as_ref().filter(|icon| {
        icon.len() <= MAX_ICON_BYTES
            && icon
                .strip_prefix("data:image/png;base64,")
                .is_some_and(|b64| {
                    b64.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                })
    });
    let status = entry
        .status_reports
        .last()
        .map(|r| r.status.as_str())
        .filter(|s| {
            s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        });
    Some(AuthenticatorMetadata {
        description,
        icon: icon.cloned(),
        status: status.map(str::to_owned),
    })
}

const fn check(check: &'static str) -> AttestationError {
    AttestationError::MdsCheck { check }
}

impl TrustAnchors {
    /// Verifies a FIDO MDS3 BLOB against `mds_roots` at `now` and adds its entries'
    /// attestation roots, each scoped to the entry's AAGUID, the AAGUIDs it reports
    /// compromised (refused at registration whatever the attestation), and each
    /// entry's description and icon (see the `mds` module docs).
    ///
    /// # Errors
    /// [`AttestationError::MdsCheck`] for a malformed BLOB or a chain that does not reach
    /// `mds_roots`, [`AttestationError::SignatureInvalid`] for a bad signature, and the
    /// certificate errors of the BLOB's `x5c` (validity at `now`, issuers). Nothing is
    /// added on error.
    pub fn add_mds3_blob(
        &mut self,
        blob: &str,
        mds_roots: &Self,
        now: verify_model::UnixTime,
    ) -> Result<MdsImport, AttestationError> {
        if blob.len() > MAX_BLOB_LEN {
            return Err(check("BLOB size <= 64 MiB"));
        }
        let blob = blob.trim();
        let jws = CompactJws::parse(blob, "BLOB is a compact JWS", check)?;
        let chain = jws.verify_with_x5c("mds3")?;
        x509::check_chain(&chain, now, x509::Sha1::Refused)?;
        if !mds_roots.chain_reaches_any(&chain, now) {
            return Err(check("BLOB signing chain reaches an MDS root"));
        }

        let payload: Payload = B64URL
            .decode(jws.payload_b64())
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or(check("JWS payload is an MDS3 metadata BLOB payload"))?;
        let mut added: Vec<(AnchorScope, Cert)> = Vec::new();
        let mut refused: Vec<([u8; 16], &'static str)> = Vec::new();
        let mut metadata: Vec<([u8; 16], AuthenticatorMetadata)> = Vec::new();
        let mut skipped = 0_usize;
        for entry in &payload.entries {
            let refusal = entry
                .status_reports
                .iter()
                .find_map(|r| refusal_check(&r.status));
            let compromised = refusal.is_some();
            let aaguid = entry
                .aaguid
                .as_deref()
                .and_then(parse_aaguid)
                .filter(|a| *a != [0; 16]);
            if let Some(aaguid) = aaguid {
                if let Some(check) = refusal {
                    refused.push((aaguid, check));
                }
                if let Some(about) = metadata_of(entry) {
                    metadata.push((aaguid, about));
                }
            }
            let roots: Option<Vec<Cert>> = entry.metadata_statement.as_ref().and_then(|s| {
                s.attestation_root_certificates
                    .iter()
                    .enumerate()
                    .map(|(i, c)| B64.decode(c).ok().and_then(|der| Cert::parse(&der, i).ok()))
                    .collect()
            });
            match (aaguid, roots, compromised) {
                (Some(aaguid), Some(roots), false) if !roots.is_empty() => {
                    added.extend(roots.into_iter().map(|c| (AnchorScope::Aaguid(aaguid), c)));
                }
                _ => skipped = skipped.saturating_add(1),
            }
        }
        let roots_added = added.len();
        self.extend_checked(added)?;
        let aaguids_refused = refused.len();
        let metadata_recorded = metadata.len();
        self.extend_mds(refused, metadata);
        Ok(MdsImport {
            serial: payload.no,
            next_update: payload.next_update,
            roots_added,
            entries_skipped: skipped,
            aaguids_refused,
            metadata_recorded,
        })
    }
}

/// `"4b92a377-fc5f-6107-c4c8-5c190adbfd99"` → 16 bytes.
fn parse_aaguid(text: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 || text.len() != 36 {
        return None;
    }
    let mut out = [0_u8; 16];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digits = core::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(digits, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aaguids_are_parsed_with_dashes_only() {
        assert_eq!(
            parse_aaguid("4b92a377-fc5f-6107-c4c8-5c190adbfd99"),
            Some([
                0x4b, 0x92, 0xa3, 0x77, 0xfc, 0x5f, 0x61, 0x07, 0xc4, 0xc8, 0x5c, 0x19, 0x0a, 0xdb,
                0xfd, 0x99
            ])
        );
        assert_eq!(parse_aaguid("4b92a377fc5f6107c4c85c190adbfd99"), None);
        assert_eq!(parse_aaguid("4b92a377-fc5f-6107-c4c8-5c190adbfd9g"), None);
    }

    #[test]
    fn malformed_blobs_are_rejected() {
        let mut anchors = TrustAnchors::new();
        let roots = TrustAnchors::new();
        let now = verify_model::UnixTime::from_secs(0);
        assert_eq!(
            anchors.add_mds3_blob("a.b", &roots, now).unwrap_err(),
            AttestationError::MdsCheck {
                check: "BLOB is a compact JWS"
            }
        );
        assert!(anchors.add_mds3_blob("!.!.!", &roots, now).is_err());
        assert!(anchors.is_empty());
    }
}
