//! Many frames through one session: buffers, pipelines and bind groups are made once, so each
//! frame costs one upload, one submission and one readback.
//!
//! ```sh
//! cargo run --release --example stream_frames -- [FRAMES] [RESOLUTION]
//! ```

use effnet::{Engine, Model, SessionOptions};
use std::time::Instant;

/// A moving gradient, standing in for a camera or video decoder.
fn frame(t: usize, side: usize) -> Vec<f32> {
    let plane = side * side;
    (0..3 * plane)
        .map(|i| {
            let (c, p) = (i / plane, i % plane);
            let (y, x) = (p / side, p % side);
            (((x + y + 3 * t) % side) as f32 / side as f32 - 0.5) * (c as f32 + 1.0)
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let frames = args.next().transpose()?.unwrap_or(100);
    let side = args.next().transpose()?.unwrap_or(96);
    let engine = Engine::new()?;
    let model = engine.load(Model::synthetic("tf_efficientnet_lite0")?);
    let options = SessionOptions {
        height: side,
        width: side,
        ..model.default_options(1)
    };
    let mut session = model.session(options)?;
    let start = Instant::now();
    let mut last_class = None;
    for t in 0..frames {
        let logits = session.run(&frame(t, side))?.logits;
        let class = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        if class != last_class {
            println!("frame {t}: class {class:?}");
            last_class = class;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{frames} frames at {side}x{side} on {}: {:.1} ms/frame",
        engine.describe(),
        1000.0 * secs / frames.max(1) as f64
    );
    Ok(())
}
