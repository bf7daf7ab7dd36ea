//! The client's address, for rate limits and the audit trail.
//!
//! `X-Forwarded-For` is anyone's to write, so it is believed only as far as a chain of
//! configured trusted proxies vouches for it: the TCP peer must be one, and then the entries are
//! read right to left, each appended by the hop after it, until the first address that is not a
//! trusted proxy: that is the client. With no trusted proxies configured the header is ignored.

use axum::extract::{ConnectInfo, Request};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The proxies whose `X-Forwarded-For` entries are believed (`trusted_proxies` setting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses (`10.0.0.5`, `::1`) or CIDR blocks (`10.0.0.0/8`); `Err` names the bad entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut nets = Vec::new();
        for e in entries {
            let e = e.as_ref().trim();
            if e.is_empty() {
                continue;
            }
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{e:?} is not an IP address or CIDR block"))?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client behind `peer`, given the `X-Forwarded-For` entries in header order.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let mut current = canonical(peer);
        let mut hops = forwarded.rev();
        while self.trusts(current) {
            // An entry that is missing or not an address: stop at the last hop we trust, so
            // the proxy itself is the client rather than whatever the header claims.
            match hops.next().and_then(|h| h.trim().parse::<IpAddr>().ok()) {
                Some(ip) => current = canonical(ip),
                None => break,
            }
        }
        current
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as a dual-stack listener reports IPv4 peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The TCP peer, or the client a trusted proxy forwarded for. In-process tests have no peer:
/// "local".
pub fn address(req: &Request, trusted: &TrustedProxies) -> String {
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "local".into();
    };
    if trusted.is_empty() {
        return canonical(peer).to_string();
    }
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    trusted.client(peer, entries.into_iter()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), ["1.2.3.4"].into_iter()),
            ip("203.0.113.9")
        );

        let t = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.1"]).unwrap();
        // An untrusted peer's header is its own word.
        assert_eq!(
            t.client(ip("203.0.113.9"), ["1.2.3.4"].into_iter()),
            ip("203.0.113.9")
        );
        // Right-most untrusted entry: what the client wrote before it is ignored.
        let xff = ["6.6.6.6", "198.51.100.7", "10.1.1.1"];
        assert_eq!(
            t.client(ip("192.0.2.1"), xff.into_iter()),
            ip("198.51.100.7")
        );
        // Only proxies all the way: the left-most proxy is the best we know.
        assert_eq!(
            t.client(ip("10.0.0.1"), ["10.2.2.2"].into_iter()),
            ip("10.2.2.2")
        );
        // Garbage or nothing behind a proxy: the proxy.
        assert_eq!(
            t.client(ip("10.0.0.1"), ["nonsense"].into_iter()),
            ip("10.0.0.1")
        );
        assert_eq!(t.client(ip("10.0.0.1"), std::iter::empty()), ip("10.0.0.1"));
        // A dual-stack listener's mapped IPv4 peer matches the IPv4 block.
        assert_eq!(
            t.client(ip("::ffff:10.0.0.1"), [" 198.51.100.7 "].into_iter()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn parse_names_the_bad_entry() {
        assert!(TrustedProxies::parse(&["::1", "fd00::/8", " "]).is_ok());
        let e = TrustedProxies::parse(&["10.0.0.0/8", "proxy.local"]).unwrap_err();
        assert!(e.contains("proxy.local"), "{e}");
    }
}
