//! Push: enrollment access token, factor creation by the device, verification by a
//! DER signature over the sid, challenge with details, approve, deny, expiry,
//! replayed approval refused, tampered answer refused.

use serde_json::Value;
use verify_engine::{NewChallengeRequest, NewPushFactor, ServedChallenge, VerifyError};
use verify_model::{
    ChallengeOutcome, ChallengeStatus, DetailField, Details, Factor, FactorStatus, Identity,
    ModelError, ServiceSid, StringMap,
};

use crate::support::{Device, Harness, block_on};

pub(crate) struct Enrolled {
    pub(crate) service: ServiceSid,
    pub(crate) identity: Identity,
    pub(crate) factor: Factor,
    pub(crate) device: Device,
}

/// A service and a verified push factor.
pub(crate) fn enrolled(h: &Harness, seed: u64) -> Enrolled {
    block_on(async {
        let service = h
            .verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap();
        let device = Device::new(seed);
        let token = h
            .verify
            .create_access_token(service, &identity, None, None)
            .await
            .unwrap();
        let factor = h
            .verify
            .create_push_factor(
                service,
                &identity,
                token.credential(),
                NewPushFactor::new("Jane's phone", &device.binding(), "com.owl.bank"),
            )
            .await
            .unwrap();
        let proof = device.sign_factor(&factor.sid().to_string());
        let factor = h
            .verify
            .verify_factor(service, &identity, factor.sid(), &proof)
            .await
            .unwrap();
        Enrolled {
            service,
            identity,
            factor,
            device,
        }
    })
}

fn details() -> Details {
    Details::new(
        "Approve login to Owl Bank?",
        vec![
            DetailField::new("Location", "Lisbon").unwrap(),
            DetailField::new("IP", "203.0.113.7").unwrap(),
        ],
    )
    .unwrap()
}

/// A pending challenge with details and hidden details, created by the host.
async fn detailed_challenge(h: &Harness, e: &Enrolled) -> verify_engine::ChallengeUpdate {
    let hidden = StringMap::parse_json(
        verify_model::Field::HiddenDetails,
        r#"{"ip":"203.0.113.7"}"#,
    )
    .unwrap();
    h.verify
        .create_challenge(
            e.service,
            &e.identity,
            e.factor.sid(),
            NewChallengeRequest::new()
                .with_details(details())
                .with_hidden_details(hidden),
        )
        .await
        .unwrap()
}

/// What the SDK signs: the listed fields exactly as served, plus `status`.
pub(crate) fn payload(served: &ServedChallenge, status: &str) -> String {
    let mut signed = serde_json::Map::new();
    for field in served.signature_fields.split(',') {
        signed.insert(field.to_owned(), served.json[field].clone());
    }
    signed.insert("status".into(), Value::String(status.into()));
    serde_json::to_string(&Value::Object(signed)).unwrap()
}

