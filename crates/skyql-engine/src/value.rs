//! Conversions between JSON (what Google sends and takes) and SQLite values.

use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

/// A JSON field as a SQLite value: strings as text, numbers as numbers,
/// booleans as 0/1, objects and arrays as JSON text, null as NULL.
pub fn json_to_sql(v: Option<&Value>) -> SqlValue {
    match v {
        None | Some(Value::Null) => SqlValue::Null,
        Some(Value::String(s)) => SqlValue::Text(s.clone()),
        Some(Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Some(other) => SqlValue::Text(other.to_string()),
    }
}

/// A SQLite value as text, for a URL parameter (NULL is `None`).
pub fn sql_to_param(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// A SQLite value as a request-body field of Discovery type `ty`: JSON text
/// for objects and arrays (must parse), numbers and booleans converted.
pub fn sql_to_body(v: ValueRef<'_>, ty: &str, column: &str) -> Result<Option<Value>, String> {
    let text = match v {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(i) => {
            return Ok(Some(match ty {
                "boolean" => Value::Bool(i != 0),
                "string" => Value::String(i.to_string()),
                _ => Value::from(i),
            }));
        }
        ValueRef::Real(r) => {
            return Ok(Some(
                serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number),
            ));
        }
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    };
    match ty {
        "object" | "array" | "any" => serde_json::from_str(&text).map(Some).map_err(|e| {
            format!(
                "{column} must be JSON text ({ty}), but `{}` is not valid JSON: {e}",
                shorten(&text)
            )
        }),
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(Value::Bool(true))),
            "false" | "0" => Ok(Some(Value::Bool(false))),
            _ => Err(format!(
                "{column} must be true or false, not `{}`",
                shorten(&text)
            )),
        },
        "integer" | "number" => serde_json::from_str::<serde_json::Number>(&text)
            .map(|n| Some(Value::Number(n)))
            .map_err(|_| format!("{column} must be a number, not `{}`", shorten(&text))),
        _ => Ok(Some(Value::String(text))),
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}
