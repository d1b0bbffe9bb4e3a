//! The generic collection store: for every served document, collections keyed by their
//! path (`projects/p/zones/z/instances`, `b`, `projects/p/locations/l/keyRings`), each an
//! ordered map from item id to the stored item. Children live in their own collection
//! under the parent's key, so a parent's delete finds them by prefix.
//!
//! Long-running operations are ordinary items of their operations collection with a
//! timeline attached; their status is worked out from the emulator clock when read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The timeline of a long-running operation (emulator clock, microseconds).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpTimeline {
    pub insert_us: i64,
    /// Status is PENDING before this, then RUNNING.
    pub start_us: i64,
    /// DONE from here on.
    pub done_us: i64,
    /// The failure the operation ends with: (HTTP code, reason, message).
    pub error: Option<(u16, String, String)>,
}

impl OpTimeline {
    pub fn status(&self, now: i64) -> &'static str {
        if now >= self.done_us {
            "DONE"
        } else if now >= self.start_us {
            "RUNNING"
        } else {
            "PENDING"
        }
    }
}

/// One stored resource.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Item {
    pub body: Value,
    pub created_us: i64,
    /// Query parameters the item was created under that also scope its list
    /// (storage's `project`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scope: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<OpTimeline>,
}

/// A collection: id → item, ordered by id.
pub type Collection = BTreeMap<String, Item>;

/// Everything the emulator holds.
#[derive(Default, Serialize, Deserialize)]
pub struct Store {
    /// API id (`compute:v1`) → collection key → collection.
    pub apis: BTreeMap<String, BTreeMap<String, Collection>>,
    /// API id → resource key → IAM policy.
    pub iam: BTreeMap<String, BTreeMap<String, Value>>,
    /// Bumped on every change (for the state file).
    #[serde(skip)]
    pub generation: u64,
    /// A counter for etags and ids.
    pub seq: u64,
}

impl skyql_emulator::files::Versioned for Store {
    fn generation(&self) -> u64 {
        self.generation
    }
}

impl Store {
    pub fn collection(&self, api: &str, key: &str) -> Option<&Collection> {
        self.apis.get(api)?.get(key)
    }

    pub fn collection_mut(&mut self, api: &str, key: &str) -> &mut Collection {
        self.apis
            .entry(api.to_string())
            .or_default()
            .entry(key.to_string())
            .or_default()
    }

    pub fn get(&self, api: &str, collection: &str, id: &str) -> Option<&Item> {
        self.collection(api, collection)?.get(id)
    }

    pub fn get_mut(&mut self, api: &str, collection: &str, id: &str) -> Option<&mut Item> {
        self.apis.get_mut(api)?.get_mut(collection)?.get_mut(id)
    }

    /// Removes an item, its children (collections under its key) and its IAM policy.
    pub fn remove(&mut self, api: &str, collection: &str, id: &str) -> Option<Item> {
        let cols = self.apis.get_mut(api)?;
        let item = cols.get_mut(collection)?.remove(id)?;
        let key = format!("{collection}/{id}/");
        let children: Vec<String> = cols
            .range(key.clone()..)
            .take_while(|(k, _)| k.starts_with(&key))
            .map(|(k, _)| k.clone())
            .collect();
        for c in children {
            cols.remove(&c);
        }
        if let Some(iam) = self.iam.get_mut(api) {
            iam.remove(&format!("{collection}/{id}"));
            let stale: Vec<String> = iam
                .range(key.clone()..)
                .take_while(|(k, _)| k.starts_with(&key))
                .map(|(k, _)| k.clone())
                .collect();
            for k in stale {
                iam.remove(&k);
            }
        }
        self.generation += 1;
        Some(item)
    }

    /// Collections of one API whose key starts with `prefix` and ends with `/{name}`.
    pub fn collections_named<'a>(
        &'a self,
        api: &str,
        prefix: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Collection)> + 'a {
        self.apis
            .get(api)
            .into_iter()
            .flat_map(move |cols| cols.range(prefix.to_string()..))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter(move |(k, _)| k.rsplit('/').next() == Some(name))
    }

    /// Every item of every API, for a walk over all resources.
    pub fn all_items(&self) -> impl Iterator<Item = (&String, &String, &String, &Item)> {
        self.apis.iter().flat_map(|(api, cols)| {
            cols.iter()
                .flat_map(move |(c, items)| items.iter().map(move |(id, it)| (api, c, id, it)))
        })
    }

    pub fn item_count(&self) -> usize {
        self.apis
            .values()
            .flat_map(|c| c.values())
            .map(|c| c.len())
            .sum()
    }

    /// Next value of the store's counter.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn clear(&mut self) {
        self.apis.clear();
        self.iam.clear();
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> Item {
        Item {
            body: json!({}),
            created_us: 0,
            scope: BTreeMap::new(),
            op: None,
        }
    }

    #[test]
    fn removing_a_parent_removes_its_children() {
        let mut s = Store::default();
        s.collection_mut("kms", "p/keyRings")
            .insert("k".into(), item());
        s.collection_mut("kms", "p/keyRings/k/cryptoKeys")
            .insert("c".into(), item());
        s.collection_mut("kms", "p/keyRings/k2/cryptoKeys")
            .insert("c".into(), item());
        assert!(s.remove("kms", "p/keyRings", "k").is_some());
        assert!(s.collection("kms", "p/keyRings/k/cryptoKeys").is_none());
        assert!(s.collection("kms", "p/keyRings/k2/cryptoKeys").is_some());
        assert!(s.remove("kms", "p/keyRings", "k").is_none());
    }
}
