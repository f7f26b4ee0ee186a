//! Which addresses a tool may never reach unless its matching rule says
//! `private = true`: loopback, private, link-local, unique-local, multicast,
//! unspecified, CGNAT, reserved, and cloud metadata — including every IPv6 form
//! that carries an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo, ISATAP).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is forbidden, or `None` when it is a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RULES: &[([u8; 4], u32, &str)] = &[
        ([169, 254, 169, 254], 32, "a cloud metadata address"),
        ([169, 254, 170, 2], 32, "a cloud metadata address"),
        ([100, 100, 100, 200], 32, "a cloud metadata address"),
        ([0, 0, 0, 0], 8, "an unspecified (\"this network\") address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT (shared) address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "an IETF protocol address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved or broadcast address"),
    ];
    RULES
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, why)| *why)
}

fn v4_at(ip: Ipv6Addr, byte: usize) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[byte], o[byte + 1], o[byte + 2], o[byte + 3])
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The IPv4 addresses an IPv6 address carries, by the transition mechanisms that
/// would deliver it there.
pub fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let mut out = Vec::new();
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        out.push(v4_at(ip, 12));
    }
    // 64:ff9b::/96 (NAT64 well-known prefix).
    if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        out.push(v4_at(ip, 12));
    }
    // 2002:AABB:CCDD::/48 (6to4).
    if s[0] == 0x2002 {
        out.push(v4_at(ip, 2));
    }
    // 2001:0::/32 (Teredo): server in bits 32-63, client obfuscated in the last 32.
    if s[0] == 0x2001 && s[1] == 0 {
        out.push(v4_at(ip, 4));
        out.push(Ipv4Addr::from(!u32::from(v4_at(ip, 12))));
    }
    // ISATAP interface identifiers: ::0:5efe:a.b.c.d and ::200:5efe:a.b.c.d.
    if (s[4] == 0 || s[4] == 0x0200) && s[5] == 0x5efe {
        out.push(v4_at(ip, 12));
    }
    out
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    const RULES: &[(Ipv6Addr, u32, &str)] = &[
        (
            Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
            128,
            "a cloud metadata address",
        ),
        (
            Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
            8,
            "a multicast address",
        ),
        (
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
            10,
            "a link-local address",
        ),
        (
            Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
            10,
            "a site-local address",
        ),
        (
            Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
            7,
            "a unique-local address",
        ),
        (
            Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
            48,
            "a local-use NAT64 address",
        ),
        (
            Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
            64,
            "a discard-only address",
        ),
    ];
    if let Some((_, _, why)) = RULES.iter().find(|(net, bits, _)| in_v6(ip, *net, *bits)) {
        return Some(why);
    }
    // Any embedded IPv4 address is judged as IPv4 — and ::/96 forms with a
    // forbidden or unspecified IPv4 part are refused.
    embedded_v4(ip).into_iter().find_map(forbidden_v4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(s: &str) -> bool {
        forbidden(s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))).is_some()
    }

    #[test]
    fn internal_ipv4_is_forbidden_and_public_is_not() {
        for a in [
            "169.254.169.254",
            "169.254.170.2",
            "100.100.100.200",
            "127.0.0.1",
            "127.255.1.1",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.192",
        ] {
            assert!(bad(a), "{a}");
        }
        for a in [
            "203.0.113.10",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "1.1.1.1",
        ] {
            assert!(!bad(a), "{a}");
        }
    }

    #[test]
    fn every_ipv4_in_ipv6_form_is_judged_as_ipv4() {
        for a in [
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            "2001:0:a9fe:a9fe::1",
            // Teredo client 127.0.0.1 obfuscated: !0x7f000001 = 0x80fffffe.
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "fe80::5efe:a9fe:a9fe",
            "2001:db8::5efe:7f00:1",
            "2001:db8::200:5efe:a00:1",
            "100::1",
        ] {
            assert!(bad(a), "{a}");
        }
        for a in [
            "2606:4700::1111",
            "::ffff:203.0.113.10",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!bad(a), "{a}");
        }
    }
}
