//! Progress bars on stderr. indicatif draws nothing when stderr is not a terminal, so
//! scripts and `--json` consumers see clean output.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` images with their rate; hidden for a single batch, which is over
/// before a bar would say anything.
pub fn image_bar(total: u64, batch: usize) -> ProgressBar {
    if total <= batch as u64 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} images, {per_sec} (eta {eta}) {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar
}
