//! Replays every committed `fuzz/corpus/totp_*` file through the same entry points the
//! fuzz targets call (`fuzz/fuzz_targets/totp_entry.rs`, included below), so an input
//! the fuzzer once found stays handled under `cargo test`, without cargo-fuzz or a
//! nightly compiler. A separate test binary: the entry points panic on a violated
//! property, which is the test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub,
    reason = "test harness: a failure should fail loudly"
)]

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/fuzz_targets/totp_entry.rs"]
mod totp_entry;

/// Every `fuzz/corpus/totp_*` directory must be listed (checked below).
/// A fuzz entry point: untrusted bytes in, a panic on a violated property.
type Entry = fn(&[u8]);

const TARGETS: &[(&str, Entry)] = &[
    ("totp_code", totp_entry::code),
    ("totp_secret", totp_entry::secret),
    ("totp_uri", totp_entry::uri),
];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn every_totp_corpus_has_a_replayed_target() {
    let mut dirs: Vec<String> = fs::read_dir(corpus_root())
        .expect("fuzz/corpus exists")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("totp_"))
        .collect();
    dirs.sort();
    let listed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(dirs, listed);
}

#[test]
fn replay_corpora() {
    for (target, entry) in TARGETS {
        let dir = corpus_root().join(target);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("read {}: {err}", dir.display()))
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{target}: empty corpus");
        for file in &files {
            let data = fs::read(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
            entry(&data);
        }
    }
}

/// The seeds exercise the accepting paths, not only the rejecting ones: the RFC 6238
/// vectors in the `totp_code` corpus are accepted by the same entry point's decoder.
#[test]
fn rfc_seed_codes_are_accepted() {
    use verify_totp::{Algorithm, Digits, Period, Secret, Skew, TotpConfig, check_at};
    let dir = corpus_root().join("totp_code");
    let mut accepted = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("RFC_6238")
        {
            continue;
        }
        let data = fs::read(&path).unwrap();
        let algorithm =
            [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][usize::from(data[0] % 3)];
        let config = TotpConfig::new(
            algorithm,
            Digits::new(3 + data[1] % 6).unwrap(),
            Period::new(20 + u32::from(data[2] % 41)).unwrap(),
            Skew::new(data[3] % 3).unwrap(),
        );
        let now = u64::from_le_bytes(data[4..12].try_into().unwrap());
        assert_eq!(data[12], 0, "seed has no last used step");
        let len = usize::from(data[13]);
        let secret = Secret::from_bytes(data[14..14 + len].to_vec()).unwrap();
        let code = std::str::from_utf8(&data[14 + len..]).unwrap();
        let matched = check_at(&secret, &config, code, now, None)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert_eq!(matched.drift(), 0, "{}", path.display());
        accepted += 1;
    }
    assert_eq!(accepted, 18);
}
