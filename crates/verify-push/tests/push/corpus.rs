//! Replays every file of the committed fuzz corpora through the same public parsers
//! the fuzz targets call, so `cargo test` runs them.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // The crate stands alone outside the repository: nothing to replay.
        return Vec::new();
    };
    let files: Vec<Vec<u8>> = entries
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn binding_corpus() {
    for data in corpus("push_binding") {
        verify_push::fuzzing::binding(&data);
    }
}

#[test]
fn jws_corpus() {
    for data in corpus("push_jws") {
        verify_push::fuzzing::jws(&data);
    }
}

#[test]
fn request_jwt_corpus() {
    for data in corpus("push_request_jwt") {
        verify_push::fuzzing::request_jwt(&data);
    }
}
