//! The sequential checks, one module per resource (CRUD, compare-and-set,
//! uniqueness, listing), plus cascades and the outbox; the helpers they share.

use verify_model::{
    Entity, EventType, Factor, ListOrder, PageSize, Service, UnixTime, VerificationProof,
};

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok};
use crate::error::StoreError;
use crate::store::{FactorInsert, ListQuery, Listing, Store};

mod access_tokens;
mod cascades;
mod challenges;
mod factors;
mod outbox;
mod passkey_challenges;
mod retention;
mod services;
mod webhooks;

pub use access_tokens::access_token_redeem;
pub use cascades::{entity_cascade_delete, service_cascade_delete};
pub use challenges::{challenge_crud, list_challenges, paired_write};
pub use factors::{factor_crud, factor_quota, list_factors, passkey_credential_unique};
pub use outbox::outbox;
pub use passkey_challenges::{discoverable_passkey, entity_passkey};
pub use retention::prune_expired;
pub use services::{entity_crud, list_entities, service_crud};
pub use webhooks::webhook_crud;

/// `T0 + secs`.
pub(super) const fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(T0.as_secs().saturating_add(secs))
}

/// The types of every event in the outbox, in sequence order.
pub(super) async fn outbox_types<S: Store>(
    check: &'static str,
    store: &S,
) -> Result<Vec<EventType>, Failure> {
    let events = ok!(
        check,
        store.peek_events(None, usize::MAX),
        "peek the outbox"
    );
    Ok(events.into_iter().map(|e| e.event.event_type).collect())
}

/// Inserts a service and an entity named `identity`.
pub(super) async fn service_and_entity<S: Store>(
    check: &'static str,
    store: &S,
    fx: &mut Fixture,
    identity: &str,
) -> Result<(Service, Entity), Failure> {
    let service = fx.service("Owl Bank")?;
    ok!(check, store.insert_service(&service), "insert a service");
    let entity = fx.entity(&service, identity)?;
    ok!(check, store.insert_entity(&entity), "insert an entity");
    Ok((service, entity))
}

/// Inserts a TOTP factor created at `T0` and verifies it with step 100 at `T0 + 30`.
pub(super) async fn verified_totp<S: Store>(
    check: &'static str,
    store: &S,
    fx: &mut Fixture,
    entity: &Entity,
) -> Result<Factor, Failure> {
    let (factor, events) = fx.totp_factor(entity, T0)?;
    ok!(
        check,
        store.insert_factor(FactorInsert::new(&factor, &events)),
        "insert a TOTP factor"
    );
    let (verified, events) = fx.verified(&factor, VerificationProof::TotpStep(100), at(30))?;
    ok!(
        check,
        store.update_factor(&verified, &events),
        "verify the TOTP factor"
    );
    Ok(verified)
}

fn page_size(check: &'static str, size: u64) -> Result<PageSize, Failure> {
    PageSize::new(size).map_err(|e| Failure::new(check, format!("page size: {e}")))
}

/// Walks every page forward from the first, then back from the last, checking the
/// tokens on the way; returns the items in list order.
async fn walk<T, F, Fut>(
    check: &'static str,
    order: ListOrder,
    size: u64,
    list: F,
) -> Result<Vec<T>, Failure>
where
    T: Clone + PartialEq + std::fmt::Debug,
    F: Fn(ListQuery) -> Fut,
    Fut: Future<Output = Result<Listing<T>, StoreError>>,
{
    let size = page_size(check, size)?;
    let mut query = ListQuery::new(order, size);
    let mut pages: Vec<Vec<T>> = Vec::new();
    let mut last_previous;
    loop {
        let page = ok!(check, list(query.clone()), "list a page");
        ensure!(
            check,
            !page.items.is_empty() || pages.is_empty(),
            "a next-page token led to an empty page"
        );
        ensure!(
            check,
            page.items.len() <= usize::from(size.get()),
            "a page holds {} items, more than the page size {}",
            page.items.len(),
            size.get()
        );
        ensure!(
            check,
            pages.is_empty() == page.previous_page_token.is_none(),
            "the first page (and only it) has no previous-page token"
        );
        last_previous = page.previous_page_token.clone();
        pages.push(page.items.clone());
        match page.next_page_token {
            Some(token) => {
                ensure!(
                    check,
                    page.items.len() == usize::from(size.get()),
                    "a page before the last holds {} items, not {}",
                    page.items.len(),
                    size.get()
                );
                query = ListQuery::new(order, size).with_page_token(token);
            }
            None => break,
        }
        ensure!(check, pages.len() <= 10_000, "paging does not terminate");
    }
    // Back from the last page: each previous page is the one seen before it.
    let mut index = pages.len().saturating_sub(1);
    while let Some(token) = last_previous.take() {
        index = index.saturating_sub(1);
        let page = ok!(
            check,
            list(ListQuery::new(order, size).with_page_token(token)),
            "list a previous page"
        );
        ensure!(
            check,
            pages.get(index) == Some(&page.items),
            "walking back, page {index} differs from walking forward: {:?}",
            page.items
        );
        last_previous = page.previous_page_token;
    }
    Ok(pages.into_iter().flatten().collect())
}
