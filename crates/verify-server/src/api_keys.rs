//! Scoped API keys, kept hashed in a keys file (`--api-keys-file`) and re-read
//! while the server runs, so keys rotate without a restart.
//!
//! A key is a sid (`SK` + 32 lower-case hex digits, the hosted service's API key
//! shape) and a secret; clients send them as the HTTP Basic username and password,
//! as the service's helper libraries do with API keys. Each key acts on every
//! service ([`KeyScope::AllServices`], `"*"` in the file) or on one
//! ([`KeyScope::Service`], its `VA…` sid); `crate::auth` enforces the scope from
//! the request path.
//!
//! The file is JSON, written by `verify-server api-keys create|revoke`
//! ([`create_key`], [`revoke_key`]) atomically (a temporary file renamed over it,
//! mode 0600 on Unix):
//!
//! ```json
//! {
//!   "version": 1,
//!   "keys": [
//!     {
//!       "sid": "SK0123456789abcdef0123456789abcdef",
//!       "friendly_name": "billing backend",
//!       "scope": "VA0123456789abcdef0123456789abcdef",
//!       "date_created": "2026-12-04T02:40:00Z",
//!       "secret_sha256": "…64 hex digits…"
//!     }
//!   ]
//! }
//! ```
//!
//! It holds the SHA-256 of each secret, never the secret: the secret is shown once,
//! when the key is created. A running server re-reads the file within
//! [`RELOAD_INTERVAL`] of a change ([`WatchedApiKeys`]); a file that fails to parse
//! keeps the keys read before and logs an error.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, TryLockError};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use rand_core::{CryptoRng, RngCore};
use subtle::ConstantTimeEq as _;
use verify_engine::model::{ServiceSid, UnixTime};

/// The file format's version, the `version` field (any other is refused, so a
/// future format is never half understood).
pub const FILE_VERSION: u32 = 1;

/// The most keys a file may hold: far more than the backends of one deployment,
/// few enough that a check and a reload stay cheap.
pub const MAX_KEYS: usize = 1_000;

/// The longest friendly name, in characters.
pub const MAX_FRIENDLY_NAME_CHARS: usize = 64;

/// The largest keys file read, in bytes: [`MAX_KEYS`] entries take about 300 KB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The bytes of a secret, from the OS random number generator: 256 bits.
pub const SECRET_BYTES: usize = 32;

/// How often, at most, a running server looks at the keys file for a change (one
/// open and `fstat` per interval, on the next request that presents a key sid).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The two letters every key sid begins with.
pub const SID_PREFIX: &str = "SK";

/// The bytes a sid's 32 hex digits encode.
const SID_BYTES: usize = 16;

/// The bytes of a SHA-256 digest.
const SHA256_BYTES: usize = 32;

/// Why a keys file, an entry or a key command was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeysError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{}: larger than {MAX_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A problem with the file as a whole (not JSON, an unknown field, the version,
    /// too many keys).
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A problem with one entry, named by its position (and sid, when it has one).
    #[error("{}: keys[{index}]{}: {problem}", path.display(), sid.as_ref().map(|sid| format!(" ({sid})")).unwrap_or_default())]
    Entry {
        /// The file.
        path: PathBuf,
        /// The entry's position in `keys`, from 0.
        index: usize,
        /// The entry's `sid`, when it is a string.
        sid: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// A text that is not a key sid (`SK` + 32 lower-case hex digits).
    #[error("{0:?} is not an API key sid (SK + 32 lower-case hex digits)")]
    BadSid(String),
    /// A friendly name that is too long or holds control characters.
    #[error("the friendly name {problem}")]
    BadName {
        /// What is wrong.
        problem: String,
    },
    /// `revoke` of a sid the file does not hold.
    #[error("{}: no key {sid}", path.display())]
    NoSuchKey {
        /// The file.
        path: PathBuf,
        /// The sid asked for.
        sid: ApiKeySid,
    },
    /// Another `api-keys` command holds the file's temporary file.
    #[error(
        "{}: another api-keys command is writing this file (or one was interrupted: \
         if none is running, remove {})",
        path.display(),
        temp.display()
    )]
    Busy {
        /// The file.
        path: PathBuf,
        /// The temporary file that serves as the writers' lock.
        temp: PathBuf,
    },
    /// The OS random number generator failed.
    #[error("the OS random number generator failed: {0}")]
    Rng(String),
}

/// An API key's sid: `SK` + 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKeySid([u8; SID_BYTES]);

