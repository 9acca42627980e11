//! The per-client-IP request rate limit of the requests that do not carry the API
//! key: devices (enrollment access tokens, request JWTs) and failed or missing
//! authentication. The host's own requests are never limited here (the host
//! limits its users itself, and TOTP guessing has its own budget per factor).
//!
//! The client is the TCP peer's IP address, which [`crate::serve`] attaches to each
//! request as a [`ClientAddr`]. Behind a reverse proxy every request comes from the
//! proxy: limit at the proxy then (this server does not trust `X-Forwarded-For`).
//! A request without a [`ClientAddr`] (a router driven in-process) is not limited.
//!
//! The limiter is [`governor`]'s GCRA, one bucket per IP address, in memory: each
//! process counts for itself.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Requests per minute per client IP by default: ten a second, far above what one
/// push device does (it fetches and answers a challenge in a handful of requests)
/// and far below what a script trying enrollment tokens or API secrets would send.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;
/// Requests a client may send at once before the rate applies, by default.
pub const DEFAULT_BURST: u32 = 60;
/// The most distinct client addresses kept before the ones idle long enough to be
/// full again are forgotten (each costs a few dozen bytes).
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// The TCP peer address of the connection a request came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The client at `ip`.
    #[must_use]
    pub const fn new(ip: IpAddr) -> Self {
        Self(ip)
    }
}

/// How the limit is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitOptions {
    /// Sustained requests per minute per client IP.
    pub per_minute: NonZeroU32,
    /// Requests allowed at once.
    pub burst: NonZeroU32,
    /// Whether loopback clients (the demo on this machine) are exempt.
    pub exempt_loopback: bool,
}

impl RateLimitOptions {
    /// `per_minute` requests a minute per client, `burst` at once, loopback
    /// exempt or not.
    #[must_use]
    pub const fn new(per_minute: NonZeroU32, burst: NonZeroU32, exempt_loopback: bool) -> Self {
        Self {
            per_minute,
            burst,
            exempt_loopback,
        }
    }
}

impl Default for RateLimitOptions {
    fn default() -> Self {
        Self {
            per_minute: NonZeroU32::new(DEFAULT_REQUESTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(DEFAULT_BURST).unwrap_or(NonZeroU32::MIN),
            exempt_loopback: false,
        }
    }
}

/// A per-client-IP rate limiter.
#[derive(Debug, Clone)]
pub struct ClientRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    exempt_loopback: bool,
}

impl ClientRateLimit {
    /// A limiter with `options`.
    #[must_use]
    pub fn new(options: RateLimitOptions) -> Self {
        let quota = Quota::per_minute(options.per_minute).allow_burst(options.burst);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            exempt_loopback: options.exempt_loopback,
        }
    }

    /// Counts one request from `client`: `Ok` when it may proceed, else how long
    /// until it would be allowed (for `Retry-After`).
    ///
    /// # Errors
    /// The wait, when the client is over its limit.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let client = canonical(client);
        if self.exempt_loopback && client.is_loopback() {
            return Ok(());
        }
        if self.limiter.len() > MAX_TRACKED_CLIENTS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is, so one client is one key
/// whichever way the socket reports it.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn options(per_minute: u32, burst: u32, exempt_loopback: bool) -> RateLimitOptions {
        RateLimitOptions::new(
            NonZeroU32::new(per_minute).unwrap(),
            NonZeroU32::new(burst).unwrap(),
            exempt_loopback,
        )
    }

    #[test]
    fn a_client_past_its_burst_waits_and_others_do_not() {
        let limit = ClientRateLimit::new(options(60, 3, false));
        let a = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        let b = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 8));
        for _ in 0..3 {
            limit.check(a).unwrap();
        }
        let wait = limit.check(a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        limit.check(b).unwrap();
    }

    #[test]
    fn a_mapped_address_is_the_same_client() {
        let limit = ClientRateLimit::new(options(60, 1, false));
        limit
            .check(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)))
            .unwrap();
        let mapped = Ipv4Addr::new(198, 51, 100, 1).to_ipv6_mapped();
        assert!(limit.check(IpAddr::V6(mapped)).is_err());
    }

    #[test]
    fn loopback_is_exempt_only_when_asked() {
        let exempt = ClientRateLimit::new(options(60, 1, true));
        let limited = ClientRateLimit::new(options(60, 1, false));
        for ip in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            for _ in 0..5 {
                exempt.check(ip).unwrap();
            }
            limited.check(ip).unwrap();
            assert!(limited.check(ip).is_err());
        }
    }
}
