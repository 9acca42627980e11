//! Access tokens: insert, scoped get, single redemption.

use verify_model::EventType;

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::{Resource, StoreError, UniqueKey};
use crate::store::{FactorInsert, Store};

use super::{at, outbox_types, service_and_entity};

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
