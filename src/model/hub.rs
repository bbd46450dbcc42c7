//! What a checkpoint says about itself beyond its tensors: a timm hub `config.json` beside the
//! file (`architecture`, `num_classes`, `pretrained_cfg`, `label_names`), or the metadata that
//! `effnet convert` writes into a safetensors file (which carries the same facts along).

use super::arch::{Arch, Interpolation};
use super::meta::META_VARIANT;
use crate::checkpoint::StateDict;
use crate::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// The metadata keys a hub config fills (defined in `meta`).
pub(crate) use super::meta::{
    META_CROP_PCT, META_INTERPOLATION, META_LABELS, META_MEAN, META_PREPROCESS_ORIGIN,
    META_RESOLUTION, META_STD,
};

/// The largest `config.json` read: timm's are a few KiB, with 21k label names about 1 MiB.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// The facts a config or a converted file's metadata gives; each is optional.
#[derive(Clone, Debug, Default)]
pub(crate) struct Described {
    /// Where they came from, for messages.
    pub origin: String,
    pub architecture: Option<String>,
    pub num_classes: Option<usize>,
    pub labels: Option<Vec<String>>,
    pub preprocess: Overrides,
}

/// Preprocessing that replaces the source's defaults (a fine-tuned model may use its own).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Overrides {
    pub resolution: Option<usize>,
    pub crop_pct: Option<f64>,
    pub interpolation: Option<Interpolation>,
    pub mean: Option<[f32; 3]>,
    pub std: Option<[f32; 3]>,
}

impl Overrides {
    pub(crate) fn apply(&self, arch: &mut Arch) {
        let p = &mut arch.preprocess;
        arch.resolution = self.resolution.unwrap_or(arch.resolution);
        p.crop_pct = self.crop_pct.unwrap_or(p.crop_pct);
        p.interpolation = self.interpolation.unwrap_or(p.interpolation);
        p.mean = self.mean.unwrap_or(p.mean);
        p.std = self.std.unwrap_or(p.std);
    }
}

/// The converted file's metadata where it has ours, else the `config.json` beside `path`.
pub(crate) fn describe(path: &Path, sd: &StateDict) -> Result<Option<Described>> {
    if sd.metadata.contains_key(META_VARIANT) {
        return from_metadata(path, sd).map(Some);
    }
    let config = path.with_file_name("config.json");
    if path.file_name().is_none() || !config.is_file() {
        return Ok(None);
    }
    let bad = |m: String| Error::bad_file(&config, m);
    let size = std::fs::metadata(&config)
        .map_err(|e| Error::io(&config, e))?
        .len();
    if size > MAX_CONFIG_BYTES {
        return Err(bad(format!("{size} bytes is too large for a model config")));
    }
    let text = std::fs::read_to_string(&config).map_err(|e| Error::io(&config, e))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not valid JSON ({e}); fix or remove it")))?;
    from_config(&json, &config.display().to_string())
        .map_err(bad)
        .map(Some)
}

/// timm's hub `config.json`.
fn from_config(json: &Value, origin: &str) -> std::result::Result<Described, String> {
    let cfg = &json["pretrained_cfg"];
    let size = |v: &Value| v.as_array().and_then(|a| a.last()).and_then(Value::as_u64);
    let test = size(&cfg["test_input_size"]);
    let crop = |k: &str| cfg[k].as_f64().filter(|c| *c > 0.0 && *c <= 4.0);
    if let Some(mode) = cfg["crop_mode"].as_str().filter(|m| *m != "center") {
        return Err(format!(
            "crop_mode `{mode}` is not supported (only `center`); evaluate this model in timm"
        ));
    }
    let interpolation = match cfg["interpolation"].as_str() {
        None => None,
        Some(s) => Some(Interpolation::parse(s).ok_or(format!(
            "interpolation `{s}` is not supported (bicubic or bilinear)"
        ))?),
    };
    let labels = match &json["label_names"] {
        Value::Null => None,
        v => Some(string_list(v).ok_or("label_names must be a list of strings")?),
    };
    Ok(Described {
        origin: origin.to_string(),
        architecture: json["architecture"].as_str().map(str::to_string),
        num_classes: (json["num_classes"].as_u64()).map(|n| n as usize),
        labels,
        preprocess: Overrides {
            resolution: (test.or(size(&cfg["input_size"])))
                .filter(|s| (1..=1_000_000).contains(s))
                .map(|s| s as usize),
            crop_pct: if test.is_some() {
                crop("test_crop_pct").or(crop("crop_pct"))
            } else {
                crop("crop_pct")
            },
            interpolation,
            mean: triple(&cfg["mean"]),
            // A zero or negative std would divide by zero: keep the source's.
            std: triple(&cfg["std"]).filter(|s| s.iter().all(|v| *v > 0.0)),
        },
    })
}

fn from_metadata(path: &Path, sd: &StateDict) -> Result<Described> {
    let m = &sd.metadata;
    let bad = |key: &str| {
        Error::bad_file(
            path,
            format!("metadata `{key}` is malformed; convert the original checkpoint again"),
        )
    };
    let floats = |key: &str| -> Result<Option<[f32; 3]>> {
        m.get(key).map_or(Ok(None), |s| {
            let v: Vec<f32> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            v.try_into().map(Some).map_err(|_| bad(key))
        })
    };
    let parsed = |key: &str| {
        m.get(key)
            .map(|s| s.trim().parse::<f64>().map_err(|_| bad(key)))
    };
    let labels = match m.get(META_LABELS) {
        None => None,
        Some(s) => serde_json::from_str::<Value>(s)
            .ok()
            .as_ref()
            .and_then(string_list)
            .map(Some)
            .ok_or_else(|| bad(META_LABELS))?,
    };
    let interpolation = match m.get(META_INTERPOLATION) {
        None => None,
        Some(s) => Some(Interpolation::parse(s).ok_or_else(|| bad(META_INTERPOLATION))?),
    };
    let own = m
        .get(META_PREPROCESS_ORIGIN)
        .is_some_and(|o| o == "config.json");
    Ok(Described {
        origin: "the file's metadata".into(),
        architecture: m.get(META_VARIANT).cloned(),
        num_classes: None,
        labels,
        preprocess: if !own {
            Overrides::default()
        } else {
            Overrides {
                resolution: (parsed(META_RESOLUTION).transpose()?)
                    .filter(|r| *r >= 1.0 && *r <= 1e6)
                    .map(|r| r as usize),
                crop_pct: parsed(META_CROP_PCT).transpose()?,
                interpolation,
                mean: floats(META_MEAN)?,
                std: floats(META_STD)?,
            }
        },
    })
}

fn triple(v: &Value) -> Option<[f32; 3]> {
    let a = v.as_array()?;
    let f: Vec<f32> = a
        .iter()
        .filter_map(|x| x.as_f64().map(|x| x as f32))
        .collect();
    f.try_into().ok()
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// Class names from a text file: one per line, in class index order. Blank lines at the end
/// are ignored; a blank line before the last name is a class with an empty name.
pub fn read_labels(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut labels: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    // Editors leave blank lines at the end; they are not classes. A blank line before the
    // last name stays a class (with an empty name), since dropping it would shift every
    // later class index.
    while labels.last().is_some_and(String::is_empty) {
        labels.pop();
    }
    if labels.is_empty() || labels.iter().all(String::is_empty) {
        return Err(Error::bad_file(path, "no class names; write one per line"));
    }
    Ok(labels)
}
