//! The network lab of the breakout suite's SSRF, SEC and RES-12 cases (catalog
//! §2.4), shared with the project's egress tests: a network namespace of its own
//! (entered by a re-executed `agentbox`, and a user namespace with it when not
//! root), the fake services' addresses on its loopback, fake HTTP(S) servers that
//! count every hit, and a static name resolver. No packet leaves the namespace:
//! it has no interface but its loopback.
//!
//! This is harness code: it serves and counts, it never attacks.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Addresses of the fake world.
pub const IMDS: &str = "169.254.169.254";
pub const ECS: &str = "169.254.170.2";
pub const ALIBABA: &str = "100.100.100.200";
pub const INTERNAL: &str = "10.0.0.1";
pub const INTERNAL6: &str = "fd00::1";
pub const IMDS6: &str = "fd00:ec2::254";
pub const ALLOWED: &str = "203.0.113.10";
pub const API: &str = "203.0.113.11";
pub const EVIL: &str = "203.0.113.66";
pub const LOOPBACK_PORT: u16 = 8080;

/// Enters new network (and, unless root, user) namespaces and puts the fake
/// services' addresses on the loopback. With `resolv_conf`, also a private mount
/// namespace whose `/etc/resolv.conf` points at [`start_dns`] (the egress tests
/// exercise the system resolver that way). Must be called while the process is
/// single-threaded. Returns the real uid.
pub fn enter(resolv_conf: bool) -> Result<u32, EnterError> {
    use EnterError::{Broken, Unavailable};
    use nix::sched::{CloneFlags, unshare};
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let mut flags = CloneFlags::CLONE_NEWNET;
    if resolv_conf {
        flags |= CloneFlags::CLONE_NEWNS;
    }
    if uid != 0 {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|e| {
        Unavailable(format!("cannot create a network namespace for the lab ({e}); unprivileged users need user namespaces (see `agentbox doctor`)"))
    })?;
    if uid != 0 {
        let w = |f: &str, v: String| std::fs::write(f, v).map_err(|e| Broken(format!("{f}: {e}")));
        w("/proc/self/setgroups", "deny".into())?;
        w("/proc/self/uid_map", format!("0 {uid} 1\n"))?;
        w("/proc/self/gid_map", format!("0 {gid} 1\n"))?;
    }
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .ok_or_else(|| Unavailable("iproute2's `ip` is needed to set up the lab's loopback addresses (apt install iproute2)".into()))?;
    let run = |args: &[&str]| -> Result<(), EnterError> {
        let out = std::process::Command::new(ip)
            .args(args)
            .env_clear()
            .output()
            .map_err(|e| Broken(format!("{ip}: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(Broken(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    };
    run(&["link", "set", "lo", "up"])?;
    for a in [IMDS, ECS, ALIBABA, INTERNAL, ALLOWED, API, EVIL] {
        run(&["addr", "add", &format!("{a}/32"), "dev", "lo"])?;
    }
    for a in [INTERNAL6, IMDS6] {
        run(&[
            "-6",
            "addr",
            "add",
            &format!("{a}/128"),
            "dev",
            "lo",
            "nodad",
        ])?;
    }
    if resolv_conf {
        use nix::mount::{MsFlags, mount};
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| Broken(format!("make mounts private: {e}")))?;
        let conf =
            std::env::temp_dir().join(format!("agentbox-netlab-resolv-{}", std::process::id()));
        std::fs::write(
            &conf,
            "nameserver 127.0.0.53\noptions attempts:2 timeout:1\n",
        )
        .map_err(|e| Broken(format!("resolv.conf: {e}")))?;
        mount(
            Some(&conf),
            "/etc/resolv.conf",
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| Broken(format!("bind resolv.conf: {e}")))?;
    }
    Ok(uid)
}

/// Why the lab could not be entered.
#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    /// This host cannot give the lab what it needs (its cases are skipped).
    #[error("{0}")]
    Unavailable(String),
    /// Setting it up failed half-way (its cases fail).
    #[error("{0}")]
    Broken(String),
}

/// DNS answers: each name has answer sets used in turn (TTL 0), so that a name can
/// change its answer between lookups.
/// A name's answer sets and which one is next.
type Answers = (Vec<Vec<IpAddr>>, usize);

#[derive(Debug, Default)]
pub struct Zone {
    names: Mutex<HashMap<String, Answers>>,
    pub queries: AtomicU32,
}

impl Zone {
    pub fn set(&self, name: &str, sets: &[&[&str]]) {
        let sets = sets
            .iter()
            .map(|s| s.iter().map(|a| a.parse().expect("ip")).collect())
            .collect();
        self.names
            .lock()
            .expect("zone")
            .insert(name.to_string(), (sets, 0));
    }

    /// Every address of the current set (both families); advances the set.
    pub fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        let mut names = self.names.lock().expect("zone");
        let (sets, i) = names.get_mut(name)?;
        let set = sets[*i % sets.len()].clone();
        *i += 1;
        Some(set)
    }

    /// The answer for one query: the current set, filtered by family. The set
    /// advances once per A query (each lookup asks A then AAAA).
    fn answer(&self, name: &str, v6: bool) -> Option<Vec<IpAddr>> {
        let mut names = self.names.lock().expect("zone");
        let (sets, i) = names.get_mut(name)?;
        let set = sets[*i % sets.len()].clone();
        if !v6 && sets.len() > 1 {
            *i += 1;
        }
        Some(set.into_iter().filter(|a| a.is_ipv6() == v6).collect())
    }
}

/// The lab's static resolver: the supervisor asks the zone directly (no DNS
/// traffic, nothing of the host's resolver configuration involved).
impl agentbox_egress::Resolver for Zone {
    fn resolve<'a>(
        &'a self,
        name: &'a str,
    ) -> agentbox_egress::BoxFuture<'a, std::io::Result<Vec<IpAddr>>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let answer = self.lookup(&name);
        self.queries.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            answer.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such name in the lab")
            })
        })
    }
}

