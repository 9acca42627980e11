//! HOTP (RFC 4226), TOTP (RFC 6238) and the single-use window check.

use hmac::{Hmac, Mac};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use verify_model::UnixTime;
use zeroize::Zeroize;

use crate::code::Code;
use crate::config::{Algorithm, Digits, TotpConfig};
use crate::error::TotpError;
use crate::secret::Secret;

/// A keyed HMAC, set up once per call and cloned for each counter value.
#[derive(Clone)]
enum Keyed {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl Keyed {
    fn new(secret: &Secret, algorithm: Algorithm) -> Result<Self, TotpError> {
        let key = secret.expose_bytes();
        let keyed = match algorithm {
            Algorithm::Sha1 => Hmac::new_from_slice(key).map(Self::Sha1),
            Algorithm::Sha256 => Hmac::new_from_slice(key).map(Self::Sha256),
            Algorithm::Sha512 => Hmac::new_from_slice(key).map(Self::Sha512),
        };
        keyed.map_err(|_| TotpError::HmacKeyRejected)
    }

    /// RFC 4226 §5.3: HMAC over the 8-byte big-endian counter, dynamic truncation to
    /// 31 bits.
    fn truncated(&self, counter: u64) -> u32 {
        match self {
            Self::Sha1(mac) => mac_truncated(mac, counter),
            Self::Sha256(mac) => mac_truncated(mac, counter),
            Self::Sha512(mac) => mac_truncated(mac, counter),
        }
    }

    /// The `digits`-digit code for `counter`.
    fn code(&self, counter: u64, digits: Digits) -> Code {
        Code::from_truncated(self.truncated(counter) % digits.modulus(), digits)
    }
}

fn mac_truncated<M: Mac + Clone>(keyed: &M, counter: u64) -> u32 {
    let mut mac = keyed.clone();
    mac.update(&counter.to_be_bytes());
    let mut output = mac.finalize().into_bytes();
    let value = dynamic_truncation(&output);
    let bytes: &mut [u8] = &mut output;
    bytes.zeroize();
    value
}

/// RFC 4226 §5.3 `DT`: the low 4 bits of the last byte give an offset; the 31 bits
/// at that offset are the value. `output` is a whole HMAC output (20, 32 or 64
/// bytes), so the four bytes are always there; this never indexes.
fn dynamic_truncation(output: &[u8]) -> u32 {
    let offset = usize::from(output.last().copied().unwrap_or(0) & 0x0f);
    let mut word = [0_u8; 4];
    for (dst, src) in word.iter_mut().zip(output.iter().skip(offset)) {
        *dst = *src;
    }
    let value = u32::from_be_bytes(word) & 0x7fff_ffff;
    word.zeroize();
    value
}

/// The HOTP value of RFC 4226 for `counter`.
///
/// # Errors
/// [`TotpError::HmacKeyRejected`], which the pinned `hmac` crate never returns (HMAC
/// takes keys of any length).
pub fn hotp(
    secret: &Secret,
    algorithm: Algorithm,
    digits: Digits,
    counter: u64,
) -> Result<Code, TotpError> {
    Ok(Keyed::new(secret, algorithm)?.code(counter, digits))
}

/// The TOTP code of RFC 6238 at `now` (T0 = 0): the HOTP value of the time step
/// `floor(now / period)`.
///
/// # Errors
/// As [`hotp`].
pub fn generate(secret: &Secret, config: &TotpConfig, now: UnixTime) -> Result<Code, TotpError> {
    generate_at(secret, config, now.as_secs())
}

/// [`generate`] with `now` as plain unix seconds (no upper bound).
///
/// # Errors
/// As [`hotp`].
pub fn generate_at(
    secret: &Secret,
    config: &TotpConfig,
    unix_seconds: u64,
) -> Result<Code, TotpError> {
    let step = config.period().step_at(unix_seconds);
    hotp(secret, config.algorithm(), config.digits(), step)
}

/// A code that matched: the time step it belongs to and how far that is from the
/// current one.
///
/// Persist [`Match::step`] as the factor's new last used step with a compare-and-set
/// on the value you passed to [`check`]: if the store's value changed in between,
/// another request used a code first and this one must be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "persist `step` as the factor's last used step, or the code can be replayed"]
pub struct Match {
    step: u64,
    drift: i8,
}

impl Match {
    /// The matched time step: the factor's new last used step.
    #[must_use]
    pub const fn step(&self) -> u64 {
        self.step
    }

