//! The `otpauth://totp/...` Key Uri Format: [`KeyUri`] builds the URI an authenticator
//! app scans and parses one for import.
//!
//! Built URIs have the service's shape (docs/api.md, "The Factor resource"):
//! `otpauth://totp/{issuer}:{account}?secret=..&issuer=..&algorithm=SHA1&digits=6&period=30`.
//! Issuer and account are UTF-8 percent-encoded, every byte outside `A-Za-z0-9-._~`
//! (so `:` is `%3A` and a space `%20`, never `+`); the label separator is a literal
//! `:`; the secret is unpadded upper-case base32; every parameter is present.
//!
//! Parsing accepts what other tools write: an issuer only in the label (Google
//! Authenticator export style) or only in the `issuer` parameter, a literal or
//! percent-encoded `:` separator, spaces before the account name, algorithm names in
//! any case, missing optional parameters (SHA1, 6, 30), padded or lower-case secrets,
//! and `+` for a space in the query string (older tools form-encode it; in the label a
//! `+` stays a `+`, as in `alice+tag@example.com`). When the `issuer` parameter and
//! the label prefix differ, the parameter wins, as in Google Authenticator. Unknown
//! parameters (`image`, ...) are ignored.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroizing;

use crate::config::{Algorithm, Digits, Period, Skew, TotpConfig};
use crate::error::{TotpError, UriError};
use crate::secret::Secret;

/// Everything but the RFC 3986 unreserved characters `A-Za-z0-9-._~` is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Longest URI [`KeyUri::parse`] reads, in bytes.
const MAX_URI_LEN: usize = 4096;

/// A TOTP key as the Key Uri Format carries it: secret, issuer, account name and the
/// code parameters (not the skew, which is the verifier's business).
///
/// `Debug` is redacted through [`Secret`]; the URI itself, which contains the secret,
/// comes back zeroizing from [`KeyUri::to_uri`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUri {
    secret: Secret,
    issuer: Option<String>,
    account: String,
    algorithm: Algorithm,
    digits: Digits,
    period: Period,
}

impl KeyUri {
    /// A key to build a URI from: `issuer` (the service's, by default its friendly
    /// name) and `account` (the factor's friendly name), with `config`'s algorithm,
    /// digits and period.
    ///
    /// # Errors
    /// [`UriError::EmptyIssuer`] or [`UriError::MissingAccount`] when one is empty;
    /// [`UriError::TooLong`] when the URI would be longer than [`KeyUri::parse`] reads.
    pub fn new(
        secret: Secret,
        issuer: &str,
        account: &str,
        config: &TotpConfig,
    ) -> Result<Self, TotpError> {
        if issuer.is_empty() {
            return Err(UriError::EmptyIssuer.into());
        }
        if account.is_empty() {
            return Err(UriError::MissingAccount.into());
        }
        Self {
            secret,
            issuer: Some(issuer.to_owned()),
            account: account.to_owned(),
            algorithm: config.algorithm(),
            digits: config.digits(),
            period: config.period(),
        }
        .within_uri_limit()
        .map_err(TotpError::from)
    }

    /// Holds the invariant that every `KeyUri` writes a URI [`KeyUri::parse`] reads
    /// back: percent-encoding can triple a label's length, so a key whose URI would
    /// exceed [`MAX_URI_LEN`] is refused here rather than emitted unreadable.
    fn within_uri_limit(self) -> Result<Self, UriError> {
        let length = self.to_uri().len();
        if length > MAX_URI_LEN {
            return Err(UriError::TooLong {
                length,
                max: MAX_URI_LEN,
            });
        }
        Ok(self)
    }

    /// The `otpauth://totp/` URI, in the form described in the [module docs](self).
    /// It contains the secret: it is zeroized when dropped.
    #[must_use]
    pub fn to_uri(&self) -> Zeroizing<String> {
        let mut uri = Zeroizing::new(String::with_capacity(256));
        let issuer = self
            .issuer
            .as_deref()
            .map(|issuer| utf8_percent_encode(issuer, COMPONENT));
        let account = utf8_percent_encode(&self.account, COMPONENT);
        // Writing into a String cannot fail.
        let _ = match &issuer {
            Some(issuer) => write!(uri, "otpauth://totp/{issuer}:{account}"),
            None => write!(uri, "otpauth://totp/{account}"),
        };
        let _ = write!(uri, "?secret={}", self.secret.to_base32().as_str());
        if let Some(issuer) = issuer {
            let _ = write!(uri, "&issuer={issuer}");
        }
        let _ = write!(
            uri,
            "&algorithm={}&digits={}&period={}",
            self.algorithm.as_uri_str(),
            self.digits,
            self.period
        );
        uri
    }

