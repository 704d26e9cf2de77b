//! The SSRF guard: which targets a webhook may point at, checked at registration and again on
//! the addresses every delivery connects to.
//!
//! Refused: loopback, private (RFC 1918), link-local (incl. the 169.254.169.254 cloud metadata
//! address), CGNAT 100.64/10, multicast, unspecified, broadcast and reserved, benchmarking,
//! documentation ranges, IPv6 unique-local (incl. `fd00:ec2::254`), link-local, multicast,
//! documentation, discard-only, Teredo and ORCHID ranges, and any IPv4 address hidden in an
//! IPv6 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`
//! and `64:ff9b:1::/48`, 6to4 `2002::/16`) when the IPv4 address is refused. IP literals in
//! decimal, octal and hex (`2130706433`, `0177.0.0.1`, `0x7f000001`, `127.1`) are normalised
//! by the WHATWG URL parser before the check, and a host name made only of digits, dots and
//! `x` that the parser left as a name is refused outright.
//!
//! [`GuardPolicy::allow_loopback_http`] (off by default) lets `http://` and loopback targets
//! through for local development — nothing else.

use async_trait::async_trait;
use domain::webhook_service::UrlGuard;
use reqwest::Url;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// What the guard lets through beyond public HTTPS targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Allow `http://` and loopback addresses (local development only).
    pub allow_loopback_http: bool,
}

/// Why an IPv4 address is not public, or `None` when it is.
pub fn v4_refusal(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified/\"this network\"",
        (10, _, _) => "private",
        (100, 64..=127, _) => "carrier-grade NAT",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local (cloud metadata)",
        (172, 16..=31, _) => "private",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast",
        (192, 168, _) => "private",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved/broadcast",
        _ => return None,
    })
}

/// The IPv4 address embedded in an IPv6 form that carries one (mapped, compatible, NAT64,
/// 6to4).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let last = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return Some(last); // ::ffff:a.b.c.d and ::a.b.c.d
    }
    if s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(last); // NAT64 well-known prefix
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])); // 6to4
    }
    None
}

/// Why an IPv6 address is not public, or `None` when it is.
pub fn v6_refusal(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = embedded_v4(ip) {
        // ::/96 with a tiny value is ::1-like; anything embedded is judged as its IPv4 address.
        return v4_refusal(v4).or(if ip.segments()[0] == 0 && ip.segments()[5] == 0 {
            Some("IPv4-compatible (deprecated)")
        } else {
            None
        });
    }
    let s = ip.segments();
    Some(match s[0] {
        0x64 if s[1] == 0xff9b && s[2] == 1 => "NAT64 local-use",
        0x100 if s[1..4] == [0, 0, 0] => "discard-only",
        0x2001 if s[1] == 0 => "Teredo",
        0x2001 if s[1] == 0xdb8 => "documentation",
        0x2001 if (0x10..=0x2f).contains(&s[1]) => "ORCHID",
        0x3fff if s[1] <= 0x0fff => "documentation",
        x if x & 0xfe00 == 0xfc00 => "unique-local (private)",
        x if x & 0xffc0 == 0xfe80 => "link-local",
        x if x & 0xffc0 == 0xfec0 => "site-local",
        x if x & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

/// Why `ip` is not public, or `None` when it is.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_refusal(v4),
        IpAddr::V6(v6) => v6_refusal(v6),
    }
}

/// True when `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    refusal(ip).is_none()
}

/// True for loopback addresses in any form (`127/8`, `::1`, `::ffff:127.x`).
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    }
}

/// Checks one address a connection would use under `policy`.
pub fn check_addr(ip: IpAddr, policy: GuardPolicy) -> Result<(), String> {
    match refusal(ip) {
        None => Ok(()),
        Some(_) if policy.allow_loopback_http && is_loopback(ip) => Ok(()),
        Some(why) => Err(format!("the target address {ip} is not public ({why})")),
    }
}

