//! The ImageNet-1k classes: the names a 1000-class model's outputs mean when its checkpoint
//! does not name them itself (timm and torchvision ImageNet weights do not).
//!
//! ```
//! let classes = effnet::imagenet::classes();
//! assert_eq!(classes.len(), effnet::imagenet::NUM_CLASSES);
//! assert_eq!(classes[1].wnid, "n01443537");
//! assert!(classes[1].label.starts_with("goldfish"));
//! ```

use std::sync::OnceLock;

/// How many classes ImageNet-1k has.
pub const NUM_CLASSES: usize = 1000;

/// The table: index, WordNet id, label (tab separated, with a header), embedded so that an
/// installed program needs no files.
static TSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/imagenet_classes.tsv"
));

/// One ImageNet-1k class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Class {
    /// The WordNet synset id, e.g. `n01443537`; ImageNet's folders are named by it.
    pub wnid: &'static str,
    /// The human-readable label, e.g. `goldfish, Carassius auratus`.
    pub label: &'static str,
}

/// The 1000 classes in class index order.
pub fn classes() -> &'static [Class] {
    // Parsed once: models look labels up per prediction.
    static CLASSES: OnceLock<Vec<Class>> = OnceLock::new();
    CLASSES.get_or_init(|| {
        TSV.lines()
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split('\t').skip(1);
                Some(Class {
                    wnid: cols.next()?,
                    label: cols.next()?,
                })
            })
            .collect()
    })
}
