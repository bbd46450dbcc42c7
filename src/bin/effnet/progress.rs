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

/// A bar over `total` steps of something other than images (e.g. training epochs).
pub fn count_bar(total: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let template = format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}
