//! Property: for any set of challenges (with tied creation times), any page size and
//! either order, walking `MemoryStore`'s pages forward yields exactly the filtered,
//! sorted list, with no duplicates or gaps, and walking back yields the same pages.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use verify_model::list::Listable;
use verify_model::{
    Challenge, ChallengeFilter, ChallengeTarget, Entity, Factor, FactorKind, Identity, ListOrder,
    NewChallenge, NewFactor, PageSize, Service, TotpAlgorithm, TotpParams, TotpSecret, UnixTime,
    VerificationProof,
};
use verify_store::{FactorInsert, ListQuery, MemoryStore, Store};

const T0: u64 = 1_767_225_600;

async fn run(
    seed: u64,
    offsets: Vec<(u64, bool)>,
    size: u64,
    desc: bool,
    only_first: bool,
) -> Result<(), String> {
    let e = |what: &str| {
        let what = what.to_owned();
        move |err: &dyn std::fmt::Debug| format!("{what}: {err:?}")
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t0 = UnixTime::from_secs(T0);
    let store = MemoryStore::new();
    let service = Service::create("Owl", t0, &mut rng).map_err(|x| e("service")(&x))?;
    store
        .insert_service(&service)
        .await
        .map_err(|x| e("insert")(&x))?;
    let identity = Identity::parse("user-0001").map_err(|x| e("identity")(&x))?;
    let entity = Entity::create(service.sid(), identity, t0, &mut rng);
    store
        .insert_entity(&entity)
        .await
        .map_err(|x| e("insert")(&x))?;
    let mut factors = Vec::new();
    for _ in 0..2 {
        let kind = FactorKind::totp(
            TotpSecret::generate(&mut rng),
            TotpAlgorithm::default(),
            TotpParams::default(),
        );
        let new = NewFactor::new(
            service.sid(),
            entity.sid(),
            entity.identity().clone(),
            "App",
        );
        let created = Factor::create(new, kind, t0, &mut rng).map_err(|x| e("factor")(&x))?;
        store
            .insert_factor(FactorInsert::new(&created.factor, &created.events))
            .await
            .map_err(|x| e("insert")(&x))?;
        let verified = created
            .factor
            .verify(VerificationProof::TotpStep(1), t0)
            .map_err(|x| e("verify")(&x))?;
        store
            .update_factor(&verified.factor, &[])
            .await
            .map_err(|x| e("update")(&x))?;
        factors.push(verified.factor);
    }
    let (Some(first), Some(second)) = (factors.first(), factors.get(1)) else {
        return Err("fixture".to_owned());
    };
    let mut challenges = Vec::new();
    for (offset, on_first) in offsets {
        let factor = if on_first { first } else { second };
        let at = UnixTime::from_secs(T0 + offset);
        let created = Challenge::create(
            ChallengeTarget::Factor(factor),
            NewChallenge::new(),
            at,
            &mut rng,
        )
        .map_err(|x| e("challenge")(&x))?;
        store
            .insert_challenge(&created.challenge, &[])
            .await
            .map_err(|x| e("insert")(&x))?;
        challenges.push(created.challenge);
    }
    let filter = if only_first {
        ChallengeFilter::new(Some(first.sid()), None)
    } else {
        ChallengeFilter::default()
    };
    let mut expected: Vec<Challenge> = challenges
        .into_iter()
        .filter(|c| !only_first || c.factor_sid() == Some(first.sid()))
        .collect();
    expected.sort_by_key(Listable::list_key);
    let order = if desc {
        ListOrder::Desc
    } else {
        ListOrder::Asc
    };
    if desc {
        expected.reverse();
    }
    let size = PageSize::new(size).map_err(|x| e("size")(&x))?;
    let now = UnixTime::from_secs(T0);
    let mut query = ListQuery::new(order, size);
    let mut pages = Vec::new();
    let mut previous;
    loop {
        let page = store
            .list_challenges(service.sid(), entity.sid(), &filter, &query, now)
            .await
            .map_err(|x| e("list")(&x))?;
        if page.items.len() > usize::from(size.get()) {
            return Err("a page larger than the page size".to_owned());
        }
        previous = page.previous_page_token.clone();
        pages.push(page.items);
        match page.next_page_token {
            Some(token) => query = ListQuery::new(order, size).with_page_token(token),
            None => break,
        }
        if pages.len() > 1_000 {
            return Err("paging does not terminate".to_owned());
        }
    }
    let walked: Vec<Challenge> = pages.iter().flatten().cloned().collect();
    if walked != expected {
        return Err(format!(
            "walked {} items, expected {}",
            walked.len(),
            expected.len()
        ));
    }
    let mut index = pages.len().saturating_sub(1);
    while let Some(token) = previous.take() {
        index = index.saturating_sub(1);
        let query = ListQuery::new(order, size).with_page_token(token);
        let page = store
            .list_challenges(service.sid(), entity.sid(), &filter, &query, now)
            .await
            .map_err(|x| e("list")(&x))?;
        if pages.get(index) != Some(&page.items) {
            return Err(format!("walking back, page {index} differs"));
        }
        previous = page.previous_page_token;
    }
    if index != 0 {
        return Err(format!("walking back stopped at page {index}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pages_cover_the_list_exactly(
        seed in any::<u64>(),
        offsets in prop::collection::vec((0_u64..5, any::<bool>()), 0..30),
        size in 1_u64..8,
        desc in any::<bool>(),
        only_first in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        prop_assert_eq!(runtime.block_on(run(seed, offsets, size, desc, only_first)), Ok(()));
    }
}