#[test]
fn enroll_with_access_token_and_verify_by_signature() {
    let h = Harness::new(10);
    block_on(async {
        let service = h
            .verify
            .create_service("Owl Bank", &verify_engine::ServiceSettings::new())
            .await
            .unwrap()
            .sid();
        let identity = Identity::parse("ff483d1ff591898a9942916050d2ca3f").unwrap();
        let device = Device::new(10);
        let token = h
            .verify
            .create_access_token(service, &identity, Some("Fixed name"), None)
            .await
            .unwrap();
        assert!(!format!("{token:?}").contains(token.credential()));
        let request = NewPushFactor::new("Ignored", &device.binding(), "com.owl.bank");

        // A token of another identity, or a tampered one, is refused (401).
        let other = Identity::parse("someone-else-42").unwrap();
        let error = h
            .verify
            .create_push_factor(service, &other, token.credential(), request.clone())
            .await
            .unwrap_err();
        assert_eq!(error.http_status(), 401);
        let mut tampered = token.credential().to_owned();
        tampered.push('A');
        let error = h
            .verify
            .create_push_factor(service, &identity, &tampered, request.clone())
            .await
            .unwrap_err();
        assert_eq!(error.http_status(), 401);

        let factor = h
            .verify
            .create_push_factor(service, &identity, token.credential(), request.clone())
            .await
            .unwrap();
        assert_eq!(factor.status(), FactorStatus::Unverified);
        assert_eq!(factor.friendly_name().as_str(), "Fixed name");

        // The token is single-use.
        let reused = h
            .verify
            .create_push_factor(service, &identity, token.credential(), request.clone())
            .await
            .unwrap_err();
        assert!(matches!(
            reused,
            VerifyError::Model(ModelError::AccessTokenUsed)
        ));

        // An expired token is refused.
        let late = h
            .verify
            .create_access_token(service, &identity, None, None)
            .await
            .unwrap();
        h.advance(60);
        let expired = h
            .verify
            .create_push_factor(service, &identity, late.credential(), request)
            .await
            .unwrap_err();
        assert!(matches!(
            expired,
            VerifyError::Model(ModelError::AccessTokenExpired { .. })
        ));

        // A signature over another sid is a failed verification; the right one verifies.
        let wrong = device.sign_factor("YF00000000000000000000000000000000");
        let failed = h
            .verify
            .verify_factor(service, &identity, factor.sid(), &wrong)
            .await
            .unwrap_err();
        assert!(matches!(
            failed,
            VerifyError::FactorVerificationFailed { remaining: 4 }
        ));
        let proof = device.sign_factor(&factor.sid().to_string());
        let verified = h
            .verify
            .verify_factor(service, &identity, factor.sid(), &proof)
            .await
            .unwrap();
        assert_eq!(verified.status(), FactorStatus::Verified);
        let again = h
            .verify
            .verify_factor(service, &identity, factor.sid(), &proof)
            .await
            .unwrap_err();
        assert!(matches!(
            again,
            VerifyError::Model(ModelError::FactorAlreadyVerified)
        ));
    });
}

#[test]
fn approve_then_replay_is_refused() {
    let h = Harness::new(11);
    let e = enrolled(&h, 11);
    block_on(async {
        let created = detailed_challenge(&h, &e).await;
        assert_eq!(
            created.challenge.status_at(h.now()),
            ChallengeStatus::Pending
        );
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, created.challenge.sid())
            .await
            .unwrap();
        assert_eq!(
            served.signature_fields,
            "sid,factor_sid,details,hidden_details,expiration_date,date_created"
        );
        assert_eq!(
            served.json["details"]["message"],
            "Approve login to Owl Bank?"
        );

        // A tampered answer (signed "denied", payload swapped to "approved") fails
        // with 60324 and changes nothing.
        let approve = payload(&served, "approved");
        let deny = e.device.answer(&payload(&served, "denied"));
        let approve_b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(approve.as_bytes())
        };
        let mut parts: Vec<&str> = deny.split('.').collect();
        parts[1] = &approve_b64;
        let swapped = parts.join(".");
        h.advance(5);
        let error = h
            .verify
            .update_challenge(
                e.service,
                &e.identity,
                created.challenge.sid(),
                &swapped,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(error, VerifyError::AuthPayloadInvalid(_)));
        assert_eq!((error.code(), error.http_status()), (60324, 403));
        let unchanged = h
            .verify
            .fetch_challenge(e.service, &e.identity, created.challenge.sid())
            .await
            .unwrap();
        assert_eq!(unchanged, created.challenge);

        // The device approves.
        let answer = e.device.answer(&approve);
        let metadata =
            StringMap::parse_json(verify_model::Field::Metadata, r#"{"os":"Android"}"#).unwrap();
        let approved = h
            .verify
            .update_challenge(
                e.service,
                &e.identity,
                created.challenge.sid(),
                &answer,
                Some(metadata),
            )
            .await
            .unwrap();
        assert!(approved.is_approved());
        assert_eq!(
            approved.challenge.metadata().unwrap().get("os"),
            Some("Android")
        );

        // The same signed answer, replayed, is refused: the challenge is terminal.
        let replay = h
            .verify
            .update_challenge(
                e.service,
                &e.identity,
                created.challenge.sid(),
                &answer,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(
            replay,
            VerifyError::Model(ModelError::ChallengeNotPending {
                status: ChallengeStatus::Approved
            })
        ));
        // So is a later "denied".
        let late_deny = h
            .verify
            .update_challenge(e.service, &e.identity, created.challenge.sid(), &deny, None)
            .await
            .unwrap_err();
        assert_eq!(late_deny.http_status(), 409);
    });
}

