//! The CPU family's kernels against the CPU reference on the real-shape cases of each op
//! (`kernels::ops::*::cases`), under every tuning the tuner may pick (`check::cases`).

use super::check;
use crate::kernels::ops;

mod conv {
    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        super::check::cases(&super::ops::conv::cases());
    }
}

mod depthwise {
    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        super::check::cases(&super::ops::depthwise::cases());
    }
}

mod pointwise {
    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        super::check::cases(&super::ops::pointwise::cases());
    }
}

mod se {
    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        super::check::cases(&super::ops::se::cases());
    }
}

mod classifier {
    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        super::check::cases(&super::ops::classifier::cases());
    }
}
