//! The sequential checks: CRUD, compare-and-set, uniqueness, listing, cascades and
//! the outbox.

use verify_model::{
    Challenge, ChallengeFilter, ChallengeStatus, Entity, EventType, Factor, FactorType, ListOrder,
    PageSize, Service, UnixTime, VerificationProof, WebhookStatus, list::Listable,
};

use super::fixture::{Fixture, T0};
use super::{Failure, ensure, ok, refused};
use crate::error::{QuotaKind, Resource, StoreError, UniqueKey};
use crate::store::{FactorInsert, FactorQuota, ListQuery, Listing, Store};

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

/// Service insert, get, compare-and-set update, list and delete.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn service_crud<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "service_crud";
    let mut fx = Fixture::new(C, 1);
    let service = fx.service("Owl Bank")?;
    ok!(C, store.insert_service(&service), "insert a service");
    refused!(
        C,
        store.insert_service(&service),
        StoreError::Duplicate {
            resource: Resource::Service,
            key: UniqueKey::Sid
        },
        "insert the same sid again"
    );
    let read = ok!(C, store.get_service(service.sid()), "get the service");
    ensure!(C, read.as_ref() == Some(&service), "get returned {read:?}");

    let renamed = fx.model(service.with_friendly_name("Owl Bank 2", at(10)))?;
    ok!(C, store.update_service(&renamed), "update at version + 1");
    refused!(
        C,
        store.update_service(&renamed),
        StoreError::Conflict { .. },
        "repeat the update"
    );
    let stale = fx.model(service.with_friendly_name("Stale", at(20)))?;
    refused!(
        C,
        store.update_service(&stale),
        StoreError::Conflict { .. },
        "update from a stale read"
    );
    refused!(
        C,
        store.update_service(&service),
        StoreError::InvalidWrite { .. } | StoreError::Conflict { .. },
        "update without bumping the version"
    );
    let read = ok!(C, store.get_service(service.sid()), "get the service");
    ensure!(
        C,
        read.as_ref() == Some(&renamed),
        "after a refused update, get returned {read:?}"
    );

    let other = fx.service("Other")?;
    let other_renamed = fx.model(other.with_friendly_name("Other 2", at(10)))?;
    refused!(
        C,
        store.update_service(&other_renamed),
        StoreError::NotFound { .. },
        "update a missing service"
    );
    ok!(C, store.insert_service(&other), "insert a second service");
    let mut expected = vec![renamed.clone(), other.clone()];
    expected.sort_by_key(|s| (s.date_created(), *s.sid().as_bytes()));
    let st = &store;
    let listed = walk(C, ListOrder::Asc, 1, |q| async move {
        st.list_services(&q).await
    })
    .await?;
    ensure!(C, listed == expected, "services listed as {listed:?}");

    refused!(
        C,
        store.delete_service(service.sid(), 0),
        StoreError::Conflict { .. },
        "delete at a stale version"
    );
    ok!(
        C,
        store.delete_service(service.sid(), 1),
        "delete at the current version"
    );
    let read = ok!(C, store.get_service(service.sid()), "get a deleted service");
    ensure!(C, read.is_none(), "a deleted service is still returned");
    refused!(
        C,
        store.delete_service(service.sid(), 1),
        StoreError::NotFound { .. },
        "delete twice"
    );
    let read = ok!(C, store.get_service(other.sid()), "get the other service");
    ensure!(
        C,
        read.as_ref() == Some(&other),
        "deleting one service changed another"
    );
    Ok(())
}

/// Entity insert, scoped gets, identity uniqueness per service.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn entity_crud<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "entity_crud";
    let mut fx = Fixture::new(C, 2);
    let missing = fx.service("Missing")?;
    let orphan = fx.entity(&missing, "user-0001")?;
    refused!(
        C,
        store.insert_entity(&orphan),
        StoreError::NotFound { .. },
        "insert an entity of a missing service"
    );

    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let read = ok!(
        C,
        store.get_entity(service.sid(), entity.sid()),
        "get the entity"
    );
    ensure!(C, read.as_ref() == Some(&entity), "get returned {read:?}");
    let read = ok!(
        C,
        store.get_entity_by_identity(service.sid(), entity.identity()),
        "get by identity"
    );
    ensure!(
        C,
        read.as_ref() == Some(&entity),
        "get by identity returned {read:?}"
    );
    refused!(
        C,
        store.insert_entity(&entity),
        StoreError::Duplicate {
            resource: Resource::Entity,
            ..
        },
        "insert the same entity again"
    );
    let twin = fx.entity(&service, "user-0001")?;
    refused!(
        C,
        store.insert_entity(&twin),
        StoreError::Duplicate {
            resource: Resource::Entity,
            key: UniqueKey::Identity
        },
        "insert another entity with the same identity"
    );
    let read = ok!(
        C,
        store.get_entity(service.sid(), twin.sid()),
        "get the refused twin"
    );
    ensure!(C, read.is_none(), "a refused insert was stored");

    let other = fx.service("Other")?;
    ok!(C, store.insert_service(&other), "insert a second service");
    let elsewhere = fx.entity(&other, "user-0001")?;
    ok!(
        C,
        store.insert_entity(&elsewhere),
        "the same identity in another service"
    );
    let read = ok!(
        C,
        store.get_entity(other.sid(), entity.sid()),
        "get across services"
    );
    ensure!(
        C,
        read.is_none(),
        "an entity is visible from another service"
    );
    let read = ok!(
        C,
        store.get_entity_by_identity(other.sid(), entity.identity()),
        "get by identity"
    );
    ensure!(
        C,
        read.as_ref() == Some(&elsewhere),
        "identity lookup crossed services: {read:?}"
    );
    let unknown = fx.identity("user-9999")?;
    let read = ok!(
        C,
        store.get_entity_by_identity(service.sid(), &unknown),
        "get an unknown identity"
    );
    ensure!(C, read.is_none(), "an unknown identity was found");
    Ok(())
}

