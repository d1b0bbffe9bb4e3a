//! Building API requests from a method and parameter values: path template
//! expansion with percent-encoding, query parameters, the regional root.
//!
//! Path parameter values are checked before a request is built: an empty
//! value, `.` or `..` (or such a segment inside a `{+name}` value) would be
//! resolved away by any URL parser and send the request somewhere else (a
//! get to the list URL, a delete to the parent), so they are refused.

use crate::Error;
use skyql_client::ApiRequest;
use skyql_provider::{Method, ParamLocation, Service};
use std::collections::BTreeMap;

/// Percent-encodes one path segment value (RFC 3986 unreserved kept).
fn encode_segment(v: &str, reserved: bool) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (reserved
                && matches!(
                    b,
                    b'/' | b':'
                        | b'@'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                ));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Expands `{name}` and `{+name}` in a path template.
pub fn expand(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &rest[start + 1..start + len];
        let (reserved, name) = match inner.strip_prefix('+') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        out.push_str(&encode_segment(
            values.get(name).map(String::as_str).unwrap_or(""),
            reserved,
        ));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Refuses path parameter values that URL resolution would change: empty,
/// `.`, `..`, and for `{+name}` (which keeps `/`) any such segment.
pub fn check_path_values(method: &Method, values: &BTreeMap<String, String>) -> Result<(), Error> {
    let template = method.template.as_str();
    for (reserved, name) in placeholders(template) {
        let Some(value) = values.get(name) else {
            continue;
        };
        let bad = if reserved {
            value.split('/').any(|s| matches!(s, "" | "." | ".."))
        } else {
            matches!(value.as_str(), "" | "." | "..")
        };
        if bad {
            return Err(Error::BadParam(format!(
                "{name} = '{}' cannot be a URL path parameter: an empty value, `.` or `..`{} \
                 would make the request reach a different URL; give the resource's real {name}",
                value.escape_debug(),
                if reserved {
                    " (or an empty, `.` or `..` part between `/`s)"
                } else {
                    ""
                },
            )));
        }
    }
    Ok(())
}

/// The `{name}` / `{+name}` placeholders of a path template, in order.
fn placeholders(template: &str) -> impl Iterator<Item = (bool, &str)> {
    template.split('{').skip(1).filter_map(|rest| {
        let inner = &rest[..rest.find('}')?];
        Some(match inner.strip_prefix('+') {
            Some(n) => (true, n),
            None => (false, inner),
        })
    })
}

/// The location a request is about, for the regional root URL.
pub fn location_of(values: &BTreeMap<String, String>) -> Option<&str> {
    ["locationsId", "location", "region"]
        .iter()
        .find_map(|k| values.get(*k).map(String::as_str))
}

/// A request for `method` with these parameter values (and body). A method
/// that takes a request body gets an empty one when none is given (a read
/// sent as POST, such as `getIamPolicy`).
pub fn build(
    svc: &Service,
    method: &Method,
    values: &BTreeMap<String, String>,
    body: Option<serde_json::Value>,
) -> ApiRequest {
    let body = body.or_else(|| {
        method
            .request
            .is_some()
            .then(|| serde_json::Value::Object(serde_json::Map::new()))
    });
    let template = method.template.as_str();
    let path = expand(template, values);
    let path = format!("{}{}", svc.service_path, path);
    let mut query = Vec::new();
    for p in method
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Query)
    {
        if let Some(v) = values.get(&p.name) {
            if p.repeated
                && let Ok(serde_json::Value::Array(items)) =
                    serde_json::from_str::<serde_json::Value>(v)
            {
                for it in items {
                    query.push((
                        p.name.clone(),
                        it.as_str().map_or_else(|| it.to_string(), String::from),
                    ));
                }
                continue;
            }
            query.push((p.name.clone(), v.clone()));
        }
    }
    ApiRequest {
        method: method.http_method.to_ascii_uppercase(),
        root_url: svc.root_url_for(location_of(values)),
        path,
        query,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(path: &str) -> Method {
        let doc = serde_json::json!({
            "kind": "discovery#restDescription", "name": "x", "version": "v1",
            "resources": {"things": {"methods": {"get": {"httpMethod": "GET", "path": path}}}}
        });
        let svc = Service::from_json(doc.to_string().as_bytes(), "x").expect("doc");
        svc.resources[0].methods[0].clone()
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn dot_segments_and_empty_path_values_are_refused() {
        let m = method("v1/projects/{projectsId}/things/{thingsId}");
        for bad in ["", ".", ".."] {
            let e = check_path_values(&m, &values(&[("projectsId", "p"), ("thingsId", bad)]))
                .expect_err(bad)
                .to_string();
            assert!(
                e.starts_with(&format!(
                    "thingsId = '{bad}' cannot be a URL path parameter"
                )),
                "{e}"
            );
        }
        // Dots inside a value are ordinary characters.
        for good in ["...", ".x", "a..b", "%2e%2e"] {
            check_path_values(&m, &values(&[("projectsId", "p"), ("thingsId", good)])).expect(good);
        }
        let m = method("v1/{+name}");
        for bad in [
            "projects/p/..",
            "projects/./x",
            "projects//x",
            "/projects/p",
            "..",
        ] {
            assert!(
                check_path_values(&m, &values(&[("name", bad)])).is_err(),
                "{bad}"
            );
        }
        check_path_values(&m, &values(&[("name", "projects/p/locations/l")])).expect("ok");
    }

    #[test]
    fn expands_simple_and_reserved_placeholders() {
        let mut v = BTreeMap::new();
        v.insert("projectsId".to_string(), "my proj/x".to_string());
        v.insert("name".to_string(), "projects/p/locations/l".to_string());
        assert_eq!(
            expand("v1/projects/{projectsId}/jobs", &v),
            "v1/projects/my%20proj%2Fx/jobs"
        );
        assert_eq!(
            expand("v1/{+name}:cancel", &v),
            "v1/projects/p/locations/l:cancel"
        );
    }
}