#[test]
fn deny_and_expiry() {
    let h = Harness::new(12);
    let e = enrolled(&h, 12);
    block_on(async {
        let request = || NewChallengeRequest::new().with_details(details());
        // Push challenges need details.
        let missing = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                e.factor.sid(),
                NewChallengeRequest::new(),
            )
            .await
            .unwrap_err();
        assert!(matches!(
            missing,
            VerifyError::Model(ModelError::MissingField { .. })
        ));

        let first = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap()
            .challenge;
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, first.sid())
            .await
            .unwrap();
        let deny = e.device.answer(&payload(&served, "denied"));
        let denied = h
            .verify
            .update_challenge(e.service, &e.identity, first.sid(), &deny, None)
            .await
            .unwrap();
        assert_eq!(denied.outcome, ChallengeOutcome::Denied);
        assert_eq!(denied.challenge.status_at(h.now()), ChallengeStatus::Denied);

        // An answer to another challenge does not approve this one.
        let second = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap()
            .challenge;
        let approve_first = e.device.answer(&payload(&served, "approved"));
        let error = h
            .verify
            .update_challenge(e.service, &e.identity, second.sid(), &approve_first, None)
            .await
            .unwrap_err();
        assert_eq!(error.code(), 60324);

        // Expired: the approval arrives after the expiration date.
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, second.sid())
            .await
            .unwrap();
        let approve = e.device.answer(&payload(&served, "approved"));
        h.advance(300);
        let late = h
            .verify
            .update_challenge(e.service, &e.identity, second.sid(), &approve, None)
            .await
            .unwrap();
        assert_eq!(late.outcome, ChallengeOutcome::Expired);
        assert_eq!(late.challenge.status_at(h.now()), ChallengeStatus::Expired);
        let again = h
            .verify
            .update_challenge(e.service, &e.identity, second.sid(), &approve, None)
            .await
            .unwrap_err();
        assert_eq!(again.code(), 60323);

        // A finished challenge has no notification to send.
        let error = h
            .verify
            .push_notification(e.service, &e.identity, second.sid())
            .await
            .unwrap_err();
        assert_eq!(error.code(), 60323);

        // Devices poll pending challenges, newest first, one page at a time.
        let fourth = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap()
            .challenge;
        h.advance(1);
        let fifth = h
            .verify
            .create_challenge(e.service, &e.identity, e.factor.sid(), request())
            .await
            .unwrap()
            .challenge;
        let pending = verify_model::ChallengeFilter::new(
            Some(e.factor.sid()),
            Some(ChallengeStatus::Pending),
        );
        let query = verify_store::ListQuery::new(
            verify_model::ListOrder::Desc,
            verify_model::PageSize::new(1).unwrap(),
        );
        let page = h
            .verify
            .list_challenges(e.service, &e.identity, &pending, &query)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].sid(), fifth.sid());
        let next = h
            .verify
            .list_challenges(
                e.service,
                &e.identity,
                &pending,
                &query.clone().with_page_token(page.next_page_token.unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(next.items.len(), 1);
        assert_eq!(next.items[0].sid(), fourth.sid());
        assert!(next.next_page_token.is_none());
        let third = fourth;

        // The host can deny a pending challenge itself.
        let denied = h
            .verify
            .deny_challenge(e.service, &e.identity, third.sid())
            .await
            .unwrap();
        assert_eq!(denied.outcome, ChallengeOutcome::Denied);
    });
}