/// Resolves host names. [`SystemLookup`] asks the operating system; tests substitute one.
pub trait Lookup: Send + Sync {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver (through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// What a URL's host is once parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Ip(IpAddr),
    Name(String),
}

/// Parses and checks a target URL without resolving it: scheme, credentials, host form.
pub fn parse_target(url: &str, policy: GuardPolicy) -> Result<(Url, Target), String> {
    let parsed = Url::parse(url).map_err(|e| format!("is not a valid URL ({e})"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_loopback_http => {}
        "http" => return Err("must use https:// (plain http is refused)".into()),
        other => return Err(format!("must use https://; got '{other}:'")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry user credentials".into());
    }
    let target = match parsed.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(v4)) => Target::Ip(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Target::Ip(IpAddr::V6(v6)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let last = d.rsplit('.').next().unwrap_or("");
            if !last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "host '{d}' looks like a numeric address; use a public name or address"
                ));
            }
            if (d == "localhost" || d.ends_with(".localhost")) && !policy.allow_loopback_http {
                return Err("must not point at localhost".into());
            }
            Target::Name(d)
        }
    };
    if let Target::Ip(ip) = target {
        check_addr(ip, policy)?;
    }
    Ok((parsed, target))
}

/// Resolves `name` and checks every address; the addresses that may be connected to.
pub async fn resolve_checked(
    lookup: &dyn Lookup,
    name: &str,
    policy: GuardPolicy,
) -> Result<Vec<IpAddr>, String> {
    let addrs = lookup
        .lookup(name.to_owned())
        .await
        .map_err(|e| format!("host '{name}' does not resolve ({e})"))?;
    if addrs.is_empty() {
        return Err(format!("host '{name}' does not resolve"));
    }
    for ip in &addrs {
        check_addr(*ip, policy)
            .map_err(|m| format!("host '{name}' resolves to a refused address: {m}"))?;
    }
    Ok(addrs)
}

/// The registration-time [`UrlGuard`]: parses, resolves and checks every address.
#[derive(Clone)]
pub struct Guard {
    pub policy: GuardPolicy,
    pub lookup: Arc<dyn Lookup>,
}

impl Guard {
    pub fn new(policy: GuardPolicy, lookup: Arc<dyn Lookup>) -> Self {
        Self { policy, lookup }
    }
}

#[async_trait]
impl UrlGuard for Guard {
    async fn check(&self, url: &str) -> Result<(), String> {
        let (_, target) = parse_target(url, self.policy)?;
        if let Target::Name(name) = target {
            resolve_checked(self.lookup.as_ref(), &name, self.policy).await?;
        }
        Ok(())
    }
}

/// The reqwest resolver: resolves through [`Lookup`] and hands the connector only addresses
/// that pass the guard, so the checked addresses are the ones connected to.
pub(crate) struct CheckingResolver {
    pub policy: GuardPolicy,
    pub lookup: Arc<dyn Lookup>,
}

impl reqwest::dns::Resolve for CheckingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookup = self.lookup.clone();
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = resolve_checked(lookup.as_ref(), &host, policy)
                .await
                .map_err(|m| -> Box<dyn std::error::Error + Send + Sync> { m.into() })?;
            let addrs: reqwest::dns::Addrs = Box::new(
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFF: GuardPolicy = GuardPolicy {
        allow_loopback_http: false,
    };
    const ON: GuardPolicy = GuardPolicy {
        allow_loopback_http: true,
    };

    /// The corpus of issue 13, as URL hosts.
    pub const CORPUS: &[&str] = &[
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
    ];

    #[test]
    fn the_corpus_is_refused_as_literals() {
        for host in CORPUS {
            let url = format!("https://{host}/hook");
            assert!(parse_target(&url, OFF).is_err(), "{url} accepted");
        }
    }

    #[test]
    fn public_addresses_and_names_pass_the_parse() {
        for url in [
            "https://93.184.215.14/x",
            "https://[2606:4700::1111]/x",
            "https://hooks.example.com/x",
        ] {
            assert!(parse_target(url, OFF).is_ok(), "{url}");
        }
    }

    #[test]
    fn hidden_ipv4_forms_are_unwrapped() {
        for ip in [
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::127.0.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b:1::1",
            "::",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip}");
        }
        for ip in [
            "64:ff9b::5db8:d70e",
            "::ffff:93.184.215.14",
            "2606:4700::1111",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip}");
        }
    }

    #[test]
    fn http_and_loopback_only_with_the_switch() {
        assert!(parse_target("http://93.184.215.14/", OFF).is_err());
        assert!(parse_target("http://127.0.0.1:9/", ON).is_ok());
        assert!(parse_target("https://[::1]:9/", ON).is_ok());
        assert!(
            parse_target("https://10.0.0.1/", ON).is_err(),
            "private stays refused"
        );
        assert!(parse_target("ftp://93.184.215.14/", ON).is_err());
        assert!(parse_target("https://user:pw@93.184.215.14/", OFF).is_err());
        assert!(parse_target("https://localhost/", OFF).is_err());
    }
}