/// Factor insert, get, compare-and-set updates, delete with its challenges, events.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn factor_crud<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "factor_crud";
    let mut fx = Fixture::new(C, 3);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;

    let stranger = fx.entity(&service, "user-0002")?;
    let (orphan, orphan_events) = fx.totp_factor(&stranger, T0)?;
    refused!(
        C,
        store.insert_factor(FactorInsert::new(&orphan, &orphan_events)),
        StoreError::NotFound {
            resource: Resource::Entity,
            ..
        },
        "insert a factor of a missing entity"
    );

    let (factor, events) = fx.totp_factor(&entity, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&factor, &events)),
        "insert a factor"
    );
    refused!(
        C,
        store.insert_factor(FactorInsert::new(&factor, &events)),
        StoreError::Duplicate {
            resource: Resource::Factor,
            key: UniqueKey::Sid
        },
        "insert the same factor again"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), factor.sid()),
        "get the factor"
    );
    ensure!(C, read.as_ref() == Some(&factor), "get returned {read:?}");
    let other = fx.service("Other")?;
    let read = ok!(
        C,
        store.get_factor(other.sid(), factor.sid()),
        "get across services"
    );
    ensure!(
        C,
        read.is_none(),
        "a factor is visible from another service"
    );
    let all = ok!(
        C,
        store.entity_factors(service.sid(), entity.sid()),
        "entity factors"
    );
    ensure!(C, all == vec![factor.clone()], "entity factors: {all:?}");
    let totp = ok!(
        C,
        store.count_factors(entity.sid(), FactorType::Totp),
        "count TOTP factors"
    );
    let push = ok!(
        C,
        store.count_factors(entity.sid(), FactorType::Push),
        "count push factors"
    );
    ensure!(
        C,
        (totp, push) == (1, 0),
        "counted {totp} TOTP and {push} push factors"
    );
    let created = ok!(
        C,
        store.count_factor_creations_since(entity.sid(), T0),
        "count creations"
    );
    let later = ok!(
        C,
        store.count_factor_creations_since(entity.sid(), at(1)),
        "count later creations"
    );
    ensure!(
        C,
        (created, later) == (1, 0),
        "counted creations {created} since T0, {later} after"
    );

    let (verified, verified_events) =
        fx.verified(&factor, VerificationProof::TotpStep(100), at(30))?;
    ok!(
        C,
        store.update_factor(&verified, &verified_events),
        "verify the factor"
    );
    refused!(
        C,
        store.update_factor(&verified, &verified_events),
        StoreError::Conflict { .. },
        "repeat the update"
    );
    let stale = fx.model(factor.rename("Stale", at(40)))?;
    refused!(
        C,
        store.update_factor(&stale.factor, &stale.events),
        StoreError::Conflict { .. },
        "update from a stale read"
    );
    let stepped = fx.model(verified.record_totp_step(101, at(60)))?;
    ok!(
        C,
        store.update_factor(&stepped.factor, &stepped.events),
        "record a TOTP step"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), factor.sid()),
        "get the factor"
    );
    ensure!(
        C,
        read.as_ref() == Some(&stepped.factor),
        "after updates, get returned {read:?}"
    );
    let ghost = fx.totp_factor(&entity, T0)?.0;
    let ghost = fx.model(ghost.rename("Ghost", at(1)))?;
    refused!(
        C,
        store.update_factor(&ghost.factor, &[]),
        StoreError::NotFound { .. },
        "update a missing factor"
    );

    let current = stepped.factor;
    let challenge = fx.challenge(&current, at(70))?;
    ok!(
        C,
        store.insert_challenge(&challenge, &[]),
        "insert a challenge"
    );
    let deleted = fx.model(current.delete(at(80)))?;
    refused!(
        C,
        store.delete_factor(
            service.sid(),
            current.sid(),
            current.version().saturating_sub(1),
            &deleted.events
        ),
        StoreError::Conflict { .. },
        "delete at a stale version"
    );
    ok!(
        C,
        store.delete_factor(
            service.sid(),
            current.sid(),
            current.version(),
            &deleted.events
        ),
        "delete the factor"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), current.sid()),
        "get a deleted factor"
    );
    ensure!(C, read.is_none(), "a deleted factor is still returned");
    let read = ok!(
        C,
        store.get_challenge(service.sid(), challenge.sid()),
        "get its challenge"
    );
    ensure!(
        C,
        read.is_none(),
        "a deleted factor's challenge is still returned"
    );
    refused!(
        C,
        store.delete_factor(
            service.sid(),
            current.sid(),
            current.version(),
            &deleted.events
        ),
        StoreError::NotFound { .. },
        "delete twice"
    );
    let created = ok!(
        C,
        store.count_factor_creations_since(entity.sid(), T0),
        "count creations"
    );
    ensure!(
        C,
        created == 1,
        "a deleted factor's creation must still count: counted {created}"
    );
    let types = outbox_types(C, &store).await?;
    ensure!(
        C,
        types
            == [
                EventType::FactorCreated,
                EventType::FactorVerified,
                EventType::FactorDeleted
            ],
        "refused writes must write no events; the outbox holds {types:?}"
    );
    Ok(())
}

/// The atomic per-entity quotas of [`FactorInsert::with_quota`].
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn factor_quota<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "factor_quota";
    let mut fx = Fixture::new(C, 4);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let quota = FactorQuota::new(2, T0, 3);

    let (first, events) = fx.totp_factor(&entity, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&first, &events).with_quota(quota)),
        "first TOTP factor"
    );
    let (second, events) = fx.totp_factor(&entity, at(10))?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&second, &events).with_quota(quota)),
        "second TOTP factor"
    );
    let (third, events) = fx.totp_factor(&entity, at(20))?;
    refused!(
        C,
        store.insert_factor(FactorInsert::new(&third, &events).with_quota(quota)),
        StoreError::QuotaExceeded {
            kind: QuotaKind::FactorsOfType,
            limit: 2,
            count: 2
        },
        "a third TOTP factor over a quota of two"
    );
    let (push, events) = fx.push_factor(&entity, at(20))?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&push, &events).with_quota(quota)),
        "a push factor (own quota)"
    );

    let deleted = fx.model(first.delete(at(30)))?;
    ok!(
        C,
        store.delete_factor(service.sid(), first.sid(), first.version(), &deleted.events),
        "delete the first"
    );
    let count = ok!(
        C,
        store.count_factors(entity.sid(), FactorType::Totp),
        "count TOTP factors"
    );
    ensure!(C, count == 1, "counted {count} TOTP factors after a delete");
    refused!(
        C,
        store.insert_factor(FactorInsert::new(&third, &[]).with_quota(quota)),
        StoreError::QuotaExceeded {
            kind: QuotaKind::CreationsInWindow,
            limit: 3,
            count: 3
        },
        "a fourth creation in the window (deleted factors count)"
    );
    let later = FactorQuota::new(2, at(5), 3);
    let (fourth, events) = fx.totp_factor(&entity, at(40))?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&fourth, &events).with_quota(later)),
        "a creation once the window moved"
    );
    let in_window = ok!(
        C,
        store.count_factor_creations_since(entity.sid(), at(5)),
        "count creations"
    );
    ensure!(
        C,
        in_window == 3,
        "counted {in_window} creations since T0+5, expected 3"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), third.sid()),
        "get a refused factor"
    );
    ensure!(
        C,
        read.is_none(),
        "a factor refused by its quota was stored"
    );
    let created = outbox_types(C, &store)
        .await?
        .into_iter()
        .filter(|t| *t == EventType::FactorCreated)
        .count();
    ensure!(
        C,
        created == 4,
        "expected 4 factor.created events (refused inserts write none), found {created}"
    );
    Ok(())
}

