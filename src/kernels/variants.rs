//! Which kernel variant of each op an adapter runs, per family: what `effnet tune` picked
//! by timing the variants of `candidates::CANDIDATES` against their family's main kernel
//! (`bench::tune`), kept in the adapter's [`Tuning`](super::Tuning) and its cache entry.
//! `describe` tries the picked variant first and goes on down the list for shapes it does
//! not take. Names are held inline (a [`Tuning`](super::Tuning) is `Copy` and read from a
//! file): a name the list does not hold, from a cache another build wrote, picks nothing.

use super::{Family, Kernel, OpKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The longest variant name a pick can hold (a test checks every candidate's fits).
pub(crate) const MAX_NAME: usize = 23;

/// How a pick of a family's main kernel (variant "") is written.
pub(crate) const MAIN: &str = "main";

/// A variant's name, inline: empty for none picked, [`MAIN`] for the family's main kernel.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Name {
    len: u8,
    bytes: [u8; MAX_NAME],
}

impl Name {
    fn new(name: &str) -> Option<Name> {
        let mut n = Name::default();
        n.bytes
            .get_mut(..name.len())?
            .copy_from_slice(name.as_bytes());
        n.len = name.len() as u8;
        Some(n)
    }

    fn as_str(&self) -> &str {
        // Only ever filled from a `&str` whole (`new`), so always UTF-8.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

/// The picked kernel of each (op, family) that has variants: what `effnet tune` found
/// fastest among the correct ones on this adapter. An unpicked op runs the list's order.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Variants([[Name; 2]; OpKind::ALL.len()]);

fn slot(op: OpKind, family: Family) -> Option<(usize, usize)> {
    let f = match family {
        Family::Cpu => 0,
        Family::Gpu => 1,
        Family::Auto => return None,
    };
    Some((OpKind::ALL.iter().position(|&k| k == op)?, f))
}

impl Variants {
    /// The variant picked for `op` in `family` as `Kernel::variant` names it ("" for the
    /// main kernel), or `None` where nothing was picked.
    pub(crate) fn get(&self, op: OpKind, family: Family) -> Option<&'_ str> {
        match self.name(op, family) {
            "" => None,
            MAIN => Some(""),
            v => Some(v),
        }
    }

    fn name(&self, op: OpKind, family: Family) -> &str {
        slot(op, family).map_or("", |(o, f)| self.0[o][f].as_str())
    }

    /// These picks with `kernel` picked for its op and family (unchanged if its name is
    /// longer than [`MAX_NAME`]).
    pub(crate) fn with(mut self, kernel: Kernel) -> Variants {
        let name = Name::new(match kernel.variant {
            "" => MAIN,
            v => v,
        });
        if let (Some((o, f)), Some(name)) = (slot(kernel.op, kernel.family), name) {
            self.0[o][f] = name;
        }
        self
    }

    /// The picks, as (op, family, name), the main kernel named [`MAIN`].
    pub(crate) fn picked(&self) -> impl Iterator<Item = (OpKind, Family, &str)> {
        let families = [Family::Cpu, Family::Gpu];
        (OpKind::ALL.iter())
            .flat_map(move |&op| families.map(|f| (op, f)))
            .map(|(op, f)| (op, f, self.name(op, f)))
            .filter(|(_, _, v)| !v.is_empty())
    }
}

impl std::fmt::Debug for Variants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let picks = self
            .picked()
            .map(|(op, fam, v)| format!("{}/{}/{v}", fam.name(), op.name()));
        f.debug_list().entries(picks).finish()
    }
}

/// As JSON: `{"cpu/pointwise": "naive", "gpu/pointwise": "main"}`, unpicked ops left out.
impl Serialize for Variants {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<String, &str> = (self.picked())
            .map(|(op, f, v)| (format!("{}/{}", f.name(), op.name()), v))
            .collect();
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Variants {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        let mut out = Variants::default();
        for (key, variant) in &map {
            let Some((family, op)) = key.split_once('/') else {
                continue;
            };
            let family = Family::parse(family).ok();
            let (Some(family), Some(op)) = (family, OpKind::from_name(op)) else {
                continue;
            };
            if let (Some((o, f)), Some(name)) = (slot(op, family), Name::new(variant)) {
                out.0[o][f] = name;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{MAIN, MAX_NAME, Variants};
    use crate::kernels::{Family, Kernel, OpKind, candidates::CANDIDATES};

    #[test]
    fn every_candidate_name_fits_a_pick() {
        for c in CANDIDATES {
            let v = Variants::default().with(c.kernel);
            assert!(
                c.kernel.variant.len() <= MAX_NAME,
                "{} is too long",
                c.kernel
            );
            assert_ne!(c.kernel.variant, MAIN, "{MAIN} names the main kernels");
            assert_eq!(v.get(c.kernel.op, c.kernel.family), Some(c.kernel.variant));
        }
    }

    /// Picks go to the cache and back; keys this build does not know are dropped, not errors.
    #[test]
    fn picks_round_trip_and_unknown_keys_pick_nothing() {
        let naive = Kernel::cpu(OpKind::Pointwise).variant("naive");
        let v = Variants::default()
            .with(naive)
            .with(Kernel::gpu(OpKind::Conv));
        let json = serde_json::to_value(v).unwrap();
        let expected = serde_json::json!({"cpu/pointwise": "naive", "gpu/conv": "main"});
        assert_eq!(json, expected);
        assert_eq!(v.get(OpKind::Conv, Family::Gpu), Some(""));
        assert_eq!(serde_json::from_value::<Variants>(json).unwrap(), v);
        let odd = serde_json::json!({"tpu/pointwise": "x", "gpu/mystery": "y", "nokey": "z"});
        assert_eq!(
            serde_json::from_value::<Variants>(odd).unwrap(),
            Variants::default()
        );
        assert_eq!(v.get(OpKind::Pointwise, Family::Gpu), None);
        assert_eq!(v.get(OpKind::Pointwise, Family::Auto), None);
    }
}
