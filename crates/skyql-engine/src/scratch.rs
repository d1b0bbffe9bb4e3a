//! Temporary tables of JSON objects, for SQL over what a call returned:
//! RETURNING after a mutation, and `(EXEC ...)` used as a table. Columns are
//! typed as result columns are (booleans, JSON, numbers), so that the
//! values print as they would from a resource's table.

use crate::Error;
use crate::table::ColumnType;
use crate::value::json_to_sql;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

/// The column type a returned value is stored as.
fn type_of(v: &Value) -> ColumnType {
    match v {
        Value::Bool(_) => ColumnType::Bool,
        Value::Number(n) if n.is_i64() => ColumnType::Integer,
        Value::Number(_) => ColumnType::Real,
        Value::Object(_) | Value::Array(_) => ColumnType::Json,
        _ => ColumnType::Text,
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// (Re)creates `temp.<name>` with the columns `known` (name and type) and
/// any other field of `objects`, one row per object.
pub fn load(
    conn: &rusqlite::Connection,
    name: &str,
    mut known: Vec<(String, ColumnType)>,
    objects: &[Value],
) -> Result<(), Error> {
    for o in objects {
        for (k, v) in o.as_object().into_iter().flatten() {
            if !known.iter().any(|(c, _)| c == k) {
                known.push((k.clone(), type_of(v)));
            }
        }
    }
    if known.is_empty() {
        known.push(("name".into(), ColumnType::Text));
    }
    let table = format!("temp.{}", quote(name));
    let decl: Vec<String> = known
        .iter()
        .map(|(c, t)| format!("{} {}", quote(c), t.declared()))
        .collect();
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table}({});",
        decl.join(", ")
    ))?;
    let marks = vec!["?"; known.len()].join(", ");
    let mut insert = conn.prepare(&format!("INSERT INTO {table} VALUES ({marks})"))?;
    for o in objects.iter().filter(|o| o.is_object()) {
        let row: Vec<SqlValue> = known.iter().map(|(c, _)| json_to_sql(o.get(c))).collect();
        insert.execute(rusqlite::params_from_iter(row))?;
    }
    Ok(())
}

/// Drops `temp.<name>` (if it is there).
pub fn drop(conn: &rusqlite::Connection, name: &str) {
    let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{}", quote(name)));
}
