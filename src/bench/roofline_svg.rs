//! The roofline as a drawing (`effnet bench --roofline FILE.svg`): log-log axes of arithmetic
//! intensity (FLOP per compulsory DRAM byte) and GFLOP/s, the device's bandwidth and compute
//! ceilings (`--peak`), and each kernel kind a point at its achieved rate, labelled with
//! the fraction of its bound it reaches. A kind without a time (no timestamp queries) is a
//! hollow marker on its bound. Plain SVG 1.1 text, no dependencies.

use super::roofline::{KindTime, Peak};
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 500.0;
/// Plot area margins: left (the GFLOP/s labels), right, top (the title), bottom.
const MARGIN: (f64, f64, f64, f64) = (80.0, 30.0, 56.0, 60.0);

/// Decades shown on each axis: `lo` ..= `hi` as powers of ten.
#[derive(Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
}

impl Axis {
    /// The decades around every value of `values` (positive ones), with room to spare.
    fn around(values: impl Iterator<Item = f64>) -> Axis {
        let logs: Vec<f64> = values.filter(|v| *v > 0.0).map(f64::log10).collect();
        let lo = logs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Axis {
            lo: (lo - 0.3).floor(),
            hi: (hi + 0.3).ceil().max(lo.floor() + 1.0),
        }
    }

    /// Where `v` falls, from 0 (the lowest decade) to 1 (the highest).
    fn at(&self, v: f64) -> f64 {
        (v.max(1e-30).log10() - self.lo) / (self.hi - self.lo)
    }
}

/// The drawing for `kinds` under `peak`, titled `title` over `subtitle` (the adapter).
pub(crate) fn svg(kinds: &[KindTime], peak: Peak, title: &str, subtitle: &str) -> String {
    let ridge = peak.gflop_per_s / peak.gb_per_s;
    let intensities = kinds.iter().map(|k| k.intensity);
    let x = Axis::around(intensities.chain([ridge / 4.0, ridge * 4.0]));
    let rates = kinds.iter().map(|k| k.gflop_per_s);
    let floor = 10f64.powf(x.lo) * peak.gb_per_s;
    let y = Axis::around(rates.chain([peak.gflop_per_s, floor]));
    let (l, r, t, b) = MARGIN;
    let (w, h) = (WIDTH - l - r, HEIGHT - t - b);
    let px = |v: f64| l + w * x.at(v);
    let py = |v: f64| t + h * (1.0 - y.at(v));
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n<text x=\"{l}\" y=\"22\" font-size=\"15\">{}</text>\n\
         <text x=\"{l}\" y=\"42\" fill=\"#555\">{}</text>\n",
        escape(title),
        escape(subtitle)
    );
    axes(&mut s, x, y, (&px, &py));
    // The ceilings: bandwidth up to the ridge point, compute beyond it.
    let x0 = 10f64.powf(x.lo);
    let x1 = 10f64.powf(x.hi);
    let _ = writeln!(
        s,
        "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{:.1},{:.1} \
         {:.1},{:.1} {:.1},{:.1}\"/>",
        px(x0),
        py(x0 * peak.gb_per_s),
        px(ridge),
        py(peak.gflop_per_s),
        px(x1),
        py(peak.gflop_per_s)
    );
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#c0392b\">{:.0} GFLOP/s, {:.0} GB/s</text>",
        px(ridge) + 6.0,
        py(peak.gflop_per_s) - 6.0,
        peak.gflop_per_s,
        peak.gb_per_s
    );
    for k in kinds {
        point(&mut s, k, peak, (&px, &py));
    }
    s.push_str("</svg>\n");
    s
}

type Place<'a> = (&'a dyn Fn(f64) -> f64, &'a dyn Fn(f64) -> f64);

