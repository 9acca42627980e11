//! Related origins (WebAuthn L3 §5.11, issue 17): an origin outside the RP ID is
//! accepted in a service's passkeys configuration only when it is listed in
//! `related_origins`; such a service registers from it, and
//! `Verify::related_origins` answers the union for an RP ID (what
//! `/.well-known/webauthn` serves).

use verify_engine::{ServiceSettings, VerifyError};
use verify_model::config::PasskeyRestrictions;
use verify_model::{FactorStatus, Identity, PasskeysConfig, RelyingParty};

use crate::passkeys::{Authenticator, ORIGIN, RP_ID};
use crate::support::{Harness, block_on};

const RELATED: &str = "https://example-bank.net";

fn config(origins: &[&str], related: &[&str]) -> PasskeysConfig {
    let mut config = PasskeysConfig::new(
        RelyingParty::new(
            RP_ID,
            "Owl Bank",
            origins.iter().map(|o| (*o).to_owned()).collect(),
        )
        .unwrap(),
    );
    config.restrictions = PasskeyRestrictions::new()
        .with_related_origins(related.iter().map(|o| (*o).to_owned()).collect())
        .unwrap();
    config
}

async fn create(h: &Harness, config: PasskeysConfig) -> Result<verify_model::Service, VerifyError> {
    h.verify
        .create_service("Owl Bank", &ServiceSettings::new().with_passkeys(config))
        .await
}

#[test]
fn an_origin_outside_the_rp_id_needs_listing() {
    let h = Harness::new(91);
    block_on(async {
        // Refused as before without the listing.
        let refused = create(&h, config(&[ORIGIN, RELATED], &[]))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, VerifyError::PasskeysConfigInvalid { .. }),
            "{refused:?}"
        );
        // A related origin must be one of the origins, outside the RP ID, https.
        for (origins, related) in [
            (&[ORIGIN][..], &[RELATED][..]),
            (
                &[ORIGIN, "https://login.example.org"][..],
                &["https://login.example.org"][..],
            ),
        ] {
            let refused = create(&h, config(origins, related)).await.unwrap_err();
            assert!(
                matches!(refused, VerifyError::PasskeysConfigInvalid { .. }),
                "{related:?}: {refused:?}"
            );
        }
        // Listed: accepted, and a registration from it verifies.
        let service = create(&h, config(&[ORIGIN, RELATED], &[RELATED]))
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("related-origin-user").unwrap();
        let created = h
            .verify
            .create_passkey_factor(service, &identity, "Key")
            .await
            .unwrap();
        let response = Authenticator::new(91).create(&created.options, RELATED);
        let factor = h
            .verify
            .verify_passkey_factor_response(service, &response)
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Verified);
    });
}

#[test]
fn related_origins_are_the_union_for_the_rp_id() {
    let h = Harness::new(92);
    block_on(async {
        assert!(h.verify.related_origins(RP_ID).await.unwrap().is_empty());
        create(&h, config(&[ORIGIN], &[])).await.unwrap();
        assert!(h.verify.related_origins(RP_ID).await.unwrap().is_empty());
        let other = "https://owl.example";
        create(&h, config(&[ORIGIN, RELATED], &[RELATED]))
            .await
            .unwrap();
        create(&h, config(&[RELATED, other], &[RELATED, other]))
            .await
            .unwrap();
        assert_eq!(
            h.verify.related_origins(RP_ID).await.unwrap(),
            [RELATED, other]
        );
        // Another RP ID's services are not counted.
        assert!(
            h.verify
                .related_origins("example-bank.net")
                .await
                .unwrap()
                .is_empty()
        );
    });
}
