//! The API methods, one module per collection (`jobs`, `operations`, `locations`), and
//! what they share: changes under the store's lock followed by a state-file write, and
//! for lists page sizes, sealed page tokens, the list body.
//!
//! Every method returns its response as ordered [`Json`]; the front end (`server`) applies
//! `fields` and writes it.

pub mod jobs;
pub mod locations;
pub mod operations;

use std::collections::BTreeMap;

use crate::jobs::OutOpts;
use crate::state::{Inner, lock_err};
use crate::status::ApiError;
use crate::store::Store;
use crate::wire::Json;

/// A request's method parameters (camelCase names) and output options.
#[derive(Default)]
pub struct Query {
    pub params: BTreeMap<String, String>,
    pub opts: OutOpts,
}

impl Query {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Runs `change` under the store's write lock, then (when it succeeded) writes the state
/// file if the store's generation moved.
pub async fn change<T>(
    inner: &Inner,
    change: impl FnOnce(&mut Store) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let out = {
        let mut store = inner.store.write().map_err(lock_err)?;
        change(&mut store)?
    };
    inner.persist().await;
    Ok(out)
}

/// `pageSize`: 100 when absent or 0, at most 100, never negative.
pub fn page_size(query: &Query) -> Result<usize, ApiError> {
    page_size_up_to(query, 100)
}

/// `pageSize`: 100 when absent or 0, at most `max`, never negative.
pub fn page_size_up_to(query: &Query, max: usize) -> Result<usize, ApiError> {
    match query.param("pageSize").map(str::trim) {
        None | Some("") => Ok(100),
        Some(s) => match s.parse::<i32>() {
            Ok(n) if n < 0 => Err(ApiError::invalid(format!(
                "Invalid page_size {n}: it must not be negative."
            ))),
            Ok(0) => Ok(100),
            Ok(n) => Ok((n as usize).min(max)),
            Err(_) => Err(ApiError::bad_payload(format!(
                "Invalid value at 'page_size' (TYPE_INT32), \"{s}\""
            ))),
        },
    }
}

/// The position a `pageToken` carries, checked against the list's scope.
pub fn open_token(
    inner: &Inner,
    scope: &str,
    query: &Query,
) -> Result<Option<(i64, u64)>, ApiError> {
    match query.param("pageToken") {
        None | Some("") => Ok(None),
        Some(t) => inner.pages.open(scope, t).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "Invalid page_token: it is malformed, or it belongs to another request (the parent and filter must not change between pages).",
            )
        }),
    }
}

/// A list response: the items (left out when empty, as proto3 does) and the next token.
pub fn list_json(field: &str, items: Vec<Json>, next: Option<String>) -> Json {
    let mut out = Json::obj().with_nondefault(field, items);
    if let Some(n) = next {
        out.push("nextPageToken", n);
    }
    out
}

/// A job or operation id from the path.
pub fn parse_id(id: &str, what: &str) -> Result<u64, ApiError> {
    let bad = || ApiError::invalid(format!("Invalid {what} id \"{id}\": expected a number."));
    if !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()) {
        id.parse().map_err(|_| bad())
    } else {
        Err(bad())
    }
}
