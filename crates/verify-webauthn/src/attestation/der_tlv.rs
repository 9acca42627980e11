//! A minimal strict DER TLV reader for extensions `der` cannot describe (tag numbers
//! above 30 in Android's KeyDescription) or that are simplest read by hand.

/// One TLV: the full identifier (class, constructed bit and number) and the contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    /// Class and constructed bits (`0xe0` mask of the first identifier octet) combined
    /// with the tag number: `(class_bits as u32) << 24 | number`.
    pub(crate) tag: u32,
    /// The contents octets.
    pub(crate) value: &'a [u8],
}

/// The largest tag number accepted (Android uses up to 7xx).
const MAX_TAG_NUMBER: u32 = 1 << 20;

impl<'a> Tlv<'a> {
    pub(crate) const SEQUENCE: u32 = (0x20 << 24) | 16;
    pub(crate) const SET: u32 = (0x20 << 24) | 17;
    pub(crate) const INTEGER: u32 = 2;
    pub(crate) const ENUMERATED: u32 = 10;
    pub(crate) const OCTET_STRING: u32 = 4;
    pub(crate) const NULL: u32 = 5;

    /// The identifier of a context-specific constructed tag `[number]`.
    pub(crate) const fn context_constructed(number: u32) -> u32 {
        (0xa0 << 24) | number
    }

    /// Reads one TLV from the front of `input`, returning it and the rest.
    pub(crate) fn parse(input: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (&first, mut rest) = input.split_first()?;
        let class = u32::from(first & 0xe0);
        let mut number = u32::from(first & 0x1f);
        if number == 0x1f {
            number = 0;
            let mut first_byte = true;
            loop {
                let (&b, r) = rest.split_first()?;
                rest = r;
                if first_byte && b == 0x80 {
                    return None; // non-minimal
                }
                first_byte = false;
                number = number.checked_mul(128)?.checked_add(u32::from(b & 0x7f))?;
                if number > MAX_TAG_NUMBER {
                    return None;
                }
                if b & 0x80 == 0 {
                    break;
                }
            }
            if number < 0x1f {
                return None; // must have used the short form
            }
        }
        let (&len_byte, r) = rest.split_first()?;
        rest = r;
        let len = if len_byte < 0x80 {
            usize::from(len_byte)
        } else {
            let count = usize::from(len_byte & 0x7f);
            if count == 0 || count > 4 {
                return None; // indefinite or absurd
            }
            let (len_bytes, r) = rest.split_at_checked(count)?;
            rest = r;
            if len_bytes.first() == Some(&0) {
                return None;
            }
            let len = len_bytes.iter().try_fold(0_usize, |acc, b| {
                acc.checked_mul(256)?.checked_add(usize::from(*b))
            })?;
            if len < 0x80 {
                return None; // must have used the short form
            }
            len
        };
        let (value, rest) = rest.split_at_checked(len)?;
        Some((
            Self {
                tag: (class << 24) | number,
                value,
            },
            rest,
        ))
    }

    /// Reads exactly one TLV spanning all of `input`.
    pub(crate) fn parse_exact(input: &'a [u8]) -> Option<Self> {
        let (tlv, rest) = Self::parse(input)?;
        rest.is_empty().then_some(tlv)
    }

    /// Reads all TLVs of `input` in order.
    pub(crate) fn parse_all(mut input: &'a [u8]) -> Option<Vec<Self>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let (tlv, rest) = Self::parse(input)?;
            out.push(tlv);
            input = rest;
        }
        Some(out)
    }

    /// This TLV as a small non-negative INTEGER or ENUMERATED.
    pub(crate) fn small_uint(&self) -> Option<u64> {
        if self.tag != Self::INTEGER && self.tag != Self::ENUMERATED {
            return None;
        }
        let (&first, _) = self.value.split_first()?;
        if first & 0x80 != 0 || self.value.len() > 9 {
            return None;
        }
        if self.value.len() > 1 && first == 0 && self.value.get(1).is_some_and(|b| b & 0x80 == 0) {
            return None; // non-minimal
        }
        self.value.iter().try_fold(0_u64, |acc, b| {
            acc.checked_mul(256)?.checked_add(u64::from(*b))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn high_tag_numbers_are_read() {
        // [702] EXPLICIT INTEGER 0: bf 85 3e 03 02 01 00
        let bytes = [0xbf, 0x85, 0x3e, 0x03, 0x02, 0x01, 0x00];
        let tlv = Tlv::parse_exact(&bytes).unwrap();
        assert_eq!(tlv.tag, Tlv::context_constructed(702));
        assert_eq!(Tlv::parse_exact(tlv.value).unwrap().small_uint(), Some(0));
    }

    #[test]
    fn non_minimal_lengths_are_rejected() {
        assert!(Tlv::parse(&[0x04, 0x81, 0x01, 0x00]).is_none());
        assert!(Tlv::parse(&[0x04, 0x80]).is_none());
        assert!(Tlv::parse(&[0x04, 0x02, 0x00]).is_none());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Some(all) = Tlv::parse_all(&bytes) {
                for tlv in all {
                    let _ = tlv.small_uint();
                }
            }
        }
    }
}