/// A passkey credential id is unique within a service, not across services.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn passkey_credential_unique<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "passkey_credential_unique";
    let mut fx = Fixture::new(C, 5);
    let (service, alice) = service_and_entity(C, &store, &mut fx, "user-alice").await?;
    let bob = fx.entity(&service, "user-bob1")?;
    ok!(C, store.insert_entity(&bob), "insert a second entity");

    let (p1, events) = fx.passkey_factor(&alice, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&p1, &events)),
        "insert a passkey factor"
    );
    let (p2, events) = fx.passkey_factor(&bob, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&p2, &events)),
        "insert another passkey factor"
    );

    let (p1v, events) = fx.verified(
        &p1,
        VerificationProof::Passkey(fx.credential(b"cred-1", 0)?),
        at(10),
    )?;
    ok!(
        C,
        store.update_factor(&p1v, &events),
        "register credential cred-1"
    );
    let found = ok!(
        C,
        store.find_factor_by_credential_id(service.sid(), b"cred-1"),
        "find by credential id"
    );
    ensure!(
        C,
        found.as_ref() == Some(&p1v),
        "find by credential id returned {found:?}"
    );
    let (p2v, events) = fx.verified(
        &p2,
        VerificationProof::Passkey(fx.credential(b"cred-1", 0)?),
        at(10),
    )?;
    refused!(
        C,
        store.update_factor(&p2v, &events),
        StoreError::Duplicate {
            resource: Resource::Factor,
            key: UniqueKey::CredentialId
        },
        "register cred-1 on a second factor of the service"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), p2.sid()),
        "get the refused factor"
    );
    ensure!(
        C,
        read.as_ref() == Some(&p2),
        "a refused registration changed the factor: {read:?}"
    );
    let (p2v, events) = fx.verified(
        &p2,
        VerificationProof::Passkey(fx.credential(b"cred-2", 0)?),
        at(10),
    )?;
    ok!(C, store.update_factor(&p2v, &events), "register cred-2");

    let other = fx.service("Other")?;
    ok!(C, store.insert_service(&other), "insert a second service");
    let carol = fx.entity(&other, "user-carol")?;
    ok!(C, store.insert_entity(&carol), "insert an entity there");
    let (p3, events) = fx.passkey_factor(&carol, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&p3, &events)),
        "insert a passkey factor there"
    );
    let (p3v, events) = fx.verified(
        &p3,
        VerificationProof::Passkey(fx.credential(b"cred-1", 0)?),
        at(10),
    )?;
    ok!(
        C,
        store.update_factor(&p3v, &events),
        "cred-1 in another service"
    );
    let found = ok!(
        C,
        store.find_factor_by_credential_id(service.sid(), b"cred-1"),
        "find by credential id"
    );
    ensure!(
        C,
        found.as_ref() == Some(&p1v),
        "credential lookup crossed services: {found:?}"
    );
    let found = ok!(
        C,
        store.find_factor_by_credential_id(other.sid(), b"cred-1"),
        "find by credential id"
    );
    ensure!(
        C,
        found.as_ref() == Some(&p3v),
        "credential lookup in the other service: {found:?}"
    );
    let found = ok!(
        C,
        store.find_factor_by_credential_id(service.sid(), b"cred-9"),
        "find an unknown id"
    );
    ensure!(C, found.is_none(), "an unknown credential id was found");
    Ok(())
}

/// Access tokens: insert, scoped get, single redemption (atomic with the factor it
/// enrolls, or on its own).
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn access_token_redeem<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "access_token_redeem";
    let mut fx = Fixture::new(C, 6);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let token = fx.access_token(&service, entity.identity(), T0)?;
    ok!(C, store.insert_access_token(&token), "insert a token");
    refused!(
        C,
        store.insert_access_token(&token),
        StoreError::Duplicate {
            resource: Resource::AccessToken,
            key: UniqueKey::Sid
        },
        "insert the same token again"
    );
    let read = ok!(
        C,
        store.get_access_token(service.sid(), token.sid()),
        "get the token"
    );
    ensure!(C, read.as_ref() == Some(&token), "get returned {read:?}");
    let other = fx.service("Other")?;
    let read = ok!(
        C,
        store.get_access_token(other.sid(), token.sid()),
        "get across services"
    );
    ensure!(C, read.is_none(), "a token is visible from another service");

    let redeemed = fx.model(token.redeem(&token.token(), at(10)))?;
    let (phone, events) = fx.push_factor(&entity, at(10))?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&phone, &events).redeeming(&redeemed)),
        "enroll a push factor redeeming the token"
    );
    let read = ok!(
        C,
        store.get_access_token(service.sid(), token.sid()),
        "get the token"
    );
    ensure!(
        C,
        read.as_ref() == Some(&redeemed),
        "the redeemed token was not written: {read:?}"
    );
    let (second, events) = fx.push_factor(&entity, at(11))?;
    refused!(
        C,
        store.insert_factor(FactorInsert::new(&second, &events).redeeming(&redeemed)),
        StoreError::Conflict {
            resource: Resource::AccessToken,
            ..
        },
        "enroll a second factor with the same token"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), second.sid()),
        "get the refused factor"
    );
    ensure!(
        C,
        read.is_none(),
        "a factor whose token redemption failed was stored"
    );

    let solo = fx.access_token(&service, entity.identity(), at(20))?;
    ok!(C, store.insert_access_token(&solo), "insert another token");
    let solo_redeemed = fx.model(solo.redeem(&solo.token(), at(21)))?;
    ok!(C, store.update_access_token(&solo_redeemed), "redeem it");
    refused!(
        C,
        store.update_access_token(&solo_redeemed),
        StoreError::Conflict { .. },
        "redeem it twice"
    );
    let created = outbox_types(C, &store).await?;
    ensure!(
        C,
        created == [EventType::FactorCreated],
        "outbox holds {created:?}"
    );
    Ok(())
}

