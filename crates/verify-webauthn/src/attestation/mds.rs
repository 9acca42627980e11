//! FIDO Metadata Service (MDS3) BLOBs as an offline source of per-AAGUID trust anchors.
//!
//! The host downloads the BLOB (a compact JWS) itself, on its own schedule, and passes
//! the text in with the FIDO MDS root it trusts and the current time; verify checks the
//! JWS signature and its `x5c` chain to that root at `now`, then adds every entry's
//! `attestationRootCertificates` as roots scoped to the entry's AAGUID. Entries without
//! an AAGUID (U2F key identifiers), entries with any compromise status report, and
//! certificates that do not parse are skipped and counted. `nextUpdate` is returned,
//! not enforced: the host decides how stale a BLOB it accepts.

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
    /// Entries skipped: no AAGUID, a compromise status, or an unparsable root.
    pub entries_skipped: usize,
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
}

#[derive(Deserialize)]
struct StatusReport {
    status: String,
}

const fn check(check: &'static str) -> AttestationError {
    AttestationError::MdsCheck { check }
}

impl TrustAnchors {
    /// Verifies a FIDO MDS3 BLOB against `mds_roots` at `now` and adds its entries'
    /// attestation roots, each scoped to the entry's AAGUID (see the `mds` module docs).
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
        let mut skipped = 0_usize;
        for entry in &payload.entries {
            let compromised = entry
                .status_reports
                .iter()
                .any(|r| COMPROMISED.contains(&r.status.as_str()));
            let aaguid = entry.aaguid.as_deref().and_then(parse_aaguid);
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
        Ok(MdsImport {
            serial: payload.no,
            next_update: payload.next_update,
            roots_added,
            entries_skipped: skipped,
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
