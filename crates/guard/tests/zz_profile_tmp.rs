#![allow(dead_code, clippy::all)]
use agentbox_guard::secrets;
#[path = "../src/secret_checks.rs"]
mod secret_checks;
#[path = "../src/secret_rules.rs"]
mod secret_rules;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn string(&mut self, a: &str, n: usize) -> String {
        let a = a.as_bytes();
        (0..n)
            .map(|_| a[(self.next() % a.len() as u64) as usize] as char)
            .collect()
    }
}

#[test]
fn profile() {
    let mut r = Rng(1);
    let b64 = r.string(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        1_000_000,
    );
    let prose = "Lorem ipsum dolor sit amet, password: key token secret pass über größe naïve — https://x.io/a?b=c ".repeat(10000);
    let code = "    let api_key = config.get(\"service\").unwrap_or_default(); // token=abc\n    x.password = y;\n".repeat(12000);
    let a_run = "A".repeat(1_000_000);
    let begins = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n".repeat(25_000);
    let kv = "password=password=key=token=secret=".repeat(30_000);
    let digits = "1234567890:AA".repeat(80_000);
    let eyj = "eyJhbGciOiJIUzI1NiJ9.".repeat(50_000);
    let hexes = "0123456789abcdef-".repeat(60_000);
    for (name, text) in [
        ("b64", &b64),
        ("prose", &prose),
        ("code", &code),
        ("a_run", &a_run),
        ("begins", &begins),
        ("kv", &kv),
        ("digits", &digits),
        ("eyj", &eyj),
        ("hexes", &hexes),
    ] {
        let mut times = Vec::new();
        for rule in secret_rules::RULES {
            let re = regex::Regex::new(rule.pattern).unwrap();
            let t = std::time::Instant::now();
            let n = re.captures_iter(text).count();
            times.push((t.elapsed(), rule.id, n));
        }
        times.sort();
        times.reverse();
        println!("== {name} {} bytes", text.len());
        for (d, id, n) in times.iter().take(4) {
            println!("{d:>12?} {id} {n}");
        }
    }
}