/// Challenge insert, scoped get, compare-and-set update.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn challenge_crud<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "challenge_crud";
    let mut fx = Fixture::new(C, 7);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let factor = verified_totp(C, &store, &mut fx, &entity).await?;
    let challenge = fx.challenge(&factor, at(40))?;
    ok!(
        C,
        store.insert_challenge(&challenge, &[]),
        "insert a challenge"
    );
    refused!(
        C,
        store.insert_challenge(&challenge, &[]),
        StoreError::Duplicate {
            resource: Resource::Challenge,
            key: UniqueKey::Sid
        },
        "insert the same challenge again"
    );
    let read = ok!(
        C,
        store.get_challenge(service.sid(), challenge.sid()),
        "get the challenge"
    );
    ensure!(
        C,
        read.as_ref() == Some(&challenge),
        "get returned {read:?}"
    );
    let other = fx.service("Other")?;
    let read = ok!(
        C,
        store.get_challenge(other.sid(), challenge.sid()),
        "get across services"
    );
    ensure!(
        C,
        read.is_none(),
        "a challenge is visible from another service"
    );

    let (denied, events) = fx.denied(&challenge, &factor, at(50))?;
    ok!(
        C,
        store.update_challenge(&denied, &events),
        "deny the challenge"
    );
    let (approved, events) = fx.approved(&challenge, &factor, at(51))?;
    refused!(
        C,
        store.update_challenge(&approved, &events),
        StoreError::Conflict { .. },
        "approve from a stale read"
    );
    let read = ok!(
        C,
        store.get_challenge(service.sid(), challenge.sid()),
        "get the challenge"
    );
    ensure!(
        C,
        read.as_ref() == Some(&denied),
        "after a refused approval, get returned {read:?}"
    );
    ensure!(
        C,
        read.as_ref().map(|c| c.status_at(at(52))) == Some(ChallengeStatus::Denied),
        "status is not denied"
    );

    let stray = fx.totp_factor(&entity, T0)?.0;
    let (stray, _) = fx.verified(&stray, VerificationProof::TotpStep(1), at(1))?;
    let orphan = fx.challenge(&stray, at(40))?;
    refused!(
        C,
        store.insert_challenge(&orphan, &[]),
        StoreError::NotFound {
            resource: Resource::Factor,
            ..
        },
        "insert a challenge of a missing factor"
    );
    let ghost = fx.challenge(&factor, at(40))?;
    let (ghost_denied, _) = fx.denied(&ghost, &factor, at(41))?;
    refused!(
        C,
        store.update_challenge(&ghost_denied, &[]),
        StoreError::NotFound { .. },
        "update a missing challenge"
    );
    let types = outbox_types(C, &store).await?;
    ensure!(
        C,
        types
            == [
                EventType::FactorCreated,
                EventType::FactorVerified,
                EventType::ChallengeDenied
            ],
        "outbox holds {types:?}"
    );
    Ok(())
}

/// [`Store::update_challenge_and_factor`]: both compare-and-sets or neither.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn paired_write<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "paired_write";
    let mut fx = Fixture::new(C, 8);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let factor = verified_totp(C, &store, &mut fx, &entity).await?;
    let first = fx.challenge(&factor, at(40))?;
    let second = fx.challenge(&factor, at(40))?;
    ok!(C, store.insert_challenge(&first, &[]), "insert a challenge");
    ok!(
        C,
        store.insert_challenge(&second, &[]),
        "insert another challenge"
    );
    let before = outbox_types(C, &store).await?.len();

    let paired = fx.model(first.approve_totp(&factor, 101, at(50)))?;
    let Some(factor_write) = paired.factor.as_ref() else {
        return Err(Failure::new(
            C,
            "the model did not advance the factor".to_owned(),
        ));
    };
    let events: Vec<_> = paired
        .challenge
        .events
        .iter()
        .chain(&factor_write.events)
        .cloned()
        .collect();
    ok!(
        C,
        store.update_challenge_and_factor(
            &paired.challenge.challenge,
            &factor_write.factor,
            &events
        ),
        "approve with the factor's step"
    );
    let stepped = factor_write.factor.clone();

    // Stale factor: the challenge write must not happen either.
    let stale = fx.model(second.approve_totp(&factor, 102, at(51)))?;
    let Some(stale_factor) = stale.factor.as_ref() else {
        return Err(Failure::new(
            C,
            "the model did not advance the factor".to_owned(),
        ));
    };
    refused!(
        C,
        store.update_challenge_and_factor(
            &stale.challenge.challenge,
            &stale_factor.factor,
            &stale.challenge.events
        ),
        StoreError::Conflict {
            resource: Resource::Factor,
            ..
        },
        "a paired write with a stale factor"
    );
    let read = ok!(
        C,
        store.get_challenge(service.sid(), second.sid()),
        "get the challenge"
    );
    ensure!(
        C,
        read.as_ref() == Some(&second),
        "the challenge changed although the factor write failed: {read:?}"
    );

    // Stale challenge: the factor write must not happen either.
    let attempt = fx.model(second.record_failed_attempt(at(52)))?;
    ok!(
        C,
        store.update_challenge(&attempt.challenge, &attempt.events),
        "record a failed attempt"
    );
    let stale = fx.model(second.approve_totp(&stepped, 102, at(53)))?;
    let Some(stale_factor) = stale.factor.as_ref() else {
        return Err(Failure::new(
            C,
            "the model did not advance the factor".to_owned(),
        ));
    };
    refused!(
        C,
        store.update_challenge_and_factor(
            &stale.challenge.challenge,
            &stale_factor.factor,
            &stale.challenge.events
        ),
        StoreError::Conflict {
            resource: Resource::Challenge,
            ..
        },
        "a paired write with a stale challenge"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), factor.sid()),
        "get the factor"
    );
    ensure!(
        C,
        read.as_ref() == Some(&stepped),
        "the factor changed although the challenge write failed: {read:?}"
    );

    // The challenge must name the factor written with it.
    let other = verified_totp(C, &store, &mut fx, &entity).await?;
    let fresh = fx.model(attempt.challenge.approve_totp(&stepped, 102, at(54)))?;
    let moved = fx.model(other.record_totp_step(500, at(54)))?;
    refused!(
        C,
        store.update_challenge_and_factor(&fresh.challenge.challenge, &moved.factor, &[]),
        StoreError::InvalidWrite { .. },
        "a paired write with a factor the challenge does not name"
    );
    let after = outbox_types(C, &store).await?;
    ensure!(
        C,
        after.get(before..)
            == Some(
                &[
                    EventType::ChallengeApproved,
                    EventType::FactorCreated,
                    EventType::FactorVerified
                ][..]
            ),
        "refused paired writes must write no events; the outbox ends with {:?}",
        after.get(before..)
    );
    Ok(())
}