impl ApiKeySid {
    /// A new random sid drawn from `rng`.
    ///
    /// # Errors
    /// [`ApiKeysError::Rng`] when `rng` fails.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Result<Self, ApiKeysError> {
        let mut bytes = [0_u8; SID_BYTES];
        rng.try_fill_bytes(&mut bytes)
            .map_err(|e| ApiKeysError::Rng(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// Parses `SK` + 32 lower-case hex digits (exactly the form this server writes
    /// and the hosted service uses).
    ///
    /// # Errors
    /// [`ApiKeysError::BadSid`] for any other text.
    pub fn parse(text: &str) -> Result<Self, ApiKeysError> {
        text.strip_prefix(SID_PREFIX)
            .and_then(decode_lower_hex::<SID_BYTES>)
            .map(Self)
            .ok_or_else(|| ApiKeysError::BadSid(shorten(text)))
    }
}

impl fmt::Display for ApiKeySid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SID_PREFIX}{}", hex(&self.0))
    }
}

impl fmt::Debug for ApiKeySid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySid({self})")
    }
}

impl std::str::FromStr for ApiKeySid {
    type Err = ApiKeysError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// What a key may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyScope {
    /// Every service, and the endpoints outside one (`POST` and `GET
    /// /v2/Services`, `/metrics`): `"*"` in the file. The operator's
    /// `--api-key` has this scope.
    AllServices,
    /// Only `/v2/Services/{sid}/...` of this service, and not its deletion.
    Service(ServiceSid),
}

impl KeyScope {
    /// The text in the file, `"*"`, stands for every service.
    pub const ALL_SERVICES: &'static str = "*";

    /// Parses `"*"` or a service sid.
    ///
    /// # Errors
    /// A message when the text is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == Self::ALL_SERVICES {
            return Ok(Self::AllServices);
        }
        ServiceSid::parse(text).map(Self::Service).map_err(|_| {
            format!(
                "scope {:?} is neither \"*\" nor a service sid (VA…)",
                shorten(text)
            )
        })
    }
}

impl fmt::Display for KeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AllServices => f.write_str(Self::ALL_SERVICES),
            Self::Service(sid) => write!(f, "{sid}"),
        }
    }
}

/// The SHA-256 of a secret. A secret is 256 bits from the OS random number
/// generator, so a fast hash is enough: a slow password hash (Argon2, bcrypt)
/// protects guessable passwords, and no one can enumerate 2^256 secrets, so
/// whoever reads the file cannot find a secret from its hash. Compared in constant
/// time; never shown by `Debug`.
#[derive(Clone, Copy)]
pub struct SecretHash([u8; SHA256_BYTES]);

impl SecretHash {
    /// The hash of `secret`, the text clients send as the password.
    #[must_use]
    pub fn of(secret: &str) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `other` is the same hash, in constant time.
    #[must_use]
    pub fn matches(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }

    fn to_hex(self) -> String {
        hex(&self.0)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// One key of the file.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiKey {
    /// The key sid, the HTTP Basic username.
    pub sid: ApiKeySid,
    /// What the operator calls it (at most [`MAX_FRIENDLY_NAME_CHARS`]).
    pub friendly_name: String,
    /// What it may act on.
    pub scope: KeyScope,
    /// When it was created.
    pub date_created: UnixTime,
    /// The SHA-256 of its secret.
    pub secret_sha256: SecretHash,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("sid", &self.sid)
            .field("friendly_name", &self.friendly_name)
            .field("scope", &self.scope)
            .field("date_created", &self.date_created)
            .field("secret_sha256", &"<redacted>")
            .finish()
    }
}

/// The file as written: every field required, no other allowed.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile<K> {
    version: u32,
    keys: Vec<K>,
}

/// An entry as written; its fields are checked one by one so an error names the
/// entry.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    sid: String,
    friendly_name: String,
    scope: String,
    date_created: String,
    secret_sha256: String,
}

/// The keys of a file, in file order, found by sid.
#[derive(Clone, Default)]
pub struct ApiKeys {
    keys: Vec<ApiKey>,
    by_sid: HashMap<ApiKeySid, usize>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|key| key.sid))
            .finish()
    }
}

