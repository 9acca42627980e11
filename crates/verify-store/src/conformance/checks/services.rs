//! Services and entities: CRUD, compare-and-set, identity uniqueness.

use verify_model::ListOrder;

use crate::conformance::fixture::Fixture;
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::{Resource, StoreError, UniqueKey};
use crate::store::Store;

use super::{at, service_and_entity, walk};

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

/// Entity listing: order by `(date_created, sid)` and paging, scoped to the service.
///
/// # Errors
/// A [`Failure`] describing the first misbehaviour.
pub async fn list_entities<S: Store>(store: S) -> Result<(), Failure> {
    const C: &str = "list_entities";
    let mut fx = Fixture::new(C, 12);
    let service = fx.service("Owl Bank")?;
    ok!(C, store.insert_service(&service), "insert a service");
    let (st, sid) = (&store, service.sid());
    let empty = walk(C, ListOrder::Asc, 2, |q| async move {
        st.list_entities(sid, &q).await
    })
    .await?;
    ensure!(
        C,
        empty.is_empty(),
        "a service without entities lists {empty:?}"
    );

    let other = fx.service("Other")?;
    ok!(C, store.insert_service(&other), "insert a second service");
    let theirs = fx.entity_at(&other, "user-0001", at(5))?;
    ok!(
        C,
        store.insert_entity(&theirs),
        "an entity of another service"
    );
    let mut entities = Vec::new();
    for (n, secs) in [30, 10, 10, 20, 10].into_iter().enumerate() {
        let entity = fx.entity_at(&service, &format!("user-{n:04}"), at(secs))?;
        ok!(C, store.insert_entity(&entity), "insert an entity");
        entities.push(entity);
    }
    entities.sort_by_key(|e| (e.date_created(), *e.sid().as_bytes()));
    for (order, size) in [
        (ListOrder::Asc, 2),
        (ListOrder::Desc, 2),
        (ListOrder::Asc, 5),
        (ListOrder::Desc, 1),
    ] {
        let listed = walk(C, order, size, |q| async move {
            st.list_entities(sid, &q).await
        })
        .await?;
        let mut want = entities.clone();
        if order == ListOrder::Desc {
            want.reverse();
        }
        ensure!(
            C,
            listed == want,
            "{order:?}, page size {size}: listed in another order, with gaps or across services"
        );
    }
    let osid = other.sid();
    let listed = walk(C, ListOrder::Asc, 50, |q| async move {
        st.list_entities(osid, &q).await
    })
    .await?;
    ensure!(
        C,
        listed == vec![theirs.clone()],
        "the other service lists {listed:?}"
    );
    Ok(())
}
