//! The shape of a Google Discovery REST document, as serde reads it. Only the
//! parts skyql uses are typed; everything is optional so that any of Google's
//! 600-odd documents loads.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Document {
    pub kind: Option<String>,
    pub discovery_version: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub revision: Option<String>,
    pub root_url: Option<String>,
    pub service_path: Option<String>,
    pub base_url: Option<String>,
    pub endpoints: Vec<Endpoint>,
    /// Methods at the document's root (`cloudasset.searchAllResources`).
    pub methods: BTreeMap<String, MethodNode>,
    pub resources: BTreeMap<String, ResourceNode>,
    pub schemas: Schemas,
}

/// A locational endpoint (`us-central1` → `https://us-central1-aiplatform.googleapis.com/`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Endpoint {
    pub location: String,
    pub endpoint_url: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResourceNode {
    pub methods: BTreeMap<String, MethodNode>,
    pub resources: BTreeMap<String, ResourceNode>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MethodNode {
    pub id: Option<String>,
    pub path: Option<String>,
    pub flat_path: Option<String>,
    pub http_method: Option<String>,
    pub description: Option<String>,
    pub parameters: BTreeMap<String, Schema>,
    pub parameter_order: Vec<String>,
    pub request: Option<SchemaRef>,
    pub response: Option<SchemaRef>,
    pub supports_media_upload: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SchemaRef {
    #[serde(rename = "$ref", default)]
    pub reference: String,
}

/// A JSON-Schema-like node: a named schema, a property, an array item, or a
/// method parameter (which adds `location`, `required`, `pattern`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Schema {
    pub id: Option<String>,
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub format: Option<String>,
    pub description: Option<String>,
    pub properties: BTreeMap<String, Schema>,
    pub items: Option<Box<Schema>>,
    pub additional_properties: Option<Box<Schema>>,
    #[serde(rename = "enum")]
    pub enum_values: Vec<String>,
    pub read_only: bool,
    pub location: Option<String>,
    pub required: bool,
    pub repeated: bool,
    pub pattern: Option<String>,
    pub default: Option<String>,
    pub deprecated: bool,
    /// Set on a named schema whose JSON nests deeper than skyql reads
    /// ([`MAX_SCHEMA_NESTING`]): what lies below that depth was read as empty
    /// objects, so its own columns stand but the deepest fields are untyped.
    #[serde(skip)]
    pub pruned: bool,
}

/// A document's named schemas, each parsed only when first asked for: a
/// service has thousands and a statement needs a handful, so start-up only
/// scans their JSON.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Schemas {
    entries: BTreeMap<String, LazySchema>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(transparent)]
struct LazySchema {
    raw: Box<RawValue>,
    #[serde(skip)]
    parsed: OnceLock<Option<Schema>>,
}

impl Clone for LazySchema {
    fn clone(&self) -> Self {
        LazySchema {
            raw: self.raw.clone(),
            parsed: self.parsed.clone(),
        }
    }
}

impl Schemas {
    /// The schema of that name; `None` if absent or not a valid schema.
    pub fn get(&self, name: &str) -> Option<&Schema> {
        let entry = self.entries.get(name)?;
        entry
            .parsed
            .get_or_init(|| parse_schema(entry.raw.get()))
            .as_ref()
    }
}

/// JSON nesting (objects and arrays) below which a schema is read as written.
/// serde_json stops at 128 levels; a schema nested deeper (about 60 levels of
/// inline `properties`) would otherwise fail to parse and take every column
/// of its resource with it.
pub const MAX_SCHEMA_NESTING: usize = 96;

/// Parses a named schema; one nested deeper than [`MAX_SCHEMA_NESTING`] is
/// read with its deepest values emptied (`{}` / `[]`) and marked `pruned`.
fn parse_schema(raw: &str) -> Option<Schema> {
    match prune_deep(raw, MAX_SCHEMA_NESTING) {
        None => serde_json::from_str(raw).ok(),
        Some(pruned) => {
            let mut schema: Schema = serde_json::from_str(&pruned).ok()?;
            schema.pruned = true;
            Some(schema)
        }
    }
}

/// `raw` (valid JSON) with every object or array that opens deeper than
/// `max` levels replaced by an empty one; `None` when nothing is that deep.
/// One pass, no recursion, so no input can exhaust the stack.
pub(crate) fn prune_deep(raw: &str, max: usize) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out: Option<String> = None;
    // Start of the text not yet copied to `out`.
    let mut copied = 0;
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(bytes, i),
            b'{' | b'[' if depth == max => {
                let end = matching_close(bytes, i);
                let o = out.get_or_insert_with(String::new);
                o.push_str(&raw[copied..i]);
                o.push_str(if bytes[i] == b'{' { "{}" } else { "[]" });
                copied = end;
                i = end;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.map(|mut o| {
        o.push_str(&raw[copied..]);
        o
    })
}

/// The index just past the string that opens at `start`.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index just past the bracket that closes the one opening at `start`.
fn matching_close(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        let mut s = String::from(r#"{"type": "string"}"#);
        for i in 0..levels {
            s = format!(
                r#"{{"type": "object", "properties": {{"p{i}": {s}, "s": {{"type": "string", "enum": ["a]", "b}}"]}}}}}}"#
            );
        }
        s
    }

    #[test]
    fn shallow_schemas_are_read_as_written() {
        assert_eq!(prune_deep(&nested(10), MAX_SCHEMA_NESTING), None);
        let s = parse_schema(&nested(10)).expect("parses");
        assert!(!s.pruned);
    }

    #[test]
    fn deep_schemas_keep_their_top_level_columns() {
        for levels in [70, 500, 2_000] {
            let raw = nested(levels);
            assert!(serde_json::from_str::<Schema>(&raw).is_err(), "{levels}");
            let s = parse_schema(&raw).expect("pruned schema parses");
            assert!(s.pruned);
            assert_eq!(s.ty.as_deref(), Some("object"));
            let keys: Vec<&str> = s.properties.keys().map(String::as_str).collect();
            assert_eq!(keys, [format!("p{}", levels - 1).as_str(), "s"]);
            assert_eq!(s.properties["s"].enum_values, ["a]", "b}"]);
        }
    }

    #[test]
    fn strings_with_brackets_and_escapes_do_not_count() {
        let raw = r#"{"a": "{[\"{", "b": [1, {"c": "]}"}]}"#;
        assert_eq!(prune_deep(raw, 3), None);
        let pruned = prune_deep(raw, 1).expect("b's array is at depth 2");
        assert_eq!(pruned, r#"{"a": "{[\"{", "b": []}"#);
        assert!(serde_json::from_str::<serde_json::Value>(&pruned).is_ok());
    }
}
