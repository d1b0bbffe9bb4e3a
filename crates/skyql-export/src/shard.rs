//! `--shard I/N` as a manifest records it (the engine parses and applies
//! it), and the file names that part writes (deterministic, so a rerun replaces its own
//! files and N machines never write the same name).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Part `index` of `count` (1-based: `1/1` is the whole statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole statement, unsharded.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// `part-I-of-N`: the stem of this shard's data file.
    pub fn part_stem(&self) -> String {
        format!("part-{}-of-{}", self.index, self.count)
    }

    /// `manifest-I-of-N.json`: this shard's manifest (one per shard, so
    /// that every shard can write into the same folder).
    pub fn manifest_name(&self) -> String {
        format!("manifest-{}-of-{}.json", self.index, self.count)
    }

    /// The shard a manifest's file name stands for, if it is one.
    pub fn of_manifest_name(name: &str) -> Option<Shard> {
        let inner = name.strip_prefix("manifest-")?.strip_suffix(".json")?;
        let (i, n) = inner.split_once("-of-")?;
        let shard = Shard {
            index: i.parse().ok()?,
            count: n.parse().ok()?,
        };
        (shard.index >= 1 && shard.index <= shard.count).then_some(shard)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl From<skyql_engine::Shard> for Shard {
    fn from(s: skyql_engine::Shard) -> Shard {
        Shard {
            index: s.index,
            count: s.count,
        }
    }
}

impl From<Shard> for skyql_engine::Shard {
    fn from(s: Shard) -> skyql_engine::Shard {
        skyql_engine::Shard {
            index: s.index,
            count: s.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        let s = Shard { index: 2, count: 4 };
        assert_eq!(Shard::from(skyql_engine::Shard::from(s)), s);
        assert_eq!(s.part_stem(), "part-2-of-4");
        assert_eq!(s.manifest_name(), "manifest-2-of-4.json");
        assert_eq!(Shard::of_manifest_name("manifest-2-of-4.json"), Some(s));
        assert_eq!(Shard::of_manifest_name("manifest-5-of-4.json"), None);
        assert_eq!(Shard::of_manifest_name("manifest.json"), None);
        assert_eq!(s.to_string(), "2/4");
    }
}
