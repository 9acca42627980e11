//! Webhook destinations (SSRF guard): which hosts and addresses a webhook may
//! be sent to.
//!
//! A webhook URL is chosen by an API caller, and the server then makes requests
//! to it from inside its own network. Without a check, a caller could point a
//! webhook at the server's loopback interface (an admin port, a database), at
//! the private network behind it, or at a cloud metadata service (instance
//! credentials), and use the server as a proxy into places it can reach but the
//! caller cannot (server-side request forgery).
//!
//! This module is the pure part of the guard, with no I/O:
//!
//! - [`address_rule`]: why an IP address is refused (loopback, private,
//!   link-local, carrier-grade NAT, multicast, unspecified, broadcast,
//!   documentation, benchmarking, reserved, cloud metadata), judging IPv6
//!   forms that embed an IPv4 address (IPv4-mapped `::ffff:0:0/96`,
//!   IPv4-compatible `::/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) by the
//!   IPv4 address they carry;
//! - [`host_name_rule`]: why a host name is refused without resolving it
//!   (`localhost` and names under `.localhost`, cloud metadata names such as
//!   `metadata.google.internal`);
//! - [`AllowList`]: the operator's exceptions (`--webhook-allow-destination`):
//!   exact host names and IP ranges, and the two decisions that use it,
//!   [`AllowList::check_host`] for the URL's host and
//!   [`AllowList::check_resolved`] for each address a host name resolved to.
//!
//! The I/O (DNS at creation and at connect time) is in [`crate::delivery`].
//!
//! Hosts are passed as the WHATWG URL parser (`reqwest::Url`, the parser
//! delivery uses) leaves them in `Url::host_str`: that parser already rewrites
//! the other spellings of an IPv4 address (`2130706433`, `0x7f.1`,
//! `017700000001`, `127.1`) to dotted decimal, so a host that is not an IP
//! literal there is a name.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why a destination is refused: the kind of address (or host name) it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Loopback: `127.0.0.0/8`, `::1`, `localhost`.
    Loopback,
    /// A private network: RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), IPv6
    /// unique local `fc00::/7` and the deprecated site-local `fec0::/10`.
    Private,
    /// Link-local: `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Shared address space (carrier-grade NAT): `100.64.0.0/10`.
    SharedAddressSpace,
    /// Multicast: `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// The unspecified address or "this network": `0.0.0.0/8`, `::` (connecting
    /// to `0.0.0.0` reaches the local host on common systems).
    Unspecified,
    /// The limited broadcast address `255.255.255.255`.
    Broadcast,
    /// Documentation: `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`,
    /// `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// Benchmarking: `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// Reserved or special-purpose, not a public unicast address: `240.0.0.0/4`,
    /// `192.0.0.0/24`, `192.88.99.0/24`, IPv6 outside `2000::/3`, the IETF
    /// protocol assignments `2001::/23` (Teredo among them), local-use NAT64
    /// `64:ff9b:1::/48`, deprecated IPv4-compatible addresses.
    Reserved,
    /// A cloud metadata service (instance credentials): `169.254.169.254`,
    /// `169.254.170.2`, `169.254.170.23`, `100.100.100.200`, `fd00:ec2::254`,
    /// `fd00:ec2::23`, `fd20:ce::254`, and names such as
    /// `metadata.google.internal`.
    CloudMetadata,
}

impl Rule {
    /// What an address of this kind is, as a phrase ("a loopback address").
    #[must_use]
    pub const fn address_phrase(self) -> &'static str {
        match self {
            Self::Loopback => "a loopback address",
            Self::Private => "a private-network address (RFC 1918 or IPv6 unique local)",
            Self::LinkLocal => "a link-local address",
            Self::SharedAddressSpace => "a carrier-grade NAT address (100.64.0.0/10)",
            Self::Multicast => "a multicast address",
            Self::Unspecified => "the unspecified address (0.0.0.0/8 or ::)",
            Self::Broadcast => "the broadcast address",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Reserved => "a reserved or special-purpose address",
            Self::CloudMetadata => "a cloud metadata service address",
        }
    }

    /// What a host name refused by this rule is, as a phrase ("a loopback host
    /// name"); only [`Rule::Loopback`] and [`Rule::CloudMetadata`] refuse names.
    #[must_use]
    pub const fn name_phrase(self) -> &'static str {
        match self {
            Self::Loopback => "a loopback host name",
            Self::CloudMetadata => "a cloud metadata host name",
            _ => "a refused host name",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.address_phrase())
    }
}