/// Starts the DNS responder on 127.0.0.53:53 (UDP).
pub fn start_dns(zone: Arc<Zone>) -> Result<(), String> {
    let sock = UdpSocket::bind("127.0.0.53:53").map_err(|e| format!("bind DNS: {e}"))?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                continue;
            };
            zone.queries.fetch_add(1, Ordering::SeqCst);
            if let Some(reply) = dns_reply(&zone, &buf[..n]) {
                let _ = sock.send_to(&reply, peer);
            }
        }
    });
    Ok(())
}

fn dns_reply(zone: &Zone, q: &[u8]) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question = q.get(12..i + 4)?;
    let name = labels.join(".");
    let answer = match qtype {
        1 => zone.answer(&name, false),
        28 => zone.answer(&name, true),
        _ => zone.answer(&name, false).map(|_| Vec::new()),
    };
    let mut out = Vec::new();
    out.extend_from_slice(&q[0..2]);
    let rcode: u16 = if answer.is_none() { 3 } else { 0 };
    out.extend_from_slice(&(0x8180u16 | rcode).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    let answers = answer.unwrap_or_default();
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    for a in answers {
        out.extend_from_slice(&[0xc0, 0x0c]);
        let (t, data): (u16, Vec<u8>) = match a {
            IpAddr::V4(v) => (1, v.octets().to_vec()),
            IpAddr::V6(v) => (28, v.octets().to_vec()),
        };
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(&data);
    }
    Some(out)
}

/// What a fake server saw.
#[derive(Debug, Default)]
pub struct Log {
    /// Connections accepted (counted before anything is read: a handshake or a
    /// truncated request counts too).
    pub conns: AtomicU32,
    /// Complete requests served.
    pub hits: AtomicU32,
    /// Raw request heads and bodies, in order.
    pub requests: Mutex<Vec<String>>,
}

impl Log {
    pub fn hits(&self) -> u32 {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn conns(&self) -> u32 {
        self.conns.load(Ordering::SeqCst)
    }

    pub fn text(&self) -> String {
        self.requests.lock().expect("log").join("\n----\n")
    }

    pub fn clear(&self) {
        self.hits.store(0, Ordering::SeqCst);
        self.conns.store(0, Ordering::SeqCst);
        self.requests.lock().expect("log").clear();
    }
}

/// A fake HTTP/1.1 server on `addr`; over TLS when `tls` is given.
pub fn start_http(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<Arc<Log>, String> {
    let log = Arc::new(Log::default());
    let listener = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    let l = log.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            l.conns.fetch_add(1, Ordering::SeqCst);
            let log = l.clone();
            let tls = tls.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                match tls {
                    Some(cfg) => {
                        let Ok(sc) = rustls::ServerConnection::new(cfg) else {
                            return;
                        };
                        let mut s = rustls::StreamOwned::new(sc, conn);
                        serve(&mut s, &log, addr);
                    }
                    None => {
                        let mut s = conn;
                        serve(&mut s, &log, addr);
                    }
                }
            });
        }
    });
    Ok(log)
}

