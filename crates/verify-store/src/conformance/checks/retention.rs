//! Retention: `prune_expired` removes the challenges expired by a cutoff, oldest
//! first and no more than asked, and forgets factor creation times before it.

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok};
use crate::store::{FactorInsert, Store};

use super::{at, service_and_entity, verified_totp};

/// `prune_expired`: challenges at or before the cutoff go (answered or only past
/// their expiry), oldest expiration first, at most `limit` a call; later ones and
/// everything else stay; creation times before the cutoff stop counting.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn prune_expired<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "prune_expired";
    let mut fx = Fixture::new(C, 15);
    let (service, entity) = service_and_entity(C, &store, &mut fx, "user-0001").await?;
    let factor = verified_totp(C, &store, &mut fx, &entity).await?;
    // Four challenges created an hour apart: the first two answered, the third left
    // pending past its expiry, the fourth still pending.
    let mut challenges = Vec::new();
    for hour in 0..4_u64 {
        let challenge = fx.challenge(&factor, at(100 + hour * 3600))?;
        ok!(
            C,
            store.insert_challenge(&challenge, &[]),
            "insert a challenge"
        );
        challenges.push(challenge);
    }
    for challenge in challenges.iter().take(2) {
        let (denied, events) = fx.denied(challenge, &factor, at(100 + 60))?;
        ok!(C, store.update_challenge(&denied, &events), "deny it");
    }
    let expirations: Vec<_> = challenges.iter().map(|c| c.expiration_date()).collect();
    let [first, second, third, fourth] = expirations.as_slice() else {
        return Err(Failure::new(C, "fixture".to_owned()));
    };
    ensure!(
        C,
        first < second && second < third && third < fourth,
        "expirations out of order: {expirations:?}"
    );

    // A second factor created after the cutoff used below.
    let (late, events) = fx.totp_factor(&entity, *fourth)?;
    ok!(
        C,
        store.insert_factor(FactorInsert::new(&late, &events)),
        "insert a factor after the cutoff"
    );
    let before = ok!(
        C,
        store.count_factor_creations_since(entity.sid(), T0),
        "count creations"
    );
    ensure!(C, before == 2, "{before} creations counted, expected 2");

    // A cutoff before every expiration removes nothing.
    let none = ok!(
        C,
        store.prune_expired(T0, 10),
        "prune before every expiration"
    );
    ensure!(C, none == 0, "pruned {none} challenges before any expired");
    // At the third's expiration with a limit of 2: the two oldest only.
    let two = ok!(C, store.prune_expired(*third, 2), "prune the oldest two");
    ensure!(C, two == 2, "a limit of 2 pruned {two}");
    let one = ok!(C, store.prune_expired(*third, 2), "prune the rest due");
    ensure!(
        C,
        one == 1,
        "the third (pending, past its expiry) pruned {one}"
    );
    let again = ok!(C, store.prune_expired(*third, 2), "prune again");
    ensure!(C, again == 0, "a second pass pruned {again}");
    for (index, challenge) in challenges.iter().enumerate() {
        let found = ok!(
            C,
            store.get_challenge(service.sid(), challenge.sid()),
            "fetch a challenge"
        );
        ensure!(
            C,
            found.is_some() == (index == 3),
            "challenge {index} after pruning at the third's expiration: present {}",
            found.is_some()
        );
    }
    ensure!(
        C,
        ok!(
            C,
            store.get_factor(service.sid(), factor.sid()),
            "fetch the factor"
        )
        .is_some(),
        "pruning removed the factor"
    );

    // Factor creation times before the cutoff stopped counting; later ones stay.
    let after = ok!(
        C,
        store.count_factor_creations_since(entity.sid(), T0),
        "count creations again"
    );
    ensure!(
        C,
        after == 1,
        "{after} creations counted after pruning, expected the later one"
    );
    Ok(())
}
