//! A static file server for the browser demo, on this machine only: what `web_serve` runs
//! and the demo test starts. Browsers load WebAssembly only over HTTP, with the right type.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

/// Serves the files under `root` to every connection on `listener`, one thread each, forever.
pub fn serve(listener: TcpListener, root: PathBuf) {
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || {
            // A client that hangs up early is no concern of the server's.
            let _ = answer(stream, &root);
        });
    }
}

/// Answers one GET (a connection carries one request: `Connection: close`).
fn answer(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let file = resolve(root, path);
    let (status, kind, body) = match file.as_deref().map(std::fs::read) {
        Some(Ok(body)) => ("200 OK", content_type(file.as_deref().unwrap()), body),
        _ => (
            "404 Not Found",
            "text/plain",
            format!("{path}: not found\n").into_bytes(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)
}

/// The file a URL path names under `root` (`/` is `index.html`); `None` for a path that
/// would leave `root`.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let rel = match url_path.trim_start_matches('/') {
        "" => "index.html",
        rel => rel,
    };
    let rel = Path::new(rel);
    let inside = rel.components().all(|c| matches!(c, Component::Normal(_)));
    inside.then(|| root.join(rel))
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("JPEG" | "jpeg" | "jpg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
