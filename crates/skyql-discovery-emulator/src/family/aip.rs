//! AIP-style APIs: the full resource `name`, `createTime`/`updateTime`, `etag` and `uid`
//! where the schema has them, and a `google.longrunning.Operation` for methods that return
//! one, kept in the operations collection the document describes nearest the resource
//! (`projects/p/locations/l/operations`, else `projects/p/operations`, else `operations`).
//!
//! The operation's `response` carries an `@type` of
//! `type.googleapis.com/google.cloud.<service>.<version>.<Schema>`: the document does not
//! name the proto package, so this is the usual convention, not a fact from the service.

use serde_json::{Map, Value, json};

use super::{Placed, etag, has_prop};
use crate::api::{Api, Role};
use crate::route::Seg;
use crate::store::{Item, OpTimeline};

pub fn on_create(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    let schema = at.schema;
    if has_prop(api, schema, "name") || schema.is_none() {
        body.insert("name".into(), Value::String(at.key_path()));
    }
    let now = skyql_emulator::clock::rfc3339(at.now_us);
    for f in ["createTime", "updateTime"] {
        if has_prop(api, schema, f) {
            body.insert(f.into(), Value::String(now.clone()));
        }
    }
    if has_prop(api, schema, "uid") {
        body.insert(
            "uid".into(),
            Value::String(format!("{:032x}", rand::random::<u128>())),
        );
    }
    if has_prop(api, schema, "etag") {
        body.insert("etag".into(), Value::String(etag(at.seq)));
    }
}

pub fn on_update(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    if has_prop(api, at.schema, "updateTime") {
        body.insert(
            "updateTime".into(),
            Value::String(skyql_emulator::clock::rfc3339(at.now_us)),
        );
    }
    if has_prop(api, at.schema, "etag") {
        body.insert("etag".into(), Value::String(etag(at.seq)));
    }
}

/// Whether a response schema is a `google.longrunning.Operation`.
pub fn is_long_running(api: &Api, response: Option<&str>) -> bool {
    let Some(name) = response else { return false };
    name.ends_with("Operation")
        && api
            .schema(name)
            .is_some_and(|s| s.properties.contains_key("done") && s.properties.contains_key("name"))
}

/// The operations collection (key segments) for a resource key: the longest prefix of
/// the key under which the document has an `operations.get`.
pub fn operations_collection(api: &Api, key: &[String]) -> Option<Vec<String>> {
    let gets: Vec<&crate::api::MethodDef> = api
        .methods
        .iter()
        .filter(|m| m.role == Role::Get && m.id.contains(".operations.get"))
        .collect();
    for cut in (0..=key.len()).rev() {
        let mut candidate: Vec<String> = key[..cut].to_vec();
        candidate.push("operations".into());
        candidate.push("probe".into());
        let fits = gets.iter().any(|m| {
            let mut segs: Vec<String> = m.template.segs[..m.key_skip]
                .iter()
                .filter_map(|s| match s {
                    Seg::Lit(l) => Some(l.clone()),
                    _ => None,
                })
                .collect();
            segs.extend(candidate.iter().cloned());
            m.template.matches(&segs).is_some()
        });
        if fits {
            candidate.pop();
            return Some(candidate);
        }
    }
    None
}

/// A new long-running operation about `target`, finishing after `duration_us` with
/// `response` (already rendered) or with `error`.
pub fn operation(
    api: &Api,
    collection: &[String],
    target: &str,
    verb: &str,
    response: Option<(Value, &str)>,
    now_us: i64,
    duration_us: i64,
) -> (String, String, Item) {
    let id = format!("operation-{}-{:016x}", now_us / 1000, rand::random::<u64>());
    let name = format!("{}/{id}", collection.join("/"));
    let prefix = format!(
        "type.googleapis.com/google.cloud.{}.{}",
        api.name, api.version
    );
    let mut body = json!({
        "name": name,
        "metadata": {
            "@type": format!("{prefix}.OperationMetadata"),
            "createTime": skyql_emulator::clock::rfc3339(now_us),
            "target": target,
            "verb": verb,
            "apiVersion": api.version,
        },
    });
    if let Some((mut value, schema)) = response {
        if let Value::Object(m) = &mut value {
            let mut typed = Map::new();
            typed.insert(
                "@type".into(),
                Value::String(if schema == "Empty" {
                    "type.googleapis.com/google.protobuf.Empty".into()
                } else {
                    format!("{prefix}.{schema}")
                }),
            );
            typed.extend(std::mem::take(m));
            value = Value::Object(typed);
        }
        body["response"] = value;
    }
    let item = Item {
        body,
        created_us: now_us,
        scope: Default::default(),
        op: Some(OpTimeline {
            insert_us: now_us,
            start_us: now_us,
            done_us: now_us + duration_us,
            error: None,
        }),
    };
    (collection.join("/"), id, item)
}

/// The operation as the client sees it at `now_us`: `done` and the response once finished.
pub fn render_operation(item: &Item, now_us: i64) -> Value {
    let mut body = item.body.clone();
    let Some(op) = &item.op else { return body };
    let done = now_us >= op.done_us;
    if let Value::Object(m) = &mut body {
        if done {
            m.insert("done".into(), Value::Bool(true));
            if let Some(metadata) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.insert(
                    "endTime".into(),
                    Value::String(skyql_emulator::clock::rfc3339(op.done_us)),
                );
            }
            if let Some((code, _, message)) = &op.error {
                m.remove("response");
                m.insert(
                    "error".into(),
                    json!({"code": grpc_code(*code), "message": message}),
                );
            }
        } else {
            m.remove("response");
        }
    }
    body
}

fn grpc_code(http: u16) -> u16 {
    match http {
        499 => 1,
        400 => 3,
        404 => 5,
        409 => 6,
        412 => 9,
        _ => 2,
    }
}
