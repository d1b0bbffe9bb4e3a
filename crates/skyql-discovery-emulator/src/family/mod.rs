//! Server-set fields, by API family: what the emulator writes into a resource when it is
//! created or changed, and what a mutation answers (the resource, a `compute#operation`,
//! or a `google.longrunning.Operation`). Each family lives in its own module; the rules
//! common to all (the schema's `kind` default, etags) live here.

pub mod aip;
pub mod compute;
pub mod kms;
pub mod storage;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::api::{Api, Family};

/// Where a stored item lives and when things happen.
pub struct Placed<'a> {
    /// Key segments of the item (`projects`, `p`, `zones`, `z`, `instances`, `i`).
    pub key: &'a [String],
    /// The resource's schema name, if known.
    pub schema: Option<&'a str>,
    /// Emulator clock, microseconds.
    pub now_us: i64,
    /// A fresh store counter value.
    pub seq: u64,
    /// Query parameters of the request.
    pub query: &'a std::collections::BTreeMap<String, String>,
}

impl Placed<'_> {
    pub fn id(&self) -> &str {
        self.key.last().map(String::as_str).unwrap_or_default()
    }

    pub fn key_path(&self) -> String {
        self.key.join("/")
    }
}

/// Whether the schema has a property.
pub fn has_prop(api: &Api, schema: Option<&str>, prop: &str) -> bool {
    schema
        .and_then(|s| api.schema(s))
        .is_some_and(|s| s.properties.contains_key(prop))
}

/// The `default` of a schema's `kind` property (`compute#instance`).
pub fn kind_of(api: &Api, schema: Option<&str>) -> Option<String> {
    schema
        .and_then(|s| api.schema(s))
        .and_then(|s| s.properties.get("kind"))
        .and_then(|k| k.default.clone())
}

/// An opaque etag that changes with every write.
pub fn etag(seq: u64) -> String {
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D;
    x ^= x >> 29;
    STANDARD.encode(&x.to_be_bytes()[..6])
}

/// Sets the fields the server owns on a new resource.
pub fn on_create(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    if let Some(kind) = kind_of(api, at.schema) {
        body.insert("kind".into(), Value::String(kind));
    }
    match api.family {
        Family::Compute => compute::on_create(api, at, body),
        Family::Storage => storage::on_create(api, at, body),
        Family::Aip => aip::on_create(api, at, body),
        Family::Plain => plain_on_write(api, at, body, true),
    }
}

/// Sets the fields the server owns after a change.
pub fn on_update(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>) {
    match api.family {
        Family::Compute => compute::on_update(api, at, body),
        Family::Storage => storage::on_update(api, at, body),
        Family::Aip => aip::on_update(api, at, body),
        Family::Plain => plain_on_write(api, at, body, false),
    }
}

fn plain_on_write(api: &Api, at: &Placed<'_>, body: &mut Map<String, Value>, created: bool) {
    if has_prop(api, at.schema, "etag") {
        body.insert("etag".into(), Value::String(etag(at.seq)));
    }
    if created && has_prop(api, at.schema, "selfLink") {
        body.insert(
            "selfLink".into(),
            Value::String(format!("{}{}", api.link_base(), encoded_path(at.key))),
        );
    }
}

/// Fields the server owns in each family, which an update (PUT) keeps from the stored
/// resource even where the schema does not mark them output-only.
pub fn server_fields(api: &Api) -> &'static [&'static str] {
    match api.family {
        Family::Compute => &[
            "id",
            "kind",
            "selfLink",
            "creationTimestamp",
            "zone",
            "region",
        ],
        Family::Storage => &[
            "id",
            "kind",
            "selfLink",
            "projectNumber",
            "timeCreated",
            "metageneration",
            "generation",
            "bucket",
        ],
        Family::Aip => &["createTime", "uid"],
        Family::Plain => &["kind", "selfLink"],
    }
}

/// Key segments as a URL path, each segment percent-encoded.
pub fn encoded_path(key: &[String]) -> String {
    key.iter()
        .map(|s| crate::route::encode_segment(s))
        .collect::<Vec<_>>()
        .join("/")
}
