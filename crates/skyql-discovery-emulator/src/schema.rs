//! Request bodies checked against the document's schemas, as Google's front end checks
//! them: an unknown field is a 400 naming it (`Unknown name "x" at 'resource': Cannot find
//! field.`), snake_case names are accepted and stored camelCase, and integer enums are
//! turned into names through [`crate::enums`] (never by the document's order).
//! The same walk turns names into numbers on the way out under `enum-encoding=int`.

use serde_json::{Map, Value};
use skyql_provider::Schema;

use crate::api::Api;
use crate::enums::EnumError;
use crate::google_error::ApiError;
pub use skyql_emulator::schema::snake_to_camel;

const MAX_DEPTH: usize = 40;

/// Which way enums go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A request body: check names, numbers to names.
    Inbound,
    /// A response under `enum-encoding=int`: names to numbers.
    Outbound,
}

/// Checks and normalises a request body of schema `schema_name`. `field` is what Google
/// calls the body in messages (`resource`, or the body parameter's name).
pub fn check_request(
    api: &Api,
    schema_name: &str,
    body: &mut Value,
    field: &str,
) -> Result<(), ApiError> {
    walk_root(api, schema_name, body, field, Mode::Inbound)
        .map_err(|e| e.legacy(api.family != crate::api::Family::Aip))
}

/// Turns enum names into proto numbers in a response of schema `schema_name`.
pub fn encode_enums(api: &Api, schema_name: &str, body: &mut Value) -> Result<(), ApiError> {
    if api.enums.names_only {
        return Ok(());
    }
    walk_root(api, schema_name, body, "response", Mode::Outbound)
}

/// Walks a whole body of schema `schema_name` (a schema the document lacks: nothing to
/// check).
fn walk_root(
    api: &Api,
    schema_name: &str,
    body: &mut Value,
    at: &str,
    mode: Mode,
) -> Result<(), ApiError> {
    match api.schema(schema_name) {
        Some(schema) => walk(api, schema, Some(schema_name), body, at, 0, mode),
        None => Ok(()),
    }
}

fn walk(
    api: &Api,
    schema: &Schema,
    name: Option<&str>,
    value: &mut Value,
    at: &str,
    depth: usize,
    mode: Mode,
) -> Result<(), ApiError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let (schema, name) = match schema.reference.as_deref() {
        Some(r) => match api.schema(r) {
            Some(s) => (s, Some(r)),
            None => return Ok(()),
        },
        None => (schema, name),
    };
    match value {
        Value::Object(map) if !schema.properties.is_empty() => {
            walk_object(api, schema, name, map, at, depth, mode)
        }
        Value::Object(map) => {
            if let Some(ap) = &schema.additional_properties {
                for (k, v) in map.iter_mut() {
                    walk(api, ap, None, v, &format!("{at}[{k}]"), depth + 1, mode)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            if let Some(item) = &schema.items {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(api, item, None, v, &format!("{at}[{i}]"), depth + 1, mode)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn walk_object(
    api: &Api,
    schema: &Schema,
    name: Option<&str>,
    map: &mut Map<String, Value>,
    at: &str,
    depth: usize,
    mode: Mode,
) -> Result<(), ApiError> {
    if mode == Mode::Inbound && map.keys().any(|k| k.contains('_')) {
        let old = std::mem::take(map);
        for (k, v) in old {
            map.insert(snake_to_camel(&k), v);
        }
    }
    for (key, v) in map.iter_mut() {
        let Some(prop) = schema.properties.get(key) else {
            if mode == Mode::Inbound {
                let place = if at.is_empty() {
                    String::new()
                } else {
                    format!(" at '{at}'")
                };
                return Err(ApiError::bad_payload(
                    if at.is_empty() { key } else { at },
                    format!(
                        "Invalid JSON payload received. Unknown name \"{key}\"{place}: Cannot find field."
                    ),
                ));
            }
            continue;
        };
        let here = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        let enum_values = if !prop.enum_values.is_empty() {
            Some(&prop.enum_values)
        } else {
            prop.items
                .as_ref()
                .filter(|i| !i.enum_values.is_empty())
                .map(|i| &i.enum_values)
        };
        if let Some(names) = enum_values {
            convert_enum(api, name.unwrap_or(""), key, names, v, &here, mode)?;
            continue;
        }
        walk(api, prop, None, v, &here, depth + 1, mode)?;
    }
    Ok(())
}

fn convert_enum(
    api: &Api,
    schema: &str,
    field: &str,
    names: &[String],
    v: &mut Value,
    at: &str,
    mode: Mode,
) -> Result<(), ApiError> {
    if let Value::Array(items) = v {
        for item in items {
            convert_enum(api, schema, field, names, item, at, mode)?;
        }
        return Ok(());
    }
    let needs_table = match (mode, &*v) {
        (Mode::Inbound, Value::Number(_)) => true,
        (Mode::Outbound, Value::String(_)) => true,
        (Mode::Inbound, Value::String(s)) => {
            if !names.iter().any(|n| n == s) {
                return Err(ApiError::bad_payload(
                    at,
                    format!(
                        "Invalid value at '{at}', \"{s}\": not one of {}.",
                        names.join(", ")
                    ),
                ));
            }
            false
        }
        _ => false,
    };
    if !needs_table {
        return Ok(());
    }
    let numbering = match api.enums.field(schema, field) {
        Ok(Some(n)) => n,
        Ok(None) => return Ok(()),
        Err(EnumError::NoTable(key) | EnumError::Unknown { field: key, .. }) => {
            return Err(ApiError::not_implemented(format!(
                "The emulator has no proto numbering for the enum field {key} of {}, so it cannot use integer enums for it ($alt=json;enum-encoding=int); send enum names instead.",
                api.id()
            )));
        }
    };
    match mode {
        Mode::Inbound => {
            let n = v.as_i64().unwrap_or(-1);
            match numbering.by_number.get(&n) {
                Some(name) => *v = Value::String(name.clone()),
                None => {
                    return Err(ApiError::bad_payload(
                        at,
                        format!("Invalid value at '{at}' ({schema}.{field}), {n}"),
                    ));
                }
            }
        }
        Mode::Outbound => {
            let s = v.as_str().unwrap_or_default();
            match numbering.by_name.get(s) {
                Some(n) => *v = Value::from(*n),
                None => {
                    return Err(ApiError::not_implemented(format!(
                        "The emulator has no proto number for {s} in {schema}.{field} of {}, so it cannot send it as an integer enum; ask without $alt=json;enum-encoding=int.",
                        api.id()
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case() {
        assert_eq!(snake_to_camel("page_size"), "pageSize");
        assert_eq!(snake_to_camel("name"), "name");
    }
}
