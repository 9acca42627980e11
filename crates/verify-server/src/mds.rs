//! FIDO metadata for passkey attestation: `--mds-blob` and `--mds-root`.
//!
//! The operator downloads the FIDO MDS3 BLOB (`https://mds3.fidoalliance.org/`)
//! on their own schedule and points `--mds-blob` at the file, and `--mds-root` at
//! the FIDO root certificate they trust (PEM or DER). The server verifies the BLOB
//! against that root at start (a bad file refuses to start), then every service
//! without its own anchors gets its per-AAGUID attestation roots, refuses the
//! AAGUIDs it reports compromised (under every trust policy, `none` attestation
//! included), and knows each model's description and icon
//! (`verify_webauthn::attestation::TrustAnchors`).
//!
//! The BLOB file is looked at every [`RELOAD_INTERVAL`] and re-read when it
//! changed (length, modification time, inode): a BLOB that then fails to read or
//! verify keeps the anchors read before, with an error logged once per change.
//! Write the new BLOB to a temporary file and rename it into place.
//!
//! The root file is read once, at start. `nextUpdate` is logged, not enforced.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use verify_engine::model::UnixTime;
use verify_engine::{Clock, EngineConfig};

/// How often the BLOB file is looked at (an `fstat`; a read and verification only
/// when it changed).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The largest BLOB file read (the production BLOB is a few MiB).
pub const MAX_BLOB_BYTES: u64 = 64 * 1024 * 1024;

/// The largest root certificate file read.
pub const MAX_ROOT_BYTES: u64 = 1024 * 1024;

/// What tells a changed file from the one last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Fingerprint {
    fn of(metadata: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt as _;
            metadata.ino()
        };
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        }
    }
}

/// What one successful read imported, for the log and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MdsSummary {
    /// The BLOB's serial number.
    pub serial: u64,
    /// Its `nextUpdate` date.
    pub next_update: String,
    /// Attestation roots added.
    pub roots: usize,
    /// AAGUIDs refused.
    pub refused: usize,
}

/// The BLOB file, re-read into the engine's global trust anchors when it changes.
#[derive(Debug)]
pub struct WatchedMds {
    path: PathBuf,
    root: Vec<u8>,
    /// A clone of the engine's configuration: it shares the replaceable anchors.
    config: EngineConfig,
    interval: Duration,
    seen: Mutex<(Option<Fingerprint>, Option<String>)>,
}

fn read_bounded(path: &Path, max: u64) -> Result<(Vec<u8>, Fingerprint), String> {
    let describe = |e: std::io::Error| format!("{}: {e}", path.display());
    let file = File::open(path).map_err(describe)?;
    let metadata = file.metadata().map_err(describe)?;
    if metadata.len() > max {
        return Err(format!(
            "{}: {} bytes, more than the {max} accepted",
            path.display(),
            metadata.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(describe)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max {
        return Err(format!("{}: more than {max} bytes", path.display()));
    }
    Ok((bytes, Fingerprint::of(&metadata)))
}

fn read_blob(path: &Path) -> Result<(String, Fingerprint), String> {
    let (bytes, fingerprint) = read_bounded(path, MAX_BLOB_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{}: the BLOB is not UTF-8 text", path.display()))?;
    Ok((text, fingerprint))
}

impl WatchedMds {
    /// Reads and verifies the BLOB at `blob` against the root certificate at
    /// `root` (PEM or DER) at `now`, and returns `config` with the BLOB's anchors
    /// (pass it to the engine) and the watcher that replaces them on a change.
    ///
    /// # Errors
    /// A message naming the file and what is wrong with it.
    pub fn open(
        config: EngineConfig,
        blob: &Path,
        root: &Path,
        now: UnixTime,
    ) -> Result<(EngineConfig, Self, MdsSummary), String> {
        let (root_bytes, _) =
            read_bounded(root, MAX_ROOT_BYTES).map_err(|e| format!("--mds-root {e}"))?;
        let (text, fingerprint) = read_blob(blob).map_err(|e| format!("--mds-blob {e}"))?;
        let (config, import) = config.with_mds_blob(&text, &root_bytes, now).map_err(|e| {
            format!(
                "--mds-blob {}: not a FIDO MDS3 BLOB verified by --mds-root {}: {e}",
                blob.display(),
                root.display()
            )
        })?;
        let summary = MdsSummary {
            serial: import.serial,
            next_update: import.next_update,
            roots: import.roots_added,
            refused: import.aaguids_refused,
        };
        let watched = Self {
            path: blob.to_owned(),
            root: root_bytes,
            config: config.clone(),
            interval: RELOAD_INTERVAL,
            seen: Mutex::new((Some(fingerprint), None)),
        };
        Ok((config, watched, summary))
    }

    /// The same, looking at the file every `interval` in [`WatchedMds::run`].
    #[must_use]
    pub const fn with_reload_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The BLOB file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the BLOB if its file changed since it was last looked at:
    /// `Some(Ok(..))` when new anchors are in place, `Some(Err(..))` when the
    /// changed file was refused (the anchors in place stay; the error is logged
    /// once per change), `None` when nothing changed.
    pub fn reload_if_changed(&self, now: UnixTime) -> Option<Result<MdsSummary, String>> {
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        let fingerprint = File::open(&self.path)
            .and_then(|f| f.metadata())
            .map(|m| Fingerprint::of(&m));
        let result = match fingerprint {
            Ok(fingerprint) if seen.0 == Some(fingerprint) => return None,
            Ok(fingerprint) => {
                // Seen either way: a bad file is logged once, read again on change.
                seen.0 = Some(fingerprint);
                self.load(now)
            }
            Err(error) => Err(format!("{}: {error}", self.path.display())),
        };
        match &result {
            Ok(summary) => {
                seen.1 = None;
                tracing::info!(
                    path = %self.path.display(),
                    serial = summary.serial,
                    next_update = %summary.next_update,
                    roots = summary.roots,
                    refused_aaguids = summary.refused,
                    "FIDO metadata BLOB reloaded"
                );
            }
            Err(error) => {
                if seen.1.as_ref() == Some(error) {
                    return None;
                }
                tracing::error!(%error, "FIDO metadata BLOB not reloaded: keeping the anchors read before");
                seen.1 = Some(error.clone());
            }
        }
        Some(result)
    }

    fn load(&self, now: UnixTime) -> Result<MdsSummary, String> {
        let (text, _) = read_blob(&self.path)?;
        let import = self
            .config
            .replace_mds_blob(&text, &self.root, now)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        Ok(MdsSummary {
            serial: import.serial,
            next_update: import.next_update,
            roots: import.roots_added,
            refused: import.aaguids_refused,
        })
    }

    /// Looks at the file every interval until the process ends, verifying a
    /// changed BLOB on the blocking pool at the clock's `now`.
    pub async fn run(self: Arc<Self>, clock: Arc<dyn Clock>) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = match clock.now() {
                Ok(now) => now,
                Err(error) => {
                    tracing::error!(%error, "clock failed: FIDO metadata BLOB not looked at");
                    continue;
                }
            };
            let watched = Arc::clone(&self);
            let _ = tokio::task::spawn_blocking(move || watched.reload_if_changed(now)).await;
        }
    }
}
