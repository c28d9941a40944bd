//! Properties of the client-address decision over generated peers, proxy
//! chains and forwarding headers, garbage included.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::http::HeaderValue;
use proptest::prelude::*;

use super::*;
use crate::config::DEFAULT_TELEGRAM_RANGES;

fn config(cases: u32) -> ProptestConfig {
    // A failure prints its shrunk input; it becomes a unit test, not a file.
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const TRUSTED: &str = "127.0.0.1/32,::1/128,10.0.0.0/8,fd00::/8";

/// Telegram's IPv4 ranges (the default) and its IPv6 one.
fn telegram() -> Vec<IpNet> {
    nets(&format!("{DEFAULT_TELEGRAM_RANGES},2001:67c:4e8::/48"))
}

fn nets(list: &str) -> Vec<IpNet> {
    list.split(',')
        .map(|n| n.parse().expect("a network"))
        .collect()
}

fn is_in(nets: &[IpNet], ip: IpAddr) -> bool {
    nets.iter().any(|net| net.contains(&ip))
}

/// Any address inside one of `nets`.
fn inside(nets: Vec<IpNet>) -> impl Strategy<Value = IpAddr> {
    (prop::sample::select(nets), any::<u128>()).prop_map(|(net, bits)| match net {
        IpNet::V4(n) => {
            let host = bits as u32 & !u32::from(n.netmask());
            IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | host))
        }
        IpNet::V6(n) => {
            let host = bits & !u128::from(n.netmask());
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | host))
        }
    })
}

fn proxy() -> impl Strategy<Value = IpAddr> {
    inside(nets(TRUSTED))
}

fn telegram_address() -> impl Strategy<Value = IpAddr> {
    inside(telegram())
}

/// An address neither trusted nor Telegram's, in its canonical form.
fn stranger() -> impl Strategy<Value = IpAddr> {
    any::<IpAddr>().prop_filter("a stranger", |ip| {
        ip.to_canonical() == *ip && !is_in(&nets(TRUSTED), *ip) && !is_in(&telegram(), *ip)
    })
}

fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![proxy(), telegram_address(), stranger()]
}

/// How a TCP peer shows: an IPv4 peer on a dual-stack socket is IPv4-mapped IPv6.
fn as_peer(ip: IpAddr, mapped: bool) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if mapped => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => ip,
    }
}

/// `ip` written as a forwarding entry may be: bare, with a port, bracketed,
/// IPv4 as IPv4-mapped IPv6, with blanks around.
fn entry(ip: IpAddr) -> impl Strategy<Value = (IpAddr, String)> {
    let blanks = || prop::sample::select(vec!["", "", " ", "  ", "\t"]);
    (0..5usize, any::<u16>(), blanks(), blanks()).prop_map(move |(form, port, before, after)| {
        let text = match ip {
            IpAddr::V4(v4) => match form {
                0 => v4.to_string(),
                1 => format!("{v4}:{port}"),
                2 => format!("::ffff:{v4}"),
                3 => format!("[::ffff:{v4}]"),
                _ => format!("[::ffff:{v4}]:{port}"),
            },
            IpAddr::V6(v6) => match form % 3 {
                0 => v6.to_string(),
                1 => format!("[{v6}]"),
                _ => format!("[{v6}]:{port}"),
            },
        };
        (ip, format!("{before}{text}{after}"))
    })
}

/// A chain of forwarding entries, left (first hop) to right (last proxy).
fn chain(hops: std::ops::Range<usize>) -> impl Strategy<Value = Vec<(IpAddr, String)>> {
    prop::collection::vec(address().prop_flat_map(entry), hops)
}

/// The entries as X-Forwarded-For lines: a line break after entry `i` when `breaks[i]`.
fn lines(entries: &[(IpAddr, String)], breaks: &[bool]) -> Vec<String> {
    let mut lines: Vec<Vec<&str>> = vec![Vec::new()];
    for (i, (_, text)) in entries.iter().enumerate() {
        lines.last_mut().expect("one line at least").push(text);
        if breaks.get(i) == Some(&true) && i + 1 < entries.len() {
            lines.push(Vec::new());
        }
    }
    lines.iter().map(|line| line.join(",")).collect()
}

