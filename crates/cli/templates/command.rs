//! {{name}}: an agentbox command in Rust: a program with main.
//! Build: agentbox build .   Run: agentbox run agentbox.toml -- Ada

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".into());
    println!("Hello, {name}!");
}