/// The frame, the decade grid lines and their labels, and the axis titles.
fn axes(s: &mut String, x: Axis, y: Axis, (px, py): Place) {
    let (l, r, t, b) = MARGIN;
    let (right, bottom) = (WIDTH - r, HEIGHT - b);
    let _ = writeln!(
        s,
        "<rect x=\"{l}\" y=\"{t}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>",
        right - l,
        bottom - t
    );
    for d in (x.lo as i32)..=(x.hi as i32) {
        let v = px(10f64.powi(d));
        let _ = writeln!(
            s,
            "<line x1=\"{v:.1}\" y1=\"{t}\" x2=\"{v:.1}\" y2=\"{bottom}\" stroke=\"#ddd\"/>\
             <text x=\"{v:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            bottom + 18.0,
            decade(d)
        );
    }
    for d in (y.lo as i32)..=(y.hi as i32) {
        let v = py(10f64.powi(d));
        let _ = writeln!(
            s,
            "<line x1=\"{l}\" y1=\"{v:.1}\" x2=\"{right}\" y2=\"{v:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            l - 6.0,
            v + 4.0,
            decade(d)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">arithmetic intensity (FLOP per \
         compulsory DRAM byte)</text>\n<text transform=\"translate(20,{:.1}) rotate(-90)\" \
         text-anchor=\"middle\">GFLOP/s</text>",
        (l + right) / 2.0,
        HEIGHT - 14.0,
        (t + bottom) / 2.0
    );
}

/// A kind's marker and label: filled at its achieved rate, or hollow on its bound when it
/// has no time.
fn point(s: &mut String, k: &KindTime, peak: Peak, (px, py): Place) {
    let bound = peak.bound(k.intensity);
    let timed = k.gflop_per_s > 0.0;
    let (rate, fill, label) = if timed {
        let share = 100.0 * k.gflop_per_s / bound;
        (k.gflop_per_s, "#2471a3", format!("{} {share:.1}%", name(k)))
    } else {
        (bound, "none", format!("{} (no time)", name(k)))
    };
    let (cx, cy) = (px(k.intensity), py(rate));
    let _ = writeln!(
        s,
        "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"5\" fill=\"{fill}\" stroke=\"#2471a3\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        cx + 8.0,
        cy + 4.0,
        escape(&label)
    );
}

fn name(k: &KindTime) -> String {
    serde_json::to_value(k.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// 10^d as a label: 0.01, 0.1, 1, 10, …, 1e5.
fn decade(d: i32) -> String {
    match d {
        -3..=0 => format!("{}", 10f64.powi(d)),
        1..=4 => format!("{}", 10i64.pow(d as u32)),
        _ => format!("1e{d}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::{Peak, svg};
    use crate::bench::cost::Role;
    use crate::bench::roofline::kinds;

    /// A kind at the compute roof sits on the roof's line; a kind without a time is a hollow
    /// marker on its bound; both are labelled, and the title is escaped.
    #[test]
    fn points_sit_under_their_ceilings() {
        let peak = Peak {
            gflop_per_s: 1000.0,
            gb_per_s: 100.0,
        };
        // Intensity 100 FLOP/B (past the ridge at 10): 1e9 FLOP in 1 ms is 1000 GFLOP/s.
        let timed = kinds(
            &[Role::Expand],
            &[(1_000_000_000, 10_000_000)],
            Some(&[1.0]),
            Some(peak),
        );
        let untimed = kinds(&[Role::Depthwise], &[(1_000, 1_000)], None, Some(peak));
        let all = [timed[0].clone(), untimed[0].clone()];
        let text = svg(&all, peak, "B0 <bs1>", "an adapter");
        assert!(
            text.starts_with("<svg") && text.ends_with("</svg>\n"),
            "{text}"
        );
        assert!(
            text.contains("expand 100.0%") && text.contains("depthwise (no time)"),
            "{text}"
        );
        assert!(text.contains("B0 &lt;bs1&gt;"), "{text}");
        // The roof's y (the polyline's last point) is the timed point's y.
        let roof_y = text
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let roof_y = roof_y
            .split_whitespace()
            .last()
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap();
        let circle_y = text
            .split("cy=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(roof_y, circle_y, "{text}");
    }
}