impl ApiKeys {
    /// No keys.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a keys file's text; errors name `path` and, for an entry, its
    /// position and sid.
    ///
    /// # Errors
    /// [`ApiKeysError::File`] for text that is not a keys file (not JSON, an
    /// unknown or missing field, another version, more than [`MAX_KEYS`] keys);
    /// [`ApiKeysError::Entry`] for a bad entry (sid, friendly name, scope, date,
    /// hash) or a sid held twice.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ApiKeysError> {
        let file_error = |problem: String| ApiKeysError::File {
            path: path.to_owned(),
            problem,
        };
        let raw: RawFile<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| file_error(format!("not a keys file: {e}")))?;
        if raw.version != FILE_VERSION {
            return Err(file_error(format!(
                "version {} is not supported (this server reads version {FILE_VERSION})",
                raw.version
            )));
        }
        if raw.keys.len() > MAX_KEYS {
            return Err(file_error(format!(
                "{} keys: at most {MAX_KEYS} are allowed",
                raw.keys.len()
            )));
        }
        let mut keys = Self::new();
        for (index, value) in raw.keys.into_iter().enumerate() {
            let sid = value
                .get("sid")
                .and_then(serde_json::Value::as_str)
                .map(shorten);
            let entry_error = |problem: String| ApiKeysError::Entry {
                path: path.to_owned(),
                index,
                sid: sid.clone(),
                problem,
            };
            let raw: RawKey =
                serde_json::from_value(value).map_err(|e| entry_error(e.to_string()))?;
            let key = ApiKey::from_raw(&raw).map_err(entry_error)?;
            if keys.by_sid.contains_key(&key.sid) {
                return Err(entry_error(
                    "the sid is held by an earlier entry too".to_owned(),
                ));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// The file's text: pretty JSON, keys in order.
    #[must_use]
    pub fn to_json(&self) -> String {
        let raw = RawFile {
            version: FILE_VERSION,
            keys: self.keys.iter().map(ApiKey::to_raw).collect(),
        };
        // Serializing strings and numbers cannot fail; an empty text would be
        // refused by the parse, never taken for an empty key set.
        let mut text = serde_json::to_string_pretty(&raw).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Every key, in file order.
    #[must_use]
    pub fn keys(&self) -> &[ApiKey] {
        &self.keys
    }

    /// The key `sid`, if held.
    #[must_use]
    pub fn get(&self, sid: ApiKeySid) -> Option<&ApiKey> {
        self.by_sid
            .get(&sid)
            .and_then(|&index| self.keys.get(index))
    }

    /// How many keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key whose sid is `user` and whose secret is `password`, if any. The
    /// secret's hash is compared in constant time; the password is hashed even
    /// when no key has that sid, so the answer's timing says little about which
    /// sids exist.
    #[must_use]
    pub fn authenticate(&self, user: &str, password: &str) -> Option<&ApiKey> {
        let presented = SecretHash::of(password);
        let key = ApiKeySid::parse(user).ok().and_then(|sid| self.get(sid));
        let expected = key.map_or(SecretHash([0; SHA256_BYTES]), |key| key.secret_sha256);
        let matches = expected.matches(&presented);
        key.filter(|_| matches)
    }

    fn push(&mut self, key: ApiKey) {
        self.by_sid.insert(key.sid, self.keys.len());
        self.keys.push(key);
    }

    fn remove(&mut self, sid: ApiKeySid) -> Option<ApiKey> {
        let index = self.by_sid.get(&sid).copied()?;
        let key = self.keys.remove(index);
        self.by_sid = self
            .keys
            .iter()
            .enumerate()
            .map(|(index, key)| (key.sid, index))
            .collect();
        Some(key)
    }

    fn sids(&self) -> BTreeSet<ApiKeySid> {
        self.keys.iter().map(|key| key.sid).collect()
    }
}

impl ApiKey {
    fn from_raw(raw: &RawKey) -> Result<Self, String> {
        let sid = ApiKeySid::parse(&raw.sid).map_err(|e| e.to_string())?;
        check_friendly_name(&raw.friendly_name).map_err(|e| e.to_string())?;
        let scope = KeyScope::parse(&raw.scope)?;
        let date_created = UnixTime::parse_rfc3339(&raw.date_created).map_err(|_| {
            format!(
                "date_created {:?} is not a time of the form 2026-01-01T00:00:00Z",
                shorten(&raw.date_created)
            )
        })?;
        let secret_sha256 = decode_lower_hex::<SHA256_BYTES>(&raw.secret_sha256)
            .map(SecretHash)
            .ok_or_else(|| "secret_sha256 is not 64 lower-case hex digits".to_owned())?;
        Ok(Self {
            sid,
            friendly_name: raw.friendly_name.clone(),
            scope,
            date_created,
            secret_sha256,
        })
    }

    fn to_raw(&self) -> RawKey {
        RawKey {
            sid: self.sid.to_string(),
            friendly_name: self.friendly_name.clone(),
            scope: self.scope.to_string(),
            date_created: self.date_created.to_string(),
            secret_sha256: self.secret_sha256.to_hex(),
        }
    }
}

/// Refuses a friendly name longer than [`MAX_FRIENDLY_NAME_CHARS`] or holding a
/// control character (it is printed by `api-keys list` and in logs). Empty is
/// allowed.
///
/// # Errors
/// [`ApiKeysError::BadName`] saying which.
pub fn check_friendly_name(name: &str) -> Result<(), ApiKeysError> {
    if name.chars().count() > MAX_FRIENDLY_NAME_CHARS {
        return Err(ApiKeysError::BadName {
            problem: format!("is longer than {MAX_FRIENDLY_NAME_CHARS} characters"),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(ApiKeysError::BadName {
            problem: "holds a control character".to_owned(),
        });
    }
    Ok(())
}

/// A key just created, with its secret: the only time the secret exists outside
/// the client. `Debug` does not show it.
#[non_exhaustive]
pub struct CreatedKey {
    /// The key as the file now holds it.
    pub key: ApiKey,
    secret: String,
}

impl CreatedKey {
    /// The secret, the HTTP Basic password: base64url without padding of
    /// [`SECRET_BYTES`] random bytes (43 characters). Show it once.
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Reads the keys file at `path`.
///
/// # Errors
/// [`ApiKeysError::Io`] when it cannot be read (also when it does not exist),
/// [`ApiKeysError::TooLarge`], or the errors of [`ApiKeys::parse`].
pub fn load(path: &Path) -> Result<ApiKeys, ApiKeysError> {
    let mut file = File::open(path).map_err(|source| io_error(path, source))?;
    read_open(path, &mut file)
}

fn read_open(path: &Path, file: &mut File) -> Result<ApiKeys, ApiKeysError> {
    let mut text = String::new();
    file.take(MAX_FILE_BYTES.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(|source| io_error(path, source))?;
    if u64::try_from(text.len()).map_or(true, |len| len > MAX_FILE_BYTES) {
        return Err(ApiKeysError::TooLarge {
            path: path.to_owned(),
        });
    }
    ApiKeys::parse(path, &text)
}

/// Creates a key for `scope` named `friendly_name`, created at `now`, with a sid and
/// a secret from `rng`, and adds it to the file at `path` (created if missing).
/// The file gets the secret's hash only; the secret is in the answer.
///
/// # Errors
/// [`ApiKeysError::BadName`]; the errors of [`load`] for an existing file that
/// cannot be read; [`ApiKeysError::File`] when it holds [`MAX_KEYS`] keys
/// already; [`ApiKeysError::Busy`] while another command writes it;
/// [`ApiKeysError::Rng`]; [`ApiKeysError::Io`] when it cannot be written.
pub fn create_key<R: RngCore + CryptoRng + ?Sized>(
    path: &Path,
    scope: KeyScope,
    friendly_name: &str,
    now: UnixTime,
    rng: &mut R,
) -> Result<CreatedKey, ApiKeysError> {
    check_friendly_name(friendly_name)?;
    let mut secret_bytes = [0_u8; SECRET_BYTES];
    rng.try_fill_bytes(&mut secret_bytes)
        .map_err(|e| ApiKeysError::Rng(e.to_string()))?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    let secret_sha256 = SecretHash::of(&secret);
    update(path, true, |keys| {
        if keys.len() >= MAX_KEYS {
            return Err(ApiKeysError::File {
                path: path.to_owned(),
                problem: format!(
                    "holds {MAX_KEYS} keys already, the most allowed: revoke one first"
                ),
            });
        }
        // A new sid is 128 random bits: a collision is not expected, but one
        // would replace nobody's key, so draw again.
        let sid = loop {
            let sid = ApiKeySid::generate(rng)?;
            if keys.get(sid).is_none() {
                break sid;
            }
        };
        let key = ApiKey {
            sid,
            friendly_name: friendly_name.to_owned(),
            scope,
            date_created: now,
            secret_sha256,
        };
        keys.push(key.clone());
        Ok(CreatedKey { key, secret })
    })
}

/// Removes the key `sid` from the file at `path`; a running server refuses it
/// within [`RELOAD_INTERVAL`] (401).
///
/// # Errors
/// [`ApiKeysError::NoSuchKey`]; the errors of [`load`]; [`ApiKeysError::Busy`];
/// [`ApiKeysError::Io`] when it cannot be written.
pub fn revoke_key(path: &Path, sid: ApiKeySid) -> Result<ApiKey, ApiKeysError> {
    update(path, false, |keys| {
        keys.remove(sid).ok_or_else(|| ApiKeysError::NoSuchKey {
            path: path.to_owned(),
            sid,
        })
    })
}

/// The temporary file a write goes through, next to `path` (a rename is atomic
/// only within one file system). Creating it with `create_new` is also the lock
/// that keeps two commands from losing each other's change.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(ToOwned::to_owned).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Removes the temporary file unless it was renamed into place.
struct TempGuard<'a> {
    path: &'a Path,
    armed: bool,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// Reads the file (none yet: no keys, when `create_missing`), applies `change` and,
/// when it succeeds, writes the result atomically: a temporary file (mode 0600 on
/// Unix) written and synced, then renamed over the file, so a reader (the running
/// server) sees the old file or the new one, never a part.
fn update<T>(
    path: &Path,
    create_missing: bool,
    change: impl FnOnce(&mut ApiKeys) -> Result<T, ApiKeysError>,
) -> Result<T, ApiKeysError> {
    let temp = temp_path(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = match options.open(&temp) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ApiKeysError::Busy {
                path: path.to_owned(),
                temp,
            });
        }
        Err(source) => return Err(io_error(&temp, source)),
    };
    let mut guard = TempGuard {
        path: &temp,
        armed: true,
    };
    let mut keys = match load(path) {
        Ok(keys) => keys,
        Err(ApiKeysError::Io { source, .. })
            if create_missing && source.kind() == std::io::ErrorKind::NotFound =>
        {
            ApiKeys::new()
        }
        Err(error) => return Err(error),
    };
    let answer = change(&mut keys)?;
    file.write_all(keys.to_json().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| io_error(&temp, source))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(|source| io_error(path, source))?;
    guard.armed = false;
    // The rename is durable once the directory is synced (Unix; elsewhere a
    // directory cannot be opened). Best effort: the file is already in place.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(answer)
}

/// What tells a changed file from the one last read: its length, modification
/// time and (on Unix) device and inode, which every atomic write changes since it
/// renames a new file into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    device: u64,
    inode: u64,
}

impl Fingerprint {
    fn of(metadata: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let (device, inode) = {
            use std::os::unix::fs::MetadataExt as _;
            (metadata.dev(), metadata.ino())
        };
        #[cfg(not(unix))]
        let (device, inode) = (0, 0);
        Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            device,
            inode,
        }
    }
}

/// When the file was last looked at, what it was, and the last failure logged (so
/// a missing file is logged once, not every second).
#[derive(Debug)]
struct ReloadCheck {
    last: Instant,
    seen: Option<Fingerprint>,
    last_error: Option<String>,
}

/// The keys of a keys file, re-read when it changes: [`WatchedApiKeys::current`]
/// looks at the file at most once per reload interval ([`RELOAD_INTERVAL`] by
/// default) and re-reads it when its fingerprint changed. A file that fails to read
/// or parse keeps the keys read before, with an error logged: revoking every key
/// takes a file with no keys, not a deleted or broken one.
#[derive(Debug)]
pub struct WatchedApiKeys {
    path: PathBuf,
    interval: Duration,
    keys: RwLock<Arc<ApiKeys>>,
    check: Mutex<ReloadCheck>,
}

impl WatchedApiKeys {
    /// Reads the file at `path` (the server refuses to start on a bad one).
    ///
    /// # Errors
    /// The errors of [`load`].
    pub fn open(path: &Path) -> Result<Self, ApiKeysError> {
        let mut file = File::open(path).map_err(|source| io_error(path, source))?;
        let metadata = file.metadata().map_err(|source| io_error(path, source))?;
        let keys = read_open(path, &mut file)?;
        Ok(Self {
            path: path.to_owned(),
            interval: RELOAD_INTERVAL,
            keys: RwLock::new(Arc::new(keys)),
            check: Mutex::new(ReloadCheck {
                last: Instant::now(),
                seen: Some(Fingerprint::of(&metadata)),
                last_error: None,
            }),
        })
    }

    /// The same, looking at the file at most once per `interval` instead of
    /// [`RELOAD_INTERVAL`] (tests use a shorter one).
    #[must_use]
    pub fn with_reload_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys now, after re-reading the file if the interval has passed and it
    /// changed. One caller at a time looks at the file; the others meanwhile use
    /// the keys read before. The look is a blocking open and `fstat` of a local
    /// file (and a read of at most [`MAX_FILE_BYTES`] when it changed), once per
    /// interval: too small to be worth a blocking-pool hop.
    pub fn current(&self) -> Arc<ApiKeys> {
        self.reload_if_due();
        self.snapshot()
    }

    fn snapshot(&self) -> Arc<ApiKeys> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn reload_if_due(&self) {
        let mut check = match self.check.try_lock() {
            Ok(check) => check,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if check.last.elapsed() < self.interval {
            return;
        }
        check.last = Instant::now();
        let read = File::open(&self.path)
            .and_then(|file| {
                file.metadata()
                    .map(|metadata| (file, Fingerprint::of(&metadata)))
            })
            .map_err(|source| io_error(&self.path, source));
        let (mut file, fingerprint) = match read {
            Ok(opened) => opened,
            Err(error) => {
                let error = error.to_string();
                if check.last_error.as_ref() != Some(&error) {
                    tracing::error!(%error, "API keys file unreadable: keeping the keys read before");
                    check.last_error = Some(error);
                }
                return;
            }
        };
        if check.seen == Some(fingerprint) {
            return;
        }
        // Seen either way: a bad file is logged once and read again when it
        // changes, not every interval.
        check.seen = Some(fingerprint);
        match read_open(&self.path, &mut file) {
            Ok(keys) => {
                check.last_error = None;
                let before = self.snapshot().sids();
                let after = keys.sids();
                let added: Vec<String> =
                    after.difference(&before).map(ToString::to_string).collect();
                let removed: Vec<String> =
                    before.difference(&after).map(ToString::to_string).collect();
                tracing::info!(
                    path = %self.path.display(),
                    keys = keys.len(),
                    ?added,
                    ?removed,
                    "API keys file reloaded"
                );
                let keys = Arc::new(keys);
                match self.keys.write() {
                    Ok(mut current) => *current = keys,
                    Err(poisoned) => *poisoned.into_inner() = keys,
                }
            }
            Err(error) => {
                let error = error.to_string();
                tracing::error!(%error, "API keys file not reloaded: keeping the keys read before");
                check.last_error = Some(error);
            }
        }
    }
}

/// Runs `verify-server api-keys ...`, printing to `out`: the new key's sid and
/// secret (`create`), the keys without secrets (`list`), the revoked key
/// (`revoke`). `now` dates a new key; `rng` draws its sid and secret (the server
/// passes the OS random number generator).
///
/// # Errors
/// A message for the operator: the command's [`ApiKeysError`], or a failure to
/// print.
pub fn run_command<R: RngCore + CryptoRng + ?Sized>(
    command: &crate::config::ApiKeysCommand,
    now: UnixTime,
    rng: &mut R,
    out: &mut dyn std::io::Write,
) -> Result<(), String> {
    use crate::config::ApiKeysCommand;
    let printed = |e: std::io::Error| format!("printing: {e}");
    match command {
        ApiKeysCommand::Create {
            file,
            service,
            name,
        } => {
            let scope = service.map_or(KeyScope::AllServices, KeyScope::Service);
            let created = create_key(file, scope, name, now, rng).map_err(|e| e.to_string())?;
            let reach = match scope {
                KeyScope::AllServices => "* (every service)".to_owned(),
                KeyScope::Service(sid) => format!("{sid} (this service only)"),
            };
            writeln!(
                out,
                "sid: {}\nsecret: {}\nscope: {reach}\nname: {name}\n\
                 Clients send the sid as the HTTP Basic username and the secret as the \
                 password. The secret is shown only now: {} keeps its SHA-256 alone.",
                created.key.sid,
                created.secret(),
                file.display()
            )
            .map_err(printed)
        }
        ApiKeysCommand::List { file } => {
            let keys = load(file).map_err(|e| e.to_string())?;
            if keys.is_empty() {
                return writeln!(out, "no keys in {}", file.display()).map_err(printed);
            }
            writeln!(
                out,
                "{:<34}  {:<34}  {:<20}  NAME",
                "SID", "SCOPE", "CREATED"
            )
            .map_err(printed)?;
            for key in keys.keys() {
                writeln!(
                    out,
                    "{:<34}  {:<34}  {:<20}  {}",
                    key.sid.to_string(),
                    key.scope.to_string(),
                    key.date_created.to_string(),
                    key.friendly_name
                )
                .map_err(printed)?;
            }
            Ok(())
        }
        ApiKeysCommand::Revoke { file, sid } => {
            let key = revoke_key(file, *sid).map_err(|e| e.to_string())?;
            writeln!(
                out,
                "revoked {} ({:?}, scope {}): a running server refuses it within a second",
                key.sid, key.friendly_name, key.scope
            )
            .map_err(printed)
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ApiKeysError {
    ApiKeysError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The text, cut to a length that an error message can show.
fn shorten(text: &str) -> String {
    /// The most characters of an operator's text an error repeats.
    const SHOWN_CHARS: usize = 40;
    if text.chars().count() <= SHOWN_CHARS {
        text.to_owned()
    } else {
        let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
        shown.push('…');
        shown
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().saturating_mul(2));
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// `N` bytes from exactly `2 * N` lower-case hex digits.
fn decode_lower_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if text.len() != N.checked_mul(2)? {
        return None;
    }
    let mut out = [0_u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *byte = (digit(*high)? << 4) | digit(*low)?;
    }
    Some(out)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng as _;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "verify-api-keys-unit-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("keys.json")
    }

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(7)
    }

    const T: u64 = 1_767_225_600;
    const SERVICE: &str = "VA0123456789abcdef0123456789abcdef";

    fn entry(sid: &str) -> serde_json::Value {
        serde_json::json!({
            "sid": sid,
            "friendly_name": "billing",
            "scope": SERVICE,
            "date_created": "2026-01-01T00:00:00Z",
            "secret_sha256": "ab".repeat(32),
        })
    }

    fn file(keys: &[serde_json::Value]) -> String {
        serde_json::json!({"version": 1, "keys": keys}).to_string()
    }

    const SID_A: &str = "SK0123456789abcdef0123456789abcdef";
    const SID_B: &str = "SKfedcba9876543210fedcba9876543210";

    fn parse(text: &str) -> Result<ApiKeys, ApiKeysError> {
        ApiKeys::parse(Path::new("keys.json"), text)
    }

    #[test]
    fn sha256_gives_the_known_answers() {
        // FIPS 180-2, appendix B.1, and the empty message.
        assert_eq!(
            SecretHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            SecretHash::of("").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        use sha2::Digest as _;
        let text = b"a secret of any length";
        let expected: [u8; 32] = sha2::Sha256::digest(text).into();
        assert_eq!(
            SecretHash::of(std::str::from_utf8(text).unwrap()).0,
            expected
        );
    }

    #[test]
    fn a_file_parses_and_writes_back_the_same() {
        let text = file(&[entry(SID_A), {
            let mut all = entry(SID_B);
            all["scope"] = "*".into();
            all
        }]);
        let keys = parse(&text).unwrap();
        assert_eq!(keys.len(), 2);
        let a = keys.get(ApiKeySid::parse(SID_A).unwrap()).unwrap();
        assert_eq!(a.friendly_name, "billing");
        assert_eq!(
            a.scope,
            KeyScope::Service(ServiceSid::parse(SERVICE).unwrap())
        );
        assert_eq!(a.date_created, UnixTime::from_secs(T));
        assert_eq!(keys.keys()[1].scope, KeyScope::AllServices);
        let again = parse(&keys.to_json()).unwrap();
        assert_eq!(again.to_json(), keys.to_json());
        let written: serde_json::Value = serde_json::from_str(&keys.to_json()).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(written, original);
        assert!(parse(&file(&[])).unwrap().is_empty());
    }

    #[test]
    fn unknown_fields_are_refused_naming_the_entry() {
        let mut extra = entry(SID_B);
        extra["secret"] = "hunter2".into();
        let error = parse(&file(&[entry(SID_A), extra]))
            .unwrap_err()
            .to_string();
        assert!(error.contains(&format!("keys[1] ({SID_B})")), "{error}");
        assert!(error.contains("unknown field `secret`"), "{error}");
        let top = r#"{"version": 1, "keys": [], "comment": "x"}"#;
        let error = parse(top).unwrap_err().to_string();
        assert!(error.contains("unknown field `comment`"), "{error}");
        let mut missing = entry(SID_A);
        missing.as_object_mut().unwrap().remove("secret_sha256");
        let error = parse(&file(&[missing])).unwrap_err().to_string();
        assert!(
            error.contains("keys[0]") && error.contains("secret_sha256"),
            "{error}"
        );
    }

    #[test]
    fn bad_entries_are_refused_naming_them() {
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (entry("SK0123"), "not an API key sid"),
            (
                entry("SK0123456789ABCDEF0123456789ABCDEF"),
                "not an API key sid",
            ),
            (
                entry("AC0123456789abcdef0123456789abcdef"),
                "not an API key sid",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["scope"] = "all".into();
                    e
                },
                "neither \"*\" nor a service sid",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["scope"] = "YS0123456789abcdef0123456789abcdef".into();
                    e
                },
                "neither \"*\" nor a service sid",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["date_created"] = "yesterday".into();
                    e
                },
                "date_created",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["secret_sha256"] = "AB".repeat(32).into();
                    e
                },
                "secret_sha256",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["secret_sha256"] = "ab".repeat(31).into();
                    e
                },
                "secret_sha256",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["friendly_name"] = "x".repeat(MAX_FRIENDLY_NAME_CHARS + 1).into();
                    e
                },
                "friendly name",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["friendly_name"] = "a\nb".into();
                    e
                },
                "control character",
            ),
            (
                {
                    let mut e = entry(SID_A);
                    e["sid"] = 7.into();
                    e
                },
                "invalid type",
            ),
        ];
        for (bad, expected) in cases {
            let error = parse(&file(&[entry(SID_B), bad.clone()]))
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("keys.json: keys[1]"), "{bad}: {error}");
            assert!(error.contains(expected), "{bad}: {error}");
        }
    }

    #[test]
    fn duplicate_sids_versions_and_sizes_are_refused() {
        let error = parse(&file(&[entry(SID_A), entry(SID_B), entry(SID_A)]))
            .unwrap_err()
            .to_string();
        assert!(error.contains(&format!("keys[2] ({SID_A})")), "{error}");
        assert!(error.contains("earlier entry"), "{error}");
        let error = parse(r#"{"version": 2, "keys": []}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("version 2"), "{error}");
        let error = parse("not json").unwrap_err().to_string();
        assert!(error.contains("not a keys file"), "{error}");
        let error = parse(r#"{"keys": []}"#).unwrap_err().to_string();
        assert!(error.contains("version"), "{error}");
        let many: Vec<serde_json::Value> = (0..=MAX_KEYS)
            .map(|i| entry(&format!("SK{i:032x}")))
            .collect();
        let error = parse(&file(&many)).unwrap_err().to_string();
        assert!(error.contains(&format!("at most {MAX_KEYS}")), "{error}");
        let path = scratch("large");
        std::fs::write(
            &path,
            " ".repeat(usize::try_from(MAX_FILE_BYTES).unwrap() + 1),
        )
        .unwrap();
        assert!(matches!(load(&path), Err(ApiKeysError::TooLarge { .. })));
    }

    #[test]
    fn create_list_revoke_through_the_file() {
        let path = scratch("lifecycle");
        let service = ServiceSid::parse(SERVICE).unwrap();
        let mut rng = rng();
        let a = create_key(
            &path,
            KeyScope::Service(service),
            "billing",
            UnixTime::from_secs(T),
            &mut rng,
        )
        .unwrap();
        let b = create_key(
            &path,
            KeyScope::AllServices,
            "",
            UnixTime::from_secs(T + 1),
            &mut rng,
        )
        .unwrap();
        assert_ne!(a.key.sid, b.key.sid);
        assert_ne!(a.secret(), b.secret());
        assert_eq!(a.secret().len(), 43);
        assert!(a.key.sid.to_string().starts_with("SK"));
        let keys = load(&path).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.keys()[0].sid, a.key.sid);
        assert_eq!(keys.keys()[0].scope, KeyScope::Service(service));
        assert_eq!(keys.keys()[1].scope, KeyScope::AllServices);
        // The hash, never the secret, is on disk; the hash is SHA-256 of the
        // secret's text.
        let raw = std::fs::read_to_string(&path).unwrap();
        for created in [&a, &b] {
            assert!(!raw.contains(created.secret()));
            use sha2::Digest as _;
            let expected = hex(&sha2::Sha256::digest(created.secret().as_bytes()));
            assert!(raw.contains(&expected));
        }
        assert!(
            keys.authenticate(&a.key.sid.to_string(), a.secret())
                .is_some()
        );
        assert!(
            keys.authenticate(&a.key.sid.to_string(), b.secret())
                .is_none()
        );
        assert!(
            keys.authenticate(&b.key.sid.to_string(), b.secret())
                .is_some()
        );
        assert!(keys.authenticate("SK", a.secret()).is_none());
        assert!(keys.authenticate(&a.key.sid.to_string(), "").is_none());
        // Revoke: gone from the file, the other kept; a second revoke fails.
        let revoked = revoke_key(&path, a.key.sid).unwrap();
        assert_eq!(revoked.sid, a.key.sid);
        let keys = load(&path).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(
            keys.authenticate(&a.key.sid.to_string(), a.secret())
                .is_none()
        );
        assert!(
            keys.authenticate(&b.key.sid.to_string(), b.secret())
                .is_some()
        );
        let error = revoke_key(&path, a.key.sid).unwrap_err();
        assert!(matches!(error, ApiKeysError::NoSuchKey { .. }), "{error}");
        assert!(!temp_path(&path).exists());
        // Revoke of a missing file fails: it does not create one.
        let missing = scratch("missing");
        assert!(revoke_key(&missing, a.key.sid).is_err());
        assert!(!missing.exists());
        assert!(
            create_key(
                &path,
                KeyScope::AllServices,
                &"n".repeat(65),
                UnixTime::from_secs(T),
                &mut rng
            )
            .is_err()
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_written_with_mode_0600_through_a_temporary_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let path = scratch("mode");
        let created = create_key(
            &path,
            KeyScope::AllServices,
            "ops",
            UnixTime::from_secs(T),
            &mut rng(),
        )
        .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A temporary file left by another writer (or a crash) blocks writes,
        // saying what to remove; the file is unchanged.
        std::fs::write(temp_path(&path), "").unwrap();
        let error = revoke_key(&path, created.key.sid).unwrap_err();
        assert!(matches!(error, ApiKeysError::Busy { .. }), "{error}");
        assert!(error.to_string().contains("keys.json.tmp"), "{error}");
        assert_eq!(load(&path).unwrap().len(), 1);
        std::fs::remove_file(temp_path(&path)).unwrap();
        revoke_key(&path, created.key.sid).unwrap();
    }

    #[test]
    fn a_broken_file_keeps_the_keys_read_before_and_a_fixed_one_is_read() {
        let path = scratch("watch");
        let mut rng = rng();
        let first = create_key(
            &path,
            KeyScope::AllServices,
            "a",
            UnixTime::from_secs(T),
            &mut rng,
        )
        .unwrap();
        let watched = WatchedApiKeys::open(&path)
            .unwrap()
            .with_reload_interval(Duration::ZERO);
        assert_eq!(watched.current().len(), 1);
        std::fs::write(&path, "{ broken").unwrap();
        assert_eq!(watched.current().len(), 1, "kept");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(watched.current().len(), 1, "kept");
        let second = create_key(
            &path,
            KeyScope::AllServices,
            "b",
            UnixTime::from_secs(T),
            &mut rng,
        )
        .unwrap();
        let now = watched.current();
        assert_eq!(now.len(), 1);
        assert!(now.get(second.key.sid).is_some());
        assert!(now.get(first.key.sid).is_none());
    }

    #[test]
    fn debug_never_shows_a_hash_or_secret() {
        let path = scratch("debug");
        let created = create_key(
            &path,
            KeyScope::AllServices,
            "a",
            UnixTime::from_secs(T),
            &mut rng(),
        )
        .unwrap();
        let hash = created.key.secret_sha256.to_hex();
        for shown in [
            format!("{created:?}"),
            format!("{:?}", created.key),
            format!("{:?}", load(&path).unwrap()),
            format!("{:?}", WatchedApiKeys::open(&path).unwrap()),
        ] {
            assert!(!shown.contains(created.secret()), "{shown}");
            assert!(!shown.contains(&hash), "{shown}");
        }
    }
}
