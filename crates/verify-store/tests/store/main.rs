//! verify-store's one integration-test binary: the conformance suite on
//! `MemoryStore`, checks that the suite catches broken stores, and properties of
//! `MemoryStore` under random interleavings.

mod conformance {
    verify_store::conformance_suite!(verify_store::MemoryStore::new);
}

/// The suite again through the async-expression form of the macro (as a store that
/// connects to a database uses it).
mod conformance_async {
    async fn connect() -> verify_store::MemoryStore {
        verify_store::MemoryStore::new()
    }
    verify_store::conformance_suite!(async || connect().await);
}

mod interleavings;
mod paging;
mod suite_detects;
