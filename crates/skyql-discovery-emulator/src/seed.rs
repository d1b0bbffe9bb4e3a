//! `--seed FILE`: resources to start with, as JSON per collection:
//!
//! ```json
//! {
//!   "compute": {
//!     "projects/demo-project/global/networks": [{"name": "default", "autoCreateSubnetworks": true}],
//!     "projects/demo-project/zones": [{"name": "us-central1-a"}]
//!   },
//!   "cloudkms:v1": {
//!     "projects/demo-project/locations/us/keyRings": [{"name": "ring"}]
//!   }
//! }
//! ```
//!
//! Top-level keys name a served service (`name` or `name:version`); inner keys are
//! collection paths as the API's paths write them (without the `v1/` of AIP paths); each
//! item needs a `name` (its last segment is the id). Items get the same server-set fields
//! a create would give them, then keep what the file says.

use std::path::Path;

use serde_json::{Map, Value};

use crate::State;
use crate::api::Role;
use crate::error::Error;
use crate::family::{self, Placed};
use crate::store::Item;

/// Loads a seed file into the store.
pub fn load_file(state: &State, path: &Path) -> Result<(), Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |message: String| Error::Seed {
        path: path.to_path_buf(),
        message,
    };
    let doc: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a JSON object: {e}")))?;
    for (service, collections) in doc {
        let api = state
            .apis
            .iter()
            .find(|a| a.id() == service || a.name == service)
            .ok_or_else(|| {
                bad(format!(
                    "service {service:?} is not served (serve it with --services {service})"
                ))
            })?;
        let Value::Object(collections) = collections else {
            return Err(bad(format!("{service}: expected an object of collections")));
        };
        for (collection, items) in collections {
            let Value::Array(items) = items else {
                return Err(bad(format!(
                    "{service} {collection}: expected an array of items"
                )));
            };
            let coll_segs: Vec<String> = collection
                .trim_matches('/')
                .split('/')
                .map(String::from)
                .collect();
            for (i, item) in items.into_iter().enumerate() {
                let Value::Object(mut body) = item else {
                    return Err(bad(format!(
                        "{service} {collection}[{i}]: expected an object"
                    )));
                };
                let id = body
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(|n| n.rsplit('/').next())
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .ok_or_else(|| bad(format!("{service} {collection}[{i}]: needs a \"name\"")))?;
                let mut key = coll_segs.clone();
                key.push(id.clone());
                let schema = schema_of(api, &key);
                let given = body.clone();
                let now = state.clock.now_us();
                let mut store = state
                    .store
                    .write()
                    .map_err(|_| bad("the store lock is poisoned".into()))?;
                let seq = store.next_seq();
                let query = Default::default();
                let placed = Placed {
                    key: &key,
                    schema: schema.as_deref(),
                    now_us: now,
                    seq,
                    query: &query,
                };
                family::on_create(api, &placed, &mut body);
                for (k, v) in given {
                    if k != "name" {
                        body.insert(k, v);
                    }
                }
                store
                    .collection_mut(&api.id(), &coll_segs.join("/"))
                    .insert(
                        id,
                        Item {
                            body: Value::Object(body),
                            created_us: now,
                            scope: Default::default(),
                            op: None,
                        },
                    );
            }
        }
    }
    Ok(())
}

/// The schema of the resource a key names, from the document's `get`.
fn schema_of(api: &crate::api::Api, key: &[String]) -> Option<String> {
    api.methods
        .iter()
        .filter(|m| m.role == Role::Get)
        .find(|m| {
            let mut segs: Vec<String> = m.template.segs[..m.key_skip]
                .iter()
                .filter_map(|s| match s {
                    crate::route::Seg::Lit(l) => Some(l.clone()),
                    _ => None,
                })
                .collect();
            segs.extend(key.iter().cloned());
            m.template.matches(&segs).is_some()
        })
        .and_then(|m| m.response.clone())
}
