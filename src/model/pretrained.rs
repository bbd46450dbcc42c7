//! The evaluation transform of each name's default pretrained weights: resolution, crop,
//! interpolation and normalization, as timm's `pretrained_cfg` and torchvision's DEFAULT
//! weights give them. The numbers live in `preprocess.tsv`, written by
//! `tools/make_preprocess_table.py` from the libraries themselves, never typed by hand.

use super::arch::{Interpolation, Pipeline, PreprocessSpec, Source};

static TABLE: &str = include_str!("preprocess.tsv");

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Pretrained {
    pub name: String,
    pub source: Source,
    /// timm's default pretrained tag, or torchvision's DEFAULT weights.
    pub tag: String,
    /// The resolution `classify` runs at by default: the test size where the source has one.
    pub resolution: usize,
    pub spec: PreprocessSpec,
    /// The shorter side after the resize at `resolution`, as the source computes it.
    pub resize: usize,
}

/// The row of `name` from `source`.
pub fn pretrained(name: &str, source: Source) -> Option<Pretrained> {
    rows().find(|p| p.name == name && p.source == source)
}

/// Every row, in table order.
pub fn rows() -> impl Iterator<Item = Pretrained> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name\t"))
        .map(|l| parse_row(l).unwrap_or_else(|| panic!("bad row in preprocess.tsv: {l}")))
}

fn parse_row(line: &str) -> Option<Pretrained> {
    let c: Vec<&str> = line.split('\t').collect();
    let [
        name,
        source,
        tag,
        size,
        crop,
        test,
        test_crop,
        interp,
        mean,
        std,
        resize,
    ] = c[..]
    else {
        return None;
    };
    let num = |s: &str| s.parse::<f64>().ok();
    let opt = |s: &str| (s != "-").then(|| num(s)).flatten();
    let triple = |s: &str| -> Option<[f32; 3]> {
        let v: Vec<f32> = s.split(',').filter_map(|x| x.parse().ok()).collect();
        v.try_into().ok()
    };
    let test = opt(test);
    let crop_pct = if test.is_some() {
        opt(test_crop).or(num(crop))?
    } else {
        num(crop)?
    };
    Some(Pretrained {
        name: name.to_string(),
        source: match source {
            "timm" => Source::Timm,
            "torchvision" => Source::Torchvision,
            _ => return None,
        },
        tag: tag.to_string(),
        resolution: test.or(num(size))? as usize,
        spec: PreprocessSpec {
            mean: triple(mean)?,
            std: triple(std)?,
            crop_pct,
            interpolation: Interpolation::parse(interp)?,
            pipeline: Pipeline::Pil,
        },
        resize: resize.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sources_known_differences_are_in_the_table() {
        let lite4 = pretrained("tf_efficientnet_lite4", Source::Timm).unwrap();
        assert_eq!((lite4.resolution, lite4.resize), (380, 413));
        assert_eq!(lite4.spec.interpolation, Interpolation::Bilinear);
        let v2s = pretrained("efficientnet_v2_s", Source::Torchvision).unwrap();
        assert_eq!((v2s.resolution, v2s.resize), (384, 384));
        assert_eq!(v2s.spec.interpolation, Interpolation::Bilinear);
        let b3 = pretrained("efficientnet_b3", Source::Timm).unwrap();
        assert_eq!(
            (b3.resolution, b3.spec.crop_pct),
            (320, 1.0),
            "test size and crop"
        );
    }
}
