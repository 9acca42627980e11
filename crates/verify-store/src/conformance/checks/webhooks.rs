//! Webhooks: CRUD and compare-and-set.

use verify_model::{ListOrder, WebhookStatus};

use crate::conformance::fixture::{Fixture, T0};
use crate::conformance::{Failure, ensure, ok, refused};
use crate::error::{Resource, StoreError, UniqueKey};
use crate::store::Store;

use super::{at, walk};

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
