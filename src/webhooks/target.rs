//! Where a webhook may point: the URL rule (the same as the document's
//! pattern) and the address rule, checked after DNS resolution both when a
//! webhook is saved and before every delivery (so a name that later
//! resolves to an internal address is refused then too).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

/// The document's pattern for a webhook URL: http(s), a host name (labels
/// of letters, digits and hyphens, the last starting with a letter), an
/// optional port 1..65535, and printable ASCII after it.
pub const URL_PATTERN: &str = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$";

pub const URL_MAX: usize = 2048;

/// A parsed webhook URL.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: url::Url,
    pub host: String,
    pub port: u16,
}

/// Checks the URL rule; the message says what is wrong.
pub fn parse(value: &str) -> Result<Target, &'static str> {
    const SHAPE: &str = "must be an absolute http or https URL with a host name";
    if value.len() > URL_MAX {
        return Err("must be at most 2048 characters");
    }
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or(SHAPE)?;
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if !tail.chars().all(|c| ('!'..='~').contains(&c)) {
        return Err(SHAPE);
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && !port.starts_with('0')
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !ok {
            return Err("must have a port from 1 to 65535");
        }
    }
    let ldh = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let host_ok = host.split('.').all(ldh)
        && host
            .rsplit('.')
            .next()
            .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_alphabetic()));
    if !host_ok {
        return Err(SHAPE);
    }
    let url = url::Url::parse(value).map_err(|_| SHAPE)?;
    let port = url.port_or_known_default().ok_or(SHAPE)?;
    let host = url.host_str().ok_or(SHAPE)?.to_string();
    Ok(Target { url, host, port })
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), multicast, documentation, benchmarking,
/// reserved or unspecified, nor an IPv6 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
}

/// Why no address may be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The name did not resolve (or not in time, or too many look-ups run).
    Unresolved(String),
    /// It resolves to addresses that are not public.
    Private(IpAddr),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unresolved(why) => write!(f, "the host did not resolve: {why}"),
            Refusal::Private(ip) => write!(
                f,
                "the host resolves to {ip}, a private, loopback or otherwise non-public address"
            ),
        }
    }
}

/// Look-ups running at once. `getaddrinfo` cannot be cancelled, so each
/// runs on a thread of its own that holds a permit until it returns: a
/// resolver that hangs ties up at most this many threads.
const LOOKUPS: usize = 8;
static PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(LOOKUPS)));

/// Resolves `host:port`, waiting at most `timeout`.
pub async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, Refusal> {
    let permit = PERMITS
        .clone()
        .try_acquire_owned()
        .map_err(|_| Refusal::Unresolved("too many look-ups in progress".into()))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("webhook-dns".into())
        .spawn(move || {
            let found = (name.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>());
            let _ = tx.send(found);
            drop(permit);
        })
        .map_err(|e| Refusal::Unresolved(e.to_string()))?;
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(Ok(addrs))) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(Ok(_))) => Err(Refusal::Unresolved("no address".into())),
        Ok(Ok(Err(e))) => Err(Refusal::Unresolved(e.to_string())),
        Ok(Err(_)) => Err(Refusal::Unresolved("the look-up failed".into())),
        Err(_) => Err(Refusal::Unresolved("the look-up timed out".into())),
    }
}

/// The addresses of `target` a delivery may connect to: all of them must
/// be public unless private ones are allowed.
pub async fn addresses(
    target: &Target,
    allow_private: bool,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs = resolve(&target.host, target.port, timeout).await?;
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(Refusal::Private(bad.ip()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_pattern() {
        assert!(parse("https://hooks.example.com/newsdesk").is_ok());
        assert!(parse("http://localhost:65535/x?y=1").is_ok());
        assert_eq!(parse("http://localhost:8080").map(|t| t.port), Ok(8080));
        for bad in [
            "ftp://example.com",
            "http://127.0.0.1/",
            "http://user@example.com/",
            "http://example.com:0/",
            "http://example.com:65536/",
            "http://example.com:080/",
            "http://-a.com/",
            "http://example.com/ space",
            "http://a.1/",
            "https://",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
