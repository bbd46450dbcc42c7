//! Which activation layout a session runs in (`kernels::layout`), settled before anything
//! is allocated: the tuning's, or a chosen kernel's (`candidates::session_tuning`); and
//! where NHWC has no kernel for one of the graph's ops, NCHW after all for a family's
//! session, an error for a kernel chosen by name (which would otherwise test nothing).

use crate::graph::Graph;
use crate::kernels::candidates::{Choice, missing_kernel, session_tuning};
use crate::kernels::{Layout, Tuning, fuse};
use crate::{Error, Result};

/// The tuning and graph (fused as it runs) of a session of `graph` under `choice` on an
/// adapter tuned as `tuning`.
pub(super) fn laid_out(
    tuning: &Tuning,
    graph: Graph,
    choice: Choice,
    keep_stages: bool,
) -> Result<(Tuning, Graph)> {
    let tuning = session_tuning(tuning, choice);
    let graph = fuse(graph, &tuning, choice, keep_stages);
    let Some(kind) = missing_kernel(&graph, &tuning, choice.family()) else {
        return Ok((tuning, graph));
    };
    if let Choice::Kernel(k) = choice {
        let what = format!(
            "{k} runs NHWC, and there is no NHWC kernel for its {}",
            kind.name()
        );
        return Err(Error::Gpu(format!("{what} op")));
    }
    let tuning = Tuning {
        gpu_layout: Layout::Nchw,
        ..tuning
    };
    let graph = fuse(graph, &tuning, choice, keep_stages);
    Ok((tuning, graph))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ops::classifier;
    use crate::kernels::{Family, Kernel, OpKind};

    /// A head wider than the NHWC classifier pools (4096 features): a family's session runs
    /// NCHW instead, the NHWC classifier chosen by name is an error; a head it takes stays
    /// NHWC.
    #[test]
    fn sessions_without_an_nhwc_kernel_run_nchw() {
        let nhwc = Tuning {
            gpu_layout: Layout::Nhwc,
            ..Tuning::default()
        };
        let family = Choice::Family(Family::Gpu);
        let wide = classifier::case("wide", 4100, 2, 10).graph;
        let (tuning, _) = laid_out(&nhwc, wide.clone(), family, false).unwrap();
        assert_eq!(tuning.gpu_layout, Layout::Nchw);
        let chosen = Kernel::gpu(OpKind::Classifier).variant("nhwc");
        assert!(laid_out(&Tuning::default(), wide, Choice::Kernel(chosen), false).is_err());
        let b0_head = classifier::case("b0", 1280, 7, 1000).graph;
        let (tuning, _) = laid_out(&nhwc, b0_head, family, false).unwrap();
        assert_eq!(tuning.gpu_layout, Layout::Nhwc);
    }
}
