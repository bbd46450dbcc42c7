//! Many frames through one session: buffers, pipelines and bind groups are made once, so each
//! frame costs one upload, one submission and one readback.
//!
//! ```sh
//! cargo run --release --example stream_frames -- [FRAMES] [RESOLUTION] [--synthetic]
//! ```
//!
//! The model is the bundled EfficientNet-Lite0 (ImageNet weights); `--synthetic` uses
//! rule-filled weights instead (the classes then mean nothing).

use effnet::{Engine, Model};
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
    let (flags, numbers): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let synthetic = flags.iter().any(|f| f == "--synthetic");
    if let Some(f) = flags.iter().find(|f| *f != "--synthetic") {
        let usage = "usage: stream_frames [FRAMES] [RESOLUTION] [--synthetic]";
        return Err(format!("unknown option {f}; {usage}").into());
    }
    let mut numbers = numbers.iter().map(|a| a.parse::<usize>());
    let frames = numbers.next().transpose()?.unwrap_or(100);
    let side = numbers.next().transpose()?.unwrap_or(96);
    let engine = Engine::new()?;
    let model = if synthetic {
        Model::synthetic("tf_efficientnet_lite0")?
    } else {
        Model::bundled()?
    };
    let model = engine.load(model)?;
    let mut session = model.session(model.default_options(1).with_resolution(side, side))?;
    let start = Instant::now();
    let mut last_class = None;
    for t in 0..frames {
        let logits = session.run(&frame(t, side))?.logits;
        // Print only changes: a stream's answer is mostly the same from frame to frame.
        let best = model.predictions(&logits, 1)?.remove(0);
        if last_class != Some(best.index) {
            println!("frame {t}: {} ({:.1}%)", best.label, 100.0 * best.prob);
            last_class = Some(best.index);
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
