//! Which URLs outbound calls (webhook deliveries, the partner API) may reach.

use std::net::IpAddr;

/// Where deliveries may go. In production only `https://` to public addresses; the local mode
/// (tests, `infra/run`) also allows `http://` and private addresses such as 127.0.0.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allow_private: bool,
}

impl UrlPolicy {
    /// The URL's host, if the URL may be used (DNS is checked at delivery, by the resolver).
    pub fn check<'a>(&self, url: &'a str) -> Result<&'a str, String> {
        let rest = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => rest,
            (None, Some(rest)) if self.allow_private => rest,
            _ => return Err("must be an https:// URL".into()),
        };
        if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be a URL of at most 2048 characters without spaces".into());
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err("must not carry credentials".into());
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(host, _port)| host),
        };
        if host.is_empty() {
            return Err("must name a host".into());
        }
        let lowered = host.to_ascii_lowercase();
        if !self.allow_private {
            if lowered == "localhost" || lowered.ends_with(".localhost") || lowered.ends_with(".internal") {
                return Err(format!("host {host} is not public"));
            }
            if let Ok(ip) = host.parse::<IpAddr>() {
                if !is_public(ip) {
                    return Err(format!("address {ip} is private, loopback or link-local"));
                }
            }
        }
        Ok(host)
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata lives there), shared (CGNAT), unspecified, broadcast, multicast or documentation.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_urls_must_be_public_https() {
        let prod = UrlPolicy { allow_private: false };
        assert_eq!(prod.check("https://hooks.example.com/in?x=1"), Ok("hooks.example.com"));
        assert_eq!(prod.check("https://hooks.example.com:8443/in"), Ok("hooks.example.com"));
        for bad in [
            "http://hooks.example.com/in",
            "ftp://x.com",
            "https://127.0.0.1/in",
            "https://localhost:8080/",
            "https://10.1.2.3/",
            "https://192.168.0.10/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://user:pw@x.com/",
            "https:///path",
            "https://x.com/a b",
        ] {
            assert!(prod.check(bad).is_err(), "{bad}");
        }
        let local = UrlPolicy { allow_private: true };
        assert_eq!(local.check("http://127.0.0.1:8080/hook"), Ok("127.0.0.1"));
    }

    #[test]
    fn public_addresses_are_told_from_the_rest() {
        for public in ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1"] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }
}
