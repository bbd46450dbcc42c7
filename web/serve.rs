//! Serves the browser demo that `web/build.sh` built (`target/web`) on 127.0.0.1:
//! `cargo run --release --example web_serve [-- DIR [PORT]]`, then open the address shown.

#[path = "server.rs"]
mod server;

use std::net::TcpListener;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/web"),
        PathBuf::from,
    );
    let port: u16 = (args.next().and_then(|p| p.parse().ok())).unwrap_or(8000);
    if !dir.join("index.html").is_file() {
        eprintln!(
            "{} has no index.html: build the demo first with `bash web/build.sh`",
            dir.display()
        );
        std::process::exit(1);
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("cannot listen on 127.0.0.1:{port} ({e}); pass another port: -- DIR PORT");
        std::process::exit(1);
    });
    println!("serving {} at http://127.0.0.1:{port}/", dir.display());
    server::serve(listener, dir);
}
