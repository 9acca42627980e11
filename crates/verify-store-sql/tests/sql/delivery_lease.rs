//! One outbox deliverer among the processes sharing a PostgreSQL database: the
//! delivery lease is held by one store at a time and passes on when its holder
//! goes away.

use verify_store_sql::PgStore;

use crate::support::{pg_schema, pg_url};

#[tokio::test]
#[ignore = "needs PostgreSQL: set VERIFY_TEST_POSTGRES_URL (see README)"]
async fn one_delivery_lease_at_a_time_and_it_passes_on() {
    let url = pg_url("one_delivery_lease_at_a_time_and_it_passes_on");
    let schema = pg_schema(&url, "lease").await;
    // Two "processes": two stores, two pools, one schema.
    let first = PgStore::connect_with(schema.clone(), 2).await.unwrap();
    let second = PgStore::connect_with(schema, 2).await.unwrap();
    let mut lease = first
        .try_delivery_lease()
        .await
        .unwrap()
        .expect("the first store gets the lease");
    assert!(lease.still_held().await);
    assert!(second.try_delivery_lease().await.unwrap().is_none());
    // Asking again from the holder's own store does not double it up either: the
    // lease is per connection, and a second one is refused.
    assert!(first.try_delivery_lease().await.unwrap().is_none());
    drop(lease);
    let mut taken = None;
    for _ in 0..50 {
        if let Some(lease) = second.try_delivery_lease().await.unwrap() {
            taken = Some(lease);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut taken = taken.expect("the lease passed to the second store");
    assert!(taken.still_held().await);
    first.close().await;
    second.close().await;
}