/// Challenge listing: filters (factor, status read at `now`), order, paging.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn list_challenges<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "list_challenges";
    let mut fx = Fixture::new(C, 9);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let f = verified_totp(C, &store, &mut fx, &entity).await?;
    let g = verified_totp(C, &store, &mut fx, &entity).await?;
    let neighbour = fx.entity(&service, "user-0002")?;
    ok!(C, store.insert_entity(&neighbour), "insert a second entity");
    let h = verified_totp(C, &store, &mut fx, &neighbour).await?;
    let theirs = fx.challenge(&h, at(100))?;
    ok!(
        C,
        store.insert_challenge(&theirs, &[]),
        "a challenge of another entity"
    );

    // Three share a creation time (ordered by sid), the rest are spread out.
    let mut challenges: Vec<Challenge> = Vec::new();
    for (i, secs) in [100, 100, 100, 200, 300, 400, 500].into_iter().enumerate() {
        let factor = if i % 2 == 0 { &f } else { &g };
        let challenge = fx.challenge(factor, at(secs))?;
        ok!(
            C,
            store.insert_challenge(&challenge, &[]),
            "insert a challenge"
        );
        challenges.push(challenge);
    }
    let Some(third) = challenges.get(2).cloned() else {
        return Err(Failure::new(C, "fixture".to_owned()));
    };
    let (denied, events) = fx.denied(&third, &f, at(150))?;
    ok!(C, store.update_challenge(&denied, &events), "deny one");
    if let Some(slot) = challenges.get_mut(2) {
        *slot = denied;
    }
    challenges.sort_by_key(Listable::list_key);

    // At T0+700 the ones created at or before T0+400 have expired (5-minute default).
    let now = at(700);
    let cases = [
        ChallengeFilter::default(),
        ChallengeFilter::new(Some(f.sid()), None),
        ChallengeFilter::new(Some(g.sid()), None),
        ChallengeFilter::new(None, Some(ChallengeStatus::Expired)),
        ChallengeFilter::new(None, Some(ChallengeStatus::Pending)),
        ChallengeFilter::new(None, Some(ChallengeStatus::Denied)),
        ChallengeFilter::new(None, Some(ChallengeStatus::Approved)),
        ChallengeFilter::new(Some(f.sid()), Some(ChallengeStatus::Expired)),
    ];
    for filter in cases {
        let expected: Vec<Challenge> = challenges
            .iter()
            .filter(|c| {
                filter
                    .factor_sid
                    .is_none_or(|sid| c.factor_sid() == Some(sid))
                    && filter.status.is_none_or(|s| c.status_at(now) == s)
            })
            .cloned()
            .collect();
        for (order, size) in [
            (ListOrder::Asc, 3),
            (ListOrder::Desc, 3),
            (ListOrder::Asc, 1),
            (ListOrder::Desc, 50),
        ] {
            let (st, sid, eid) = (&store, service.sid(), entity.sid());
            let listed = walk(C, order, size, |q| async move {
                st.list_challenges(sid, eid, &filter, &q, now).await
            })
            .await?;
            let mut want = expected.clone();
            if order == ListOrder::Desc {
                want.reverse();
            }
            ensure!(
                C,
                listed == want,
                "filter {filter:?}, {order:?}, page size {size}: listed {:?}, expected {:?}",
                listed.iter().map(Challenge::sid).collect::<Vec<_>>(),
                want.iter().map(Challenge::sid).collect::<Vec<_>>()
            );
        }
    }
    let pending = ChallengeFilter::new(None, Some(ChallengeStatus::Pending));
    let early = ok!(
        C,
        store.list_challenges(
            service.sid(),
            entity.sid(),
            &pending,
            &ListQuery::default(),
            at(250)
        ),
        "list pending earlier"
    );
    ensure!(
        C,
        early.items.len() == 6,
        "at T0+250, {} challenges read pending, expected 6",
        early.items.len()
    );

    let first = ok!(
        C,
        store.list_challenges(
            service.sid(),
            entity.sid(),
            &ChallengeFilter::default(),
            &ListQuery::new(ListOrder::Asc, page_size(C, 2)?),
            now
        ),
        "list a first page"
    );
    let Some(token) = first.next_page_token else {
        return Err(Failure::new(
            C,
            "a first page of 2 out of 7 has no next-page token".to_owned(),
        ));
    };
    refused!(
        C,
        store.list_challenges(
            service.sid(),
            entity.sid(),
            &ChallengeFilter::default(),
            &ListQuery::new(ListOrder::Desc, page_size(C, 2)?).with_page_token(token.clone()),
            now
        ),
        StoreError::InvalidPageToken,
        "an ascending page token on a descending list"
    );

    // Pages stay stable while challenges are added: continuing from the token skips
    // one created before the cursor and picks up one created after the last.
    let before_cursor = fx.challenge(&f, at(50))?;
    let after_last = fx.challenge(&g, at(600))?;
    ok!(
        C,
        store.insert_challenge(&before_cursor, &[]),
        "insert an early challenge"
    );
    ok!(
        C,
        store.insert_challenge(&after_last, &[]),
        "insert a late challenge"
    );
    let mut rest = Vec::new();
    let mut next = Some(token);
    let mut pages = 0_usize;
    while let Some(token) = next.take() {
        let query = ListQuery::new(ListOrder::Asc, page_size(C, 2)?).with_page_token(token);
        let page = ok!(
            C,
            store.list_challenges(
                service.sid(),
                entity.sid(),
                &ChallengeFilter::default(),
                &query,
                now
            ),
            "continue the list"
        );
        rest.extend(page.items.iter().map(Challenge::sid));
        next = page.next_page_token;
        pages = pages.saturating_add(1);
        ensure!(C, pages <= 100, "paging does not terminate");
    }
    let expected: Vec<_> = challenges
        .iter()
        .skip(2)
        .map(Challenge::sid)
        .chain([after_last.sid()])
        .collect();
    ensure!(
        C,
        rest == expected,
        "continuing a list after inserts returned {rest:?}, expected {expected:?}"
    );
    Ok(())
}

/// Factor listing: order and paging, scoped to the entity.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn list_factors<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "list_factors";
    let mut fx = Fixture::new(C, 10);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let neighbour = fx.entity(&service, "user-0002")?;
    ok!(C, store.insert_entity(&neighbour), "insert a second entity");
    let (theirs, events) = fx.totp_factor(&neighbour, at(5))?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&theirs, &events)),
        "a factor of another entity"
    );
    let mut factors = Vec::new();
    for secs in [30, 10, 10, 20, 10] {
        let (factor, events) = fx.totp_factor(&entity, at(secs))?;
        ok!(
            C,
            store.insert_factor(FactorInsert::new(&factor, &events)),
            "insert a factor"
        );
        factors.push(factor);
    }
    factors.sort_by_key(Listable::list_key);
    let all = ok!(
        C,
        store.entity_factors(service.sid(), entity.sid()),
        "entity factors"
    );
    ensure!(
        C,
        all == factors,
        "entity factors are not all of them oldest first"
    );
    for (order, size) in [
        (ListOrder::Asc, 2),
        (ListOrder::Desc, 2),
        (ListOrder::Asc, 5),
        (ListOrder::Desc, 1),
    ] {
        let (st, sid, eid) = (&store, service.sid(), entity.sid());
        let listed = walk(C, order, size, |q| async move {
            st.list_factors(sid, eid, &q).await
        })
        .await?;
        let mut want = factors.clone();
        if order == ListOrder::Desc {
            want.reverse();
        }
        ensure!(
            C,
            listed == want,
            "{order:?}, page size {size}: listed in another order or with gaps"
        );
    }
    Ok(())
}

