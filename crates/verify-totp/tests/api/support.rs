//! Helpers shared by the test modules.

use verify_totp::{Algorithm, Digits, Period, Secret, Skew, TotpConfig};

/// RFC 6238 Appendix B's SHA-1 key, "12345678901234567890".
pub(crate) fn rfc_sha1_secret() -> Secret {
    Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
}

/// A configuration from plain numbers.
pub(crate) fn config(algorithm: Algorithm, digits: u8, period: u32, skew: u8) -> TotpConfig {
    TotpConfig::new(
        algorithm,
        Digits::new(digits).unwrap(),
        Period::new(period).unwrap(),
        Skew::new(skew).unwrap(),
    )
}
