//! Listing as pure functions a store can use: [`ChallengeFilter`], [`ListOrder`],
//! [`PageSize`], opaque [`PageToken`]s, [`paginate`] and the [`ListMeta`] block.
//!
//! Items are ordered by `(date_created, sid)`, ascending by default. A page token
//! names the last item of a page (for the next page) or the first (for the previous
//! one) and the order it was issued for, so pages stay stable while items are added.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::challenge::{Challenge, ChallengeStatus};
use crate::config::string_enum;
use crate::error::{Field, ModelError};
use crate::factor::Factor;
use crate::id::FactorSid;
use crate::limits::{
    DEFAULT_PAGE_SIZE, MAX_CHALLENGE_TTL, MAX_PAGE_SIZE, MAX_PAGE_TOKEN_LEN, MIN_PAGE_SIZE,
};
use crate::time::UnixTime;

string_enum!(
    /// `Order` of a list: by creation date, ascending (default) or descending.
    ListOrder, Field::Order, {
        /// Oldest first (the default).
        Asc => "asc",
        /// Newest first (how devices poll pending challenges).
        Desc => "desc",
    }
);

#[expect(clippy::derivable_impls, reason = "the enum is declared by a macro")]
impl Default for ListOrder {
    fn default() -> Self {
        Self::Asc
    }
}

/// `PageSize`: 1..=1000, default 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PageSize(u16);

impl PageSize {
    /// Checks `size` against [`MIN_PAGE_SIZE`]..=[`MAX_PAGE_SIZE`].
    ///
    /// # Errors
    /// [`ModelError::ValueOutOfRange`] naming `page_size`.
    pub fn new(size: u64) -> Result<Self, ModelError> {
        match u16::try_from(size) {
            Ok(size) if (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&size) => Ok(Self(size)),
            _ => Err(ModelError::ValueOutOfRange {
                field: Field::PageSize,
                min: u64::from(MIN_PAGE_SIZE),
                max: u64::from(MAX_PAGE_SIZE),
                value: size,
            }),
        }
    }

    /// The size.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self(DEFAULT_PAGE_SIZE)
    }
}

impl<'de> Deserialize<'de> for PageSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(u64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// What a list is sorted by: `(date_created, sid bytes)`.
pub trait Listable {
    /// The sort key.
    fn list_key(&self) -> (UnixTime, [u8; 16]);
}

impl Listable for Challenge {
    fn list_key(&self) -> (UnixTime, [u8; 16]) {
        (self.date_created(), *self.sid().as_bytes())
    }
}

impl Listable for Factor {
    fn list_key(&self) -> (UnixTime, [u8; 16]) {
        (self.date_created(), *self.sid().as_bytes())
    }
}

/// The challenge list filters: `FactorSid` and `Status` (read at `now`, so a pending
/// challenge past its expiration matches `expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ChallengeFilter {
    /// Only this factor's challenges.
    pub factor_sid: Option<FactorSid>,
    /// Only challenges with this status.
    pub status: Option<ChallengeStatus>,
}

impl ChallengeFilter {
    /// A filter matching `factor_sid` and `status` when given.
    #[must_use]
    pub const fn new(factor_sid: Option<FactorSid>, status: Option<ChallengeStatus>) -> Self {
        Self { factor_sid, status }
    }

    /// Whether `challenge` matches at `now`.
    #[must_use]
    pub fn matches(&self, challenge: &Challenge, now: UnixTime) -> bool {
        self.factor_sid
            .is_none_or(|sid| challenge.factor_sid() == Some(sid))
            && self.status.is_none_or(|s| challenge.status_at(now) == s)
    }

    /// The earliest creation date a challenge matching at `now` can have, when the
    /// filter bounds it: a pending challenge expires at most [`MAX_CHALLENGE_TTL`]
    /// after its creation (every stored challenge keeps that invariant), so one
    /// created at or before `now - MAX_CHALLENGE_TTL` is no longer pending. A store
    /// starts a `Status=pending` list there instead of walking the entity's (or the
    /// factor's) whole history.
    #[must_use]
    pub fn created_since(&self, now: UnixTime) -> Option<UnixTime> {
        (self.status == Some(ChallengeStatus::Pending))
            .then(|| now.saturating_sub(MAX_CHALLENGE_TTL))
    }

    /// The query parameters that reproduce this filter (`FactorSid`, `Status`).
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(sid) = self.factor_sid {
            pairs.push(("FactorSid", sid.to_string()));
        }
        if let Some(status) = self.status {
            pairs.push(("Status", status.as_str().to_owned()));
        }
        pairs
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Direction {
    After,
    Before,
}

/// An opaque page token: unpadded base64url of `v1:{order}:{a|b}:{secs}:{sid hex}`.
/// Clients must treat it as opaque; [`PageToken::parse`] rejects anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageToken {
    order: ListOrder,
    direction: Direction,
    key: (UnixTime, [u8; 16]),
}

