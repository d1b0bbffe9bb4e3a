//! `EXEC provider.service.resource.method @param='value', ... [@@json='{...}']`:
//! runs any method directly, `_list` twins return raw response pages, and
//! `/*+ AWAIT */` waits for a returned long-running operation.

use crate::request;
use crate::statement::Statement;
use crate::{Cell, Error, Remote, Table};
use serde_json::{Map, Value};
use skyql_provider::Service;
use skyql_registry::Registry;
use sqlparser::tokenizer::Token;
use std::collections::BTreeMap;

pub struct ExecCall {
    pub resource: String,
    pub method: String,
    pub args: BTreeMap<String, String>,
    pub json: Option<String>,
}

const EXEC_SHAPE: &str =
    "EXEC google.<service>.<resource>.<method> @param='value', ... [, @@json='{...}']";

/// Parses an EXEC statement (the caller saw the EXEC keyword).
pub fn parse(stmt: &Statement) -> Result<ExecCall, Error> {
    let t = &stmt.tokens;
    let mut i = 1;
    let mut parts = Vec::new();
    while let Some(Token::Word(w)) = t.get(i) {
        parts.push(w.value.clone());
        i += 1;
        if matches!(t.get(i), Some(Token::Period)) {
            i += 1;
        } else {
            break;
        }
    }
    if parts.len() != 4 {
        return Err(Error::syntax_at(stmt, i, format!("expected {EXEC_SHAPE}")));
    }
    let method = parts.pop().unwrap_or_default();
    let mut call = ExecCall {
        resource: parts.join("."),
        method,
        args: BTreeMap::new(),
        json: None,
    };
    while i < t.len() {
        let (json, name) = match (t.get(i), t.get(i + 1)) {
            (Some(Token::AtSign), Some(Token::Word(w))) => (false, w.value.clone()),
            (Some(Token::AtAt), Some(Token::Word(w))) => (true, w.value.clone()),
            (Some(Token::Placeholder(p)), _) if p.starts_with('@') => {
                i -= 1;
                (p.starts_with("@@"), p.trim_start_matches('@').to_string())
            }
            _ => {
                return Err(Error::syntax_at(
                    stmt,
                    i,
                    format!("expected @name='value' after the method, e.g. {EXEC_SHAPE}"),
                ));
            }
        };
        i += 2;
        if !matches!(t.get(i), Some(Token::Eq)) {
            return Err(Error::syntax_at(
                stmt,
                i,
                format!("expected = after @{name}"),
            ));
        }
        i += 1;
        let value = match t.get(i) {
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => s.clone(),
            Some(Token::Number(n, _)) => n.clone(),
            Some(Token::Word(w)) => w.value.clone(),
            Some(Token::Minus) => match t.get(i + 1) {
                Some(Token::Number(n, _)) => {
                    i += 1;
                    format!("-{n}")
                }
                _ => {
                    return Err(Error::syntax_at(
                        stmt,
                        i,
                        format!("expected a value for @{name}"),
                    ));
                }
            },
            _ => {
                return Err(Error::syntax_at(
                    stmt,
                    i,
                    format!("expected a value for @{name}, e.g. @{name}='...'"),
                ));
            }
        };
        i += 1;
        if json {
            if !name.eq_ignore_ascii_case("json") {
                return Err(Error::syntax_at(
                    stmt,
                    i,
                    format!("unknown @@{name}: only @@json='{{...}}' sets the request body"),
                ));
            }
            if call.json.is_some() {
                return Err(Error::syntax_at(
                    stmt,
                    i,
                    "@@json is given twice; give the body once",
                ));
            }
            call.json = Some(value);
        } else {
            match call.args.entry(name) {
                std::collections::btree_map::Entry::Occupied(e) => {
                    return Err(Error::BadParam(format!(
                        "@{} is given twice in this EXEC; give each parameter once",
                        e.key()
                    )));
                }
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        if matches!(t.get(i), Some(Token::Comma)) {
            i += 1;
        }
    }
    Ok(call)
}

pub fn run(
    registry: &Registry,
    remote: &Remote,
    stmt: &Statement,
    call: ExecCall,
) -> Result<Table, Error> {
    let (svc, m, body) = checked(registry, &call)?;
    if m.raw_pages {
        return Ok(object_table(&pages(&svc, &m, &call.args, remote, |p| {
            vec![p]
        })?));
    }
    let resp = send(&svc, &m, &call, body, stmt, remote)?;
    let mut table = object_table(&[resp]);
    if table.rows.is_empty() {
        table.notice = Some(format!("EXEC {}.{}: done", call.resource, m.name));
    }
    Ok(table)
}

/// The rows of an EXEC used as a table (`SELECT ... FROM (EXEC ...) t`):
/// the items of every page of a list, else the response itself.
pub fn rows(
    registry: &Registry,
    remote: &Remote,
    stmt: &Statement,
    call: ExecCall,
) -> Result<Vec<Value>, Error> {
    let (svc, m, body) = checked(registry, &call)?;
    if m.raw_pages {
        return pages(&svc, &m, &call.args, remote, |p| vec![p]);
    }
    if m.items_key.is_some() {
        return pages(&svc, &m, &call.args, remote, |p| {
            crate::scan::page_items(&m, p)
        });
    }
    Ok(vec![send(&svc, &m, &call, body, stmt, remote)?])
}

/// Sends the call (awaiting a returned operation if the statement says so).
fn send(
    svc: &Service,
    m: &skyql_provider::Method,
    call: &ExecCall,
    body: Option<Value>,
    stmt: &Statement,
    remote: &Remote,
) -> Result<Value, Error> {
    let req = request::build(svc, m, &call.args, body);
    let resp = remote.rt.block_on(remote.client.send(req))?;
    if stmt.hints.iter().any(|h| h == "AWAIT") {
        crate::operation::wait(svc, resp, remote)
    } else {
        Ok(resp)
    }
}

/// The call's service, method and body, once its parameters are checked.
fn checked(
    registry: &Registry,
    call: &ExecCall,
) -> Result<
    (
        std::sync::Arc<Service>,
        skyql_provider::Method,
        Option<Value>,
    ),
    Error,
> {
    let (svc, rname) = registry.resolve(&call.resource)?;
    let r = svc.resource(&rname)?;
    let m = r.method(&call.method)?;
    for name in call.args.keys() {
        if m.param(name).is_none() {
            let names: Vec<&str> = m.params.iter().map(|p| p.name.as_str()).collect();
            return Err(Error::Exec(format!(
                "{}.{} has no parameter @{name}{}; its parameters: {}",
                r.id,
                m.name,
                skyql_provider::closest(name, names.iter().copied())
                    .map(|s| format!(" (did you mean @{s}?)"))
                    .unwrap_or_default(),
                names.join(", ")
            )));
        }
    }
    let missing: Vec<&str> = m
        .required_params()
        .into_iter()
        .filter(|p| !call.args.contains_key(*p))
        .collect();
    if !missing.is_empty() {
        let example: Vec<String> = m
            .required_params()
            .iter()
            .map(|p| format!("@{p}='...'"))
            .collect();
        return Err(Error::MissingParams(format!(
            "EXEC {}.{} needs {}: EXEC {}.{} {}",
            r.id,
            m.name,
            missing.join(", "),
            r.id,
            m.name,
            example.join(", ")
        )));
    }
    request::check_path_values(m, &call.args)?;
    let body = match &call.json {
        Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
            Error::Exec(format!("@@json is not valid JSON: {e}; give the request body as JSON text, e.g. @@json='{{\"key\": \"value\"}}'"))
        })?),
        None if svc.request_schema(m).is_some() => Some(Value::Object(Map::new())),
        None => None,
    };
    let m = m.clone();
    Ok((svc, m, body))
}

/// Follows `nextPageToken` to the end, `rows_of` each page.
fn pages(
    svc: &Service,
    m: &skyql_provider::Method,
    args: &BTreeMap<String, String>,
    remote: &Remote,
    rows_of: impl Fn(Value) -> Vec<Value>,
) -> Result<Vec<Value>, Error> {
    let mut rows = Vec::new();
    let mut pager = crate::paging::Pager::new(format!("EXEC {}", m.id), args.clone());
    loop {
        let page = remote
            .rt
            .block_on(remote.client.send(pager.request(svc, m)))?;
        let more = pager.advance(&page)?;
        rows.extend(rows_of(page));
        if !more {
            break;
        }
    }
    Ok(rows)
}

/// Rows from JSON objects: one column per top-level key (first seen first).
pub fn object_table(objects: &[Value]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for o in objects {
        if let Value::Object(map) = o {
            for k in map.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut table = Table::new(columns.clone());
    for o in objects {
        let Value::Object(map) = o else { continue };
        if map.is_empty() {
            continue;
        }
        table.push(columns.iter().map(|c| cell_of(map.get(c))).collect());
    }
    table
}

pub fn cell_of(v: Option<&Value>) -> Cell {
    Cell::from_json(v)
}