/// Cloud metadata services' IPv4 addresses. They sit inside ranges refused
/// anyway (link-local, carrier-grade NAT); naming them gives the clearer rule
/// and keeps them refused for a host name the operator allow-listed.
const METADATA_V4: [Ipv4Addr; 4] = [
    // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack, ...
    Ipv4Addr::new(169, 254, 169, 254),
    // AWS ECS task credentials.
    Ipv4Addr::new(169, 254, 170, 2),
    // AWS EKS Pod Identity.
    Ipv4Addr::new(169, 254, 170, 23),
    // Alibaba Cloud.
    Ipv4Addr::new(100, 100, 100, 200),
];

/// Cloud metadata services' IPv6 addresses (all unique local).
const METADATA_V6: [Ipv6Addr; 3] = [
    // AWS IMDS over IPv6.
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
    // AWS EKS Pod Identity over IPv6.
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0023),
    // GCP metadata server over IPv6.
    Ipv6Addr::new(0xfd20, 0x00ce, 0, 0, 0, 0, 0, 0x0254),
];

/// Host names of cloud metadata services (normalized: lower case, no trailing
/// dot). Inside a cloud they resolve to a metadata address, which is refused
/// anyway; refusing the name too needs no DNS and gives the clearer message.
const METADATA_NAMES: [&str; 6] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "metadata.azure.internal",
    "instance-data",
    "instance-data.ec2.internal",
];

/// Loopback names found in common `/etc/hosts` files, besides `localhost` and
/// the names under `.localhost` (RFC 6761: always loopback).
const LOOPBACK_NAMES: [&str; 3] = ["localhost.localdomain", "ip6-localhost", "ip6-loopback"];

/// IPv4 ranges refused, most specific first (the first match names the rule).
const V4_RANGES: [([u8; 4], u32, Rule); 16] = [
    ([255, 255, 255, 255], 32, Rule::Broadcast),
    ([0, 0, 0, 0], 8, Rule::Unspecified),
    ([127, 0, 0, 0], 8, Rule::Loopback),
    ([10, 0, 0, 0], 8, Rule::Private),
    ([172, 16, 0, 0], 12, Rule::Private),
    ([192, 168, 0, 0], 16, Rule::Private),
    ([169, 254, 0, 0], 16, Rule::LinkLocal),
    ([100, 64, 0, 0], 10, Rule::SharedAddressSpace),
    ([192, 0, 2, 0], 24, Rule::Documentation),
    ([198, 51, 100, 0], 24, Rule::Documentation),
    ([203, 0, 113, 0], 24, Rule::Documentation),
    ([198, 18, 0, 0], 15, Rule::Benchmarking),
    // IETF protocol assignments (DS-Lite, NAT64 discovery, ...).
    ([192, 0, 0, 0], 24, Rule::Reserved),
    // The deprecated 6to4 relay anycast.
    ([192, 88, 99, 0], 24, Rule::Reserved),
    ([224, 0, 0, 0], 4, Rule::Multicast),
    ([240, 0, 0, 0], 4, Rule::Reserved),
];

/// IPv6 ranges refused after the embedded-IPv4 forms are judged, most specific
/// first; everything outside `2000::/3` (global unicast) is refused after these.
const V6_RANGES: [(u128, u32, Rule); 9] = [
    (0xff00 << 112, 8, Rule::Multicast),
    (0xfc00 << 112, 7, Rule::Private),
    (0xfe80 << 112, 10, Rule::LinkLocal),
    // Deprecated site-local: a private network where it is still used.
    (0xfec0 << 112, 10, Rule::Private),
    (
        (0x0064 << 112) | (0xff9b << 96) | (1 << 80),
        48,
        Rule::Reserved,
    ),
    ((0x2001 << 112) | (0x0db8 << 96), 32, Rule::Documentation),
    (0x3fff << 112, 20, Rule::Documentation),
    ((0x2001 << 112) | (0x0002 << 96), 48, Rule::Benchmarking),
    // IETF protocol assignments, Teredo (2001::/32) among them.
    (0x2001 << 112, 23, Rule::Reserved),
];

