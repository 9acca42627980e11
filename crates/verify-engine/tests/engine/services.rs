//! Services, entities and factor management: CRUD, listing, quotas, cascades.

use verify_engine::{NewPushFactor, NewTotpFactor, ServiceSettings, VerifyError};
use verify_model::config::TotpParams;
use verify_model::service::TotpServiceConfig;
use verify_model::{EventType, Identity, ModelError};
use verify_store::ListQuery;

use crate::support::{Device, Harness, block_on};

/// `ensure_service` finds the oldest service of that name, across pages, and creates
/// one (with the settings) only when there is none.
#[test]
fn ensure_service_gets_the_oldest_or_creates_one() {
    let h = Harness::new(31);
    block_on(async {
        let totp = TotpServiceConfig::new(Some("Owl"), TotpParams::new(8, 60, 2).unwrap()).unwrap();
        let settings = ServiceSettings::new().with_totp(totp);
        let created = h
            .verify
            .ensure_service("Owl Bank", &settings)
            .await
            .unwrap();
        assert_eq!(created.totp_issuer(), "Owl");
        h.advance(5);
        // Found again, unchanged: other settings apply only to a creation.
        let found = h
            .verify
            .ensure_service("Owl Bank", &ServiceSettings::new())
            .await
            .unwrap();
        assert_eq!(found, created);
        // A second service of the same name (two processes racing) is younger: the
        // older one is returned, even behind more than a page of other services.
        for i in 0..1001 {
            h.verify
                .create_service(&format!("Other {i}"), &ServiceSettings::new())
                .await
                .unwrap();
        }
        h.advance(5);
        let twin = h
            .verify
            .create_service("Owl Bank", &ServiceSettings::new())
            .await
            .unwrap();
        assert_ne!(twin.sid(), created.sid());
        let again = h
            .verify
            .ensure_service("Owl Bank", &ServiceSettings::new())
            .await
            .unwrap();
        assert_eq!(again.sid(), created.sid());
        // Another name is created.
        let other = h
            .verify
            .ensure_service("Eagle Bank", &ServiceSettings::new())
            .await
            .unwrap();
        assert_eq!(other.friendly_name().as_str(), "Eagle Bank");
        assert_ne!(other.sid(), created.sid());
    });
}

#[test]
fn service_crud() {
    let h = Harness::new(30);
    block_on(async {
        let totp = TotpServiceConfig::new(Some("Owl"), TotpParams::new(8, 60, 2).unwrap()).unwrap();
        let service = h
            .verify
            .create_service("Owl Bank", &ServiceSettings::new().with_totp(totp))
            .await
            .unwrap();
        assert_eq!(service.version(), 0);
        assert_eq!(service.totp_issuer(), "Owl");
        let fetched = h.verify.fetch_service(service.sid()).await.unwrap();
        assert_eq!(fetched, service);

        h.advance(10);
        let renamed = h
            .verify
            .update_service(
                service.sid(),
                &ServiceSettings::new().with_friendly_name("Owl Bank 2"),
            )
            .await
            .unwrap();
        assert_eq!(renamed.friendly_name().as_str(), "Owl Bank 2");
        assert_eq!(renamed.version(), 1);
        let bad = h
            .verify
            .update_service(
                service.sid(),
                &ServiceSettings::new().with_friendly_name(&"x".repeat(256)),
            )
            .await
            .unwrap_err();
        assert_eq!(bad.http_status(), 400);

        // New TOTP factors take the service's defaults.
        let identity = Identity::parse("user-00000001").unwrap();
        let created = h
            .verify
            .create_totp_factor(service.sid(), &identity, NewTotpFactor::new("phone"))
            .await
            .unwrap();
        assert!(created.uri.contains("digits=8&period=60"));
        assert!(created.uri.starts_with("otpauth://totp/Owl:phone?"));

        let other = h
            .verify
            .create_service("Other", &ServiceSettings::new())
            .await
            .unwrap();
        let page = h.verify.list_services(&ListQuery::default()).await.unwrap();
        assert_eq!(page.items.len(), 2);

        // Resources of one service are invisible from another.
        let hidden = h
            .verify
            .fetch_factor(other.sid(), &identity, created.factor.sid())
            .await
            .unwrap_err();
        assert_eq!(hidden.code(), 20404);

        h.verify.delete_service(service.sid()).await.unwrap();
        let gone = h.verify.fetch_service(service.sid()).await.unwrap_err();
        assert!(matches!(gone, VerifyError::NotFound { .. }));
        assert_eq!(gone.http_status(), 404);
    });
}

