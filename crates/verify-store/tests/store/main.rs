//! verify-store's one integration-test binary: the conformance suite on
//! `MemoryStore`, plus MemoryStore-specific tests.

mod conformance {
    verify_store::conformance_suite!(verify_store::MemoryStore::new);
}
