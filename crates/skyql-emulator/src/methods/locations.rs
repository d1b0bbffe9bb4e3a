//! `projects.locations` list and get. The locations are those of the Discovery document's
//! regional `endpoints` (with the multi-regions `us` and `eu`) plus `global`; without a
//! document, the built-in [`LOCATIONS`] list, which a test keeps equal to the embedded
//! snapshot's.

use serde_json::Value;
use std::collections::BTreeSet;

use super::{Query, list_json, open_token, page_size};
use crate::state::Inner;
use crate::status::ApiError;
use crate::wire::Json;

/// The locations of the embedded aiplatform v1 snapshot's endpoints, plus `global`, sorted.
pub const LOCATIONS: &[&str] = &[
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "asia-southeast3",
    "australia-southeast1",
    "australia-southeast2",
    "eu",
    "europe-central2",
    "europe-north1",
    "europe-north2",
    "europe-southwest1",
    "europe-west1",
    "europe-west10",
    "europe-west12",
    "europe-west15",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "global",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "us",
    "us-central1",
    "us-central2",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-east7",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "us-west8",
];

/// The locations a Discovery document's `endpoints` name, plus `global`, sorted; `None`
/// when the document is not JSON or has no endpoints.
pub fn from_discovery(doc: &str) -> Option<Vec<String>> {
    let v: Value = serde_json::from_str(doc).ok()?;
    let mut set: BTreeSet<String> = v
        .get("endpoints")?
        .as_array()?
        .iter()
        .filter_map(|e| e.get("location")?.as_str().map(String::from))
        .collect();
    if set.is_empty() {
        return None;
    }
    set.insert("global".into());
    Some(set.into_iter().collect())
}

fn location_json(project: &str, location: &str) -> Json {
    Json::obj()
        .with("name", format!("projects/{project}/locations/{location}"))
        .with("locationId", location)
}

/// `locations.list`.
pub fn list(inner: &Inner, project: &str, query: &Query) -> Result<Json, ApiError> {
    let size = page_size(query)?;
    let scope = format!("locations|{project}");
    let start = open_token(inner, &scope, query)?.map_or(0, |(i, _)| i.max(0) as usize);
    let all = &inner.locations;
    let items: Vec<Json> = all
        .iter()
        .skip(start)
        .take(size)
        .map(|l| location_json(project, l))
        .collect();
    let end = start + items.len();
    let next = (end < all.len()).then(|| inner.pages.seal(&scope, end as i64, 0));
    Ok(list_json("locations", items, next))
}

/// `locations.get`.
pub fn get(inner: &Inner, project: &str, location: &str) -> Result<Json, ApiError> {
    if inner.locations.iter().any(|l| l == location) {
        Ok(location_json(project, location))
    } else {
        Err(ApiError::not_found(format!(
            "Location projects/{project}/locations/{location} not found."
        )))
    }
}
