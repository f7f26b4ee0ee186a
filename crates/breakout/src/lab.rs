//! The lab: the canaries every case is held against. Sentinel files outside every
//! grant (content and mtime recorded), a read-only grant whose listing must not
//! change, a marker path that must never exist, loopback TCP and UDP listeners and
//! an abstract unix socket that count what reaches them, and a canary process that
//! any signal would kill. Everything lives in one private temporary directory and
//! on 127.0.0.1 only: the suite sends no traffic anywhere else.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Hit counters of the lab's listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hits {
    pub tcp: u64,
    pub udp: u64,
    pub unix: u64,
}

#[derive(Debug)]
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub sentinel: PathBuf,
    sentinel_bytes: Vec<u8>,
    sentinel_mtime: SystemTime,
    pub marker: PathBuf,
    pub ro: PathBuf,
    ro_listing: Vec<(String, u64, SystemTime)>,
    pub rw: PathBuf,
    pub cache: PathBuf,
    pub tcp_port: u16,
    pub udp_port: u16,
    pub abstract_name: String,
    counters: [Arc<AtomicU64>; 3],
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    canary: std::process::Child,
}

fn listing(dir: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if let Ok(m) = std::fs::symlink_metadata(&p) {
                if m.is_dir() {
                    stack.push(p.clone());
                }
                v.push((
                    p.display().to_string(),
                    m.len(),
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ));
            }
        }
    }
    v.sort();
    v
}

impl Lab {
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("agentbox-breakout-")
            .tempdir()?;
        let root = dir.path();
        let host = root.join("host");
        std::fs::create_dir_all(&host)?;
        let sentinel = host.join("sentinel.txt");
        let token = format!(
            "agentbox breakout sentinel {}-{}\n",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        std::fs::write(&sentinel, &token)?;
        let ro = root.join("grants/ro");
        std::fs::create_dir_all(ro.join("sub"))?;
        std::fs::write(ro.join("file.txt"), "read-only data\n")?;
        // Hostile input data (threat T4), planted where the tool reads: links out
        // of the grant, a loop, a 45-link chain ending outside, a link to `..`,
        // and a FIFO with no writer.
        let planted = ro.join("planted");
        std::fs::create_dir_all(&planted)?;
        let outside = "../../../host/sentinel.txt";
        std::os::unix::fs::symlink("/etc/passwd", planted.join("abs"))?;
        std::os::unix::fs::symlink("loop2", planted.join("loop1"))?;
        std::os::unix::fs::symlink("loop1", planted.join("loop2"))?;
        for i in 0..45 {
            std::os::unix::fs::symlink(
                format!("chain{}", i + 1),
                planted.join(format!("chain{i}")),
            )?;
        }
        std::os::unix::fs::symlink(outside, planted.join("chain45"))?;
        std::os::unix::fs::symlink(outside, planted.join("up"))?;
        std::os::unix::fs::symlink("..", planted.join("dotdot"))?;
        nix::unistd::mkfifo(
            &ro.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .map_err(std::io::Error::from)?;
        let rw = root.join("grants/rw");
        std::fs::create_dir_all(&rw)?;
        let cache = root.join("cache");
        std::fs::create_dir_all(&cache)?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = [
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        ];
        let mut threads = Vec::new();
        // TCP
        let tcp = TcpListener::bind("127.0.0.1:0")?;
        tcp.set_nonblocking(true)?;
        let tcp_port = tcp.local_addr()?.port();
        {
            let (stop, n) = (stop.clone(), counters[0].clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match tcp.accept() {
                        Ok(_) => {
                            n.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }));
        }
        // UDP
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        udp.set_read_timeout(Some(Duration::from_millis(50)))?;
        let udp_port = udp.local_addr()?.port();
        {
            let (stop, n) = (stop.clone(), counters[1].clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::SeqCst) {
                    if udp.recv(&mut buf).is_ok() {
                        n.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        // Abstract unix socket
        let abstract_name = format!("agentbox-breakout-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(abstract_name.as_bytes())?;
        let ul = UnixListener::bind_addr(&addr)?;
        ul.set_nonblocking(true)?;
        {
            let (stop, n) = (stop.clone(), counters[2].clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match ul.accept() {
                        Ok(_) => {
                            n.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }));
        }
        let canary = std::process::Command::new("sleep")
            .arg("100000")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let sentinel_mtime = std::fs::metadata(&sentinel)?.modified()?;
        let ro_listing = listing(&ro);
        Ok(Self {
            marker: host.join("marker-never-created"),
            sentinel,
            sentinel_bytes: token.into_bytes(),
            sentinel_mtime,
            ro,
            ro_listing,
            rw,
            cache,
            tcp_port,
            udp_port,
            abstract_name,
            counters,
            stop,
            threads,
            canary,
            dir,
        })
    }

    pub fn canary_pid(&self) -> u32 {
        self.canary.id()
    }

    pub fn hits(&self) -> Hits {
        Hits {
            tcp: self.counters[0].load(Ordering::SeqCst),
            udp: self.counters[1].load(Ordering::SeqCst),
            unix: self.counters[2].load(Ordering::SeqCst),
        }
    }

    /// Every canary that is not as it was, compared with `before`; `gap` names the
    /// counter a documented gap is allowed to move.
    pub fn damage(&mut self, before: Hits, gap: Option<&str>) -> Vec<String> {
        let mut d = Vec::new();
        // Give in-flight connections a moment to be counted.
        std::thread::sleep(Duration::from_millis(10));
        let mut now = Vec::new();
        match std::fs::File::open(&self.sentinel) {
            Ok(mut f) => {
                let _ = f.read_to_end(&mut now);
            }
            Err(e) => d.push(format!("sentinel unreadable: {e}")),
        }
        if now != self.sentinel_bytes {
            d.push("sentinel content changed".into());
        }
        let mtime = std::fs::metadata(&self.sentinel)
            .and_then(|m| m.modified())
            .ok();
        if mtime != Some(self.sentinel_mtime) {
            d.push("sentinel mtime changed".into());
        }
        if std::fs::symlink_metadata(&self.marker).is_ok() {
            d.push(format!("marker {} was created", self.marker.display()));
            let _ = std::fs::remove_file(&self.marker);
        }
        if listing(&self.ro) != self.ro_listing {
            d.push("the read-only grant changed".into());
        }
        let h = self.hits();
        for (name, was, is) in [
            ("tcp", before.tcp, h.tcp),
            ("udp", before.udp, h.udp),
            ("unix", before.unix, h.unix),
        ] {
            if is != was && gap != Some(name) {
                d.push(format!(
                    "the lab's {name} listener was reached ({} hits)",
                    is - was
                ));
            }
        }
        match self.canary.try_wait() {
            Ok(None) => {}
            Ok(Some(s)) => {
                d.push(format!("the canary process died ({s})"));
                if let Ok(c) = std::process::Command::new("sleep").arg("100000").spawn() {
                    self.canary = c;
                }
            }
            Err(e) => d.push(format!("canary process: {e}")),
        }
        // Leftovers of the rw grant are the tool's to make; clear them per case.
        if let Ok(rd) = std::fs::read_dir(&self.rw) {
            for e in rd.flatten() {
                let p = e.path();
                let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
            }
        }
        d
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.canary.kill();
        let _ = self.canary.wait();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
