//! `otpauth://` URIs: the exact form built, percent-encoding, round trips, and other
//! tools' URIs.

use proptest::prelude::*;
use verify_totp::{Algorithm, KeyUri, Secret, Skew, TotpConfig, TotpError, UriError};

use crate::support::config;

fn hello() -> Secret {
    Secret::from_base32_lenient("JBSWY3DPEHPK3PXP").unwrap()
}

fn parse(uri: &str) -> KeyUri {
    KeyUri::parse(uri).unwrap_or_else(|err| panic!("{uri}: {err}"))
}

fn parse_err(uri: &str) -> UriError {
    match KeyUri::parse(uri) {
        Err(TotpError::Uri(err)) => err,
        other => panic!("{uri}: {other:?}"),
    }
}

#[test]
fn builds_the_services_form() {
    let key = KeyUri::new(
        hello(),
        "Acme Co",
        "alice@example.com",
        &TotpConfig::default(),
    )
    .unwrap();
    assert_eq!(
        key.to_uri().as_str(),
        "otpauth://totp/Acme%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXP\
         &issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
    );
    let key = KeyUri::new(
        Secret::from_bytes(b"12345678901234567890123456789012".to_vec()).unwrap(),
        "x",
        "y",
        &config(Algorithm::Sha256, 8, 60, 1),
    )
    .unwrap();
    assert_eq!(
        key.to_uri().as_str(),
        "otpauth://totp/x:y?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA\
         &issuer=x&algorithm=SHA256&digits=8&period=60"
    );
}

#[test]
fn percent_encodes_spaces_colons_and_non_ascii() {
    let key = KeyUri::new(
        hello(),
        "Café: Ünïcode & Co/+",
        "bob:smith 東京~-._",
        &config(Algorithm::Sha512, 6, 30, 1),
    )
    .unwrap();
    let uri = key.to_uri();
    assert_eq!(
        uri.as_str(),
        "otpauth://totp/Caf%C3%A9%3A%20%C3%9Cn%C3%AFcode%20%26%20Co%2F%2B:\
         bob%3Asmith%20%E6%9D%B1%E4%BA%AC~-._?secret=JBSWY3DPEHPK3PXP\
         &issuer=Caf%C3%A9%3A%20%C3%9Cn%C3%AFcode%20%26%20Co%2F%2B\
         &algorithm=SHA512&digits=6&period=30"
    );
    assert!(!uri.contains('+') || uri.contains("%2B"));
    let parsed = parse(&uri);
    assert_eq!(parsed.issuer(), Some("Café: Ünïcode & Co/+"));
    assert_eq!(parsed.account(), "bob:smith 東京~-._");
}

#[test]
fn empty_issuer_or_account_cannot_be_built() {
    let config = TotpConfig::default();
    assert_eq!(
        KeyUri::new(hello(), "", "alice", &config).unwrap_err(),
        TotpError::Uri(UriError::EmptyIssuer)
    );
    assert_eq!(
        KeyUri::new(hello(), "Acme", "", &config).unwrap_err(),
        TotpError::Uri(UriError::MissingAccount)
    );
}

#[test]
fn debug_does_not_show_the_secret() {
    let key = KeyUri::new(hello(), "Acme", "alice", &TotpConfig::default()).unwrap();
    let debug = format!("{key:?}");
    assert!(!debug.contains("JBSW"), "{debug}");
    assert!(debug.contains("Secret { bits: 80, .. }"), "{debug}");
}

