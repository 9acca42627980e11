//! Replays every committed `fuzz/corpus/webauthn_*` file through the same entry
//! points the fuzz targets call (`fuzz/fuzz_targets/webauthn_parsers.rs`), so a crash
//! once found by the fuzzer and saved to the corpus stays fixed under `cargo test`,
//! without cargo-fuzz or a nightly compiler.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failed unwrap is a failed test"
)]

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/fuzz_targets/webauthn_parsers.rs"]
mod webauthn_parsers;

/// The targets and their entry points; every `fuzz/corpus/webauthn_*` directory must be
/// listed here (checked below), so a new target cannot go unreplayed.
/// An entry point: untrusted bytes in, nothing out (it must not panic).
type Entry = fn(&[u8]);

const TARGETS: &[(&str, Entry)] = &[
    (
        "webauthn_attestation_object",
        webauthn_parsers::attestation_object,
    ),
    (
        "webauthn_authenticator_data",
        webauthn_parsers::authenticator_data,
    ),
    ("webauthn_client_data", webauthn_parsers::client_data),
    ("webauthn_cose_key", webauthn_parsers::cose_key),
    ("webauthn_x5c_chain", webauthn_parsers::x5c_chain),
    (
        "webauthn_registration_json",
        webauthn_parsers::registration_json,
    ),
    (
        "webauthn_authentication_json",
        webauthn_parsers::authentication_json,
    ),
    ("webauthn_tpm_structures", webauthn_parsers::tpm_structures),
];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("read {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_webauthn_corpus_has_a_replayed_target() {
    let mut dirs: Vec<String> = fs::read_dir(corpus_root())
        .expect("fuzz/corpus exists")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("webauthn_"))
        .collect();
    dirs.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    listed.sort();
    assert_eq!(dirs, listed);
}

#[test]
fn replay_corpora() {
    for (target, entry) in TARGETS {
        let dir = corpus_root().join(target);
        let files = files(&dir);
        assert!(!files.is_empty(), "{target}: empty corpus");
        for file in &files {
            let data = fs::read(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
            entry(&data);
            // Truncations are the commonest malformation: replay a few per file.
            for cut in [0, 1, data.len() / 2, data.len().saturating_sub(1)] {
                entry(data.get(..cut).unwrap_or_default());
            }
        }
        eprintln!("{target}: replayed {} files", files.len());
    }
}

/// The seeds, named after what they are, as opposed to the inputs libFuzzer added
/// (named by the SHA-1 of their bytes: 40 hex digits).
fn seeds(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|file| {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            !name.is_some_and(|n| n.len() == 40 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect()
}

/// The seeds that are real, well-formed inputs must still parse: a corpus replay that
/// passes because every input is rejected early would prove little.
#[test]
fn real_seeds_parse() {
    use verify_webauthn::authenticator_data::AuthenticatorData;
    use verify_webauthn::client_data::CollectedClientData;
    use verify_webauthn::cose::CoseKey;

    let root = corpus_root();
    let mut parsed = 0;
    for file in seeds(&root.join("webauthn_cose_key")) {
        let data = fs::read(&file).expect("read");
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        // Ed448 (COSE -53) is not supported: its vector must be rejected, every other
        // key must parse.
        let result = CoseKey::from_bytes(&data);
        if name.contains("ed448") {
            assert!(result.is_err(), "{name}");
        } else {
            assert!(result.is_ok(), "{name}: {:?}", result.err());
            parsed += 1;
        }
    }
    for file in seeds(&root.join("webauthn_authenticator_data")) {
        let data = fs::read(&file).expect("read");
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let result = AuthenticatorData::parse(&data);
        if name.contains("ed448") && name.ends_with("-reg.bin") {
            assert!(result.is_err(), "{name}");
        } else {
            assert!(result.is_ok(), "{name}: {:?}", result.err());
            parsed += 1;
        }
    }
    for file in seeds(&root.join("webauthn_client_data")) {
        let data = fs::read(&file).expect("read");
        assert!(
            CollectedClientData::parse(&data).is_ok(),
            "{}",
            file.display()
        );
        parsed += 1;
    }
    assert!(parsed > 100, "only {parsed} seeds parsed");
}
