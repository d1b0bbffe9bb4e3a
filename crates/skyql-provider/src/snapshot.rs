//! The description-free snapshot: a Discovery document reduced to structural
//! facts (paths, parameters, schemas, types, enums, required flags). The binary
//! embeds one for aiplatform so that it works offline; Google's prose stays out.

use serde_json::{Map, Value};

/// Keys that carry prose or presentation rather than structure.
const PROSE_KEYS: &[&str] = &[
    "description",
    "enumDescriptions",
    "documentationLink",
    "icons",
    "auth",
    "scopes",
    "ownerName",
    "ownerDomain",
    "canonicalName",
    "packagePath",
    "labels",
    "features",
    "version_module",
    "enumDeprecated",
];

/// Keys whose object value maps user-chosen names to nodes: their own keys are
/// names (a property may well be called `description`) and are never stripped.
const NAME_MAPS: &[&str] = &[
    "properties",
    "parameters",
    "schemas",
    "resources",
    "methods",
];

/// Returns `doc` without prose. Structure, names and order are kept.
pub fn strip(doc: &Value) -> Value {
    strip_node(doc)
}

fn strip_node(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, child) in map {
                if PROSE_KEYS.contains(&k.as_str()) {
                    continue;
                }
                let child = if NAME_MAPS.contains(&k.as_str()) {
                    strip_name_map(child)
                } else {
                    strip_node(child)
                };
                out.insert(k.clone(), child);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(strip_node).collect()),
        other => other.clone(),
    }
}

fn strip_name_map(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(name, node)| (name.clone(), strip_node(node)))
                .collect(),
        ),
        other => strip_node(other),
    }
}

/// The committed snapshot text for a full Discovery document: stripped and
/// minified, with a trailing newline.
pub fn render(doc_bytes: &[u8], origin: &str) -> Result<String, crate::Error> {
    crate::model::parse_document(doc_bytes, origin)?;
    let value: Value = serde_json::from_slice(doc_bytes).map_err(|source| crate::Error::Json {
        origin: origin.to_string(),
        source,
    })?;
    let mut text = serde_json::to_string(&strip(&value)).map_err(|source| crate::Error::Json {
        origin: origin.to_string(),
        source,
    })?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::strip;
    use serde_json::json;

    #[test]
    fn strips_prose_but_keeps_properties_named_like_prose() {
        let doc = json!({
            "kind": "discovery#restDescription",
            "description": "words",
            "schemas": {"Thing": {
                "description": "more words",
                "properties": {"description": {"type": "string", "description": "x"}},
                "enum": ["A"], "enumDescriptions": ["a"]
            }}
        });
        assert_eq!(
            strip(&doc),
            json!({
                "kind": "discovery#restDescription",
                "schemas": {"Thing": {
                    "properties": {"description": {"type": "string"}},
                    "enum": ["A"]
                }}
            })
        );
    }
}