/// Whether `bits` is inside `net`/`prefix` (`prefix` at most the width).
fn in_range<T>(bits: T, net: T, prefix: u32, width: u32) -> bool
where
    T: Copy + PartialEq + std::ops::Shr<u32, Output = T>,
{
    if prefix == 0 {
        return true;
    }
    let shift = width.saturating_sub(prefix);
    // Shifting by the full width overflows; `prefix == 0` is handled above.
    bits >> shift == net >> shift
}

/// Why `ip` is refused as a webhook destination; `None` for a public address.
///
/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), an IPv4-compatible one
/// (`::a.b.c.d`), a NAT64 one (`64:ff9b::a.b.c.d`) and a 6to4 one
/// (`2002:AABB:CCDD::/48`) are judged by the IPv4 address they carry, since
/// connecting to them can reach it.
#[must_use]
pub fn address_rule(ip: IpAddr) -> Option<Rule> {
    match ip {
        IpAddr::V4(ip) => v4_rule(ip),
        IpAddr::V6(ip) => v6_rule(ip),
    }
}

fn v4_rule(ip: Ipv4Addr) -> Option<Rule> {
    if METADATA_V4.contains(&ip) {
        return Some(Rule::CloudMetadata);
    }
    let bits = u32::from(ip);
    V4_RANGES
        .iter()
        .find(|(net, prefix, _)| in_range(bits, u32::from_be_bytes(*net), *prefix, 32))
        .map(|(_, _, rule)| *rule)
}

fn v6_rule(ip: Ipv6Addr) -> Option<Rule> {
    if METADATA_V6.contains(&ip) {
        return Some(Rule::CloudMetadata);
    }
    if ip.is_unspecified() {
        return Some(Rule::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Rule::Loopback);
    }
    let bits = u128::from(ip);
    let low_v4 = embedded_v4(bits);
    // ::ffff:a.b.c.d: the socket connects to the IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_rule(v4);
    }
    // 64:ff9b::a.b.c.d: a NAT64 gateway connects to the IPv4 address. A public
    // one stays allowed (IPv6-only networks reach IPv4 receivers so).
    if in_range(bits, (0x0064 << 112) | (0xff9b << 96), 96, 128) {
        return v4_rule(low_v4);
    }
    // ::a.b.c.d (deprecated IPv4-compatible): refused in any case, by its IPv4
    // address's rule when it has one.
    if in_range(bits, 0, 96, 128) {
        return Some(v4_rule(low_v4).unwrap_or(Rule::Reserved));
    }
    // 2002:AABB:CCDD::/48 (6to4): relays forward to the IPv4 address AA.BB.CC.DD.
    if in_range(bits, 0x2002 << 112, 16, 128)
        && let Some(rule) = v4_rule(embedded_v4(bits >> 80))
    {
        return Some(rule);
    }
    if let Some((_, _, rule)) = V6_RANGES
        .iter()
        .find(|(net, prefix, _)| in_range(bits, *net, *prefix, 128))
    {
        return Some(*rule);
    }
    // Only 2000::/3 is allocated for global unicast.
    if in_range(bits, 0x2000 << 112, 3, 128) {
        None
    } else {
        Some(Rule::Reserved)
    }
}

/// The IPv4 address in the low 32 bits of `bits`.
fn embedded_v4(bits: u128) -> Ipv4Addr {
    let [.., a, b, c, d] = bits.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// `name` lower-cased, without one trailing dot (`LocalHost.` is `localhost`).
fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Why the host name `name` is refused without resolving it; `None` when only
/// its addresses decide. `localhost`, names under `.localhost` and a few
/// `/etc/hosts` loopback names are [`Rule::Loopback`]; cloud metadata names are
/// [`Rule::CloudMetadata`]. Case and one trailing dot are ignored.
#[must_use]
pub fn host_name_rule(name: &str) -> Option<Rule> {
    let name = normalize_name(name);
    if name == "localhost" || name.ends_with(".localhost") || LOOPBACK_NAMES.contains(&&*name) {
        Some(Rule::Loopback)
    } else if METADATA_NAMES.contains(&&*name) {
        Some(Rule::CloudMetadata)
    } else {
        None
    }
}

/// An IP literal as `Url::host_str` shows it (`127.0.0.1`, `[::1]`), or as an
/// operator writes one (brackets optional).
fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// An IP range `network/prefix` whose host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct IpRange {
    network: IpAddr,
    prefix: u32,
}

