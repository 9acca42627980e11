//! A service's passkey restrictions (this server's extension, issue 17):
//! `Passkeys.RefuseBackupEligible`, `Passkeys.AaguidAllowList`,
//! `Passkeys.AaguidDenyList`, `Passkeys.AllowCrossOrigin` and `Passkeys.TopOrigins`
//! are stored, echoed in the `passkeys` block only when set, and applied to
//! registrations; a bad value is 400/60200 and writes nothing.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::support::Harness;

const RP: (&str, &str) = ("Passkeys.RelyingParty.Id", "example.com");
const AAGUID: &str = "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a";

fn with_rp<'a>(params: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("FriendlyName", "Owl Bank"), RP];
    form.extend_from_slice(params);
    form
}

/// A `none` registration for `example.com` (nothing signs its authenticator data)
/// with authenticator data flags `flags` (UP, UV, AT = 0x45; BE = 0x08) and AAGUID
/// `aaguid`; `cross_origin` adds `crossOrigin: true` and that `topOrigin`.
fn registration(
    seed: u64,
    options: &Value,
    flags: u8,
    aaguid: [u8; 16],
    cross_origin: Option<&str>,
) -> Value {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut credential_id = vec![0; 16];
    rng.fill_bytes(&mut credential_id);
    let key = p256::ecdsa::SigningKey::random(&mut rng);
    let mut data = sha2::Sha256::digest(b"example.com").to_vec();
    data.push(flags);
    data.extend_from_slice(&0_u32.to_be_bytes());
    data.extend_from_slice(&aaguid);
    data.extend_from_slice(&u16::try_from(credential_id.len()).unwrap().to_be_bytes());
    data.extend_from_slice(&credential_id);
    let point = key.verifying_key().to_encoded_point(false);
    data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
    data.extend_from_slice(point.x().unwrap());
    data.extend_from_slice(&[0x22, 0x58, 0x20]);
    data.extend_from_slice(point.y().unwrap());
    let object = ciborium::Value::Map(vec![
        ("fmt".into(), "none".into()),
        ("attStmt".into(), ciborium::Value::Map(vec![])),
        ("authData".into(), ciborium::Value::Bytes(data)),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&object, &mut bytes).unwrap();
    let mut client_data = json!({
        "type": "webauthn.create",
        "challenge": options["publicKey"]["challenge"],
        "origin": "https://example.com",
    });
    if let Some(top) = cross_origin {
        client_data["crossOrigin"] = true.into();
        client_data["topOrigin"] = top.into();
    }
    let id = URL_SAFE_NO_PAD.encode(&credential_id);
    json!({
        "id": id, "rawId": id, "type": "public-key",
        "response": {
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.to_string()),
            "attestationObject": URL_SAFE_NO_PAD.encode(&bytes),
            "transports": ["internal"],
        },
        "clientExtensionResults": {},
    })
}

/// Creates a passkey factor in `service` and answers it with `response(options)`.
async fn register(
    h: &Harness,
    service: &str,
    identity: &str,
    response: impl Fn(&Value) -> Value,
) -> crate::support::Reply {
    let factor = h
        .post_json(
            &format!("/v2/Services/{service}/Passkeys/Factors"),
            &json!({"identity": identity, "friendly_name": "Key"}),
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.json);
    h.post_json(
        &format!("/v2/Services/{service}/Passkeys/VerifyFactor"),
        &response(&factor.json["options"]),
    )
    .await
}

const MEMBERS: [&str; 5] = [
    "refuse_backup_eligible",
    "aaguid_allow_list",
    "aaguid_deny_list",
    "allow_cross_origin",
    "top_origins",
];

