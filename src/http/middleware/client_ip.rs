//! Allows only clients inside TELEGRAM_IP_RANGES, reading the client address
//! correctly behind trusted proxies.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::{IntoResponse, Response},
};
use ipnet::IpNet;

use crate::http::{AppState, WebhookError};

pub async fn require_telegram(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let client = client_address(peer.ip(), request.headers(), &state.trusted_proxies);
    match client {
        Some(ip) if contains(&state.telegram_ranges, ip) => next.run(request).await,
        _ => {
            tracing::debug!(%peer, client = ?client, "update from an address outside TELEGRAM_IP_RANGES");
            WebhookError::Forbidden.into_response()
        }
    }
}

/// The client's address, or `None` when a trusted proxy sent a forwarding
/// header that cannot be parsed (then nobody can tell who the client is).
///
/// The TCP peer is the client unless it is a trusted proxy. Behind one, the
/// client is the right-most `X-Forwarded-For` entry that is not itself a
/// trusted proxy (entries to its left could have been written by anyone), or
/// `X-Real-IP` when there is no `X-Forwarded-For`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(peer);
    if !contains(trusted, peer) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().ok())
        .collect::<Option<_>>()?;
    if !forwarded.is_empty() {
        let hops: Vec<IpAddr> = forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(parse_hop)
            .collect::<Option<_>>()?;
        let client = hops.iter().rev().find(|ip| !contains(trusted, **ip));
        return client.or(hops.first()).copied();
    }
    match headers.get("x-real-ip") {
        Some(value) => parse_hop(value.to_str().ok()?),
        None => Some(peer),
    }
}

/// Whether a connection from `peer` may stay open long enough to send a
/// request: decided on accepting it, before any byte is read (before the TLS
/// handshake too).
///
/// Admitted are the peers a request could ever be allowed from: an address
/// in TELEGRAM_IP_RANGES (the client itself, without a proxy), in
/// TRUSTED_PROXIES (a proxy speaking for one), and this host's own
/// 127.0.0.1 and ::1 (a local `curl` of /health). Only those two, not all
/// of 127.0.0.0/8: a local client connects from them unless it binds
/// another address on purpose, and whoever wants more names it in
/// TRUSTED_PROXIES.
pub fn may_connect(peer: IpAddr, telegram_ranges: &[IpNet], trusted: &[IpNet]) -> bool {
    let peer = canonical(peer);
    peer == IpAddr::V4(Ipv4Addr::LOCALHOST)
        || peer == IpAddr::V6(Ipv6Addr::LOCALHOST)
        || contains(telegram_ranges, peer)
        || contains(trusted, peer)
}

pub(crate) fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    nets.iter().any(|net| net.contains(&ip))
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// One forwarding entry: a bare address, `[v6]`, or either with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let parsed = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok());
    parsed.map(canonical)
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &str) -> Vec<IpNet> {
        list.split(',').map(|n| n.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_telegram_proxies_and_the_hosts_own_loopback_address_may_connect() {
        let (ranges, trusted) = (nets("149.154.160.0/20"), nets("10.0.0.2/32"));
        for allowed in [
            "149.154.167.220",
            "10.0.0.2",
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(may_connect(ip(allowed), &ranges, &trusted), "{allowed}");
        }
        for refused in ["203.0.113.9", "127.0.0.2", "10.0.0.3", "2001:db8::1"] {
            assert!(!may_connect(ip(refused), &ranges, &trusted), "{refused}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = headers(&[
            ("x-forwarded-for", "149.154.167.1"),
            ("x-real-ip", "149.154.167.1"),
        ]);
        let got = client_address(ip("203.0.113.9"), &h, &nets("127.0.0.1/32"));
        assert_eq!(got, Some(ip("203.0.113.9")));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() {
        let h = headers(&[("x-forwarded-for", "149.154.167.1, 203.0.113.9, 10.0.0.2")]);
        let got = client_address(ip("127.0.0.1"), &h, &nets("127.0.0.1/32,10.0.0.0/8"));
        assert_eq!(got, Some(ip("203.0.113.9")));
    }

    #[test]
    fn several_forwarded_for_headers_are_read_as_one_list() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "149.154.167.1"),
        ]);
        let got = client_address(ip("127.0.0.1"), &h, &nets("127.0.0.1/32"));
        assert_eq!(got, Some(ip("149.154.167.1")));
    }

    #[test]
    fn x_real_ip_is_used_only_without_x_forwarded_for() {
        let trusted = nets("127.0.0.1/32");
        let only_real = headers(&[("x-real-ip", "149.154.167.1")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &only_real, &trusted),
            Some(ip("149.154.167.1"))
        );
        let both = headers(&[
            ("x-real-ip", "149.154.167.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &both, &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn a_trusted_peer_without_forwarding_headers_is_the_client() {
        let got = client_address(ip("127.0.0.1"), &HeaderMap::new(), &nets("127.0.0.1/32"));
        assert_eq!(got, Some(ip("127.0.0.1")));
    }

    #[test]
    fn an_unparseable_forwarded_entry_gives_no_client() {
        let h = headers(&[("x-forwarded-for", "149.154.167.1, bogus")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &nets("127.0.0.1/32")),
            None
        );
    }

    #[test]
    fn ipv6_and_ipv4_mapped_addresses_work() {
        let trusted = nets("::1/128,127.0.0.1/32");
        let h = headers(&[(
            "x-forwarded-for",
            "2001:67c:4e8:f004::9, [::ffff:149.154.167.1]:443",
        )]);
        assert_eq!(
            client_address(ip("::1"), &h, &trusted),
            Some(ip("149.154.167.1"))
        );
        // A dual-stack socket reports an IPv4 peer as IPv4-mapped IPv6.
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &HeaderMap::new(), &trusted),
            Some(ip("127.0.0.1"))
        );
        let v6 = headers(&[("x-forwarded-for", "2001:67c:4e8:f004::9")]);
        assert_eq!(
            client_address(ip("::1"), &v6, &trusted),
            Some(ip("2001:67c:4e8:f004::9"))
        );
    }
}
