//! [`Code`]: a one-time password of a known length.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::config::Digits;
use crate::error::CodeError;

/// A one-time password: exactly [`Digits`] decimal digits, leading zeros kept.
///
/// Generated codes come from [`hotp`](crate::hotp) and
/// [`generate`](crate::generate); submitted codes are parsed with [`Code::parse`]
/// (which [`check`](crate::check) does for you). `Display` writes the digits; `Debug`
/// does not. Equality is constant time. The value is zeroized on drop.
#[derive(Clone)]
pub struct Code {
    value: u32,
    digits: Digits,
}

impl Code {
    /// Wraps an already truncated value (`value < 10^digits`).
    pub(crate) const fn from_truncated(value: u32, digits: Digits) -> Self {
        Self { value, digits }
    }

    /// Parses a submitted code that must have exactly `digits` ASCII digits. Nothing
    /// is trimmed: strip spaces a user may type before calling, if you accept them.
    ///
    /// # Errors
    /// [`CodeError::WrongLength`] when the number of characters differs from `digits`,
    /// else [`CodeError::NonDigit`] at the first character that is not `0`-`9`.
    pub fn parse(text: &str, digits: Digits) -> Result<Self, CodeError> {
        // Count at most 255 characters: the length is reported as a u8 and a long
        // input is not worth walking.
        let chars = text.chars().take(usize::from(u8::MAX)).count();
        let got = u8::try_from(chars).unwrap_or(u8::MAX);
        if got != digits.get() {
            return Err(CodeError::WrongLength {
                expected: digits.get(),
                got,
            });
        }
        let mut value = 0_u32;
        for (position, byte) in text.bytes().enumerate() {
            if !byte.is_ascii_digit() {
                value.zeroize();
                return Err(CodeError::NonDigit { position });
            }
            // At most 8 digits: no overflow.
            value = value * 10 + u32::from(byte - b'0');
        }
        Ok(Self { value, digits })
    }

    /// The number of digits.
    #[must_use]
    pub const fn digits(&self) -> Digits {
        self.digits
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = usize::from(self.digits.get());
        write!(f, "{:0width$}", self.value)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("digits", &self.digits.get())
            .finish_non_exhaustive()
    }
}

impl ConstantTimeEq for Code {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.value.ct_eq(&other.value) & self.digits.get().ct_eq(&other.digits.get())
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn six() -> Digits {
        Digits::new(6).unwrap()
    }

    #[test]
    fn keeps_leading_zeros() {
        let code = Code::parse("000123", six()).unwrap();
        assert_eq!(code.to_string(), "000123");
        assert_eq!(code, Code::from_truncated(123, six()));
        assert_eq!(format!("{code:?}"), "Code { digits: 6, .. }");
    }

    #[test]
    fn rejects_wrong_length_and_non_digits() {
        assert_eq!(
            Code::parse("12345", six()),
            Err(CodeError::WrongLength {
                expected: 6,
                got: 5
            })
        );
        assert_eq!(
            Code::parse("1234567", six()),
            Err(CodeError::WrongLength {
                expected: 6,
                got: 7
            })
        );
        assert_eq!(
            Code::parse("", six()),
            Err(CodeError::WrongLength {
                expected: 6,
                got: 0
            })
        );
        assert_eq!(
            Code::parse(&"1".repeat(10_000), six()),
            Err(CodeError::WrongLength {
                expected: 6,
                got: 255
            })
        );
        for (text, position) in [
            ("12a456", 2),
            (" 23456", 0),
            ("12345 ", 5),
            ("-12345", 0),
            ("+12345", 0),
            ("12345١", 5), // ARABIC-INDIC DIGIT ONE: a digit, not an ASCII one
            ("１２３４５６", 0),
        ] {
            assert_eq!(
                Code::parse(text, six()),
                Err(CodeError::NonDigit { position }),
                "{text:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(digits in 3_u8..=8, seed in any::<u32>()) {
            let digits = Digits::new(digits).unwrap();
            let code = Code::from_truncated(seed % digits.modulus(), digits);
            let text = code.to_string();
            prop_assert_eq!(text.len(), usize::from(digits.get()));
            prop_assert_eq!(Code::parse(&text, digits).unwrap(), code);
        }
    }
}