/// Webhook insert, scoped get, list, compare-and-set update and delete.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn webhook_crud<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "webhook_crud";
    let mut fx = Fixture::new(C, 11);
    let missing = fx.service("Missing")?;
    let orphan = fx.webhook(&missing, T0)?;
    refused!(
        C,
        store.insert_webhook(&orphan),
        StoreError::NotFound { .. },
        "a webhook of a missing service"
    );
    let service = fx.service("Owl Bank")?;
    ok!(C, store.insert_service(&service), "insert a service");
    let first = fx.webhook(&service, at(10))?;
    let second = fx.webhook(&service, at(5))?;
    ok!(C, store.insert_webhook(&first), "insert a webhook");
    ok!(C, store.insert_webhook(&second), "insert another");
    refused!(
        C,
        store.insert_webhook(&first),
        StoreError::Duplicate {
            resource: Resource::Webhook,
            key: UniqueKey::Sid
        },
        "insert the same webhook again"
    );
    let read = ok!(
        C,
        store.get_webhook(service.sid(), first.sid()),
        "get the webhook"
    );
    ensure!(C, read.as_ref() == Some(&first), "get returned {read:?}");
    let (st, sid) = (&store, service.sid());
    let listed = walk(C, ListOrder::Asc, 1, |q| async move {
        st.list_webhooks(sid, &q).await
    })
    .await?;
    ensure!(
        C,
        listed == vec![second.clone(), first.clone()],
        "webhooks listed as {listed:?}"
    );

    let disabled = fx.model(first.with_status(WebhookStatus::Disabled, at(20)))?;
    ok!(C, store.update_webhook(&disabled), "disable it");
    refused!(
        C,
        store.update_webhook(&disabled),
        StoreError::Conflict { .. },
        "repeat the update"
    );
    let read = ok!(
        C,
        store.get_webhook(service.sid(), first.sid()),
        "get the webhook"
    );
    ensure!(C, read.as_ref() == Some(&disabled), "get returned {read:?}");
    refused!(
        C,
        store.delete_webhook(service.sid(), first.sid(), 0),
        StoreError::Conflict { .. },
        "delete at a stale version"
    );
    ok!(
        C,
        store.delete_webhook(service.sid(), first.sid(), 1),
        "delete it"
    );
    let read = ok!(
        C,
        store.get_webhook(service.sid(), first.sid()),
        "get a deleted webhook"
    );
    ensure!(C, read.is_none(), "a deleted webhook is still returned");
    refused!(
        C,
        store.delete_webhook(service.sid(), first.sid(), 1),
        StoreError::NotFound { .. },
        "delete twice"
    );
    Ok(())
}

/// Deleting an entity deletes its factors and challenges, only when the caller
/// named every factor at its current version, and writes the events.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn entity_cascade_delete<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "entity_cascade_delete";
    let mut fx = Fixture::new(C, 12);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let f = verified_totp(C, &store, &mut fx, &entity).await?;
    let (g, events) = fx.push_factor(&entity, at(40))?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&g, &events)),
        "insert a push factor"
    );
    let challenge = fx.challenge(&f, at(50))?;
    ok!(
        C,
        store.insert_challenge(&challenge, &[]),
        "insert a challenge"
    );
    let neighbour = fx.entity(&service, "user-0002")?;
    ok!(C, store.insert_entity(&neighbour), "insert a second entity");
    let h = verified_totp(C, &store, &mut fx, &neighbour).await?;
    let kept = fx.challenge(&h, at(50))?;
    ok!(
        C,
        store.insert_challenge(&kept, &[]),
        "insert their challenge"
    );
    let before = outbox_types(C, &store).await?.len();

    let deletions = [fx.model(f.delete(at(60)))?, fx.model(g.delete(at(60)))?];
    let events: Vec<_> = deletions.iter().flat_map(|d| d.events.clone()).collect();
    refused!(
        C,
        store.delete_entity(
            service.sid(),
            entity.sid(),
            &[(f.sid(), f.version())],
            &events
        ),
        StoreError::Conflict { .. },
        "delete naming one of two factors"
    );
    refused!(
        C,
        store.delete_entity(
            service.sid(),
            entity.sid(),
            &[
                (f.sid(), f.version().saturating_sub(1)),
                (g.sid(), g.version())
            ],
            &events
        ),
        StoreError::Conflict { .. },
        "delete naming a stale factor version"
    );
    let read = ok!(C, store.get_factor(service.sid(), g.sid()), "get a factor");
    ensure!(
        C,
        read.is_some(),
        "a refused entity delete deleted a factor"
    );
    ok!(
        C,
        store.delete_entity(
            service.sid(),
            entity.sid(),
            &[(g.sid(), g.version()), (f.sid(), f.version())],
            &events
        ),
        "delete the entity"
    );
    let read = ok!(
        C,
        store.get_entity(service.sid(), entity.sid()),
        "get the entity"
    );
    ensure!(C, read.is_none(), "a deleted entity is still returned");
    let read = ok!(
        C,
        store.get_entity_by_identity(service.sid(), entity.identity()),
        "get by identity"
    );
    ensure!(
        C,
        read.is_none(),
        "a deleted entity is still found by identity"
    );
    for sid in [f.sid(), g.sid()] {
        let read = ok!(C, store.get_factor(service.sid(), sid), "get a factor");
        ensure!(
            C,
            read.is_none(),
            "factor {sid} of a deleted entity is still returned"
        );
    }
    let read = ok!(
        C,
        store.get_challenge(service.sid(), challenge.sid()),
        "get a challenge"
    );
    ensure!(
        C,
        read.is_none(),
        "a challenge of a deleted entity is still returned"
    );
    let read = ok!(
        C,
        store.get_challenge(service.sid(), kept.sid()),
        "get another entity's challenge"
    );
    ensure!(
        C,
        read.as_ref() == Some(&kept),
        "deleting an entity deleted another's challenge"
    );
    let read = ok!(
        C,
        store.get_factor(service.sid(), h.sid()),
        "get another entity's factor"
    );
    ensure!(
        C,
        read.as_ref() == Some(&h),
        "deleting an entity deleted another's factor"
    );
    let after = outbox_types(C, &store).await?;
    ensure!(
        C,
        after.get(before..) == Some(&[EventType::FactorDeleted, EventType::FactorDeleted][..]),
        "expected two factor.deleted events, the outbox ends with {:?}",
        after.get(before..)
    );
    refused!(
        C,
        store.delete_entity(service.sid(), entity.sid(), &[], &[]),
        StoreError::NotFound { .. },
        "delete twice"
    );
    let again = fx.entity(&service, "user-0001")?;
    ok!(C, store.insert_entity(&again), "the identity is free again");
    Ok(())
}