fn serve(s: &mut (impl Read + Write), log: &Log, me: SocketAddr) {
    let mut reader = BufReader::new(&mut *s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" || head.len() > 64 * 1024 {
            break;
        }
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    drop(reader);
    log.hits.fetch_add(1, Ordering::SeqCst);
    let text = format!("{head}{}", String::from_utf8_lossy(&body));
    log.requests.lock().expect("log").push(text.clone());
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let respond = |s: &mut dyn Write, status: &str, extra: &str, body: &[u8]| {
        let _ = write!(
            s,
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
            body.len()
        );
        let _ = s.write_all(body);
        let _ = s.flush();
    };
    match path {
        "/echo" => respond(s, "200 OK", "content-type: text/plain\r\n", text.as_bytes()),
        "/echo-encoded" => {
            // httpbin-style reflection, transformed: base64 (both alphabets), hex
            // and percent-encoding of the whole request, and the request head
            // reflected in a response header too.
            use base64::Engine;
            let b = text.as_bytes();
            let pct: String = b.iter().map(|c| format!("%{c:02X}")).collect();
            let body = format!(
                "{}\n{}\n{}\n{}\n{}",
                base64::engine::general_purpose::STANDARD.encode(b),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
                hex::encode(b),
                hex::encode_upper(b),
                pct
            );
            let first_auth = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .unwrap_or("none")
                .to_string();
            respond(
                s,
                "200 OK",
                &format!("x-reflected: {first_auth}\r\n"),
                body.as_bytes(),
            )
        }
        "/redirect" => {
            // /redirect?code=302&to=<location, raw>
            let code = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("code="))
                .unwrap_or("302")
                .to_string();
            let to = query.split_once("to=").map(|(_, t)| t).unwrap_or("/");
            respond(
                s,
                &format!("{code} Redirect"),
                &format!("location: {to}\r\n"),
                b"",
            )
        }
        p if p.starts_with("/loop/") => {
            let n: u32 = p[6..].parse().unwrap_or(0);
            respond(
                s,
                "302 Found",
                &format!("location: /loop/{}\r\n", n + 1),
                b"",
            )
        }
        "/endless" => {
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-length: 1073741824\r\nconnection: close\r\n\r\n"
            );
            let chunk = [b'x'; 65536];
            while s.write_all(&chunk).is_ok() {}
        }
        "/slow" => {
            std::thread::sleep(Duration::from_secs(5));
            respond(s, "200 OK", "", b"slow")
        }
        p if p.starts_with("/repos/") && p.ends_with("/issues") => {
            // A fake of GitHub's issue list: says whether a bearer token came.
            let authorized = head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("authorization: bearer "));
            let body = format!(
                r#"[{{"number":7,"title":"{}","user":{{"login":"octo"}}}},{{"number":8,"title":"a PR","pull_request":{{}},"user":{{"login":"x"}}}}]"#,
                if authorized {
                    "authorized"
                } else {
                    "anonymous"
                }
            );
            respond(
                s,
                "200 OK",
                "content-type: application/json\r\n",
                body.as_bytes(),
            )
        }
        _ => respond(s, "200 OK", "", format!("hello from {me}").as_bytes()),
    }
}

/// Counts raw TCP connections and UDP datagrams on `addr` (a dummy service that a
/// socket-level escape would reach).
pub fn start_counter(addr: SocketAddr) -> Result<Arc<AtomicU32>, String> {
    let hits = Arc::new(AtomicU32::new(0));
    let tcp = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    let udp = UdpSocket::bind(addr).map_err(|e| format!("bind udp {addr}: {e}"))?;
    let h = hits.clone();
    std::thread::spawn(move || {
        for c in tcp.incoming() {
            if c.is_ok() {
                h.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let h = hits.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while udp.recv_from(&mut buf).is_ok() {
            h.fetch_add(1, Ordering::SeqCst);
        }
    });
    Ok(hits)
}

/// A test CA and a server certificate for the given names.
pub struct Pki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pki")
    }
}

/// A fresh CA (its key lives only in this process) and a server certificate for
/// `names` signed by it.
pub fn pki(names: &[&str]) -> Result<Pki, String> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let e = |what: &str| {
        let what = what.to_string();
        move |err: rcgen::Error| format!("test certificate ({what}): {err}")
    };
    let ca_key = KeyPair::generate().map_err(e("ca key"))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e("ca"))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "agentbox breakout lab CA");
    let ca = ca_params.self_signed(&ca_key).map_err(e("ca cert"))?;
    let key = KeyPair::generate().map_err(e("key"))?;
    let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .map_err(e("server"))?;
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .map_err(e("server cert"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS versions: {err}"))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .map_err(|err| format!("TLS server config: {err}"))?;
    Ok(Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    })
}