impl PageToken {
    fn encode(&self) -> String {
        let hex: String = self.key.1.iter().map(|b| format!("{b:02x}")).collect();
        let dir = match self.direction {
            Direction::After => "a",
            Direction::Before => "b",
        };
        let text = format!("v1:{}:{dir}:{}:{hex}", self.order, self.key.0.as_secs());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// Parses a token as a client sent it back.
    ///
    /// # Errors
    /// [`ModelError::InvalidPageToken`] for anything that is not a token this module
    /// issued.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        Self::decode(text).ok_or(ModelError::InvalidPageToken { length: text.len() })
    }

    fn decode(text: &str) -> Option<Self> {
        if text.len() > MAX_PAGE_TOKEN_LEN {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split(':');
        let (Some("v1"), Some(order), Some(dir), Some(secs), Some(hex), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let order = order.parse().ok()?;
        let direction = match dir {
            "a" => Direction::After,
            "b" => Direction::Before,
            _ => return None,
        };
        if !secs.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let secs: u64 = secs.parse().ok()?;
        let time = UnixTime::from_secs(secs);
        if time.as_secs() != secs || hex.len() != 32 {
            return None;
        }
        let mut sid = [0_u8; 16];
        for (byte, pair) in sid.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            if !pair
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return None;
            }
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Self {
            order,
            direction,
            key: (time, sid),
        })
    }
}

impl std::fmt::Display for PageToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<'a, T> {
    /// The items, in list order.
    pub items: Vec<&'a T>,
    /// The token for the next page, if there are more items.
    pub next_page_token: Option<PageToken>,
    /// The token for the previous page, if there are earlier items.
    pub previous_page_token: Option<PageToken>,
}

/// Sorts the matching `items` in `order` and returns the page `token` names (the
/// first page without one).
///
/// # Errors
/// [`ModelError::InvalidPageToken`] when `token` was issued for the other order.
pub fn paginate<'a, T: Listable>(
    items: &'a [T],
    matches: impl Fn(&T) -> bool,
    order: ListOrder,
    page_size: PageSize,
    token: Option<&PageToken>,
) -> Result<Page<'a, T>, ModelError> {
    let mut sorted: Vec<&T> = items.iter().filter(|item| matches(item)).collect();
    sorted.sort_by_key(|item| item.list_key());
    if order == ListOrder::Desc {
        sorted.reverse();
    }
    // `precedes(a, b)`: a comes before b in list order.
    let precedes = |a: (UnixTime, [u8; 16]), b: (UnixTime, [u8; 16])| match order {
        ListOrder::Asc => a < b,
        ListOrder::Desc => a > b,
    };
    let size = usize::from(page_size.get());
    let (start, end) = match token {
        None => (0, size.min(sorted.len())),
        Some(token) => {
            if token.order != order {
                return Err(ModelError::InvalidPageToken {
                    length: token.encode().len(),
                });
            }
            match token.direction {
                Direction::After => {
                    let start = sorted
                        .iter()
                        .position(|item| precedes(token.key, item.list_key()))
                        .unwrap_or(sorted.len());
                    (start, start.saturating_add(size).min(sorted.len()))
                }
                Direction::Before => {
                    let end = sorted
                        .iter()
                        .position(|item| !precedes(item.list_key(), token.key))
                        .unwrap_or(sorted.len());
                    (end.saturating_sub(size), end)
                }
            }
        }
    };
    let page: Vec<&T> = sorted
        .get(start..end)
        .map(<[&T]>::to_vec)
        .unwrap_or_default();
    let next_page_token = (end < sorted.len())
        .then(|| page.last())
        .flatten()
        .map(|item| PageToken {
            order,
            direction: Direction::After,
            key: item.list_key(),
        });
    let previous_page_token = (start > 0)
        .then(|| page.first())
        .flatten()
        .map(|item| PageToken {
            order,
            direction: Direction::Before,
            key: item.list_key(),
        });
    Ok(Page {
        items: page,
        next_page_token,
        previous_page_token,
    })
}

/// A list response's `meta` block: `page`, `page_size`, `first_page_url`,
/// `previous_page_url`, `next_page_url`, `url`, `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListMeta {
    /// `page`: the client's page index.
    pub page: u32,
    /// `page_size`.
    pub page_size: PageSize,
    /// `first_page_url`.
    pub first_page_url: String,
    /// `previous_page_url` (null on the first page).
    pub previous_page_url: Option<String>,
    /// `next_page_url` (null on the last page).
    pub next_page_url: Option<String>,
    /// `url` of this page.
    pub url: String,
    /// `key`: the name of the array (`challenges`, `factors`, ...).
    pub key: String,
}