/// Deleting a service deletes everything in it and nothing else.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn service_cascade_delete<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "service_cascade_delete";
    let mut fx = Fixture::new(C, 13);
    let mut worlds = Vec::new();
    for identity in ["user-0001", "user-0002"] {
        let (service, entity) = service_and_entity(C, &store, &mut fx, identity).await?;
        let factor = verified_totp(C, &store, &mut fx, &entity).await?;
        let challenge = fx.challenge(&factor, at(40))?;
        ok!(
            C,
            store.insert_challenge(&challenge, &[]),
            "insert a challenge"
        );
        let token = fx.access_token(&service, entity.identity(), at(40))?;
        ok!(C, store.insert_access_token(&token), "insert a token");
        let webhook = fx.webhook(&service, at(40))?;
        ok!(C, store.insert_webhook(&webhook), "insert a webhook");
        worlds.push((service, entity, factor, challenge, token, webhook));
    }
    let Some((service, entity, factor, challenge, token, webhook)) = worlds.first() else {
        return Err(Failure::new(C, "fixture".to_owned()));
    };
    ok!(
        C,
        store.delete_service(service.sid(), service.version()),
        "delete the first service"
    );
    let s = service.sid();
    let gone = [
        ok!(C, store.get_entity(s, entity.sid()), "get").is_none(),
        ok!(C, store.get_factor(s, factor.sid()), "get").is_none(),
        ok!(C, store.get_challenge(s, challenge.sid()), "get").is_none(),
        ok!(C, store.get_access_token(s, token.sid()), "get").is_none(),
        ok!(C, store.get_webhook(s, webhook.sid()), "get").is_none(),
    ];
    ensure!(
        C,
        gone.iter().all(|g| *g),
        "after deleting a service, still present [entity, factor, challenge, token, webhook]: {gone:?}"
    );
    let count = ok!(
        C,
        store.count_factors(entity.sid(), FactorType::Totp),
        "count factors"
    );
    ensure!(
        C,
        count == 0,
        "a deleted service's entity still counts {count} factors"
    );
    let orphan = fx.entity(service, "user-0003")?;
    refused!(
        C,
        store.insert_entity(&orphan),
        StoreError::NotFound { .. },
        "insert into a deleted service"
    );
    let Some((service, entity, factor, challenge, token, webhook)) = worlds.get(1) else {
        return Err(Failure::new(C, "fixture".to_owned()));
    };
    let s = service.sid();
    let kept = [
        ok!(C, store.get_service(s), "get").as_ref() == Some(service),
        ok!(C, store.get_entity(s, entity.sid()), "get").as_ref() == Some(entity),
        ok!(C, store.get_factor(s, factor.sid()), "get").as_ref() == Some(factor),
        ok!(C, store.get_challenge(s, challenge.sid()), "get").as_ref() == Some(challenge),
        ok!(C, store.get_access_token(s, token.sid()), "get").as_ref() == Some(token),
        ok!(C, store.get_webhook(s, webhook.sid()), "get").as_ref() == Some(webhook),
    ];
    ensure!(
        C,
        kept.iter().all(|k| *k),
        "deleting one service changed another [service, entity, factor, challenge, token, webhook]: {kept:?}"
    );
    Ok(())
}

/// The outbox: sequence order across and within writes, peek / ack / drain.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn outbox<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "outbox";
    let mut fx = Fixture::new(C, 14);
    let empty = ok!(C, store.peek_events(None, 10), "peek an empty outbox");
    ensure!(C, empty.is_empty(), "a new store has events");
    let drained = ok!(C, store.drain_events(10), "drain an empty outbox");
    ensure!(C, drained.is_empty(), "a new store drained events");

    let (_, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let f = verified_totp(C, &store, &mut fx, &entity).await?;
    let challenge = fx.challenge(&f, at(40))?;
    ok!(
        C,
        store.insert_challenge(&challenge, &[]),
        "insert a challenge"
    );
    let (denied, events) = fx.denied(&challenge, &f, at(50))?;
    ok!(C, store.update_challenge(&denied, &events), "deny it");
    refused!(
        C,
        store.update_challenge(&denied, &events),
        StoreError::Conflict { .. },
        "deny it twice"
    );
    // One write with several events keeps their order.
    let (g, created) = fx.push_factor(&entity, at(60))?;
    let burst: Vec<_> = created
        .iter()
        .cloned()
        .chain(denied_events(&events))
        .chain(created.iter().cloned())
        .collect();
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&g, &burst)),
        "a write with three events"
    );

    let all = ok!(C, store.peek_events(None, 100), "peek all");
    let types: Vec<_> = all.iter().map(|e| e.event.event_type).collect();
    let expected = [
        EventType::FactorCreated,
        EventType::FactorVerified,
        EventType::ChallengeDenied,
        EventType::FactorCreated,
        EventType::ChallengeDenied,
        EventType::FactorCreated,
    ];
    ensure!(
        C,
        types == expected,
        "outbox order {types:?}, expected {expected:?}"
    );
    ensure!(
        C,
        all.windows(2)
            .all(|w| matches!(w, [a, b] if a.sequence < b.sequence)),
        "sequences are not strictly increasing: {:?}",
        all.iter().map(|e| e.sequence).collect::<Vec<_>>()
    );
    let sequences: Vec<u64> = all.iter().map(|e| e.sequence).collect();
    let (Some(&s1), Some(&s2), Some(&last)) =
        (sequences.first(), sequences.get(1), sequences.last())
    else {
        return Err(Failure::new(C, "fixture".to_owned()));
    };
    let limited = ok!(C, store.peek_events(None, 2), "peek two");
    ensure!(
        C,
        limited.len() == 2 && limited.first().map(|e| e.sequence) == Some(s1),
        "peek with a limit of 2 returned {limited:?}"
    );
    let after = ok!(C, store.peek_events(Some(s1), 100), "peek after the first");
    ensure!(
        C,
        after.len() == 5 && after.first().map(|e| e.sequence) == Some(s2),
        "peek after the first returned {} events",
        after.len()
    );
    let again = ok!(C, store.peek_events(None, 100), "peek again");
    ensure!(C, again == all, "peek removed events");

    let acked = ok!(C, store.ack_events(s2), "ack the first two");
    ensure!(
        C,
        acked == 2,
        "ack through the second event removed {acked}"
    );
    let acked = ok!(C, store.ack_events(s2), "ack them again");
    ensure!(C, acked == 0, "a repeated ack removed {acked}");
    let rest = ok!(C, store.peek_events(None, 100), "peek the rest");
    ensure!(
        C,
        rest.as_slice() == all.get(2..).unwrap_or_default(),
        "after ack the outbox holds {rest:?}"
    );

    let one = ok!(C, store.drain_events(1), "drain one");
    ensure!(
        C,
        one.as_slice() == all.get(2..3).unwrap_or_default(),
        "drain(1) returned {one:?}"
    );
    let rest = ok!(C, store.drain_events(100), "drain the rest");
    ensure!(
        C,
        rest.as_slice() == all.get(3..).unwrap_or_default(),
        "drain returned {rest:?}"
    );
    let none = ok!(C, store.drain_events(100), "drain an emptied outbox");
    ensure!(C, none.is_empty(), "a drained outbox returned {none:?}");

    let deleted = fx.model(g.delete(at(70)))?;
    ok!(
        C,
        store.delete_factor(g.service_sid(), g.sid(), g.version(), &deleted.events),
        "delete a factor"
    );
    let fresh = ok!(C, store.peek_events(None, 100), "peek a new event");
    ensure!(
        C,
        fresh.len() == 1 && fresh.iter().all(|e| e.sequence > last),
        "a new event must get a sequence above every earlier one ({last}): {fresh:?}"
    );
    Ok(())
}

fn denied_events(events: &[verify_model::Event]) -> Vec<verify_model::Event> {
    events.to_vec()
}

