//! The browser demo (`web/`) as a person uses it: `web/build.sh`'s output served on
//! 127.0.0.1 (`web/server.rs`, what `web_serve` runs), opened in headless Chromium through
//! chromedriver with `webdriver.json`'s flags. The page classifies the golden retriever
//! photo; its results must name it, and the window's screenshot is kept in
//! `target/web-demo.png` for a person to look at.
//!
//! Ignored by a plain `cargo test` (it needs the wasm build, chromium and chromedriver);
//! `.ci/run` builds the demo and runs it with `--ignored`.

#[path = "../web/server.rs"]
mod server;
#[path = "support/webdriver.rs"]
mod webdriver;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PHOTO: &str = "n02099601_golden_retriever.JPEG";

/// `$EFFNET_WEB_DIR`, else `target/web` where `web/build.sh` puts the demo.
fn demo_dir() -> PathBuf {
    let dir = std::env::var_os("EFFNET_WEB_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/web"),
        PathBuf::from,
    );
    for file in ["index.html", "pkg/web_demo_bg.wasm", PHOTO] {
        assert!(
            dir.join(file).is_file(),
            "{} lacks {file}: build the demo first with `bash web/build.sh`",
            dir.display()
        );
    }
    dir
}

/// Chromium's flags from `webdriver.json` (what the wasm tests run with) and a window size.
fn browser_args() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/webdriver.json");
    let caps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let args = caps["goog:chromeOptions"]["args"].as_array().unwrap();
    let mut args: Vec<String> = args.iter().map(|a| a.as_str().unwrap().into()).collect();
    args.push("--window-size=900,1000".into());
    args
}

/// Serves the demo, opens it with Chromium's `args` and waits for the page to finish:
/// its state ("done" or "error"), status line, results and how long it took.
fn open_demo(args: &[String], query: &str) -> (String, String, String, Duration, Vec<u8>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let root = demo_dir();
    std::thread::spawn(move || server::serve(listener, root));
    let driver = webdriver::Driver::start();
    let page = driver.session(args);
    page.navigate(&format!("http://127.0.0.1:{port}/{query}"));
    // Model fetch, shader compilation and one 224×224 run take about 20 s on SwiftShader
    // with 2 cores; 300 s leaves room for a loaded machine and still ends a hung page.
    let start = Instant::now();
    let state = loop {
        let state = page.execute("return document.body.dataset.state;");
        let state = state.as_str().unwrap_or_default().to_string();
        if state == "done" || state == "error" {
            break state;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the page is still {state:?} after 300 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let text = |id: &str| {
        let script = format!("return document.getElementById('{id}').innerText;");
        page.execute(&script)
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (status, results) = (text("status"), text("results"));
    (state, status, results, start.elapsed(), page.screenshot())
}

#[test]
#[ignore = "needs web/build.sh's output, chromium and chromedriver; .ci/run runs it"]
fn demo_page_classifies_the_golden_retriever() {
    let (state, status, results, took, png) =
        open_demo(&browser_args(), &format!("?image={PHOTO}"));
    let shot = concat!(env!("CARGO_MANIFEST_DIR"), "/target/web-demo.png");
    std::fs::write(shot, &png).unwrap();
    eprintln!(
        "{:.1} s: {status}\n{results}\nscreenshot: {shot}",
        took.as_secs_f64()
    );
    assert_eq!(state, "done", "the page failed: {status}");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
    let top = results.lines().next().unwrap_or_default();
    assert!(
        top.starts_with("golden retriever"),
        "top label {top:?}, expected golden retriever; all: {results}"
    );
}

#[test]
#[ignore = "needs web/build.sh's output, chromium and chromedriver; .ci/run runs it"]
fn demo_page_says_when_the_browser_has_no_webgpu() {
    let args: Vec<String> = (browser_args().into_iter())
        .filter(|a| a != "--enable-unsafe-webgpu")
        .chain(["--disable-features=WebGPUService".to_string()])
        .collect();
    let (state, status, _, _, _) = open_demo(&args, "");
    eprintln!("without WebGPU: {status}");
    assert_eq!(state, "error", "{status}");
    assert!(status.contains("WebGPU"), "{status}");
}
