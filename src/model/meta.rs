//! The metadata keys `effnet convert` writes into a safetensors file, in one module: the
//! converter writes them and `hub.rs`, `identify.rs` and `loader.rs` read them, so none of
//! those needs another for a name.

/// The model's exact name (`torchvision:efficientnet_b0` where timm has the same name).
pub const META_VARIANT: &str = "effnet.variant";
/// The library whose key names the file uses (`timm`, `torchvision`).
pub const META_SOURCE: &str = "effnet.key_scheme";
/// The default resolution and preprocessing the file's model was trained with.
pub(crate) const META_RESOLUTION: &str = "effnet.resolution";
pub(crate) const META_MEAN: &str = "effnet.preprocess.mean";
pub(crate) const META_STD: &str = "effnet.preprocess.std";
pub(crate) const META_CROP_PCT: &str = "effnet.preprocess.crop_pct";
pub(crate) const META_INTERPOLATION: &str = "effnet.preprocess.interpolation";
/// The class names, as a JSON array of strings.
pub const META_LABELS: &str = "effnet.labels";
/// `config.json` where the preprocessing came from a hub config (a fine-tuned model's own),
/// rather than the source's defaults; only then does it override the table on load, so files
/// converted before the table was generated keep getting the sources' transforms.
pub const META_PREPROCESS_ORIGIN: &str = "effnet.preprocess.origin";