/// A usernameless passkey challenge has no entity or factor until it is approved; the
/// approval binds them (the only binding that may change), and it then belongs to the
/// entity: listed with its challenges, deleted with its factor.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn discoverable_passkey<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "discoverable_passkey";
    let mut fx = Fixture::new(C, 15);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let (passkey, events) = fx.passkey_factor(&entity, T0)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&passkey, &events)),
        "insert a passkey factor"
    );
    let credential = fx.credential(b"discoverable", 3)?;
    let (passkey, events) =
        fx.verified(&passkey, VerificationProof::Passkey(credential), at(10))?;
    ok!(C, store.update_factor(&passkey, &events), "verify it");

    let open = fx.discoverable_challenge(&service, at(20))?;
    ok!(
        C,
        store.insert_challenge(&open, &[]),
        "insert an open challenge"
    );
    let read = ok!(C, store.get_challenge(service.sid(), open.sid()), "get it");
    ensure!(C, read.as_ref() == Some(&open), "get returned {read:?}");
    let listed = ok!(
        C,
        store.list_challenges(
            service.sid(),
            entity.sid(),
            &ChallengeFilter::default(),
            &ListQuery::default(),
            at(21)
        ),
        "list the entity's challenges"
    );
    ensure!(
        C,
        listed.items.is_empty(),
        "an open challenge is listed under an entity"
    );

    let paired = fx.model(open.approve_passkey(&passkey, 4, false, at(30)))?;
    let Some(factor_write) = paired.factor.as_ref() else {
        return Err(Failure::new(
            C,
            "the model did not record the sign count".to_owned(),
        ));
    };
    ok!(
        C,
        store.update_challenge_and_factor(
            &paired.challenge.challenge,
            &factor_write.factor,
            &paired.challenge.events
        ),
        "approve it, binding the entity and factor"
    );
    let read = ok!(C, store.get_challenge(service.sid(), open.sid()), "get it");
    ensure!(
        C,
        read.as_ref() == Some(&paired.challenge.challenge),
        "the approved challenge reads {read:?}"
    );
    let listed = ok!(
        C,
        store.list_challenges(
            service.sid(),
            entity.sid(),
            &ChallengeFilter::default(),
            &ListQuery::default(),
            at(31)
        ),
        "list the entity's challenges"
    );
    ensure!(
        C,
        listed.items == vec![paired.challenge.challenge.clone()],
        "the bound challenge is not listed under its entity: {:?}",
        listed.items
    );
    let current = factor_write.factor.clone();
    let deleted = fx.model(current.delete(at(40)))?;
    ok!(
        C,
        store.delete_factor(
            service.sid(),
            current.sid(),
            current.version(),
            &deleted.events
        ),
        "delete the factor"
    );
    let read = ok!(C, store.get_challenge(service.sid(), open.sid()), "get it");
    ensure!(
        C,
        read.is_none(),
        "a bound challenge survived its factor's deletion"
    );
    Ok(())
}

/// A passkey challenge of an entity that any of its passkeys may answer: stored with
/// the entity and no factor while pending (listed under the entity), the approval binds
/// the factor that answered (written with its sign count), and the challenge goes with
/// the entity when the entity is deleted.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn entity_passkey<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "entity_passkey";
    let mut fx = Fixture::new(C, 22);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let mut passkeys = Vec::new();
    for (offset, id) in [(0, b"first-passkey".as_slice()), (1, b"second-passkey")] {
        let (passkey, events) = fx.passkey_factor(&entity, at(offset))?;
        ok!(
            C,
            store.insert_factor(FactorInsert::new(&passkey, &events)),
            "insert a passkey factor"
        );
        let credential = fx.credential(id, 3)?;
        let (passkey, events) =
            fx.verified(&passkey, VerificationProof::Passkey(credential), at(10))?;
        ok!(C, store.update_factor(&passkey, &events), "verify it");
        passkeys.push(passkey);
    }
    let [first, second] = passkeys.as_slice() else {
        return Err(Failure::new(C, "two passkeys were created".to_owned()));
    };

    let open = fx.entity_passkey_challenge(&entity, at(20))?;
    ensure!(
        C,
        open.entity_sid() == Some(entity.sid()) && open.factor_sid().is_none(),
        "the model's entity challenge is bound as {:?} / {:?}",
        open.entity_sid(),
        open.factor_sid()
    );
    ok!(
        C,
        store.insert_challenge(&open, &[]),
        "insert a pending entity passkey challenge (no factor yet)"
    );
    let read = ok!(C, store.get_challenge(service.sid(), open.sid()), "get it");
    ensure!(C, read.as_ref() == Some(&open), "get returned {read:?}");
    let listed = ok!(
        C,
        store.list_challenges(
            service.sid(),
            entity.sid(),
            &ChallengeFilter::default(),
            &ListQuery::default(),
            at(21)
        ),
        "list the entity's challenges"
    );
    ensure!(
        C,
        listed.items == vec![open.clone()],
        "the pending entity challenge is not listed under its entity: {:?}",
        listed.items
    );

    // The second passkey answers: the approval binds it.
    let paired = fx.model(open.approve_passkey(second, 4, false, at(30)))?;
    let Some(factor_write) = paired.factor.as_ref() else {
        return Err(Failure::new(
            C,
            "the model did not record the sign count".to_owned(),
        ));
    };
    ok!(
        C,
        store.update_challenge_and_factor(
            &paired.challenge.challenge,
            &factor_write.factor,
            &paired.challenge.events
        ),
        "approve it, binding the answering factor"
    );
    let read = ok!(C, store.get_challenge(service.sid(), open.sid()), "get it");
    ensure!(
        C,
        read.as_ref() == Some(&paired.challenge.challenge)
            && read.as_ref().and_then(Challenge::factor_sid) == Some(second.sid()),
        "the approved challenge reads {read:?}"
    );
    let factor = ok!(
        C,
        store.get_factor(service.sid(), second.sid()),
        "get the factor"
    );
    ensure!(
        C,
        factor.as_ref() == Some(&factor_write.factor),
        "the answering factor's sign count was not written: {factor:?}"
    );

    let another = fx.entity_passkey_challenge(&entity, at(40))?;
    ok!(
        C,
        store.insert_challenge(&another, &[]),
        "insert a second pending entity challenge"
    );
    let factors = [first.clone(), factor_write.factor.clone()];
    let mut events = Vec::new();
    for factor in &factors {
        events.extend(fx.model(factor.delete(at(50)))?.events);
    }
    let named: Vec<_> = factors.iter().map(|f| (f.sid(), f.version())).collect();
    ok!(
        C,
        store.delete_entity(service.sid(), entity.sid(), &named, &events),
        "delete the entity with both passkeys"
    );
    for sid in [open.sid(), another.sid()] {
        let read = ok!(C, store.get_challenge(service.sid(), sid), "get it");
        ensure!(
            C,
            read.is_none(),
            "an entity challenge survived its entity's deletion: {read:?}"
        );
    }
    Ok(())
}
