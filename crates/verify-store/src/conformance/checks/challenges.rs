//! Challenges: CRUD, the paired challenge-and-factor write, listing and its filters.

use verify_model::limits::MAX_CHALLENGE_TTL;
use verify_model::{
    Challenge, ChallengeFilter, ChallengeStatus, EventType, ListOrder, VerificationProof,
    list::Listable,
};

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::{Resource, StoreError, UniqueKey};
use crate::store::{ListQuery, Store};

use super::{at, outbox_types, page_size, service_and_entity, verified_totp, walk};

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
    ok!(
        C,
        store.update_challenge_and_factor(&paired.challenge, factor_write),
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
        store.update_challenge_and_factor(&stale.challenge, stale_factor),
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
        store.update_challenge_and_factor(&stale.challenge, stale_factor),
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
        store.update_challenge_and_factor(&fresh.challenge, &moved),
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
    // One that lives the longest lifetime is still pending a second before its end,
    // long after every other expired: a store that starts a pending list at the
    // oldest creation a pending challenge can have must still find it.
    let long = fx.challenge_until(&g, at(1000), at(1000).saturating_add(MAX_CHALLENGE_TTL))?;
    ok!(
        C,
        store.insert_challenge(&long, &[]),
        "insert a challenge of the longest lifetime"
    );
    let last_second = at(1000)
        .saturating_add(MAX_CHALLENGE_TTL)
        .saturating_sub(std::time::Duration::from_secs(1));
    for filter in [
        pending,
        ChallengeFilter::new(Some(g.sid()), Some(ChallengeStatus::Pending)),
    ] {
        let late = ok!(
            C,
            store.list_challenges(
                service.sid(),
                entity.sid(),
                &filter,
                &ListQuery::default(),
                last_second
            ),
            "list pending at the longest lifetime's last second"
        );
        ensure!(
            C,
            late.items.iter().map(Challenge::sid).collect::<Vec<_>>() == [long.sid()],
            "filter {filter:?} at the longest lifetime's last second listed {:?}",
            late.items.iter().map(Challenge::sid).collect::<Vec<_>>()
        );
    }
    Ok(())
}
