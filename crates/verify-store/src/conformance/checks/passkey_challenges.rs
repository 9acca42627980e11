//! Passkey challenges without a factor while pending: by entity, and discoverable.

use verify_model::{Challenge, ChallengeFilter, VerificationProof};

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok};
use crate::store::{FactorInsert, ListQuery, Store};

use super::{at, service_and_entity};

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
        store.update_challenge_and_factor(&paired.challenge, factor_write),
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
        store.update_challenge_and_factor(&paired.challenge, factor_write),
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
