//! The HTTP front: one handler that takes every request the way Google's front end does,
//! then runs the API method and writes its answer.
//!
//! Order for API requests: route ([`crate::routing`]; `/v3/` goes to Resource Manager,
//! [`crate::crm`]), fault injection, system and method query parameters (`alt`, `fields`,
//! `prettyPrint`...), authentication, service enabled for the project, project
//! permission, regional host check, the project's quota, body (size, content type,
//! binding), method, then the `fields` selection. `/emulator/*` goes to [`crate::control`], the token endpoint and
//! the metadata server to [`crate::auth::Auth`].

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::{BearerCheck, auth_route, is_aiplatform_host, unauthenticated};
use crate::fields::{Selection, Shape};
use crate::methods::operations::Poll;
use crate::methods::{Query, jobs, locations, operations};
use crate::quota::service_disabled;
use crate::routing::{Call, Kind, parse_api_path};
use crate::schema::{self, CANCEL_REQUEST, WAIT_OPERATION_REQUEST};
use crate::state::Inner;
use crate::status::{ApiError, error_info};
use crate::wire::{self, Json, SYSTEM_PARAMS, header_str, host_of, hostname, parse_pairs};
use crate::{control, crm};

/// The service name in errors and quota messages.
const SERVICE: &str = "aiplatform.googleapis.com";

/// What the system parameters asked for.
pub(crate) struct Output {
    pub pretty: bool,
    pub fields: Option<Selection>,
    pub access_token: Option<String>,
}

/// The single entry point of the router.
pub async fn handle(
    axum::extract::State(inner): axum::extract::State<Arc<Inner>>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(resp) = control::serve(&*inner, &parts).await {
        return resp;
    }
    let path = parts.uri.path().to_string();
    let latency = inner.control.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (stat, resp) = route(&inner, &parts, body, &path).await;
    if let Some(stat) = stat {
        inner.control.record(stat, resp.status().as_u16());
    }
    resp
}

async fn route(
    inner: &Arc<Inner>,
    parts: &axum::http::request::Parts,
    body: Body,
    path: &str,
) -> (Option<&'static str>, Response) {
    if let Some(which) = auth_route(path) {
        return inner
            .auth
            .serve(which, &**inner, parts, body, inner.config.body_limit)
            .await;
    }
    if path == "/$discovery/rest" || path == "/discovery/v1/apis/aiplatform/v1/rest" {
        return (None, discovery(inner, parts));
    }
    let crm_host = hostname(&host_of(parts)).starts_with("cloudresourcemanager.");
    if path.starts_with("/v3/") && !is_aiplatform_host(hostname(&host_of(parts))) {
        return match crm::parse_path(&parts.method, path) {
            Ok(Some(call)) => {
                let stat = call.kind.stat();
                (Some(stat), crm::handle(inner, parts, body, call).await)
            }
            Ok(None) => (None, ApiError::no_route(path).into_response()),
            Err(e) => (None, e.into_response()),
        };
    }
    if crm_host || !(path.starts_with("/v1/") || path.starts_with("/ui/")) {
        return (None, ApiError::no_route(path).into_response());
    }
    let call = match parse_api_path(&parts.method, path) {
        Ok(Some(call)) => call,
        Ok(None) => return (None, ApiError::no_route(path).into_response()),
        Err(e) => return (None, e.into_response()),
    };
    let stat = call.kind.stat(call.job.is_some());
    let resp = match api(inner, parts, body, call).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    (Some(stat), resp)
}

/// Splits the query into system parameters and the method's own (camelCase): `params`
/// are the method's parameters, `shape` its response's (for `fields`).
pub(crate) fn parse_query(
    uri_query: Option<&str>,
    params: &[&str],
    shape: &Shape,
) -> Result<(Output, Query), ApiError> {
    let mut out = Output {
        pretty: true,
        fields: None,
        access_token: None,
    };
    let mut q = Query::default();
    let pairs = parse_pairs(uri_query.unwrap_or(""))
        .ok_or_else(|| ApiError::invalid("Invalid query string: bad percent-encoding."))?;
    for (k, v) in pairs {
        if SYSTEM_PARAMS.contains(&k.as_str()) {
            match k.as_str() {
                "alt" | "$alt" => {
                    let mut it = v.split(';');
                    match it.next().unwrap_or("") {
                        "json" => {}
                        "proto" => {
                            return Err(ApiError::invalid("Unsupported Output Format"));
                        }
                        _ => {
                            return Err(ApiError::invalid(format!(
                                "Invalid value at 'alt' (type.googleapis.com/google.api.Alt), \"{v}\""
                            )));
                        }
                    }
                    for opt in it {
                        if opt.trim() == "enum-encoding=int" {
                            q.opts.enum_int = true;
                        }
                    }
                }
                "fields" | "$fields" => {
                    let refuse = |description: String| {
                        ApiError::invalid("Request contains an invalid argument.").with_detail(
                            Json::obj()
                                .with("@type", "type.googleapis.com/google.rpc.BadRequest")
                                .with(
                                    "fieldViolations",
                                    vec![
                                        Json::obj()
                                            .with("field", v.as_str())
                                            .with("description", description),
                                    ],
                                ),
                        )
                    };
                    let sel = Selection::parse(&v)
                        .map_err(|e| refuse(format!("Error expanding 'fields' parameter. {e}.")))?
                        .resolve(shape)
                        .map_err(|path| {
                            refuse(format!(
                                "Error expanding 'fields' parameter. Cannot find matching fields for path '{path}'."
                            ))
                        })?;
                    out.fields = Some(sel);
                }
                "prettyPrint" | "$prettyPrint" => out.pretty = v != "false",
                "access_token" | "oauth_token" => out.access_token = Some(v),
                _ => {}
            }
            continue;
        }
        let camel = schema::snake_to_camel(&k);
        if params.contains(&camel.as_str()) {
            q.params.insert(camel, v);
        } else {
            return Err(ApiError::bad_payload(format!(
                "Invalid JSON payload received. Unknown name \"{k}\": Cannot bind query parameter. Field '{k}' could not be found in request message."
            )));
        }
    }
    Ok((out, q))
}