#[test]
fn push_factor_config_update_keeps_the_credential_sid() {
    use verify_model::NotificationPlatform;
    use verify_model::factor::FactorKind;
    let h = Harness::new(77);
    let e = enrolled(&h, 77);
    block_on(async {
        let FactorKind::Push(before) = e.factor.kind() else {
            panic!("a push factor")
        };
        let updated = h
            .verify
            .update_push_factor_config(
                e.service,
                &e.identity,
                e.factor.sid(),
                "com.owl.bank",
                NotificationPlatform::Fcm,
                Some("fcm-token-0123456789abcdef0123456789abcdef"),
                Some("2.0.0"),
            )
            .await
            .unwrap();
        let FactorKind::Push(after) = updated.kind() else {
            panic!("a push factor")
        };
        assert_eq!(after.config().app_id(), "com.owl.bank");
        assert_eq!(
            after.config().notification_platform(),
            NotificationPlatform::Fcm
        );
        assert_eq!(
            after.config().notification_token(),
            Some("fcm-token-0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            after.config().credential_sid(),
            before.config().credential_sid()
        );
        assert_eq!(updated.version(), e.factor.version() + 1);
        // A platform that needs a token refuses none, and nothing is written.
        assert!(matches!(
            h.verify
                .update_push_factor_config(
                    e.service,
                    &e.identity,
                    e.factor.sid(),
                    "com.owl.bank",
                    NotificationPlatform::Apn,
                    None,
                    None,
                )
                .await,
            Err(VerifyError::Model(_))
        ));
        let stored = h
            .verify
            .fetch_factor(e.service, &e.identity, e.factor.sid())
            .await
            .unwrap();
        assert_eq!(stored, updated);
    });
}

/// The engine rebuilds only the signed fields of the served view; with every field
/// of the view listed (`MAX_SIGNATURE_FIELDS` is 16: all but `status` and
/// `date_updated`, which a refused answer moves) and `url`/`links` present under a
/// base URL, the device's answer over the served JSON still approves.
#[test]
fn every_served_field_can_be_signed() {
    let all = [
        "sid",
        "account_sid",
        "service_sid",
        "entity_sid",
        "identity",
        "factor_sid",
        "date_created",
        "date_responded",
        "expiration_date",
        "responded_reason",
        "details",
        "hidden_details",
        "metadata",
        "factor_type",
        "url",
        "links",
    ];
    let h = Harness::with_config(31, |config| {
        config
            .with_push_signature_fields(verify_push::SignatureFields::new(&all).unwrap())
            .with_base_url(verify_model::BaseUrl::parse("https://verify.example.org/v2").unwrap())
    });
    let e = enrolled(&h, 31);
    block_on(async {
        let created = detailed_challenge(&h, &e).await;
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, created.challenge.sid())
            .await
            .unwrap();
        assert_eq!(served.signature_fields, all.join(","));
        let Value::Object(view) = &served.json else {
            panic!("a challenge is served as an object");
        };
        // The list covers every key of the served view but those two.
        let mut keys: Vec<&str> = view.keys().map(String::as_str).collect();
        keys.retain(|key| !["status", "date_updated"].contains(key));
        keys.sort_unstable();
        let mut listed = all.to_vec();
        listed.sort_unstable();
        assert_eq!(keys, listed);
        assert!(served.json["links"]["notifications"].is_string());

        // One signed field served differently (the URL) is refused...
        let mut altered = served.clone();
        altered.json["url"] = Value::String("https://elsewhere.example/".into());
        let refused = h
            .verify
            .update_challenge(
                e.service,
                &e.identity,
                created.challenge.sid(),
                &e.device.answer(&payload(&altered, "approved")),
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), 60324);
        // ...and the answer over the view as served approves.
        let approved = h
            .verify
            .update_challenge(
                e.service,
                &e.identity,
                created.challenge.sid(),
                &e.device.answer(&payload(&served, "approved")),
                None,
            )
            .await
            .unwrap();
        assert!(approved.is_approved());
    });
}

