//! Long-running operations, in each style Google's APIs return them, for
//! `/*+ AWAIT */`:
//!
//! - `google.longrunning.Operation` (AIP-151): `name` under `operations/`,
//!   `done`, then `error` (a google.rpc.Status) or `response`; polled with
//!   `GET {version}/{name}`.
//! - Status-style operations: compute's `compute#operation` (zonal,
//!   regional and global alike), sqladmin's `sql#operation`, container's
//!   operations: `status` reaching `DONE`, a `selfLink` to poll, a
//!   `targetLink` to the resource, and failures in `error.errors[]` (or an
//!   `error` Status). Compute's are waited on with its `wait` method
//!   (`POST {selfLink}/wait`, which answers when the operation is done or
//!   after a while); the others are polled with `GET {selfLink}`.
//!
//! An awaited INSERT/UPDATE/REPLACE answers RETURNING from the resource the
//! operation made or changed: the operation's `response`, or a read of its
//! `targetLink`.

use crate::{Error, Remote};
use serde_json::Value;
use skyql_client::ApiRequest;
use skyql_provider::Service;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Longrunning,
    Status,
}

fn style(v: &Value) -> Option<Style> {
    let str_of = |k: &str| v.get(k).and_then(Value::as_str);
    let lro_name =
        str_of("name").is_some_and(|n| n.contains("/operations/") || n.starts_with("operations/"));
    if lro_name && (v.get("done").is_some() || v.get("metadata").is_some()) {
        return Some(Style::Longrunning);
    }
    let kind_says = str_of("kind").is_some_and(|k| k.ends_with("#operation"));
    if str_of("status").is_some()
        && str_of("selfLink").is_some()
        && (kind_says || v.get("operationType").is_some() || v.get("targetLink").is_some())
    {
        return Some(Style::Status);
    }
    None
}

fn is_done(v: &Value, style: Style) -> bool {
    match style {
        Style::Longrunning => v.get("done").and_then(Value::as_bool) == Some(true),
        Style::Status => v.get("status").and_then(Value::as_str) == Some("DONE"),
    }
}

