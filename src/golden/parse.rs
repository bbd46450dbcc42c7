//! Reading a golden file: serde takes the JSON apart, then the checks its types cannot make
//! (shapes, sample positions, row widths), each with a message that names the field.

use super::{Golden, GoldenStage, bad};
use crate::model::Source;
use crate::{Error, Result};
use serde::{Deserialize, Deserializer, de};
use serde_json::{Value, error::Category};
use std::path::Path;

/// A golden file as its JSON has it. Serde checks presence and types (its messages name the
/// line and column); `Golden::parse` checks what types cannot: shapes, sample positions,
/// row widths.
#[derive(Deserialize)]
#[serde(expecting = "a golden file (a JSON object)")]
struct RawGolden {
    #[serde(deserialize_with = "source")]
    source: String,
    #[serde(deserialize_with = "model")]
    model: String,
    #[serde(deserialize_with = "input_shape")]
    input_shape: Vec<u64>,
    #[serde(deserialize_with = "params")]
    params: u64,
    #[serde(deserialize_with = "stages")]
    stages: Vec<RawStage>,
    #[serde(deserialize_with = "logits")]
    logits: Vec<Vec<f64>>,
    /// Absent or null: the width of the logits rows.
    #[serde(default, deserialize_with = "num_classes")]
    num_classes: Option<u64>,
}

/// A stage as golden files and seed fixtures write it (`src/seed.rs` reads the same).
#[derive(Debug, Deserialize)]
pub(crate) struct RawStage {
    name: String,
    shape: Vec<u64>,
    rms: f64,
    /// `[n, c, y, x, value]`; a list, not `[f64; 5]`, so a wrong length gets our message.
    samples: Vec<Vec<f64>>,
}

/// Deserializes a field as its type, naming the field in the error: serde's own type errors
/// say only what was found and where (`invalid type: string "x", expected u64 at line 1`).
macro_rules! named {
    ($($field:ident: $t:ty),* $(,)?) => {$(
        fn $field<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<$t, D::Error> {
            <$t>::deserialize(d)
                .map_err(|e| de::Error::custom(format!("`{}`: {e}", stringify!($field))))
        }
    )*};
}

named! {
    source: String,
    model: String,
    input_shape: Vec<u64>,
    params: u64,
    stages: Vec<RawStage>,
    logits: Vec<Vec<f64>>,
}

/// `num_classes` may be null; anything but an integer is refused with the field's name,
/// which serde's own type error would not give.
fn num_classes<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => (v.as_u64().map(Some))
            .ok_or_else(|| de::Error::custom(format!("`num_classes` must be an integer, got {v}"))),
    }
}

fn dims4(path: &Path, v: &[u64], what: &str) -> Result<[usize; 4]> {
    match *v {
        [n, c, h, w] if v.iter().all(|&x| x > 0 && x <= 1 << 20) => {
            Ok([n as usize, c as usize, h as usize, w as usize])
        }
        _ => Err(bad(
            path,
            format!("`{what}` must be 4 positive integers [N, C, H, W], got {v:?}"),
        )),
    }
}

/// A stage with its shape and sample positions checked.
pub(crate) fn parse_stage(path: &Path, raw: RawStage) -> Result<GoldenStage> {
    let name = raw.name;
    let shape = dims4(path, &raw.shape, &format!("stages.{name}.shape"))?;
    let mut samples = Vec::with_capacity(raw.samples.len());
    for s in &raw.samples {
        let &[n, c, y, x, value] = &s[..] else {
            return Err(bad(
                path,
                format!("stage {name}: a sample must be [n, c, y, x, value], got {s:?}"),
            ));
        };
        let idx = [n as usize, c as usize, y as usize, x as usize];
        if idx.iter().zip(&shape).any(|(&i, &d)| i >= d) || [n, c, y, x].iter().any(|&i| i < 0.0) {
            return Err(bad(
                path,
                format!("stage {name}: sample {s:?} lies outside shape {shape:?}"),
            ));
        }
        samples.push((idx, value));
    }
    Ok(GoldenStage {
        name,
        shape,
        rms: raw.rms,
        samples,
    })
}

/// The logits rows concatenated, and their common width; `batch` rows, none empty.
fn parse_logits(path: &Path, rows: Vec<Vec<f64>>, batch: usize) -> Result<(Vec<f64>, usize)> {
    if rows.len() != batch {
        return Err(bad(
            path,
            format!("{} logits rows for batch {batch}", rows.len()),
        ));
    }
    let width = rows.first().map_or(0, Vec::len);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
        return Err(bad(
            path,
            format!("logits row {i} has {} values, row 0 has {width}", r.len()),
        ));
    }
    if width == 0 {
        return Err(bad(path, "logits rows are empty"));
    }
    Ok((rows.concat(), width))
}

impl Golden {
    pub fn load(path: &Path) -> Result<Golden> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    /// A golden file's `text`, read elsewhere (a browser has no files); `path` names it in
    /// errors.
    pub fn parse(path: &Path, text: &str) -> Result<Golden> {
        let raw = match serde_json::from_str::<RawGolden>(text) {
            Err(e) if e.classify() != Category::Data => {
                return Err(bad(path, format!("not JSON: {e}")));
            }
            // Serde also takes a struct's fields as a list, in order; a golden file is an
            // object, as it always had to be.
            _ if !text.trim_start().starts_with('{') => {
                return Err(bad(path, "a golden file must be a JSON object"));
            }
            raw => raw.map_err(|e| bad(path, e.to_string()))?,
        };
        let source = match raw.source.as_str() {
            "timm" => Source::Timm,
            "torchvision" => Source::Torchvision,
            other => {
                return Err(bad(
                    path,
                    format!("`source` must be \"timm\" or \"torchvision\", got {other:?}"),
                ));
            }
        };
        let input_shape = dims4(path, &raw.input_shape, "input_shape")?;
        if input_shape[1] != 3 {
            return Err(bad(
                path,
                format!("input must have 3 channels, got {:?}", input_shape),
            ));
        }
        let stages = (raw.stages.into_iter())
            .map(|s| parse_stage(path, s))
            .collect::<Result<Vec<_>>>()?;
        let (logits, width) = parse_logits(path, raw.logits, input_shape[0])?;
        let num_classes = raw.num_classes.map_or(width, |n| n as usize);
        // With a classifier each row holds its classes; without one (0) the pooled head
        // features, whose width only the model knows (checked by `verify`).
        if num_classes != 0 && num_classes != width {
            return Err(bad(
                path,
                format!("num_classes is {num_classes} but the logits rows have {width} values"),
            ));
        }
        Ok(Golden {
            path: path.to_path_buf(),
            source,
            model: raw.model,
            input_shape,
            params: raw.params,
            num_classes,
            stages,
            logits,
        })
    }
}
