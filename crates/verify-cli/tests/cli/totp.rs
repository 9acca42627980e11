//! `verify totp` tests (owned by the totp work): the TOTP contract of crates/verify-cli/README.md.
//!
//! `cfg(test)` so the workspace's test allowances (unwrap, indexing, ...) cover the
//! helpers too.
#![cfg(test)]

use serde_json::{Value, json};

use crate::support::{run, run_json};

/// RFC 6238 Appendix B's SHA-1 key, "12345678901234567890".
const RFC_SHA1: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// The SHA-256 key, padded as RFC 4648 writes it.
const RFC_SHA256: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====";
/// The SHA-512 key.
const RFC_SHA512: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=";

fn code_at(secret: &str, time: u64, extra: &Value) -> String {
    let mut request = json!({"secret": secret, "time": time});
    merge(&mut request, extra);
    let (status, out) = run_json(&["totp", "code"], &request);
    assert_eq!(status, 0, "{out}");
    out["code"].as_str().unwrap().to_owned()
}

fn merge(request: &mut Value, extra: &Value) {
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
}

fn assert_rejected(args: &[&str], request: &Value, code: &str) {
    let (status, out) = run_json(args, request);
    assert_eq!(status, 1, "{request}: {out}");
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"]["code"], code, "{request}: {out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

fn assert_unusable(args: &[&str], request: &Value, code: &str) {
    let (status, out) = run_json(args, request);
    assert_eq!(status, 2, "{request}: {out}");
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"]["code"], code, "{request}: {out}");
}

#[test]
fn code_matches_rfc6238_appendix_b() {
    for (secret, algorithm, time, expected) in [
        (RFC_SHA1, "sha1", 59_u64, "94287082"),
        (RFC_SHA256, "sha256", 59, "46119246"),
        (RFC_SHA512, "sha512", 59, "90693936"),
        (RFC_SHA1, "sha1", 1_111_111_109, "07081804"),
        (RFC_SHA256, "sha256", 1_234_567_890, "91819424"),
        (RFC_SHA512, "sha512", 20_000_000_000, "47863826"),
    ] {
        let (status, out) = run_json(
            &["totp", "code"],
            &json!({"secret": secret, "algorithm": algorithm, "digits": 8, "time": time}),
        );
        assert_eq!(status, 0, "{out}");
        assert_eq!(out, json!({"code": expected}), "{algorithm} t={time}");
    }
}

#[test]
fn code_defaults_to_sha1_six_digits_thirty_seconds() {
    // RFC 6238 App. B t=59 SHA1 is 94287082: its last six digits.
    assert_eq!(code_at(RFC_SHA1, 59, &json!({})), "287082");
    // Lower case, spaces, no padding: the same secret.
    assert_eq!(
        code_at("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", 59, &json!({})),
        "287082"
    );
    // Leading zeros are kept: exactly `digits` characters.
    let code = code_at(RFC_SHA1, 1_111_111_109, &json!({"digits": 8}));
    assert_eq!(code, "07081804");
    for digits in 3..=8 {
        let code = code_at(RFC_SHA1, 1_111_111_109, &json!({"digits": digits}));
        assert_eq!(code.len(), digits);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }
    // A 60 s period puts t=59 in step 0.
    assert_eq!(
        code_at(RFC_SHA1, 59, &json!({"period": 60})),
        code_at(RFC_SHA1, 0, &json!({}))
    );
}

#[test]
fn check_accepts_the_window_and_reports_step_and_drift() {
    let time = 1_111_111_109_u64; // step 37037036
    for (offset, drift) in [(-30_i64, -1), (0, 0), (30, 1)] {
        let code = code_at(
            RFC_SHA1,
            time.checked_add_signed(offset).unwrap(),
            &json!({}),
        );
        let (status, out) = run_json(
            &["totp", "check"],
            &json!({"secret": RFC_SHA1, "time": time, "code": code}),
        );
        assert_eq!(status, 0, "{out}");
        assert_eq!(
            out,
            json!({"ok": true, "step": 37_037_036 + drift, "drift": drift})
        );
    }
    // One step beyond each edge.
    for offset in [-60_i64, 60] {
        let code = code_at(
            RFC_SHA1,
            time.checked_add_signed(offset).unwrap(),
            &json!({}),
        );
        assert_rejected(
            &["totp", "check"],
            &json!({"secret": RFC_SHA1, "time": time, "code": code}),
            "code_mismatch",
        );
    }
    // skew 2 reaches them; skew 0 does not reach ±1.
    let code = code_at(RFC_SHA1, time - 60, &json!({}));
    let (status, out) = run_json(
        &["totp", "check"],
        &json!({"secret": RFC_SHA1, "time": time, "code": code, "skew": 2}),
    );
    assert_eq!((status, &out["drift"]), (0, &json!(-2)), "{out}");
    let code = code_at(RFC_SHA1, time + 30, &json!({}));
    assert_rejected(
        &["totp", "check"],
        &json!({"secret": RFC_SHA1, "time": time, "code": code, "skew": 0}),
        "code_mismatch",
    );
}

#[test]
fn check_with_every_algorithm_and_parameter() {
    let params = json!({"algorithm": "sha512", "digits": 7, "period": 45});
    let code = code_at(RFC_SHA512, 1_700_000_000, &params);
    let mut request = json!({"secret": RFC_SHA512, "time": 1_700_000_000, "code": code});
    merge(&mut request, &params);
    let (status, out) = run_json(&["totp", "check"], &request);
    assert_eq!(status, 0, "{out}");
    assert_eq!(out["step"], 1_700_000_000 / 45);
    // The same code under the default algorithm is (here) wrong.
    request["algorithm"] = json!("sha1");
    assert_rejected(&["totp", "check"], &request, "code_mismatch");
}

#[test]
fn check_is_single_use() {
    let time = 1_111_111_111_u64; // step 37037037
    let code = code_at(RFC_SHA1, time, &json!({}));
    let request = |last: Value| json!({"secret": RFC_SHA1, "time": time, "code": code, "last_used_step": last});
    let (status, out) = run_json(&["totp", "check"], &request(json!(37_037_036)));
    assert_eq!((status, &out["step"]), (0, &json!(37_037_037)), "{out}");
    // Replay: the same step again.
    assert_rejected(
        &["totp", "check"],
        &request(json!(37_037_037)),
        "step_already_used",
    );
    // An older code after a newer one.
    assert_rejected(
        &["totp", "check"],
        &request(json!(37_037_038)),
        "step_already_used",
    );
    // null is absent.
    let (status, _) = run_json(&["totp", "check"], &request(Value::Null));
    assert_eq!(status, 0);
}

#[test]
fn steps_below_zero_never_match() {
    let code = code_at(RFC_SHA1, 0, &json!({}));
    let (status, out) = run_json(
        &["totp", "check"],
        &json!({"secret": RFC_SHA1, "time": 0, "code": code, "skew": 2}),
    );
    assert_eq!(status, 0, "{out}");
    assert_eq!(out, json!({"ok": true, "step": 0, "drift": 0}));
}

#[test]
fn malformed_codes_and_secrets_are_rejections() {
    for code in ["12345", "1234567", "12a456", " 23456", "", "１２３４５６"] {
        assert_rejected(
            &["totp", "check"],
            &json!({"secret": RFC_SHA1, "time": 59, "code": code}),
            "code_malformed",
        );
    }
    for (secret, expected) in [
        ("GEZDGNBVGY3TQOJQ1EZDGNBVGY3TQOJQ", "secret_malformed"),
        ("GEZDGNBV=GY3TQOJQ", "secret_malformed"),
        ("GEZDGNBVGY3TQOJQG", "secret_malformed"),
        ("GEZDGNBV", "secret_too_short"),
        ("", "secret_too_short"),
    ] {
        // Each command gets only its own members: an unknown one is an envelope error.
        for (command, request) in [
            ("code", json!({"secret": secret, "time": 59})),
            (
                "check",
                json!({"secret": secret, "time": 59, "code": "287082"}),
            ),
            (
                "uri",
                json!({"secret": secret, "issuer": "Acme", "account": "alice"}),
            ),
        ] {
            assert_rejected(&["totp", command], &request, expected);
        }
    }
}

#[test]
fn envelope_defects_exit_2() {
    let check = json!({"secret": RFC_SHA1, "time": 59, "code": "287082"});
    let code = json!({"secret": RFC_SHA1, "time": 59});
    for (command, base) in [("code", &code), ("check", &check)] {
        let with = |key: &str, value: Value| {
            let mut request = base.clone();
            request[key] = value;
            request
        };
        let without = |key: &str| {
            let mut request = base.clone();
            request.as_object_mut().unwrap().remove(key);
            request
        };
        let args = ["totp", command];
        assert_unusable(&args, &without("time"), "missing_field");
        assert_unusable(&args, &without("secret"), "missing_field");
        assert_unusable(&args, &with("time", json!(-1)), "out_of_range");
        assert_unusable(&args, &with("time", json!("59")), "wrong_type");
        assert_unusable(&args, &with("time", json!(59.5)), "out_of_range");
        assert_unusable(&args, &with("secret", json!(12)), "wrong_type");
        assert_unusable(&args, &with("algorithm", json!("md5")), "out_of_range");
        assert_unusable(&args, &with("algorithm", json!(1)), "wrong_type");
        assert_unusable(&args, &with("digits", json!(2)), "out_of_range");
        assert_unusable(&args, &with("digits", json!(9)), "out_of_range");
        assert_unusable(&args, &with("period", json!(19)), "out_of_range");
        assert_unusable(&args, &with("period", json!(61)), "out_of_range");
        // A member the command does not know, named in the message.
        let (status, out) = run_json(&args, &with("digit", json!(8)));
        assert_eq!(status, 2, "{out}");
        assert_eq!(out["error"]["code"], "unknown_field", "{out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `digit`"),
            "{out}"
        );
    }
    let base = check;
    let with = |key: &str, value: Value| {
        let mut request = base.clone();
        request[key] = value;
        request
    };
    let without = |key: &str| {
        let mut request = base.clone();
        request.as_object_mut().unwrap().remove(key);
        request
    };
    assert_unusable(&["totp", "code"], &base, "unknown_field");
    let args = ["totp", "check"];
    assert_unusable(&args, &without("code"), "missing_field");
    assert_unusable(&args, &with("code", json!(287_082)), "wrong_type");
    assert_unusable(&args, &with("skew", json!(3)), "out_of_range");
    assert_unusable(&args, &with("last_used_step", json!(-1)), "out_of_range");
    assert_unusable(&args, &with("last_used_step", json!("1")), "wrong_type");
    let (status, _) = run(&["totp", "check"], "[1]");
    assert_eq!(status, 2);
    // An envelope defect wins over a defect in what is verified.
    let mut request = with("digits", json!(9));
    request["secret"] = json!("!!!");
    assert_unusable(&args, &request, "out_of_range");
}

#[test]
fn uri_follows_the_contract() {
    let (status, out) = run_json(
        &["totp", "uri"],
        &json!({"secret": "jbsw y3dp ehpk 3pxp", "issuer": "Acme Co", "account": "alice@example.com"}),
    );
    assert_eq!(status, 0, "{out}");
    assert_eq!(
        out,
        json!({"uri": "otpauth://totp/Acme%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"})
    );

    let (status, out) = run_json(
        &["totp", "uri"],
        &json!({"secret": RFC_SHA256, "issuer": "Café: Ü", "account": "bob:smith+1 東",
                "algorithm": "sha256", "digits": 8, "period": 60}),
    );
    assert_eq!(status, 0, "{out}");
    assert_eq!(
        out["uri"],
        "otpauth://totp/Caf%C3%A9%3A%20%C3%9C:bob%3Asmith%2B1%20%E6%9D%B1\
         ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA\
         &issuer=Caf%C3%A9%3A%20%C3%9C&algorithm=SHA256&digits=8&period=60"
    );

    let args = ["totp", "uri"];
    let base = json!({"secret": RFC_SHA1, "issuer": "Acme", "account": "alice"});
    for missing in ["secret", "issuer", "account"] {
        let mut request = base.clone();
        request.as_object_mut().unwrap().remove(missing);
        assert_unusable(&args, &request, "missing_field");
    }
    let mut request = base.clone();
    request["account"] = json!(["alice"]);
    assert_unusable(&args, &request, "wrong_type");
    let mut request = base;
    request["issuer"] = json!("");
    assert_rejected(&args, &request, "uri_invalid");
}