fn headers<V: AsRef<[u8]>>(forwarded: &[V], real_ip: Option<&V>) -> HeaderMap {
    let value = |v: &V| HeaderValue::from_bytes(v.as_ref()).expect("a valid header value");
    let mut map = HeaderMap::new();
    for line in forwarded {
        map.append("x-forwarded-for", value(line));
    }
    if let Some(real) = real_ip {
        map.insert("x-real-ip", value(real));
    }
    map
}

/// A header value a hostile or broken proxy might send: entries that are
/// addresses of every kind, and entries made of address pieces, separators,
/// letters no address has and non-ASCII bytes.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let addresses: Vec<&[u8]> = vec![
        b"149.154.167.1",
        b"::ffff:91.108.4.9",
        b"[2001:67c:4e8::9]:443",
        b"127.0.0.1",
        b"10.1.2.3:80",
        b"[::1]",
        b"203.0.113.5",
        b"2001:db8::5",
    ];
    let pieces: Vec<&[u8]> = vec![
        b"149.154.",
        b"::ffff:",
        b"[",
        b"]",
        b":443",
        b" ",
        b"\t",
        b"1",
        b".",
        b":",
        b"g",
        b"%",
        b"\x80",
        b"\xff",
    ];
    let junk = prop::collection::vec(prop::sample::select(pieces), 0..6).prop_map(|p| p.concat());
    let entry =
        prop_oneof![3 => prop::sample::select(addresses).prop_map(<[u8]>::to_vec), 1 => junk];
    let separator = prop::sample::select(vec![",", ", ", " ,"]);
    prop::collection::vec((entry, separator), 0..5).prop_map(|entries| {
        let mut value = Vec::new();
        for (i, (entry, separator)) in entries.into_iter().enumerate() {
            if i > 0 {
                value.extend_from_slice(separator.as_bytes());
            }
            value.extend(entry);
        }
        value
    })
}