/// Connects nowhere: a helper asserting a listener exists (sanity of the lab).
pub fn reachable(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// The catalog's fake world (§2.4), running: its names (`zone`) and its services
/// with what each saw. Shared by the breakout suite's network cases and the
/// egress tests.
#[derive(Debug)]
pub struct World {
    pub zone: Arc<Zone>,
    /// The PEM of the CA that signed the HTTPS services' certificate.
    pub ca_pem: String,
    /// http://allowed.test (203.0.113.10:80) and https://allowed.test.
    pub allowed: Arc<Log>,
    pub allowed_tls: Arc<Log>,
    /// https://api.allowed.test and http://api.allowed.test (203.0.113.11).
    pub api_tls: Arc<Log>,
    pub api_http: Arc<Log>,
    /// 127.0.0.1:8080 (reachable only through a `private = true` rule).
    pub loopback: Arc<Log>,
    /// https://evil.test: forbidden unless a case grants it.
    pub evil_tls: Arc<Log>,
    /// Raw TCP connections and UDP datagrams on 203.0.113.10:9 (a socket-level
    /// escape would reach it).
    pub raw: Arc<AtomicU32>,
    /// Services no request may ever reach: (name, log).
    pub forbidden: Vec<(&'static str, Arc<Log>)>,
}

impl World {
    /// Starts every service and names the world; `extra` adds (name, address)
    /// pairs to the zone (and to the HTTPS certificate).
    pub fn start(extra: &[(&str, &str)]) -> Result<Self, String> {
        let zone = Arc::new(Zone::default());
        let names = [
            ("allowed.test", ALLOWED),
            ("api.allowed.test", API),
            ("evil.test", EVIL),
            ("metadata.google.internal", IMDS),
            ("rebind.allowed.test", IMDS),
            ("loop.allowed.test", "127.0.0.1"),
            ("internal.allowed.test", INTERNAL),
            ("ula.allowed.test", INTERNAL6),
        ];
        for (n, a) in names.iter().chain(extra) {
            zone.set(n, &[&[a]]);
        }
        zone.set("mixed.allowed.test", &[&[ALLOWED, INTERNAL]]);
        zone.set("dual.allowed.test", &[&[ALLOWED, INTERNAL6]]);
        zone.set("flip.allowed.test", &[&[ALLOWED], &["127.0.0.1"]]);
        let mut tls_names = vec!["allowed.test", "api.allowed.test", "evil.test"];
        tls_names.extend(extra.iter().map(|(n, _)| *n));
        let pki = pki(&tls_names)?;
        let sa = |s: String| -> Result<SocketAddr, String> {
            s.parse().map_err(|e| format!("{s}: {e}"))
        };
        let http = |a: String| start_http(sa(a)?, None);
        let https = |a: String| start_http(sa(a)?, Some(pki.server.clone()));
        Ok(Self {
            allowed: http(format!("{ALLOWED}:80"))?,
            allowed_tls: https(format!("{ALLOWED}:443"))?,
            api_tls: https(format!("{API}:443"))?,
            api_http: http(format!("{API}:80"))?,
            loopback: http(format!("127.0.0.1:{LOOPBACK_PORT}"))?,
            evil_tls: https(format!("{EVIL}:443"))?,
            raw: start_counter(sa(format!("{ALLOWED}:9"))?)?,
            forbidden: vec![
                ("imds", http(format!("{IMDS}:80"))?),
                ("ecs", http(format!("{ECS}:80"))?),
                ("alibaba", http(format!("{ALIBABA}:80"))?),
                ("internal", http(format!("{INTERNAL}:80"))?),
                ("internal6", http(format!("[{INTERNAL6}]:80"))?),
                ("imds6", http(format!("[{IMDS6}]:80"))?),
                ("evil", http(format!("{EVIL}:80"))?),
                ("loopback80", http("127.0.0.1:80".into())?),
                ("loopback6", http(format!("[::1]:{LOOPBACK_PORT}"))?),
                ("api-6379", http(format!("{API}:6379"))?),
            ],
            ca_pem: pki.ca_pem,
            zone,
        })
    }

    /// No forbidden service saw a connection (nor https://evil.test, unless
    /// `evil_granted`).
    pub fn forbidden_untouched(&self, evil_granted: bool) -> Result<(), String> {
        let evil = (!evil_granted).then_some(("evil-tls", &self.evil_tls));
        let hit: Vec<String> = self
            .forbidden
            .iter()
            .map(|(n, l)| (*n, l))
            .chain(evil)
            .filter(|(_, l)| l.conns() > 0)
            .map(|(n, l)| format!("{n}: {} connection(s): {}", l.conns(), l.text()))
            .collect();
        if hit.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "forbidden services were reached: {}",
                hit.join(", ")
            ))
        }
    }

    /// Clears what every service saw (the raw counter keeps counting).
    pub fn reset(&self) {
        let named = [
            &self.allowed,
            &self.allowed_tls,
            &self.api_tls,
            &self.api_http,
            &self.loopback,
            &self.evil_tls,
        ];
        for l in self.forbidden.iter().map(|(_, l)| l).chain(named) {
            l.clear();
        }
    }
}