impl IpRange {
    fn contains(self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                in_range(u32::from(ip), u32::from(net), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                in_range(u128::from(ip), u128::from(net), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// One exception of the operator's allow-list (`--webhook-allow-destination`):
/// an exact host name, or an IP address or CIDR range.
///
/// Parsed from `localhost`, `receiver.internal` (a name: letters, digits, `-`,
/// `_` and dots; case and a trailing dot are ignored), `127.0.0.1` or `[::1]`
/// (one address), `10.1.0.0/16` or `fd00::/8` (a range; host bits must be
/// zero, so a typo such as `10.1.2.3/16` is caught). Ports are not part of an
/// entry: an allowed destination is allowed on every port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowEntry(Entry);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Entry {
    Name(String),
    Range(IpRange),
}

/// Why an allow-list entry could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AllowEntryError {
    /// The entry is empty.
    #[error("empty webhook destination entry")]
    Empty,
    /// `address/prefix` with an address that does not parse.
    #[error("{0:?}: not an IP address before the /")]
    BadAddress(String),
    /// The prefix length is not a number within the address family's width.
    #[error("{0:?}: the prefix length must be 0..=32 (IPv4) or 0..=128 (IPv6)")]
    BadPrefix(String),
    /// The range's address has bits set past the prefix.
    #[error("{entry:?}: host bits set past the prefix; did you mean {suggestion}?")]
    HostBitsSet {
        /// The entry as written.
        entry: String,
        /// The range with the host bits cleared.
        suggestion: String,
    },
    /// The entry has a port (`host:port`); entries allow every port.
    #[error("{0:?}: a port cannot be given (an allowed destination is allowed on every port)")]
    Port(String),
    /// Not a valid host name (or a name the URL parser would read as an IPv4
    /// address, such as `2130706433`: write it in dotted decimal).
    #[error("{0:?}: not a host name, an IP address or a CIDR range")]
    BadName(String),
}

impl FromStr for AllowEntry {
    type Err = AllowEntryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AllowEntryError::Empty);
        }
        if let Some((address, prefix)) = text.split_once('/') {
            let network =
                ip_literal(address).ok_or_else(|| AllowEntryError::BadAddress(text.to_owned()))?;
            let width = if network.is_ipv4() { 32 } else { 128 };
            let prefix = prefix
                .parse::<u32>()
                .ok()
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| AllowEntryError::BadPrefix(text.to_owned()))?;
            let cleared = clear_host_bits(network, prefix);
            if cleared != network {
                return Err(AllowEntryError::HostBitsSet {
                    entry: text.to_owned(),
                    suggestion: format!("{cleared}/{prefix}"),
                });
            }
            return Ok(Self(Entry::Range(IpRange { network, prefix })));
        }
        if let Some(ip) = ip_literal(text) {
            let prefix = if ip.is_ipv4() { 32 } else { 128 };
            return Ok(Self(Entry::Range(IpRange {
                network: ip,
                prefix,
            })));
        }
        if text
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AllowEntryError::Port(text.to_owned()));
        }
        let name = normalize_name(text);
        let label_ok = |label: &str| {
            let bytes = label.as_bytes();
            label.len() <= 63
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        };
        // A last label of digits makes the URL parser read the host as IPv4.
        let numeric_tail = name
            .rsplit('.')
            .next()
            .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()));
        if name.len() > 253 || !name.split('.').all(label_ok) || numeric_tail {
            return Err(AllowEntryError::BadName(text.to_owned()));
        }
        Ok(Self(Entry::Name(name)))
    }
}

fn clear_host_bits(ip: IpAddr, prefix: u32) -> IpAddr {
    match ip {
        IpAddr::V4(ip) => {
            let mask = u32::MAX
                .checked_shl(32_u32.saturating_sub(prefix))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(ip) & mask))
        }
        IpAddr::V6(ip) => {
            let mask = u128::MAX
                .checked_shl(128_u32.saturating_sub(prefix))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(ip) & mask))
        }
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Entry::Name(name) => f.write_str(name),
            Entry::Range(range) => write!(f, "{}/{}", range.network, range.prefix),
        }
    }
}

/// The operator's exceptions to the guard: destinations allowed although they
/// are not public (a receiver on loopback during development, or on a private
/// network). Empty by default: only public destinations.
///
/// - A **range** entry allows every address in it, whether the URL names it
///   literally or a host name resolves to it. A range that contains a cloud
///   metadata address allows that address too.
/// - A **name** entry allows the URL host of exactly that name (a name rule
///   such as `localhost` does not apply to it), and trusts its resolution:
///   every address it resolves to is allowed, except a cloud metadata
///   address, which only a range entry allows (so a rebound DNS answer for a
///   trusted name still cannot reach the instance credentials).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<AllowEntry>,
}

