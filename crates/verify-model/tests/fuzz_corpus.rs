//! Replays every committed `fuzz/corpus/model_*` file through the same drivers the
//! fuzz targets call (`fuzz/fuzz_targets/model_driver.rs`, included below). The
//! structure-aware inputs are decoded with the same `arbitrary::Unstructured`, so a
//! corpus file drives exactly the operation sequence the fuzzer ran. A separate test
//! binary from `tests/model.rs`: the drivers panic on a violated invariant, which is
//! the test failure.
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

#[path = "../../../fuzz/fuzz_targets/model_driver.rs"]
mod model_driver;

/// Every `fuzz/corpus/model_*` directory must be listed (checked below).
/// A fuzz entry point: untrusted bytes in, a panic on a violated property.
type Entry = fn(&[u8]);

const TARGETS: &[(&str, Entry)] = &[
    ("model_challenge", model_driver::challenge),
    ("model_factor", model_driver::factor),
    ("model_records", model_driver::records),
];

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn every_model_corpus_has_a_replayed_target() {
    let mut dirs: Vec<String> = fs::read_dir(corpus_root())
        .expect("fuzz/corpus exists")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("model_"))
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