    /// Parses an `otpauth://totp/` URI for import, as the [module docs](self)
    /// describe.
    ///
    /// # Errors
    /// [`TotpError::Uri`] naming the defect: not `otpauth://`, not `totp`, no account
    /// name, bad percent-encoding or UTF-8, a repeated parameter, a missing or unusable
    /// secret, an unsupported algorithm, digits or period.
    pub fn parse(uri: &str) -> Result<Self, TotpError> {
        parse(uri).map_err(TotpError::from)
    }

    /// The shared secret.
    #[must_use]
    pub const fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The issuer (the `issuer` parameter, else the label's prefix), if any.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name.
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The HMAC hash function.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The code length.
    #[must_use]
    pub const fn digits(&self) -> Digits {
        self.digits
    }

    /// The time step.
    #[must_use]
    pub const fn period(&self) -> Period {
        self.period
    }

    /// A checking configuration with this key's parameters and `skew`.
    #[must_use]
    pub const fn config(&self, skew: Skew) -> TotpConfig {
        TotpConfig::new(self.algorithm, self.digits, self.period, skew)
    }
}

fn parse(uri: &str) -> Result<KeyUri, UriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong {
            length: uri.len(),
            max: MAX_URI_LEN,
        });
    }
    let (scheme, rest) = uri
        .split_at_checked("otpauth://".len())
        .ok_or(UriError::NotOtpauth)?;
    if !scheme.eq_ignore_ascii_case("otpauth://") {
        return Err(UriError::NotOtpauth);
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (kind, rest) = rest.split_once('/').ok_or(UriError::UnsupportedType {
        length: rest.find('?').unwrap_or(rest.len()),
    })?;
    if !kind.eq_ignore_ascii_case("totp") {
        return Err(UriError::UnsupportedType { length: kind.len() });
    }
    let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (label_issuer, account) = parse_label(label)?;

    let mut params = Params::default();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.take(name, value)?;
    }

    let secret_text = params.secret.ok_or(UriError::MissingSecret)?;
    let secret = Secret::from_base32_lenient(&secret_text).map_err(|err| match err {
        TotpError::Secret(err) => UriError::Secret(err),
        // from_base32_lenient only fails with secret errors.
        _ => UriError::MissingSecret,
    })?;
    let algorithm = params
        .algorithm
        .as_deref()
        .map_or(Ok(Algorithm::default()), str::parse)
        .map_err(UriError::Config)?;
    let digits = match params.digits.as_deref() {
        Some(text) => Digits::new(number(text, "digits")?).map_err(UriError::Config)?,
        None => Digits::DEFAULT,
    };
    let period = match params.period.as_deref() {
        Some(text) => Period::new(number(text, "period")?).map_err(UriError::Config)?,
        None => Period::DEFAULT,
    };
    let issuer = params
        .issuer
        .filter(|issuer| !issuer.is_empty())
        .or(label_issuer);
    KeyUri {
        secret,
        issuer,
        account,
        algorithm,
        digits,
        period,
    }
    .within_uri_limit()
}

/// The known parameters, percent-decoded, each at most once.
#[derive(Default)]
struct Params {
    secret: Option<Zeroizing<String>>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
}