fn name_of(v: &Value) -> String {
    v.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The failure a finished operation reports, if any.
fn failure(v: &Value) -> Option<Error> {
    let err = v.get("error").filter(|e| !e.is_null())?;
    let text = |x: &Value| match x {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    // compute and sqladmin: {"errors": [{"code": "...", "message": "..."}]}
    if let Some(errors) = err.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        let code = errors
            .first()
            .and_then(|e| e.get("code"))
            .map(text)
            .unwrap_or_default();
        let message = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("; ");
        return Some(Error::Operation {
            name: name_of(v),
            code,
            message,
        });
    }
    // google.rpc.Status: {"code": 3, "message": "..."}
    Some(Error::Operation {
        name: name_of(v),
        code: err.get("code").map(text).unwrap_or_default(),
        message: err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

/// `https://host/a/b` as the root `https://host/` and the path `a/b`.
fn split_url(url: &str) -> Option<(String, String)> {
    let scheme_end = url.find("://")? + 3;
    let path_start = url[scheme_end..].find('/')? + scheme_end + 1;
    Some((url[..path_start].to_string(), url[path_start..].to_string()))
}

fn get(url: &str) -> Option<ApiRequest> {
    let (root_url, path) = split_url(url)?;
    Some(ApiRequest {
        method: "GET".into(),
        root_url,
        path,
        query: Vec::new(),
        body: None,
    })
}

fn poll_request(svc: &Service, op: &Value, style: Style) -> Result<ApiRequest, Error> {
    match style {
        Style::Longrunning => {
            let name = name_of(op);
            let location = name
                .split('/')
                .skip_while(|s| *s != "locations")
                .nth(1)
                .map(String::from);
            Ok(ApiRequest {
                method: "GET".into(),
                root_url: svc.root_url_for(location.as_deref()),
                path: format!("{}{}/{name}", svc.service_path, svc.version),
                query: Vec::new(),
                body: None,
            })
        }
        Style::Status => op
            .get("selfLink")
            .and_then(Value::as_str)
            .and_then(|link| {
                let compute = op.get("kind").and_then(Value::as_str) == Some("compute#operation");
                if compute {
                    let (root_url, path) = split_url(link)?;
                    Some(ApiRequest {
                        method: "POST".into(),
                        root_url,
                        path: format!("{path}/wait"),
                        query: Vec::new(),
                        body: None,
                    })
                } else {
                    get(link)
                }
            })
            .ok_or_else(|| {
                Error::Remote(format!(
                    "operation {} has no usable selfLink to poll",
                    name_of(op)
                ))
            }),
    }
}

/// Polls until the operation is done (anything else is returned as it is);
/// its failure becomes the statement's error.
pub fn wait(svc: &Service, op: Value, remote: &Remote) -> Result<Value, Error> {
    let Some(style) = style(&op) else {
        return Ok(op);
    };
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    let mut current = op;
    loop {
        if is_done(&current, style) {
            return match failure(&current) {
                Some(e) => Err(e),
                None => Ok(current),
            };
        }
        if started.elapsed() > remote.await_timeout {
            return Err(Error::Remote(format!(
                "operation {} is still running after {}s; check it with EXEC or try again later",
                name_of(&current),
                remote.await_timeout.as_secs()
            )));
        }
        std::thread::sleep(delay);
        delay = (delay * 3 / 2).min(Duration::from_secs(5));
        let req = poll_request(svc, &current, style)?;
        current = remote.rt.block_on(remote.client.send(req))?;
    }
}

/// What an awaited mutation made or changed: a finished operation's
/// `response`, or its target read back; anything else as it is.
pub fn resource(op: Value, remote: &Remote) -> Result<Value, Error> {
    match style(&op) {
        Some(Style::Longrunning) => Ok(match op.get("response") {
            Some(r @ Value::Object(_)) => r.clone(),
            _ => op,
        }),
        Some(Style::Status) => {
            let deleting = op
                .get("operationType")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("delete"));
            let Some(req) = op
                .get("targetLink")
                .and_then(Value::as_str)
                .filter(|_| !deleting)
                .and_then(get)
            else {
                return Ok(op);
            };
            match remote.rt.block_on(remote.client.send(req)) {
                Ok(v @ Value::Object(_)) => Ok(v),
                Ok(_) => Ok(op),
                Err(e) if crate::scan::http_status(&e) == Some(404) => Ok(op),
                Err(e) => Err(e.into()),
            }
        }
        None => Ok(op),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn styles_of_operations() {
        let lro = json!({"name": "projects/p/locations/l/operations/1", "done": false});
        assert_eq!(style(&lro), Some(Style::Longrunning));
        let compute = json!({"kind": "compute#operation", "name": "operation-1", "status": "RUNNING",
            "selfLink": "https://compute.googleapis.com/compute/v1/projects/p/zones/z/operations/operation-1"});
        assert_eq!(style(&compute), Some(Style::Status));
        let sql = json!({"kind": "sql#operation", "name": "abc", "status": "PENDING",
            "selfLink": "https://sqladmin.googleapis.com/v1/projects/p/operations/abc", "operationType": "CREATE"});
        assert_eq!(style(&sql), Some(Style::Status));
        let container = json!({"name": "operation-9", "status": "RUNNING", "operationType": "CREATE_CLUSTER",
            "selfLink": "https://container.googleapis.com/v1/projects/1/locations/l/operations/operation-9",
            "targetLink": "https://container.googleapis.com/v1/projects/1/locations/l/clusters/c"});
        assert_eq!(style(&container), Some(Style::Status));
        // A resource with a status is not an operation.
        let disk = json!({"kind": "compute#disk", "name": "d", "status": "READY",
            "selfLink": "https://compute.googleapis.com/compute/v1/projects/p/zones/z/disks/d"});
        assert_eq!(style(&disk), None);
        assert_eq!(style(&json!({"name": "projects/p/buckets/b"})), None);
    }

    #[test]
    fn failures_say_what_failed() {
        let compute = json!({"name": "operation-1", "status": "DONE", "error": {"errors": [
            {"code": "QUOTA_EXCEEDED", "message": "Quota exceeded."},
            {"code": "OTHER", "message": "And this."}]}});
        let e = failure(&compute).expect("failed").to_string();
        assert_eq!(
            e,
            "operation operation-1 failed: QUOTA_EXCEEDED: Quota exceeded.; And this."
        );
        let lro =
            json!({"name": "operations/1", "done": true, "error": {"code": 9, "message": "no"}});
        assert_eq!(
            failure(&lro).expect("failed").to_string(),
            "operation operations/1 failed: 9: no"
        );
        assert!(failure(&json!({"name": "x", "done": true, "response": {}})).is_none());
    }

    #[test]
    fn urls_split_into_root_and_path() {
        assert_eq!(
            split_url("https://www.googleapis.com/compute/v1/projects/p"),
            Some((
                "https://www.googleapis.com/".into(),
                "compute/v1/projects/p".into()
            ))
        );
        assert_eq!(split_url("not a url"), None);
    }
}