#[test]
fn factors_list_rename_delete_and_entity_cascade() {
    let h = Harness::new(31);
    block_on(async {
        let service = h
            .verify
            .create_service("Owl", &ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("user-00000002").unwrap();
        let mut sids = Vec::new();
        for name in ["one", "two", "three"] {
            h.advance(1);
            let created = h
                .verify
                .create_totp_factor(service, &identity, NewTotpFactor::new(name))
                .await
                .unwrap();
            sids.push(created.factor.sid());
        }
        let page = h
            .verify
            .list_factors(service, &identity, &ListQuery::default())
            .await
            .unwrap();
        let listed: Vec<_> = page.items.iter().map(|f| f.sid()).collect();
        assert_eq!(listed, sids);

        let renamed = h
            .verify
            .rename_factor(service, &identity, sids[0], "renamed")
            .await
            .unwrap();
        assert_eq!(renamed.friendly_name().as_str(), "renamed");

        h.verify
            .delete_factor(service, &identity, sids[1])
            .await
            .unwrap();
        let missing = h
            .verify
            .fetch_factor(service, &identity, sids[1])
            .await
            .unwrap_err();
        assert_eq!(missing.http_status(), 404);

        h.verify.drain_events(100).await.unwrap();
        h.verify.delete_entity(service, &identity).await.unwrap();
        let events: Vec<EventType> = h
            .verify
            .drain_events(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.event_type)
            .collect();
        assert_eq!(events, [EventType::FactorDeleted, EventType::FactorDeleted]);
        let gone = h.verify.fetch_entity(service, &identity).await.unwrap_err();
        assert_eq!(gone.code(), 20404);
        assert!(
            h.verify
                .fetch_factor(service, &identity, sids[0])
                .await
                .is_err()
        );
    });
}

#[test]
fn push_factor_quota_per_entity() {
    let h = Harness::new(32);
    block_on(async {
        let service = h
            .verify
            .create_service("Owl", &ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("user-00000003").unwrap();
        let device = Device::new(32);
        let request = NewPushFactor::new("phone", &device.binding(), "com.owl");
        for _ in 0..20 {
            let token = h
                .verify
                .create_access_token(service, &identity, None, None)
                .await
                .unwrap();
            h.verify
                .create_push_factor(service, &identity, token.credential(), request.clone())
                .await
                .unwrap();
        }
        let token = h
            .verify
            .create_access_token(service, &identity, None, None)
            .await
            .unwrap();
        let error = h
            .verify
            .create_push_factor(service, &identity, token.credential(), request.clone())
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            VerifyError::Model(ModelError::TooManyFactors {
                limit: 20,
                count: 20,
                ..
            })
        ));
        assert_eq!((error.code(), error.http_status()), (60315, 400));
        // The refused creation did not use the token up.
        h.verify
            .create_totp_factor(service, &identity, NewTotpFactor::new("app"))
            .await
            .unwrap();

        // A binding that is not a P-256 point is refused before anything is written.
        let mut bad = request;
        bad.public_key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE".to_owned() + &"A".repeat(88);
        let error = h
            .verify
            .create_push_factor(service, &identity, token.credential(), bad)
            .await
            .unwrap_err();
        assert_eq!(error.http_status(), 400);
    });
}
