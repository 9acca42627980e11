//! verify-store's one integration-test binary: the conformance suite on
//! `MemoryStore`, checks that the suite catches broken stores, and properties of
//! `MemoryStore` under random interleavings.

mod conformance {
    verify_store::conformance_suite!(verify_store::MemoryStore::new);
}
mod interleavings;
mod suite_detects;
