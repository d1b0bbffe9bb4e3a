//! Property tests of the Discovery loader (proptest; `cargo fuzz` needs a
//! nightly toolchain): any bytes load or fail with an error, never a panic;
//! generated documents with `$ref` cycles, deep inline nesting and odd
//! shapes load, and a list's item schema with properties yields columns.
//! Bounded case counts for CI; `PROPTEST_CASES=N` runs longer. Failing
//! seeds are kept beside this file (`properties.regressions`, written when one fails).
//!
//! Schemas nested deeper than serde_json's recursion limit (about 60 inline
//! levels) keep their columns: the loader empties only what lies below
//! `MAX_SCHEMA_NESTING` and DESCRIBE notes it.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use skyql_provider::Service;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(128),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    }
}

/// One property of a generated schema.
#[derive(Debug, Clone)]
enum Prop {
    Scalar(&'static str),
    Ref(usize),
    ArrayOfRef(usize),
    MapOfRef(usize),
    /// Inline objects nested this deep, a string at the bottom.
    Nested(usize),
}

fn prop_strategy(schemas: usize, max_depth: usize) -> impl Strategy<Value = Prop> {
    prop_oneof![
        prop::sample::select(vec!["string", "integer", "boolean", "number", "any"])
            .prop_map(Prop::Scalar),
        (0..schemas).prop_map(Prop::Ref),
        (0..schemas).prop_map(Prop::ArrayOfRef),
        (0..schemas).prop_map(Prop::MapOfRef),
        (1usize..max_depth).prop_map(Prop::Nested),
    ]
}

fn prop_json(p: &Prop) -> Value {
    match p {
        Prop::Scalar(t) => json!({ "type": t }),
        Prop::Ref(i) => json!({ "$ref": format!("S{i}") }),
        Prop::ArrayOfRef(i) => json!({ "type": "array", "items": { "$ref": format!("S{i}") } }),
        Prop::MapOfRef(i) => {
            json!({ "type": "object", "additionalProperties": { "$ref": format!("S{i}") } })
        }
        Prop::Nested(depth) => {
            let mut v = json!({ "type": "string" });
            for _ in 0..*depth {
                v = json!({ "type": "object", "properties": { "inner": v } });
            }
            v
        }
    }
}

/// A document with `n` schemas whose properties point anywhere (cycles
/// included); `things.list` returns S0 with its items as S1.
fn document(max_depth: usize) -> impl Strategy<Value = Value> {
    (2usize..8)
        .prop_flat_map(move |n| {
            prop::collection::vec(
                prop::collection::btree_map(
                    "[a-z][a-zA-Z0-9]{0,8}",
                    prop_strategy(n, max_depth),
                    0..6,
                ),
                n,
            )
        })
        .prop_map(|schemas| {
            let mut defs = Map::new();
            for (i, props) in schemas.iter().enumerate() {
                let mut p: Map<String, Value> =
                    props.iter().map(|(k, v)| (k.clone(), prop_json(v))).collect();
                if i == 0 {
                    p.insert("things".into(), json!({"type": "array", "items": {"$ref": "S1"}}));
                    p.insert("nextPageToken".into(), json!({"type": "string"}));
                }
                defs.insert(
                    format!("S{i}"),
                    json!({ "id": format!("S{i}"), "type": "object", "properties": p }),
                );
            }
            json!({
                "kind": "discovery#restDescription",
                "name": "gen", "version": "v1",
                "rootUrl": "https://gen.googleapis.com/", "servicePath": "",
                "schemas": defs,
                "resources": { "things": { "methods": {
                    "list": {
                        "id": "gen.things.list", "httpMethod": "GET", "path": "v1/things",
                        "response": { "$ref": "S0" }
                    },
                    "get": {
                        "id": "gen.things.get", "httpMethod": "GET", "path": "v1/things/{thingsId}",
                        "parameters": { "thingsId": { "type": "string", "location": "path", "required": true } },
                        "parameterOrder": ["thingsId"],
                        "response": { "$ref": "S1" }
                    }
                } } }
            })
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_load_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Service::from_json(&bytes, "fuzz");
    }

    #[test]
    fn any_json_text_loads_or_fails_cleanly(text in "[{}\\[\\]\":,a-z0-9 $]{0,200}") {
        let _ = Service::from_json(text.as_bytes(), "fuzz");
    }

    #[test]
    fn generated_documents_load_with_columns(doc in document(50)) {
        loads_with_columns(&doc)?;
    }

    #[test]
    fn deep_documents_keep_their_columns(doc in document(200)) {
        loads_with_columns(&doc)?;
    }
}

/// A generated document loads, and its `things` resource has columns when
/// its row schema `S1` has properties.
fn loads_with_columns(doc: &Value) -> Result<(), TestCaseError> {
    let bytes = doc.to_string();
    let svc = Service::from_json(bytes.as_bytes(), "generated").expect("a valid document loads");
    let r = svc.resource("things").expect("things");
    let s1_has_props = doc["schemas"]["S1"]["properties"]
        .as_object()
        .is_some_and(|p| !p.is_empty());
    if s1_has_props {
        prop_assert!(!r.columns.is_empty(), "no columns for {}", bytes);
    }
    Ok(())
}

#[test]
fn a_too_deep_row_schema_keeps_its_columns_with_a_note() {
    let mut deep = json!({ "type": "string" });
    for _ in 0..100 {
        deep = json!({ "type": "object", "properties": { "inner": deep } });
    }
    let doc = json!({
        "kind": "discovery#restDescription",
        "name": "gen", "version": "v1",
        "rootUrl": "https://gen.googleapis.com/", "servicePath": "",
        "schemas": {
            "Thing": { "id": "Thing", "type": "object",
                       "properties": { "name": { "type": "string" }, "deep": deep } }
        },
        "resources": { "things": { "methods": { "get": {
            "id": "gen.things.get", "httpMethod": "GET", "path": "v1/things/{thingsId}",
            "parameters": { "thingsId": { "type": "string", "location": "path", "required": true } },
            "parameterOrder": ["thingsId"],
            "response": { "$ref": "Thing" }
        } } } }
    });
    let svc = Service::from_json(doc.to_string().as_bytes(), "gen").expect("loads");
    let r = svc.resource("things").expect("things");
    let names: Vec<(&str, &str)> = r
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.as_str()))
        .collect();
    assert_eq!(names, [("deep", "object"), ("name", "string")]);
    assert_eq!(r.notes.len(), 1);
    assert!(
        r.notes[0].contains("schema Thing nests deeper than 96 levels"),
        "{:?}",
        r.notes
    );
}
