//! The emulator's hand-written CustomJob schema and location list against the embedded
//! aiplatform v1 Discovery snapshot: the same field names, compatible types, the same
//! output-only flags and enum values, in both directions, so the two cannot drift apart.

use skyql_emulator::schema::{CUSTOM_JOB, Field, Ty};

use crate::*;

fn snapshot() -> Value {
    serde_json::from_str(skyql_registry::EMBEDDED_AIPLATFORM).expect("snapshot is JSON")
}

/// Checks one value type against a Discovery property; problems go to `out`.
fn check_ty(doc: &Value, ty: &Ty, prop: &Value, path: &str, out: &mut Vec<String>) {
    let t = prop["type"].as_str().unwrap_or("");
    let format = prop["format"].as_str().unwrap_or("");
    let ok = match ty {
        Ty::Str => t == "string" && format.is_empty() && prop.get("enum").is_none(),
        Ty::Bool => t == "boolean",
        Ty::I32 => t == "integer" && format == "int32",
        Ty::I64 => t == "string" && format == "int64",
        Ty::Duration => t == "string" && format == "google-duration",
        Ty::Time => t == "string" && format == "google-datetime",
        Ty::Enum(def) => {
            // The same names; a Discovery document's enum order is not the proto's
            // numbering, so the numbers come from the proto and only the sets compare.
            let mut names: Vec<&str> = prop["enum"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut ours: Vec<&str> = def.values.iter().map(|(n, _)| *n).collect();
            names.sort_unstable();
            ours.sort_unstable();
            if names != ours {
                out.push(format!(
                    "{path}: enum {ours:?} but the snapshot has {names:?}"
                ));
            }
            t == "string"
        }
        Ty::Msg(fields) => match prop["$ref"].as_str() {
            Some(r) => {
                check_message(doc, fields, r, path, out);
                true
            }
            None => false,
        },
        Ty::Arr(inner) => {
            t == "array" && {
                check_ty(doc, inner, &prop["items"], &format!("{path}[]"), out);
                true
            }
        }
        Ty::StrMap => t == "object" && prop["additionalProperties"]["type"] == "string",
        Ty::Any => t == "object" || prop.get("$ref").is_none(),
    };
    if !ok {
        out.push(format!("{path}: type does not match the snapshot's {prop}"));
    }
}

fn check_message(doc: &Value, fields: &[Field], schema: &str, path: &str, out: &mut Vec<String>) {
    let Some(props) = doc["schemas"][schema]["properties"].as_object() else {
        out.push(format!("{path}: schema {schema} missing from the snapshot"));
        return;
    };
    for f in fields {
        let p = format!("{path}.{}", f.name);
        match props.get(f.name) {
            None => out.push(format!("{p}: not in the snapshot's {schema}")),
            Some(prop) => {
                let read_only = prop["readOnly"].as_bool().unwrap_or(false);
                if read_only != f.output_only {
                    out.push(format!(
                        "{p}: output-only {} but readOnly {read_only}",
                        f.output_only
                    ));
                }
                check_ty(doc, &f.ty, prop, &p, out);
            }
        }
    }
    for name in props.keys() {
        if !fields.iter().any(|f| f.name == name) {
            out.push(format!(
                "{path}.{name}: in the snapshot's {schema}, not in the emulator's schema"
            ));
        }
    }
    let mut numbers: Vec<u32> = fields.iter().map(|f| f.number).collect();
    let sorted = {
        let mut s = numbers.clone();
        s.sort_unstable();
        s
    };
    if numbers != sorted {
        out.push(format!("{path}: fields not in field-number order"));
    }
    numbers.dedup();
    if numbers.len() != fields.len() {
        out.push(format!("{path}: a field number is used twice"));
    }
}

#[test]
fn custom_job_schema_matches_the_snapshot() {
    let doc = snapshot();
    let mut problems = Vec::new();
    check_message(
        &doc,
        CUSTOM_JOB,
        "GoogleCloudAiplatformV1CustomJob",
        "CustomJob",
        &mut problems,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn locations_match_the_snapshot_endpoints() {
    let doc = snapshot();
    let mut want: Vec<String> = doc["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter_map(|e| e["location"].as_str().map(String::from))
        .chain(["global".to_string()])
        .collect();
    want.sort();
    want.dedup();
    let ours: Vec<String> = skyql_emulator::LOCATIONS
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(ours, want);
    for l in ["global", "us", "eu"] {
        assert!(ours.iter().any(|o| o == l), "{l}");
    }
}