    /// `step - floor(now / period)`, within ±skew. A persistent non-zero drift means
    /// the device's clock is off.
    #[must_use]
    pub const fn drift(&self) -> i8 {
        self.drift
    }
}

/// Window offsets from the current step, most preferred first: the step nearest the
/// current one wins, the later on a tie (the `verify totp check` contract in
/// crates/verify-cli/README.md).
const PREFERENCE: [i8; 5] = [0, 1, -1, 2, -2];

/// Checks a submitted TOTP code at `now`, single-use.
///
/// The code is accepted for a time step `s` when `s` is within `skew` steps of
/// `floor(now / period)`, `s >= 0`, and `s` is above `last_used_step` (a code is good
/// once: a step at or below the last used one never matches, so an older code after
/// a newer one is refused too). When several steps match, the one nearest the current
/// step wins, the later on a tie.
///
/// The code's shape is checked before any HMAC. Then every step of the window is
/// computed and compared in constant time, whichever matches, so the time taken
/// depends on the configuration, not on the code or on which step matched.
///
/// # What to persist
/// - `Ok(m)`: store `m.step()` as the factor's last used step, by compare-and-set
///   against `last_used_step`; approve only if that write wins.
/// - `Err(e)` with [`TotpError::counts_as_attempt`]: count one failed attempt.
/// - Any other `Err`: a defect of the factor or request; nothing to count.
///
/// # Errors
/// [`TotpError::CodeMalformed`] when `code` is not exactly `digits` ASCII digits;
/// [`TotpError::StepAlreadyUsed`] when it is the code of a step at or below
/// `last_used_step` (and of no usable step); [`TotpError::CodeMismatch`] when it
/// matches nothing; [`TotpError::HmacKeyRejected`] as [`hotp`].
pub fn check(
    secret: &Secret,
    config: &TotpConfig,
    code: &str,
    now: UnixTime,
    last_used_step: Option<u64>,
) -> Result<Match, TotpError> {
    check_at(secret, config, code, now.as_secs(), last_used_step)
}

/// [`check`] with `now` as plain unix seconds (no upper bound).
///
/// # Errors
/// As [`check`].
pub fn check_at(
    secret: &Secret,
    config: &TotpConfig,
    code: &str,
    unix_seconds: u64,
    last_used_step: Option<u64>,
) -> Result<Match, TotpError> {
    let submitted = Code::parse(code, config.digits())?;
    let keyed = Keyed::new(secret, config.algorithm())?;
    let current_step = config.period().step_at(unix_seconds);
    let skew = config.skew().get();

    let mut fresh = Choice::from(0);
    let mut fresh_step = 0_u64;
    let mut fresh_drift = 0_i8;
    let mut used = Choice::from(0);
    let mut used_step = 0_u64;
    // Least preferred first, so that a later, more preferred match overwrites.
    for offset in PREFERENCE.into_iter().rev() {
        if offset.unsigned_abs() > skew {
            continue;
        }
        // Steps below 0 (and above u64::MAX) do not exist: they never match.
        let Some(step) = current_step.checked_add_signed(i64::from(offset)) else {
            continue;
        };
        let candidate = keyed.code(step, config.digits());
        let hit = candidate.ct_eq(&submitted);
        // Which steps are usable is public (the stored counter and the clock).
        let usable = Choice::from(u8::from(last_used_step.is_none_or(|last| step > last)));
        let hit_usable = hit & usable;
        let hit_used = hit & !usable;
        fresh |= hit_usable;
        fresh_step.conditional_assign(&step, hit_usable);
        fresh_drift.conditional_assign(&offset, hit_usable);
        used |= hit_used;
        used_step.conditional_assign(&step, hit_used);
    }

    if bool::from(fresh) {
        Ok(Match {
            step: fresh_step,
            drift: fresh_drift,
        })
    } else if let (true, Some(last_used_step)) = (bool::from(used), last_used_step) {
        Err(TotpError::StepAlreadyUsed {
            step: used_step,
            last_used_step,
        })
    } else {
        Err(TotpError::CodeMismatch { current_step, skew })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_section_5_4_truncation_example() {
        // RFC 4226 §5.4: the HMAC-SHA-1 value whose DT gives 0x50ef7f19 = 1357872921.
        let output = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19,
            0xda, 0x8e, 0x94, 0x5b, 0x55, 0x5a,
        ];
        assert_eq!(dynamic_truncation(&output), 0x50ef_7f19);
        assert_eq!(dynamic_truncation(&output) % 1_000_000, 872_921);
    }

    #[test]
    fn truncation_masks_the_top_bit() {
        let mut output = [0xff_u8; 20];
        output[19] = 0xf0; // offset 0
        assert_eq!(dynamic_truncation(&output), 0x7fff_ffff);
        output[19] = 0x0f; // offset 15: bytes 15..=18, the last word before the end
        output[18] = 0x12;
        output[14] = 0x00;
        assert_eq!(dynamic_truncation(&output), 0x7fff_ff12);
    }

    #[test]
    fn the_window_prefers_nearest_then_later() {
        // Reverse iteration assigns the most preferred last.
        assert_eq!(PREFERENCE.first(), Some(&0));
        let mut sorted = PREFERENCE;
        sorted.sort_by_key(|offset| (offset.unsigned_abs(), -offset));
        assert_eq!(sorted, PREFERENCE);
    }
}