/// A device's answer goes through the factor and key that authenticated its request
/// when the challenge is its own factor's, and through the challenge's own factor
/// otherwise: one device of an identity cannot answer another's challenge with its key.
#[test]
fn a_device_answers_with_the_key_of_the_challenges_factor() {
    let h = Harness::new(91);
    let e = enrolled(&h, 5);
    block_on(async {
        let other_device = Device::new(6);
        let token = h
            .verify
            .create_access_token(e.service, &e.identity, None, None)
            .await
            .unwrap();
        let other = h
            .verify
            .create_push_factor(
                e.service,
                &e.identity,
                token.credential(),
                NewPushFactor::new("Jane's tablet", &other_device.binding(), "com.owl.bank"),
            )
            .await
            .unwrap();
        let proof = other_device.sign_factor(&other.sid().to_string());
        let other = h
            .verify
            .verify_factor(e.service, &e.identity, other.sid(), &proof)
            .await
            .unwrap();
        let credential_sid = match e.factor.kind() {
            verify_model::factor::FactorKind::Push(push) => {
                push.config().credential_sid().to_string()
            }
            _ => panic!("not a push factor"),
        };
        let account = verify_model::AccountSid::from_bytes([0xac; 16]).to_string();
        let auth = h
            .verify
            .authenticate_device(
                e.service,
                &e.identity,
                &e.device
                    .authorization(&credential_sid, &account, h.now().as_secs()),
            )
            .await
            .unwrap();
        assert_eq!(auth.factor_sid(), e.factor.sid());

        let theirs = h
            .verify
            .create_challenge(
                e.service,
                &e.identity,
                other.sid(),
                NewChallengeRequest::new().with_details(details()),
            )
            .await
            .unwrap();
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, theirs.challenge.sid())
            .await
            .unwrap();
        let signed_by_me = e.device.answer(&payload(&served, "approved"));
        let refused = h
            .verify
            .update_challenge_as_device(&auth, theirs.challenge.sid(), &signed_by_me, None)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, VerifyError::AuthPayloadInvalid(_)),
            "{refused:?}"
        );
        let signed_by_them = other_device.answer(&payload(&served, "approved"));
        let approved = h
            .verify
            .update_challenge_as_device(&auth, theirs.challenge.sid(), &signed_by_them, None)
            .await
            .unwrap();
        assert_eq!(approved.outcome, ChallengeOutcome::Approved);

        let mine = detailed_challenge(&h, &e).await;
        let served = h
            .verify
            .serve_push_challenge(e.service, &e.identity, mine.challenge.sid())
            .await
            .unwrap();
        let refused = h
            .verify
            .update_challenge_as_device(
                &auth,
                mine.challenge.sid(),
                &other_device.answer(&payload(&served, "approved")),
                None,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(refused, VerifyError::AuthPayloadInvalid(_)),
            "{refused:?}"
        );
        let denied = h
            .verify
            .update_challenge_as_device(
                &auth,
                mine.challenge.sid(),
                &e.device.answer(&payload(&served, "denied")),
                None,
            )
            .await
            .unwrap();
        assert_eq!(denied.outcome, ChallengeOutcome::Denied);
    });
}

/// Unverified factors past their lifetime stop counting toward the per-entity quota:
/// the next creation deletes them (with `factor.deleted`), verified factors stay.
#[test]
fn expired_unverified_factors_are_removed_when_a_factor_is_created() {
    let h = Harness::new(93);
    let e = enrolled(&h, 7);
    block_on(async {
        let limit = verify_model::limits::MAX_PUSH_FACTORS_PER_ENTITY;
        let mut unverified = Vec::new();
        for seed in 0..limit - 1 {
            let device = Device::new(100 + u64::try_from(seed).unwrap());
            let token = h
                .verify
                .create_access_token(e.service, &e.identity, None, None)
                .await
                .unwrap();
            let factor = h
                .verify
                .create_push_factor(
                    e.service,
                    &e.identity,
                    token.credential(),
                    NewPushFactor::new("phone", &device.binding(), "com.owl.bank"),
                )
                .await
                .unwrap();
            unverified.push(factor.sid());
        }
        let create = async |seed: u64| {
            let device = Device::new(seed);
            let token = h
                .verify
                .create_access_token(e.service, &e.identity, None, None)
                .await
                .unwrap();
            h.verify
                .create_push_factor(
                    e.service,
                    &e.identity,
                    token.credential(),
                    NewPushFactor::new("tablet", &device.binding(), "com.owl.bank"),
                )
                .await
        };
        // The verified factor and 19 unverified ones fill the quota.
        assert!(matches!(
            create(500).await,
            Err(VerifyError::Model(ModelError::TooManyFactors { .. }))
        ));
        h.verify.drain_events(1000).await.unwrap();
        // Past the unverified lifetime (24 h by default) they no longer count.
        h.advance(24 * 60 * 60);
        let fresh = create(501).await.unwrap();
        for sid in &unverified {
            assert!(matches!(
                h.verify.fetch_factor(e.service, &e.identity, *sid).await,
                Err(VerifyError::NotFound { .. })
            ));
        }
        let kept = h
            .verify
            .fetch_factor(e.service, &e.identity, e.factor.sid())
            .await
            .unwrap();
        assert_eq!(kept.status(), FactorStatus::Verified);
        assert!(
            h.verify
                .fetch_factor(e.service, &e.identity, fresh.sid())
                .await
                .is_ok()
        );
        let deleted = h
            .verify
            .drain_events(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event.event_type == verify_model::EventType::FactorDeleted)
            .count();
        assert_eq!(deleted, unverified.len());
    });
}
