//! The outbox: sequence order, peek, ack and drain.

use verify_model::EventType;

use crate::conformance::fixture::Fixture;
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::StoreError;
use crate::store::{FactorInsert, Store};

use super::{at, service_and_entity, verified_totp};

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
