//! No network from inside: wasi:sockets is linked (components import it) but denied
//! by the context, and name lookup is off (catalog CAP-01, CAP-03). The canary is a
//! loopback listener that must see zero connections and zero datagrams.

mod common;
use common::*;
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn python_sockets_and_dns_are_denied() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let udp = UdpSocket::bind(("127.0.0.1", port)).expect("udp bind");
    udp.set_nonblocking(true).expect("nonblocking");
    listener.set_nonblocking(true).expect("nonblocking");
    let hits = Arc::new(AtomicUsize::new(0));

    let sb = Sandbox::new();
    let wasm = fixture("py_net");
    sb.manifest(&format!("version = 1\n[tools.n]\ncomponent = \"{}\"\nrationale = \"probe\"\n[tools.n.limits]\nmemory = \"128MiB\"\n", wasm.display()));
    let (out, report) = sb.run_report(&["--input", &format!("{{\"port\": {port}}}")]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    for k in ["tcp", "udp", "dns"] {
        let r = v[k].as_str().unwrap_or("missing");
        assert_ne!(r, "ok", "{k} was allowed: {v}");
        assert_ne!(r, "missing", "{k} not attempted: {v}");
    }
    while listener.accept().is_ok() {
        hits.fetch_add(1, Ordering::SeqCst);
    }
    let mut buf = [0u8; 64];
    while udp.recv_from(&mut buf).is_ok() {
        hits.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the canary listener saw traffic"
    );
    assert_eq!(report["http"]["allowed"], 0);
}
