//! RFC 6238 Appendix B and RFC 4226 Appendix D, every row, named by section. The
//! table is `testdata/totp-rfc.json` (the RFCs' values, with each algorithm keyed as
//! RFC 6238's reference code does: 20, 32 and 64 bytes).

use serde::Deserialize;
use verify_model::UnixTime;
use verify_totp::{Algorithm, Code, Digits, Secret, check_at, generate, generate_at, hotp};

use crate::support::config;

#[derive(Deserialize)]
struct Table {
    totp: Vec<Vector>,
    hotp: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    algorithm: Algorithm,
    secret_ascii: String,
    secret_base32: String,
    time: Option<u64>,
    period: Option<u32>,
    digits: u8,
    counter: u64,
    code: String,
}

impl Vector {
    fn secret(&self) -> Secret {
        let secret = Secret::from_base32_lenient(&self.secret_base32).unwrap();
        assert_eq!(
            secret.expose_bytes(),
            self.secret_ascii.as_bytes(),
            "{}",
            self.name
        );
        secret
    }
}

fn table() -> Table {
    serde_json::from_str(include_str!("../../testdata/totp-rfc.json")).unwrap()
}

#[test]
fn rfc6238_appendix_b() {
    let table = table();
    assert_eq!(table.totp.len(), 18, "6 times x 3 algorithms");
    for vector in &table.totp {
        assert!(
            vector.name.starts_with("RFC 6238 App. B"),
            "{}",
            vector.name
        );
        let secret = vector.secret();
        let time = vector.time.unwrap();
        let config = config(vector.algorithm, vector.digits, vector.period.unwrap(), 0);
        assert_eq!(
            config.period().step_at(time),
            vector.counter,
            "{}",
            vector.name
        );

        let code = generate_at(&secret, &config, time).unwrap();
        assert_eq!(code.to_string(), vector.code, "{}", vector.name);
        // The same through the UnixTime API (every vector is within its range).
        let code = generate(&secret, &config, UnixTime::from_secs(time)).unwrap();
        assert_eq!(code.to_string(), vector.code, "{}", vector.name);
        // And as an HOTP value of the step.
        let code = hotp(&secret, vector.algorithm, config.digits(), vector.counter).unwrap();
        assert_eq!(code.to_string(), vector.code, "{}", vector.name);

        let matched = check_at(&secret, &config, &vector.code, time, None).unwrap();
        assert_eq!(matched.step(), vector.counter, "{}", vector.name);
        assert_eq!(matched.drift(), 0, "{}", vector.name);
    }
}

#[test]
fn rfc4226_appendix_d() {
    let table = table();
    assert_eq!(table.hotp.len(), 10, "counts 0..=9");
    let digits = Digits::new(6).unwrap();
    for (count, vector) in (0_u64..).zip(&table.hotp) {
        assert_eq!(vector.name, format!("RFC 4226 App. D count={count}"));
        assert_eq!(vector.counter, count);
        assert_eq!(vector.digits, 6);
        let code = hotp(&vector.secret(), vector.algorithm, digits, vector.counter).unwrap();
        assert_eq!(code.to_string(), vector.code, "{}", vector.name);
        assert_eq!(code, Code::parse(&vector.code, digits).unwrap());
    }
}

/// RFC 4226 Appendix D lists the truncated decimal values too; the 6-digit codes are
/// their last six digits, and the 8-digit codes their last eight.
#[test]
fn rfc4226_appendix_d_eight_digits() {
    let truncated: [u32; 10] = [
        1_284_755_224,
        1_094_287_082,
        137_359_152,
        1_726_969_429,
        1_640_338_314,
        868_254_676,
        1_918_287_922,
        82_162_583,
        673_399_871,
        645_520_489,
    ];
    let secret = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
    let digits = Digits::new(8).unwrap();
    for (counter, value) in (0_u64..).zip(truncated) {
        let code = hotp(&secret, Algorithm::Sha1, digits, counter).unwrap();
        assert_eq!(
            code.to_string(),
            format!("{:08}", value % 100_000_000),
            "RFC 4226 App. D count={counter}"
        );
    }
}