/// 400 when the request's host is a regional endpoint of another location:
/// `{location}-aiplatform.googleapis.com`, or `aiplatform.{us,eu}.rep.googleapis.com`.
fn check_region(host: &str, location: &str, kind: Kind) -> Result<(), ApiError> {
    let name = hostname(host);
    let region = name.strip_suffix("-aiplatform.googleapis.com").or_else(|| {
        name.strip_prefix("aiplatform.")
            .and_then(|r| r.strip_suffix(".rep.googleapis.com"))
    });
    match region {
        Some(region) if region != location => Err(ApiError::field_violations(&[(
            kind.name_field().to_string(),
            format!(
                "The provided location ID doesn't match the endpoint. The valid location ID is `{region}`."
            ),
        )])),
        _ => Ok(()),
    }
}

async fn api(
    inner: &Arc<Inner>,
    parts: &axum::http::request::Parts,
    body: Body,
    call: Call,
) -> Result<Response, ApiError> {
    let consumer = inner.resolve_project(&call.project).ok();
    if let Some(fault) = inner.control.fault_for(SERVICE, consumer) {
        return Err(fault);
    }
    let kind = call.kind;
    let (output, query) = parse_query(parts.uri.query(), kind.params(), kind.response_shape())?;
    let check = inner.auth.check(parts, output.access_token.as_deref());
    if check != BearerCheck::Ok {
        return Err(unauthenticated(SERVICE, kind.rpc(), &check));
    }
    let number = inner.resolve_project(&call.project)?;
    if inner.disabled.contains(&number) {
        return Err(service_disabled(SERVICE, number));
    }
    if !inner.permitted(&call.project, number) {
        let resource = match &call.location {
            Some(l) => format!("projects/{}/locations/{l}", call.project),
            None => format!("projects/{}", call.project),
        };
        return Err(ApiError::new(
            403,
            "PERMISSION_DENIED",
            format!(
                "Permission '{}' denied on resource '//aiplatform.googleapis.com/{resource}' (or it may not exist).",
                kind.permission()
            ),
        )
        .with_detail(error_info(
            "IAM_PERMISSION_DENIED",
            SERVICE,
            &[("permission", kind.permission()), ("resource", &resource)],
        )));
    }
    if let Some(loc) = &call.location {
        check_region(&host_of(parts), loc, kind)?;
    }
    inner.quotas.take(SERVICE, number, inner.clock.now_us())?;
    let body = read_body(inner, parts, body, kind.takes_body()).await?;
    let location = call.location.as_deref().unwrap_or("");
    let id = call.id.as_deref().unwrap_or("");
    let op_scope = || operations::scope(number, location, call.job.as_deref());
    let job = || jobs::JobRef::parse(number, location, id);
    let result = match kind {
        Kind::LocList => locations::list(inner, &call.project, &query)?,
        Kind::LocGet => locations::get(inner, &call.project, location)?,
        Kind::JobCreate => jobs::create(inner, number, location, body, &query).await?,
        Kind::JobList => jobs::list(inner, number, location, &query)?,
        Kind::JobGet => jobs::get(inner, job()?, &query)?,
        Kind::JobCancel => {
            bind_request(CANCEL_REQUEST, body)?;
            jobs::cancel(inner, job()?).await?
        }
        Kind::JobDelete => jobs::delete(inner, job()?).await?,
        Kind::OpGet => operations::poll(inner, &op_scope()?, id, Poll::Once).await?,
        Kind::OpWait => {
            bind_request(WAIT_OPERATION_REQUEST, body)?;
            if let Some(t) = query.param("timeout")
                && wire::parse_duration(t).is_none()
            {
                return Err(ApiError::bad_payload(format!(
                    "Invalid value at 'timeout' (type.googleapis.com/google.protobuf.Duration), \"{t}\""
                )));
            }
            operations::poll(inner, &op_scope()?, id, Poll::UntilDone).await?
        }
        Kind::OpList => operations::list(inner, &op_scope()?, &query)?,
        Kind::OpCancel => {
            bind_request(CANCEL_REQUEST, body)?;
            operations::cancel(inner, &op_scope()?, id).await?
        }
        Kind::OpDelete => operations::delete(inner, &op_scope()?, id).await?,
    };
    let result = match &output.fields {
        Some(sel) => sel.apply(&result),
        None => result,
    };
    Ok(wire::ok(&result, output.pretty))
}