impl ListMeta {
    /// Builds `meta` for a page of the list at `list_url` (e.g.
    /// [`BaseUrl::challenges`](crate::url::BaseUrl::challenges)) with the filter's
    /// `query` pairs (e.g. [`ChallengeFilter::query_pairs`]).
    #[must_use]
    pub fn new<T>(
        list_url: &str,
        key: &str,
        page_index: u32,
        page_size: PageSize,
        order: ListOrder,
        query: &[(&str, String)],
        page: &Page<'_, T>,
    ) -> Self {
        let mut filters = String::new();
        for (name, value) in query {
            filters.push_str(&format!("&{name}={value}"));
        }
        if order == ListOrder::Desc {
            filters.push_str("&Order=desc");
        }
        let url_for = |index: u32, token: Option<&PageToken>| {
            let token = token.map(|t| format!("&PageToken={t}")).unwrap_or_default();
            format!(
                "{list_url}?PageSize={}&Page={index}{filters}{token}",
                page_size.get()
            )
        };
        Self {
            page: page_index,
            page_size,
            first_page_url: url_for(0, None),
            previous_page_url: page
                .previous_page_token
                .as_ref()
                .map(|t| url_for(page_index.saturating_sub(1), Some(t))),
            next_page_url: page
                .next_page_token
                .as_ref()
                .map(|t| url_for(page_index.saturating_add(1), Some(t))),
            url: url_for(page_index, None),
            key: key.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, PartialEq, Eq)]
    struct Item(u64, u8);
    impl Listable for Item {
        fn list_key(&self) -> (UnixTime, [u8; 16]) {
            (UnixTime::from_secs(self.0), [self.1; 16])
        }
    }

    #[test]
    fn page_size_boundaries() {
        assert!(PageSize::new(0).is_err());
        assert_eq!(PageSize::new(1).unwrap().get(), 1);
        assert_eq!(PageSize::new(1000).unwrap().get(), 1000);
        assert_eq!(
            PageSize::new(1001),
            Err(ModelError::ValueOutOfRange {
                field: Field::PageSize,
                min: 1,
                max: 1000,
                value: 1001
            })
        );
        assert_eq!(PageSize::default().get(), 50);
        assert_eq!(ListOrder::default(), ListOrder::Asc);
    }

    #[test]
    fn token_round_trip_and_rejection() {
        let token = PageToken {
            order: ListOrder::Desc,
            direction: Direction::After,
            key: (UnixTime::from_secs(42), [0xab; 16]),
        };
        assert_eq!(PageToken::parse(&token.to_string()).unwrap(), token);
        for bad in ["", "!!", "djE6YXNjOmE6MTp4", &"A".repeat(300)] {
            assert!(PageToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn desc_order_and_wrong_order_token() {
        let items: Vec<Item> = (0..5).map(|i| Item(i, u8::try_from(i).unwrap())).collect();
        let size = PageSize::new(2).unwrap();
        let page = paginate(&items, |_| true, ListOrder::Desc, size, None).unwrap();
        assert_eq!(page.items, vec![&items[4], &items[3]]);
        let token = page.next_page_token.unwrap();
        assert!(paginate(&items, |_| true, ListOrder::Asc, size, Some(&token)).is_err());
    }

    proptest! {
        #[test]
        fn walking_pages_visits_every_item_once(
            keys in proptest::collection::vec((0_u64..20, any::<u8>()), 0..40),
            size in 1_u64..7,
            desc in any::<bool>(),
        ) {
            let mut keys = keys;
            keys.sort_unstable();
            keys.dedup();
            let items: Vec<Item> = keys.iter().map(|&(t, s)| Item(t, s)).collect();
            let order = if desc { ListOrder::Desc } else { ListOrder::Asc };
            let size = PageSize::new(size).unwrap();
            let mut seen = Vec::new();
            let mut token = None;
            let mut pages = Vec::new();
            loop {
                let page = paginate(&items, |_| true, order, size, token.as_ref()).unwrap();
                prop_assert!(page.items.len() <= usize::from(size.get()));
                seen.extend(page.items.iter().map(|i| i.list_key()));
                pages.push(page.items.iter().map(|i| i.list_key()).collect::<Vec<_>>());
                match page.next_page_token {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
            let mut expected: Vec<_> = items.iter().map(Listable::list_key).collect();
            if desc { expected.reverse(); }
            prop_assert_eq!(seen, expected);
            // Going back from the last page returns the page before it.
            if pages.len() >= 2 {
                let last = paginate(&items, |_| true, order, size, token.as_ref()).unwrap();
                let back = paginate(&items, |_| true, order, size, last.previous_page_token.as_ref()).unwrap();
                let back_keys: Vec<_> = back.items.iter().map(|i| i.list_key()).collect();
                prop_assert_eq!(&back_keys, &pages[pages.len() - 2]);
            }
        }
    }
}
