#!/usr/bin/env bash
# Builds the browser demo into target/web (or $1): the web_demo example for wasm32, its
# JavaScript glue from wasm-bindgen, the page, the bundled Lite0 and the sample photos.
# Needs `rustup target add wasm32-unknown-unknown` and wasm-bindgen-cli of the version in
# Cargo.lock (`cargo install wasm-bindgen-cli --version VERSION`). Then serve it with
# `cargo run --release --example web_serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/web}"

want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || true
if [ "$have" != "$want" ]; then
    echo "wasm-bindgen-cli $want is needed (found: ${have:-none}): cargo install wasm-bindgen-cli --version $want" >&2
    exit 1
fi
cargo build --release --target wasm32-unknown-unknown --example web_demo
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" \
    target/wasm32-unknown-unknown/release/examples/web_demo.wasm
cp web/index.html assets/models/tf_efficientnet_lite0.f16.safetensors assets/images/*.JPEG "$out/"
echo "built $out: serve it with cargo run --release --example web_serve"