/// A URL host that passed [`AllowList::check_host`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// An IP literal, allowed: no DNS is involved.
    Address(IpAddr),
    /// A host name (normalized): each address it resolves to must pass
    /// [`AllowList::check_resolved`].
    Name(String),
}

/// How a refused destination was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Judged {
    /// The URL's host is an IP literal of the refused kind.
    Address,
    /// The URL's host is a refused name.
    Name,
    /// The URL's host name resolved to an address of the refused kind.
    Resolved,
}

/// A refused webhook destination: which host, and the rule. Its message names
/// the host (never the rest of the URL, whose path or query may carry a
/// token) and the rule, but not a resolved address (DNS answers of the
/// server's network are not shown to API callers).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refused {
    /// The URL's host (as the URL parser normalized it).
    pub host: String,
    /// The rule that refused it.
    pub rule: Rule,
    /// Whether the host itself or an address it resolved to was refused.
    pub judged: Judged,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.host;
        match self.judged {
            Judged::Address => write!(f, "the host {host} is {}", self.rule.address_phrase()),
            Judged::Name => write!(f, "the host {host} is {}", self.rule.name_phrase()),
            Judged::Resolved => write!(f, "the host {host} resolves to {}", self.rule),
        }
    }
}

impl std::error::Error for Refused {}

impl AllowList {
    /// An allow-list of `entries`.
    #[must_use]
    pub fn new(entries: impl IntoIterator<Item = AllowEntry>) -> Self {
        Self {
            entries: entries.into_iter().collect(),
        }
    }

    /// Whether nothing is allowed beyond public destinations.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in the order given.
    #[must_use]
    pub fn entries(&self) -> &[AllowEntry] {
        &self.entries
    }

    /// Whether a name entry equals `name` (case and a trailing dot ignored).
    #[must_use]
    pub fn allows_name(&self, name: &str) -> bool {
        let name = normalize_name(name);
        self.entries
            .iter()
            .any(|entry| matches!(&entry.0, Entry::Name(allowed) if *allowed == name))
    }

    /// Whether a range entry contains `ip` (an IPv4-mapped IPv6 address also
    /// matches as its IPv4 address: it is the same destination).
    #[must_use]
    pub fn allows_address(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.entries.iter().any(|entry| match &entry.0 {
            Entry::Range(range) => range.contains(ip) || range.contains(canonical),
            Entry::Name(_) => false,
        })
    }

    /// Checks a URL's host, as `Url::host_str` gives it (`example.com`,
    /// `127.0.0.1`, `[::1]`): an IP literal is refused by [`address_rule`]
    /// unless a range allows it; a name is refused by [`host_name_rule`] unless
    /// a name entry allows it, and otherwise must be resolved.
    ///
    /// # Errors
    /// [`Refused`] for a refused literal or name.
    pub fn check_host(&self, host: &str) -> Result<Destination, Refused> {
        if let Some(ip) = ip_literal(host) {
            return match address_rule(ip) {
                Some(rule) if !self.allows_address(ip) => Err(Refused {
                    host: host.to_owned(),
                    rule,
                    judged: Judged::Address,
                }),
                _ => Ok(Destination::Address(ip)),
            };
        }
        match host_name_rule(host) {
            Some(rule) if !self.allows_name(host) => Err(Refused {
                host: host.to_owned(),
                rule,
                judged: Judged::Name,
            }),
            _ => Ok(Destination::Name(normalize_name(host))),
        }
    }

    /// Checks one address that the host name `name` resolved to: refused by
    /// [`address_rule`] unless a range allows it, or a name entry allows `name`
    /// and the address is not a cloud metadata address.
    ///
    /// # Errors
    /// [`Refused`] for a refused address.
    pub fn check_resolved(&self, name: &str, ip: IpAddr) -> Result<(), Refused> {
        match address_rule(ip) {
            None => Ok(()),
            Some(_) if self.allows_address(ip) => Ok(()),
            Some(rule) if rule != Rule::CloudMetadata && self.allows_name(name) => Ok(()),
            Some(rule) => Err(Refused {
                host: name.to_owned(),
                rule,
                judged: Judged::Resolved,
            }),
        }
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, entry) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn rule(text: &str) -> Option<Rule> {
        address_rule(ip(text))
    }