/// Binds a request body (`body: "*"`) to the request message; unknown fields and
/// mistyped values are refused as Google refuses them.
fn bind_request(fields: &'static [schema::Field], body: Option<Value>) -> Result<(), ApiError> {
    match body {
        None => Ok(()),
        Some(v) => schema::bind_message(fields, &v, "")
            .map(|_| ())
            .map_err(|e| ApiError::bad_payload(e.message)),
    }
}

/// Reads the body, enforcing the size limit and the JSON content type.
async fn read_body(
    inner: &Inner,
    parts: &axum::http::request::Parts,
    body: Body,
    wants_body: bool,
) -> Result<Option<Value>, ApiError> {
    let limit = inner.config.body_limit;
    let too_large = || {
        ApiError::invalid(format!(
            "Request payload size exceeds the limit: {limit} bytes."
        ))
    };
    if let Some(len) =
        header_str(&parts.headers, header::CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    if bytes.iter().all(u8::is_ascii_whitespace) || !wants_body {
        // GET and DELETE bodies are ignored, as Google's front end ignores them.
        return Ok(None);
    }
    let ct = header_str(&parts.headers, header::CONTENT_TYPE).unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(ApiError::invalid(format!(
            "Invalid Content-Type \"{ct}\": the request body must be JSON (application/json)."
        )));
    }
    serde_json::from_slice::<Value>(&bytes)
        .map(Some)
        .map_err(|e| ApiError::bad_payload(format!("Invalid JSON payload received. {e}")))
}

fn discovery(inner: &Arc<Inner>, parts: &axum::http::request::Parts) -> Response {
    let version_ok = parts.uri.query().is_none_or(|q| {
        parse_pairs(q)
            .unwrap_or_default()
            .iter()
            .all(|(k, v)| k != "version" || v == "v1")
    });
    match (&inner.config.discovery, version_ok) {
        (Some(doc), true) => {
            let mut r = (StatusCode::OK, doc.clone()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            r
        }
        _ => ApiError::not_found("No Discovery document for this version: the emulator serves aiplatform v1 only, and only when it was given one.")
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let (_, q) = parse_query(
            Some("%24alt=json%3Benum-encoding%3Dint&page_size=3"),
            Kind::JobList.params(),
            Kind::JobList.response_shape(),
        )
        .unwrap();
        assert!(q.opts.enum_int);
        assert_eq!(q.param("pageSize"), Some("3"));
        assert!(
            parse_query(
                Some("bogus=1"),
                Kind::JobGet.params(),
                Kind::JobGet.response_shape()
            )
            .is_err()
        );
        let e = parse_query(
            Some("alt=proto"),
            Kind::JobGet.params(),
            Kind::JobGet.response_shape(),
        )
        .err()
        .unwrap();
        assert_eq!(
            (e.http, e.message.as_str()),
            (400, "Unsupported Output Format")
        );
        assert!(
            parse_query(
                Some("fields=nope"),
                Kind::JobGet.params(),
                Kind::JobGet.response_shape()
            )
            .is_err()
        );
        assert!(
            parse_query(
                Some("fields=name,state"),
                Kind::JobGet.params(),
                Kind::JobGet.response_shape()
            )
            .is_ok()
        );
    }

    #[test]
    fn regional_hosts() {
        assert!(
            check_region(
                "us-central1-aiplatform.googleapis.com",
                "us-central1",
                Kind::JobGet
            )
            .is_ok()
        );
        assert!(
            check_region(
                "us-central1-aiplatform.googleapis.com:443",
                "europe-west4",
                Kind::JobGet
            )
            .is_err()
        );
        assert!(check_region("aiplatform.us.rep.googleapis.com", "us", Kind::JobGet).is_ok());
        assert!(
            check_region(
                "aiplatform.eu.rep.googleapis.com",
                "us-central1",
                Kind::JobGet
            )
            .is_err()
        );
        assert!(check_region("127.0.0.1:8089", "anywhere", Kind::JobGet).is_ok());
    }
}