/// The Key Uri Format's own examples and what common libraries emit.
#[test]
fn parses_other_tools_uris() {
    // Key Uri Format wiki: issuer in label and parameter.
    let key =
        parse("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    assert_eq!(key.issuer(), Some("Example"));
    assert_eq!(key.account(), "alice@google.com");
    assert_eq!(key.secret(), &hello());
    assert_eq!(key.config(Skew::DEFAULT), TotpConfig::default());

    // Key Uri Format wiki, full form.
    let key = parse(
        "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ\
         &issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
    );
    assert_eq!(key.issuer(), Some("ACME Co"));
    assert_eq!(key.account(), "john.doe@email.com");
    assert_eq!(key.secret().bits(), 160);

    // pyotp provisioning_uri (issuer_name given).
    let key = parse(
        "otpauth://totp/Secure%20App:alice%40google.com?secret=JBSWY3DPEHPK3PXP&issuer=Secure%20App",
    );
    assert_eq!(
        (key.issuer(), key.account()),
        (Some("Secure App"), "alice@google.com")
    );

    // otplib keyuri: parameters in another order.
    let key = parse(
        "otpauth://totp/My%20Service:user%40example.com?secret=JBSWY3DPEHPK3PXP&period=60&digits=8&algorithm=SHA256&issuer=My%20Service",
    );
    assert_eq!(
        key.config(Skew::DEFAULT),
        config(Algorithm::Sha256, 8, 60, 1)
    );

    // Google Authenticator export style: issuer only in the label.
    let key = parse("otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP");
    assert_eq!((key.issuer(), key.account()), (Some("GitHub"), "octocat"));

    // Issuer only in the parameter.
    let key = parse("otpauth://totp/alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme");
    assert_eq!(
        (key.issuer(), key.account()),
        (Some("Acme"), "alice@example.com")
    );

    // No issuer at all.
    let key = parse("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP");
    assert_eq!((key.issuer(), key.account()), (None, "alice"));

    // Lower-case algorithm, padded lower-case secret.
    let key = parse(
        "otpauth://totp/A:b?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezdgnbvgy3tqojqgeza%3D%3D%3D%3D&algorithm=sha256",
    );
    assert_eq!(key.algorithm(), Algorithm::Sha256);
    assert_eq!(
        key.secret().expose_bytes(),
        b"12345678901234567890123456789012"
    );

    // `+` for a space in an older tool's query string; a `+` in the label is a `+`.
    let key = parse(
        "otpauth://totp/Acme+Co:alice+tag@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme+Co",
    );
    assert_eq!(
        (key.issuer(), key.account()),
        (Some("Acme Co"), "alice+tag@example.com")
    );

    // Encoded separator and spaces before the account name.
    let key = parse("otpauth://totp/Acme%3A%20%20alice?secret=JBSWY3DPEHPK3PXP");
    assert_eq!((key.issuer(), key.account()), (Some("Acme"), "alice"));

    // Upper-case scheme and type, unknown parameters ignored, a fragment dropped.
    let key = parse(
        "OTPAUTH://TOTP/Acme:alice?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fx.invalid%2Fa.png#frag",
    );
    assert_eq!(key.account(), "alice");

    // The parameter wins over a different label prefix.
    let key = parse("otpauth://totp/Old%20Name:alice?secret=JBSWY3DPEHPK3PXP&issuer=New%20Name");
    assert_eq!(key.issuer(), Some("New Name"));
}

#[test]
fn refuses_what_it_cannot_use_with_typed_errors() {
    let cases: &[(&str, UriError)] = &[
        (
            "https://totp/a?secret=JBSWY3DPEHPK3PXP",
            UriError::NotOtpauth,
        ),
        ("otpauth:/", UriError::NotOtpauth),
        (
            "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=0",
            UriError::UnsupportedType { length: 4 },
        ),
        ("otpauth://totp", UriError::UnsupportedType { length: 4 }),
        ("otpauth://totp/a", UriError::MissingSecret),
        (
            "otpauth://totp/?secret=JBSWY3DPEHPK3PXP",
            UriError::MissingAccount,
        ),
        (
            "otpauth://totp/Acme:?secret=JBSWY3DPEHPK3PXP",
            UriError::MissingAccount,
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP",
            UriError::DuplicateParameter { name: "secret" },
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=6&digits=8",
            UriError::DuplicateParameter { name: "digits" },
        ),
        (
            "otpauth://totp/a%ZZ?secret=JBSWY3DPEHPK3PXP",
            UriError::InvalidPercentEncoding { part: "label" },
        ),
        (
            "otpauth://totp/a%FF?secret=JBSWY3DPEHPK3PXP",
            UriError::NotUtf8 { part: "label" },
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=%E2%82",
            UriError::NotUtf8 { part: "issuer" },
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PX1",
            UriError::Secret(verify_totp::SecretError::InvalidCharacter { position: 15 }),
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DP",
            UriError::Secret(verify_totp::SecretError::TooShort {
                bits: 40,
                min_bits: 80,
            }),
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=six",
            UriError::InvalidNumber { name: "digits" },
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30",
            UriError::InvalidNumber { name: "period" },
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=10",
            UriError::Config(verify_totp::ConfigError::DigitsOutOfRange { got: 10 }),
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=90",
            UriError::Config(verify_totp::ConfigError::PeriodOutOfRange { got: 90 }),
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
            UriError::Config(verify_totp::ConfigError::UnknownAlgorithm { length: 3 }),
        ),
    ];
    for (uri, expected) in cases {
        assert_eq!(&parse_err(uri), expected, "{uri}");
        assert_eq!(KeyUri::parse(uri).unwrap_err().code(), "uri_invalid");
    }
    let long = format!(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&x={}",
        "a".repeat(5000)
    );
    assert!(matches!(parse_err(&long), UriError::TooLong { .. }));
}

fn label_text() -> impl Strategy<Value = String> {
    // Any text, including `:`, spaces, `%`, `+`, `&`, `=`, `?`, `#` and non-ASCII;
    // an account name does not start with a space (apps strip those).
    "[^ ][\\PC:%+&=?#/ ]{0,20}"
}

proptest! {
    #[test]
    fn build_then_parse_round_trips(
        issuer in label_text(),
        account in label_text(),
        bytes in proptest::collection::vec(any::<u8>(), Secret::MIN_BYTES..=Secret::MAX_BYTES),
        algorithm in prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)],
        digits in 3_u8..=8,
        period in 20_u32..=60,
    ) {
        let config = config(algorithm, digits, period, 1);
        let key = KeyUri::new(Secret::from_bytes(bytes).unwrap(), &issuer, &account, &config).unwrap();
        let uri = key.to_uri();
        let (label, query) = uri
            .strip_prefix("otpauth://totp/")
            .unwrap()
            .split_once('?')
            .unwrap();
        // Exactly one literal colon: the separator; only unreserved bytes otherwise.
        prop_assert_eq!(label.matches(':').count(), 1);
        prop_assert!(uri.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%:/?&=".contains(&b)));
        prop_assert!(query.starts_with("secret="));
        let parsed = KeyUri::parse(&uri).unwrap();
        prop_assert_eq!(parsed.config(config.skew()), config);
        prop_assert_eq!(&parsed, &key);
    }

    #[test]
    fn parse_never_panics_and_fails_with_uri_errors(text in "otpauth://totp/\\PC{0,60}") {
        match KeyUri::parse(&text) {
            Ok(key) => prop_assert!(!key.account().is_empty()),
            Err(err) => prop_assert!(matches!(err, TotpError::Uri(_)), "{err:?}"),
        }
    }
}

#[test]
fn a_key_whose_uri_parse_could_not_read_is_refused() {
    // Each `é` becomes six bytes once percent-encoded: 800 of them fit a label but not
    // the URI parse reads, so `new` refuses the key instead of emitting it.
    let account = "é".repeat(800);
    let err = KeyUri::new(hello(), "Acme", &account, &TotpConfig::default()).unwrap_err();
    assert!(
        matches!(err, TotpError::Uri(UriError::TooLong { .. })),
        "{err:?}"
    );

    // A parsed URI that would re-encode past the limit is refused the same way, so
    // every KeyUri that exists round-trips.
    let raw = format!("otpauth://totp/Acme:{account}?secret=JBSWY3DPEHPK3PXP&issuer=Acme");
    assert!(raw.len() < 4096);
    assert!(matches!(parse_err(&raw), UriError::TooLong { .. }));

    let fits = "é".repeat(100);
    let key = KeyUri::new(hello(), "Acme", &fits, &TotpConfig::default()).unwrap();
    assert_eq!(parse(&key.to_uri()), key);
}
