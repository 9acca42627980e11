//! Factors: CRUD, compare-and-set, the creation quotas, credential-id uniqueness, listing.

use verify_model::{EventType, FactorType, ListOrder, VerificationProof, list::Listable};

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::{QuotaKind, Resource, StoreError, UniqueKey};
use crate::store::{FactorInsert, FactorQuota, Store};

use super::{at, outbox_types, service_and_entity, walk};

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