    fn allow(entries: &[&str]) -> AllowList {
        AllowList::new(entries.iter().map(|e| e.parse::<AllowEntry>().unwrap()))
    }

    #[test]
    fn ipv4_special_ranges_are_refused() {
        for (address, expected) in [
            ("127.0.0.1", Rule::Loopback),
            ("127.255.255.254", Rule::Loopback),
            ("10.0.0.1", Rule::Private),
            ("10.255.255.255", Rule::Private),
            ("172.16.0.1", Rule::Private),
            ("172.31.255.255", Rule::Private),
            ("192.168.1.1", Rule::Private),
            ("169.254.0.1", Rule::LinkLocal),
            ("169.254.169.254", Rule::CloudMetadata),
            ("169.254.170.2", Rule::CloudMetadata),
            ("169.254.170.23", Rule::CloudMetadata),
            ("100.100.100.200", Rule::CloudMetadata),
            ("100.64.0.1", Rule::SharedAddressSpace),
            ("100.127.255.255", Rule::SharedAddressSpace),
            ("224.0.0.1", Rule::Multicast),
            ("239.255.255.250", Rule::Multicast),
            ("0.0.0.0", Rule::Unspecified),
            ("0.1.2.3", Rule::Unspecified),
            ("255.255.255.255", Rule::Broadcast),
            ("192.0.2.1", Rule::Documentation),
            ("198.51.100.7", Rule::Documentation),
            ("203.0.113.9", Rule::Documentation),
            ("198.18.0.1", Rule::Benchmarking),
            ("198.19.255.255", Rule::Benchmarking),
            ("192.0.0.8", Rule::Reserved),
            ("192.88.99.1", Rule::Reserved),
            ("240.0.0.1", Rule::Reserved),
            ("254.1.2.3", Rule::Reserved),
        ] {
            assert_eq!(rule(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001:80b::200e",
            // NAT64 of a public address: how IPv6-only networks reach IPv4.
            "64:ff9b::5db8:d822",
            // 6to4 of a public address.
            "2002:5db8:d822::1",
            // IPv4-mapped public address.
            "::ffff:93.184.216.34",
        ] {
            assert_eq!(rule(address), None, "{address}");
        }
    }

    #[test]
    fn ipv6_special_ranges_are_refused() {
        for (address, expected) in [
            ("::1", Rule::Loopback),
            ("::", Rule::Unspecified),
            ("fc00::1", Rule::Private),
            ("fd12:3456:789a::1", Rule::Private),
            ("fec0::1", Rule::Private),
            ("fe80::1", Rule::LinkLocal),
            ("febf::1", Rule::LinkLocal),
            ("ff02::1", Rule::Multicast),
            ("ff0e::1", Rule::Multicast),
            ("fd00:ec2::254", Rule::CloudMetadata),
            ("fd00:ec2::23", Rule::CloudMetadata),
            ("fd20:ce::254", Rule::CloudMetadata),
            ("2001:db8::1", Rule::Documentation),
            ("3fff::1", Rule::Documentation),
            ("2001:2::1", Rule::Benchmarking),
            ("2001::1", Rule::Reserved),
            ("2001:1ff::1", Rule::Reserved),
            ("64:ff9b:1::1", Rule::Reserved),
            ("100::1", Rule::Reserved),
            ("4000::1", Rule::Reserved),
            ("1::1", Rule::Reserved),
        ] {
            assert_eq!(rule(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_judged_by_the_ipv4_address() {
        for (address, expected) in [
            // IPv4-mapped, both spellings.
            ("::ffff:127.0.0.1", Rule::Loopback),
            ("::ffff:7f00:1", Rule::Loopback),
            ("::ffff:10.0.0.1", Rule::Private),
            ("::ffff:169.254.169.254", Rule::CloudMetadata),
            ("::ffff:0.0.0.0", Rule::Unspecified),
            // IPv4-compatible (deprecated).
            ("::127.0.0.1", Rule::Loopback),
            ("::10.0.0.1", Rule::Private),
            ("::93.184.216.34", Rule::Reserved),
            // NAT64 well-known prefix.
            ("64:ff9b::127.0.0.1", Rule::Loopback),
            ("64:ff9b::a9fe:a9fe", Rule::CloudMetadata),
            ("64:ff9b::192.168.0.1", Rule::Private),
            ("64:ff9b::100.64.0.1", Rule::SharedAddressSpace),
            // 6to4.
            ("2002:7f00:1::", Rule::Loopback),
            ("2002:a00:1::1", Rule::Private),
            ("2002:a9fe:a9fe::", Rule::CloudMetadata),
        ] {
            assert_eq!(rule(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn the_url_parser_rewrites_other_ipv4_spellings() {
        // WHATWG URL parsing (the parser delivery uses) normalizes these hosts
        // to dotted decimal, so the literal check sees the IPv4 address.
        for (url, host) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
            ("http://017700000001/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://127.0.0.1./", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://0xa9fea9fe/", "169.254.169.254"),
            ("http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"),
            ("http://[0:0:0:0:0:0:0:1]/", "[::1]"),
            ("http://LOCALHOST/", "localhost"),
            // A backslash ends the authority of a special URL.
            ("http://127.0.0.1\\.example.com/", "127.0.0.1"),
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert_eq!(parsed.host_str(), Some(host), "{url}");
            let refused = AllowList::default().check_host(host).unwrap_err();
            assert_ne!(refused.rule, Rule::Reserved, "{url}: {refused}");
        }
        // A number too large for IPv4 is no host at all.
        assert!(reqwest::Url::parse("http://4294967296/").is_err());
    }

    #[test]
    fn loopback_and_metadata_names_are_refused() {
        for (name, expected) in [
            ("localhost", Rule::Loopback),
            ("LocalHost.", Rule::Loopback),
            ("api.localhost", Rule::Loopback),
            ("localhost.localdomain", Rule::Loopback),
            ("ip6-localhost", Rule::Loopback),
            ("metadata", Rule::CloudMetadata),
            ("metadata.google.internal", Rule::CloudMetadata),
            ("metadata.google.internal.", Rule::CloudMetadata),
            ("metadata.goog", Rule::CloudMetadata),
            ("instance-data.ec2.internal", Rule::CloudMetadata),
        ] {
            assert_eq!(host_name_rule(name), Some(expected), "{name}");
        }
        for name in [
            "example.com",
            "hooks.example.com",
            "localhost.example.com",
            "notlocalhost",
            "metadata.example.com",
        ] {
            assert_eq!(host_name_rule(name), None, "{name}");
        }
    }

    #[test]
    fn check_host_without_an_allow_list() {
        let none = AllowList::default();
        assert_eq!(
            none.check_host("93.184.216.34"),
            Ok(Destination::Address(ip("93.184.216.34")))
        );
        assert_eq!(
            none.check_host("[2606:4700::1111]"),
            Ok(Destination::Address(ip("2606:4700::1111")))
        );
        assert_eq!(
            none.check_host("Hooks.Example.com."),
            Ok(Destination::Name("hooks.example.com".to_owned()))
        );
        let refused = none.check_host("[::1]").unwrap_err();
        assert_eq!(refused.rule, Rule::Loopback);
        assert_eq!(refused.judged, Judged::Address);
        assert_eq!(refused.to_string(), "the host [::1] is a loopback address");
        let refused = none.check_host("metadata.google.internal").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the host metadata.google.internal is a cloud metadata host name"
        );
        assert!(
            none.check_resolved("a.example", ip("93.184.216.34"))
                .is_ok()
        );
        let refused = none
            .check_resolved("a.example", ip("10.1.2.3"))
            .unwrap_err();
        assert_eq!(refused.judged, Judged::Resolved);
        assert_eq!(
            refused.to_string(),
            "the host a.example resolves to a private-network address (RFC 1918 or IPv6 unique local)"
        );
        // The resolved address is not shown.
        assert!(!refused.to_string().contains("10.1.2.3"));
    }

    #[test]
    fn range_entries_allow_their_addresses() {
        let list = allow(&["127.0.0.0/8", "::1", "10.1.0.0/16"]);
        assert!(list.check_host("127.0.0.1").is_ok());
        assert!(list.check_host("127.9.9.9").is_ok());
        assert!(list.check_host("[::1]").is_ok());
        // The IPv4-mapped form is the same destination.
        assert!(list.check_host("[::ffff:7f00:1]").is_ok());
        assert!(list.check_host("10.1.200.3").is_ok());
        assert!(list.check_host("10.2.0.1").is_err());
        assert!(list.check_host("169.254.169.254").is_err());
        // Ranges do not allow names: `localhost` needs its own entry.
        assert!(list.check_host("localhost").is_err());
        // ... but a name resolving into a range is allowed.
        assert!(list.check_resolved("receiver.test", ip("10.1.0.9")).is_ok());
        assert!(
            list.check_resolved("receiver.test", ip("10.3.0.9"))
                .is_err()
        );
        // A range that names metadata allows it.
        let list = allow(&["169.254.169.254"]);
        assert!(list.check_host("169.254.169.254").is_ok());
        assert!(list.check_host("169.254.169.253").is_err());
    }

    #[test]
    fn name_entries_allow_the_name_and_its_resolution_but_not_metadata() {
        let list = allow(&["localhost", "Receiver.Internal."]);
        assert_eq!(
            list.check_host("localhost"),
            Ok(Destination::Name("localhost".to_owned()))
        );
        assert!(list.check_host("receiver.internal").is_ok());
        assert!(list.check_resolved("localhost", ip("127.0.0.1")).is_ok());
        assert!(list.check_resolved("localhost", ip("::1")).is_ok());
        assert!(
            list.check_resolved("receiver.internal", ip("10.0.0.7"))
                .is_ok()
        );
        // A trusted name rebound to metadata is still refused.
        let refused = list
            .check_resolved("receiver.internal", ip("169.254.169.254"))
            .unwrap_err();
        assert_eq!(refused.rule, Rule::CloudMetadata);
        // Other names and literals stay refused.
        assert!(list.check_host("127.0.0.1").is_err());
        assert!(list.check_host("api.localhost").is_err());
        assert!(list.check_resolved("other.test", ip("127.0.0.1")).is_err());
    }

    #[test]
    fn allow_entries_parse_and_refuse_mistakes() {
        for (text, shown) in [
            ("localhost", "localhost"),
            (" Receiver.Internal. ", "receiver.internal"),
            ("my_host-1", "my_host-1"),
            ("127.0.0.1", "127.0.0.1/32"),
            ("[::1]", "::1/128"),
            ("::1", "::1/128"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("fd00::/8", "fd00::/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("::/0", "::/0"),
        ] {
            assert_eq!(
                text.parse::<AllowEntry>().unwrap().to_string(),
                shown,
                "{text}"
            );
        }
        assert_eq!("".parse::<AllowEntry>(), Err(AllowEntryError::Empty));
        assert!(matches!(
            "10.1.2.3/8".parse::<AllowEntry>(),
            Err(AllowEntryError::HostBitsSet { suggestion, .. }) if suggestion == "10.0.0.0/8"
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<AllowEntry>(),
            Err(AllowEntryError::BadPrefix(_))
        ));
        assert!(matches!(
            "::/129".parse::<AllowEntry>(),
            Err(AllowEntryError::BadPrefix(_))
        ));
        assert!(matches!(
            "nope/8".parse::<AllowEntry>(),
            Err(AllowEntryError::BadAddress(_))
        ));
        assert!(matches!(
            "localhost:8080".parse::<AllowEntry>(),
            Err(AllowEntryError::Port(_))
        ));
        assert!("http://x".parse::<AllowEntry>().is_err());
        for bad in [
            "a..b",
            "-",
            "-a",
            "2130706433",
            "a.b.123",
            "bad name",
            "a:b",
        ] {
            assert!(
                matches!(bad.parse::<AllowEntry>(), Err(AllowEntryError::BadName(_))),
                "{bad}"
            );
        }
        let list = allow(&["localhost", "127.0.0.0/8"]);
        assert_eq!(list.to_string(), "localhost,127.0.0.0/8");
        assert!(!list.is_empty());
        assert!(AllowList::default().is_empty());
    }

    #[test]
    fn ranges_of_every_prefix_length_work() {
        let all_v4 = allow(&["0.0.0.0/0"]);
        assert!(all_v4.check_host("10.0.0.1").is_ok());
        assert!(all_v4.check_host("[fd00::1]").is_err());
        let all_v6 = allow(&["::/0"]);
        assert!(all_v6.check_host("[fd00::1]").is_ok());
        let one = allow(&["192.168.1.7/32"]);
        assert!(one.check_host("192.168.1.7").is_ok());
        assert!(one.check_host("192.168.1.8").is_err());
    }
}