impl Params {
    fn take(&mut self, name: &str, value: &str) -> Result<(), UriError> {
        let (slot, name): (&mut Option<String>, &'static str) =
            if name.eq_ignore_ascii_case("secret") {
                if self.secret.is_some() {
                    return Err(UriError::DuplicateParameter { name: "secret" });
                }
                self.secret = Some(Zeroizing::new(decode(value, true, "secret")?));
                return Ok(());
            } else if name.eq_ignore_ascii_case("issuer") {
                (&mut self.issuer, "issuer")
            } else if name.eq_ignore_ascii_case("algorithm") {
                (&mut self.algorithm, "algorithm")
            } else if name.eq_ignore_ascii_case("digits") {
                (&mut self.digits, "digits")
            } else if name.eq_ignore_ascii_case("period") {
                (&mut self.period, "period")
            } else {
                return Ok(());
            };
        if slot.is_some() {
            return Err(UriError::DuplicateParameter { name });
        }
        *slot = Some(decode(value, true, name)?);
        Ok(())
    }
}

/// Splits the label into (issuer prefix, account name): at the first literal `:`,
/// else at the first `%3A`; the account name loses leading spaces.
fn parse_label(label: &str) -> Result<(Option<String>, String), UriError> {
    let split = label
        .split_once(':')
        .or_else(|| split_once_ignore_case(label, "%3A"));
    let (issuer, account) = match split {
        Some((issuer, account)) => {
            let issuer = decode(issuer, false, "label")?;
            (Some(issuer).filter(|issuer| !issuer.is_empty()), account)
        }
        None => (None, label),
    };
    let account = decode(account, false, "label")?;
    let account = account.trim_start_matches(' ');
    if account.is_empty() {
        return Err(UriError::MissingAccount);
    }
    Ok((issuer, account.to_owned()))
}

fn split_once_ignore_case<'a>(text: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let position = text
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))?;
    let (before, after) = text.split_at_checked(position)?;
    let after = after.get(needle.len()..)?;
    Some((before, after))
}

/// Percent-decodes `text` (and `+` to a space in a query string) into UTF-8.
fn decode(text: &str, query: bool, part: &'static str) -> Result<String, UriError> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'%' => {
                let high = bytes.next().and_then(hex_value);
                let low = bytes.next().and_then(hex_value);
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(UriError::InvalidPercentEncoding { part });
                };
                out.push(high << 4 | low);
            }
            b'+' if query => out.push(b' '),
            _ => out.push(byte),
        }
    }
    String::from_utf8(out).map_err(|_| UriError::NotUtf8 { part })
}

const fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A small unsigned decimal number: ASCII digits only, at most 9 of them.
fn number<T: TryFrom<u32>>(text: &str, name: &'static str) -> Result<T, UriError> {
    let invalid = UriError::InvalidNumber { name };
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid);
    }
    let value = text
        .bytes()
        .fold(0_u32, |acc, byte| acc * 10 + u32::from(byte - b'0'));
    // Out of the target type's range: out of the config's range too.
    T::try_from(value).map_err(|_| invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(decode("a%20b", false, "label").unwrap(), "a b");
        assert_eq!(decode("a+b", false, "label").unwrap(), "a+b");
        assert_eq!(decode("a+b", true, "issuer").unwrap(), "a b");
        assert_eq!(decode("%C3%A9", false, "label").unwrap(), "é");
        for bad in ["%", "%2", "%zz", "a%g0"] {
            assert_eq!(
                decode(bad, false, "label"),
                Err(UriError::InvalidPercentEncoding { part: "label" }),
                "{bad:?}"
            );
        }
        assert_eq!(
            decode("%C3", false, "label"),
            Err(UriError::NotUtf8 { part: "label" })
        );
    }

    #[test]
    fn numbers_are_plain_decimal() {
        assert_eq!(number::<u8>("6", "digits").unwrap(), 6);
        assert_eq!(number::<u32>("030", "period").unwrap(), 30);
        for bad in ["", "-6", "+6", "6.0", " 6", "1234567890", "0x10"] {
            assert!(number::<u32>(bad, "period").is_err(), "{bad:?}");
        }
        assert!(number::<u8>("300", "digits").is_err());
    }

    #[test]
    fn label_split_rules() {
        assert_eq!(
            parse_label("Example:alice@google.com").unwrap(),
            (Some("Example".into()), "alice@google.com".into())
        );
        assert_eq!(
            parse_label("Example%3Aalice").unwrap(),
            (Some("Example".into()), "alice".into())
        );
        assert_eq!(
            parse_label("Example%3a%20%20alice").unwrap(),
            (Some("Example".into()), "alice".into())
        );
        assert_eq!(
            parse_label("Big%3ACorp:a%3Ab").unwrap(),
            (Some("Big:Corp".into()), "a:b".into())
        );
        assert_eq!(parse_label("alice").unwrap(), (None, "alice".into()));
        assert_eq!(parse_label(":alice").unwrap(), (None, "alice".into()));
        assert_eq!(parse_label("Example:"), Err(UriError::MissingAccount));
        assert_eq!(parse_label(""), Err(UriError::MissingAccount));
    }
}
