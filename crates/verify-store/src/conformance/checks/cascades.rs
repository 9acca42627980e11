//! Deleting an entity or a service, and what goes with it.

use verify_model::{EventType, FactorType};

use crate::conformance::fixture::Fixture;
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::StoreError;
use crate::store::{FactorInsert, Store};

use super::{at, outbox_types, service_and_entity, verified_totp};

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