/// The address an entry names in one of the documented forms, IPv4-mapped as IPv4.
fn named(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_headers_say(
        (peer, mapped) in (prop_oneof![telegram_address(), stranger()], any::<bool>()),
        forwarded in prop::collection::vec(garbage(), 0..3),
        real_ip in prop::option::of(garbage()),
    ) {
        let h = headers(&forwarded, real_ip.as_ref());
        let got = client_address(as_peer(peer, mapped), &h, &nets(TRUSTED));
        prop_assert_eq!(got, Some(peer));
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_rightmost_untrusted_forwarded_address(
        (peer, mapped) in (proxy(), any::<bool>()),
        hops in chain(1..7),
        breaks in prop::collection::vec(any::<bool>(), 6),
        real_ip in prop::option::of(address().prop_flat_map(entry)),
    ) {
        let trusted = nets(TRUSTED);
        let real_ip = real_ip.map(|(_, text)| text);
        let h = headers(&lines(&hops, &breaks), real_ip.as_ref());
        let got = client_address(as_peer(peer, mapped), &h, &trusted);
        let addresses: Vec<IpAddr> = hops.iter().map(|(ip, _)| *ip).collect();
        // When every hop is a trusted proxy, the first one is all there is to go on.
        let want = addresses.iter().rev().find(|ip| !is_in(&trusted, **ip)).or(addresses.first());
        prop_assert_eq!(got.as_ref(), want);
    }

    #[test]
    fn a_telegram_address_written_left_of_the_client_is_never_the_answer(
        forged in prop::collection::vec(telegram_address().prop_flat_map(entry), 1..4),
        client in stranger().prop_flat_map(entry),
        proxies in prop::collection::vec(proxy().prop_flat_map(entry), 0..3),
        peer in proxy(),
    ) {
        let hops: Vec<_> = forged.into_iter().chain([client.clone()]).chain(proxies).collect();
        let got = client_address(peer, &headers(&lines(&hops, &[]), None), &nets(TRUSTED));
        prop_assert_eq!(got, Some(client.0));
    }

    #[test]
    fn x_real_ip_is_the_client_only_without_x_forwarded_for(
        peer in proxy(),
        (client, real_ip) in address().prop_flat_map(entry),
        hops in chain(1..4),
    ) {
        let trusted = nets(TRUSTED);
        let alone = client_address(peer, &headers(&[] as &[String], Some(&real_ip)), &trusted);
        prop_assert_eq!(alone, Some(client));
        let forwarded = lines(&hops, &[]);
        let with_both = client_address(peer, &headers(&forwarded, Some(&real_ip)), &trusted);
        let without = client_address(peer, &headers(&forwarded, None), &trusted);
        prop_assert_eq!(with_both, without);
    }

    #[test]
    fn an_unreadable_forwarded_entry_behind_a_trusted_proxy_gives_no_client(
        peer in proxy(),
        hops in chain(0..5),
        at in any::<prop::sample::Index>(),
        junk in "([0-9a-f:. ]{0,6}[g-z/;=@]{1,3}[0-9a-f:. ]{0,6})?",
    ) {
        // A letter past `f` (or nothing at all) is in no form of an address.
        let mut hops = hops;
        hops.insert(at.index(hops.len() + 1), (peer, junk));
        let got = client_address(peer, &headers(&lines(&hops, &[]), None), &nets(TRUSTED));
        prop_assert_eq!(got, None);
    }

    #[test]
    fn an_ipv4_mapped_peer_is_treated_as_its_ipv4_address(
        peer in prop_oneof![proxy(), telegram_address(), any::<Ipv4Addr>().prop_map(IpAddr::V4)]
            .prop_filter("IPv4", IpAddr::is_ipv4),
        forwarded in prop::collection::vec(garbage(), 0..3),
        real_ip in prop::option::of(garbage()),
    ) {
        let (h, trusted) = (headers(&forwarded, real_ip.as_ref()), nets(TRUSTED));
        prop_assert_eq!(
            client_address(as_peer(peer, true), &h, &trusted),
            client_address(peer, &h, &trusted)
        );
    }

    #[test]
    fn garbage_forwarding_headers_name_a_client_only_from_the_right_place(
        peer in proxy(),
        forwarded in prop::collection::vec(garbage(), 0..3),
        real_ip in prop::option::of(garbage()),
    ) {
        let trusted = nets(TRUSTED);
        let h = headers(&forwarded, real_ip.as_ref());
        let Some(got) = client_address(peer, &h, &trusted) else {
            return Ok(());
        };
        let text = |v: &Vec<u8>| String::from_utf8_lossy(v).into_owned();
        if forwarded.is_empty() {
            // Without X-Forwarded-For: X-Real-IP, or the peer itself.
            let want = real_ip.as_ref().map_or(Some(peer), |v| named(&text(v)));
            prop_assert_eq!(Some(got), want);
            return Ok(());
        }
        let entries: Vec<Option<IpAddr>> = forwarded
            .iter()
            .flat_map(|v| text(v).split(',').map(named).collect::<Vec<_>>())
            .collect();
        prop_assert!(entries.iter().all(Option::is_some), "{} read from unreadable entries", got);
        if is_in(&trusted, got) {
            // Only when every hop is a trusted proxy, and then it is the first hop.
            prop_assert!(entries.iter().flatten().all(|ip| is_in(&trusted, *ip)));
            prop_assert_eq!(entries[0], Some(got));
            return Ok(());
        }
        // An untrusted answer is written in the chain with only trusted proxies right of it.
        let at = entries.iter().rposition(|e| *e == Some(got));
        let at = at.ok_or_else(|| TestCaseError::fail(format!("{got} is not in the chain")))?;
        prop_assert!(entries[at + 1..].iter().flatten().all(|ip| is_in(&trusted, *ip)));
    }
}
