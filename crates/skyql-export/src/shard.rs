//! `--shard I/N`: which part of a fan-out this run does, and the file
//! names that part writes (deterministic, so a rerun replaces its own
//! files and N machines never write the same name).

use crate::Error;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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

impl FromStr for Shard {
    type Err = Error;

    fn from_str(s: &str) -> Result<Shard, Error> {
        let bad = |reason: &str| Error::Shard {
            given: s.to_string(),
            reason: reason.to_string(),
        };
        let (i, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| bad("there is no `/`"))?;
        let number = |t: &str, what: &str| -> Result<u32, Error> {
            t.trim()
                .parse::<u32>()
                .map_err(|_| bad(&format!("{what} `{t}` is not a whole number")))
        };
        let index = number(i, "the part")?;
        let count = number(n, "the number of parts")?;
        if count == 0 {
            return Err(bad("the number of parts must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad(&format!("the part must be from 1 to {count}")));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        let s: Shard = "2/4".parse().expect("shard");
        assert_eq!(s, Shard { index: 2, count: 4 });
        assert_eq!(s.part_stem(), "part-2-of-4");
        assert_eq!(s.manifest_name(), "manifest-2-of-4.json");
        assert_eq!(Shard::of_manifest_name("manifest-2-of-4.json"), Some(s));
        assert_eq!(Shard::of_manifest_name("manifest-5-of-4.json"), None);
        assert_eq!(Shard::of_manifest_name("manifest.json"), None);
        assert_eq!(s.to_string(), "2/4");
    }

    #[test]
    fn refuses_what_is_not_a_part() {
        for bad in ["", "2", "0/4", "5/4", "1/0", "a/4", "1/-4", "1/4/2"] {
            let e = bad.parse::<Shard>().expect_err(bad).to_string();
            assert!(e.contains("--shard") && e.contains("I/N"), "{bad}: {e}");
        }
    }
}