#[tokio::test]
async fn restrictions_are_echoed_only_when_set() {
    let h = Harness::new();
    let created = h
        .post(
            "/v2/Services",
            &with_rp(&[
                ("Passkeys.RefuseBackupEligible", "true"),
                (
                    "Passkeys.AaguidAllowList",
                    "08987058-CADC-4B81-B6E1-30DE50DCBE96",
                ),
                ("Passkeys.AaguidDenyList", AAGUID),
                ("Passkeys.AllowCrossOrigin", "true"),
                (
                    "Passkeys.TopOrigins",
                    "https://portal.example.net,https://shop.example",
                ),
            ]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let expected = json!({
        "refuse_backup_eligible": true,
        "aaguid_allow_list": ["08987058-cadc-4b81-b6e1-30de50dcbe96"],
        "aaguid_deny_list": [AAGUID],
        "allow_cross_origin": true,
        "top_origins": ["https://portal.example.net", "https://shop.example"],
    });
    let sid = created.str("sid");
    let fetched = h.get(&format!("/v2/Services/{sid}")).await;
    for json in [&created.json, &fetched.json] {
        for member in MEMBERS {
            assert_eq!(
                json["passkeys"][member], expected[member],
                "{member} in {json}"
            );
        }
    }
    let plain = h.post("/v2/Services", &with_rp(&[])).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.json);
    for member in MEMBERS {
        assert!(
            plain.json["passkeys"].get(member).is_none(),
            "{}",
            plain.json
        );
    }
    // `false` is the default and shows nothing either.
    let off = h
        .post(
            "/v2/Services",
            &with_rp(&[
                ("Passkeys.RefuseBackupEligible", "false"),
                ("Passkeys.AllowCrossOrigin", "false"),
            ]),
        )
        .await;
    assert_eq!(off.json["passkeys"], plain.json["passkeys"]);
}

#[tokio::test]
async fn bad_values_are_refused_and_write_nothing() {
    let h = Harness::new();
    let too_many: String = (0..65)
        .map(|i| format!("{i:08x}-0000-0000-0000-000000000000"))
        .collect::<Vec<_>>()
        .join(",");
    let bad: [&[(&str, &str)]; 9] = [
        &[("Passkeys.RefuseBackupEligible", "yes")],
        &[("Passkeys.AaguidAllowList", "not-a-uuid")],
        &[(
            "Passkeys.AaguidDenyList",
            "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        )],
        &[("Passkeys.AaguidDenyList", &too_many)],
        &[
            ("Passkeys.AaguidAllowList", AAGUID),
            ("Passkeys.AaguidAllowList", AAGUID),
        ],
        &[
            ("Passkeys.AaguidAllowList", AAGUID),
            ("Passkeys.AaguidDenyList", AAGUID),
        ],
        &[("Passkeys.TopOrigins", "https://portal.example.net")],
        &[
            ("Passkeys.AllowCrossOrigin", "true"),
            ("Passkeys.TopOrigins", "ftp://portal.example.net"),
        ],
        &[("Passkeys.AllowCrossOrigin", "1")],
    ];
    for params in bad {
        h.post("/v2/Services", &with_rp(params))
            .await
            .assert_error(400, 60200);
    }
    let listed = h.get("/v2/Services").await;
    assert_eq!(listed.json["services"], json!([]), "{}", listed.json);
    // A bad update leaves the stored block.
    let created = h
        .post(
            "/v2/Services",
            &with_rp(&[("Passkeys.RefuseBackupEligible", "true")]),
        )
        .await;
    let url = format!("/v2/Services/{}", created.str("sid"));
    h.post(&url, &[RP, ("Passkeys.AaguidDenyList", "x")])
        .await
        .assert_error(400, 60200);
    assert_eq!(
        h.get(&url).await.json["passkeys"]["refuse_backup_eligible"],
        true
    );
}

#[tokio::test]
async fn registrations_follow_the_restrictions() {
    let h = Harness::new();
    const UP_UV_AT: u8 = 0x45;
    const BE: u8 = 0x08;
    let aaguid = [0x5a; 16];
    // Default service: a synced credential, any AAGUID, no cross origin check
    // beyond refusing it.
    let open = h.post("/v2/Services", &with_rp(&[])).await.str("sid");
    let ok = register(&h, &open, "open-user-1", |o| {
        registration(1, o, UP_UV_AT | BE, aaguid, None)
    })
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    register(&h, &open, "open-user-2", |o| {
        registration(2, o, UP_UV_AT, [0; 16], Some("https://portal.example.net"))
    })
    .await
    .assert_error(403, 60324);

    let strict = h
        .post(
            "/v2/Services",
            &with_rp(&[
                ("Passkeys.RefuseBackupEligible", "true"),
                ("Passkeys.AaguidDenyList", AAGUID),
                ("Passkeys.AllowCrossOrigin", "true"),
                ("Passkeys.TopOrigins", "https://portal.example.net"),
            ]),
        )
        .await
        .str("sid");
    // Synced: refused. Denied AAGUID (unsigned): refused. Unlisted top origin:
    // refused. Each a failed WebAuthn check, 403/60324.
    for (identity, flags, aaguid, top) in [
        ("strict-user-1", UP_UV_AT | BE, [0; 16], None),
        ("strict-user-2", UP_UV_AT, aaguid, None),
        (
            "strict-user-3",
            UP_UV_AT,
            [0; 16],
            Some("https://evil.example"),
        ),
    ] {
        register(&h, &strict, identity, |o| {
            registration(3, o, flags, aaguid, top)
        })
        .await
        .assert_error(403, 60324);
    }
    let ok = register(&h, &strict, "strict-user-4", |o| {
        registration(4, o, UP_UV_AT, [0; 16], Some("https://portal.example.net"))
    })
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    assert_eq!(ok.json["status"], "verified");

    // An allow-list grants nothing to `none` attestation's unsigned AAGUID.
    let allow = h
        .post(
            "/v2/Services",
            &with_rp(&[("Passkeys.AaguidAllowList", AAGUID)]),
        )
        .await
        .str("sid");
    register(&h, &allow, "allow-user-1", |o| {
        registration(5, o, UP_UV_AT, aaguid, None)
    })
    .await
    .assert_error(403, 60324);
}
