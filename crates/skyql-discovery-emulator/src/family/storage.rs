//! storage-style APIs (Cloud Storage's JSON API): synchronous writes, `id`, `selfLink`,
//! `projectNumber`, `timeCreated`/`updated`, `metageneration` (bumped by every change of
//! metadata), `generation` for objects, and an etag that changes with every write. New
//! buckets get the service's defaults: location `US` (multi-region), class `STANDARD`.

use serde_json::{Map, Value};

use super::{Placed, encoded_path, etag, has_prop};
use crate::api::Api;

pub fn on_create(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    let schema = at.schema;
    let now = skyql_emulator::clock::rfc3339(at.now_us);
    let name = at.id().to_string();
    body.insert("name".into(), Value::String(name.clone()));
    let is_object = has_prop(api, schema, "bucket") && has_prop(api, schema, "generation");
    let generation = (at.now_us.max(1)).to_string();
    if has_prop(api, schema, "id") {
        let id = if is_object {
            let bucket = at.key.get(1).cloned().unwrap_or_default();
            format!("{bucket}/{name}/{generation}")
        } else {
            name.clone()
        };
        body.insert("id".into(), Value::String(id));
    }
    if has_prop(api, schema, "selfLink") {
        body.insert(
            "selfLink".into(),
            Value::String(format!("{}{}", api.link_base(), encoded_path(at.key))),
        );
    }
    if has_prop(api, schema, "projectNumber")
        && let Some(project) = at.query.get("project")
    {
        let number = if project.bytes().all(|b| b.is_ascii_digit()) {
            project.clone()
        } else {
            skyql_emulator::project_number(project).to_string()
        };
        body.insert("projectNumber".into(), Value::String(number));
    }
    if is_object {
        body.insert("generation".into(), Value::String(generation));
        if let Some(bucket) = at.key.get(1) {
            body.insert("bucket".into(), Value::String(bucket.clone()));
        }
    }
    for f in ["timeCreated", "updated"] {
        if has_prop(api, schema, f) {
            body.insert(f.into(), Value::String(now.clone()));
        }
    }
    if has_prop(api, schema, "metageneration") {
        body.insert("metageneration".into(), Value::String("1".into()));
    }
    if has_prop(api, schema, "location") && !body.contains_key("location") {
        body.insert("location".into(), Value::String("US".into()));
        if has_prop(api, schema, "locationType") {
            body.insert("locationType".into(), Value::String("multi-region".into()));
        }
    }
    if has_prop(api, schema, "storageClass") && !body.contains_key("storageClass") {
        body.insert("storageClass".into(), Value::String("STANDARD".into()));
    }
    if has_prop(api, schema, "etag") {
        body.insert("etag".into(), Value::String(etag(at.seq)));
    }
}

pub fn on_update(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    if has_prop(api, at.schema, "metageneration") {
        let next = body
            .get("metageneration")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        body.insert("metageneration".into(), Value::String(next.to_string()));
    }
    if has_prop(api, at.schema, "updated") {
        body.insert(
            "updated".into(),
            Value::String(skyql_emulator::clock::rfc3339(at.now_us)),
        );
    }
    if has_prop(api, at.schema, "etag") {
        body.insert("etag".into(), Value::String(etag(at.seq)));
    }
}
