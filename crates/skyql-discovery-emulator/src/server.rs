//! The HTTP front: one handler for every request. The order is: `/emulator/*` control
//! routes (never delayed or faulted), the shared auth routes (token endpoint, metadata
//! server), latency, routing, fault injection, authentication, query parameters, the
//! request body (checked against its schema), the method, and enum encoding of the answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use skyql_emulator::auth::{BearerCheck, auth_route, unauthenticated};
use skyql_emulator::control;
use skyql_emulator::wire::{SYSTEM_PARAMS, host_of, json_response, parse_pairs};

use crate::State;
use crate::crud::{self, Call};
use crate::google_error::ApiError;
use crate::route::{self, PathError};

fn no_route(path: &str) -> Response {
    ApiError::not_found(format!(
        "The requested URL {path} was not found on this server."
    ))
    .into_response()
}

/// The single entry point.
pub async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(resp) = control::serve(&*state, &parts).await {
        return resp;
    }
    let path = parts.uri.path().to_string();
    if let Some(which) = auth_route(&path) {
        // Counted as the Vertex AI emulator counts them: `token`, `metadata.token`.
        let (stat, resp) = state
            .auth
            .serve(which, &*state, &parts, body, state.config.body_limit)
            .await;
        if let Some(stat) = stat {
            state.control.record(stat, resp.status().as_u16());
        }
        return resp;
    }
    let latency = state.control.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (stat, resp) = api(&state, parts, body, &path).await;
    if let Some(stat) = stat {
        state.control.record(&stat, resp.status().as_u16());
    }
    resp
}

/// Per-request output options.
struct Output {
    pretty: bool,
    enum_int: bool,
}

async fn api(
    state: &Arc<State>,
    parts: axum::http::request::Parts,
    body: Body,
    path: &str,
) -> (Option<String>, Response) {
    let segs = match route::split_path(path) {
        Ok(s) => s,
        Err(PathError::DotSegment) => {
            return (
                None,
                ApiError::invalid(
                    "Invalid resource name: path segments '.' and '..' are not allowed.",
                )
                .into_response(),
            );
        }
        Err(PathError::BadEncoding(seg)) => {
            return (
                None,
                ApiError::invalid(format!("Invalid path: bad percent-encoding in {seg:?}."))
                    .into_response(),
            );
        }
    };
    let host = host_of(&parts);
    let candidates = state
        .router
        .find(&state.apis, parts.method.as_str(), &segs, &host);
    let Some(found) = pick(state, candidates) else {
        return (None, no_route(path));
    };
    let api = &state.apis[found.api];
    let method = &api.methods[found.method];
    let legacy = api.family != crate::api::Family::Aip;
    let stat = method.id.clone();
    if let Some(fault) = state.control.fault(api.host()) {
        return (Some(stat), fault.into_response());
    }
    // Query: system parameters, then the method's own.
    let pairs = match parse_pairs(parts.uri.query().unwrap_or("")) {
        Some(p) => p,
        None => {
            return (
                Some(stat),
                ApiError::invalid("Invalid query string: bad percent-encoding.")
                    .legacy(legacy)
                    .into_response(),
            );
        }
    };
    let mut out = Output {
        pretty: true,
        enum_int: false,
    };
    let mut query = BTreeMap::new();
    let mut access_token = None;
    for (k, v) in &pairs {
        if SYSTEM_PARAMS.contains(&k.as_str()) {
            match k.as_str() {
                "alt" | "$alt" => {
                    let mut it = v.split(';');
                    if it.next() != Some("json") {
                        let e = ApiError::invalid(format!(
                            "Invalid value for \"alt\": \"{v}\"; the emulator serves json only."
                        ));
                        return (Some(stat), e.legacy(legacy).into_response());
                    }
                    out.enum_int = it.any(|o| o.trim() == "enum-encoding=int");
                }
                "prettyPrint" | "$prettyPrint" => out.pretty = v != "false",
                "access_token" | "oauth_token" => access_token = Some(v.clone()),
                _ => {}
            }
            continue;
        }
        let camel = crate::schema::snake_to_camel(k);
        // Nested request fields bound from the query (`options.requestedPolicyVersion`).
        let root = camel.split('.').next().unwrap_or(&camel);
        if method.params.contains_key(&camel) || method.params.contains_key(root) {
            query.insert(camel, v.clone());
        } else if method.role == crate::api::Role::GetIam
            || matches!(api.family, crate::api::Family::Aip)
        {
            let e = ApiError::bad_payload(
                k,
                format!(
                    "Invalid JSON payload received. Unknown name \"{k}\": Cannot bind query parameter. Field '{k}' could not be found in request message."
                ),
            );
            return (Some(stat), e.legacy(legacy).into_response());
        } else {
            let e = ApiError::bad_payload(
                k,
                format!("Unknown query parameter \"{k}\" for {}.", method.id),
            );
            return (Some(stat), e.legacy(legacy).into_response());
        }
    }
    let check = state.auth.check(&parts, access_token.as_deref());
    if check != BearerCheck::Ok {
        let rpc = method.id.clone();
        return (
            Some(stat),
            unauthenticated(api.host(), &rpc, &check).into_response(),
        );
    }
    // Path parameters are in the key; required query parameters must be present.
    for (name, p) in method.params.iter() {
        if p.required && p.location.as_deref() == Some("query") && !query.contains_key(name) {
            let e = ApiError::bad_payload(
                name,
                format!(
                    "Required parameter {name} is missing: {} needs it.",
                    method.id
                ),
            );
            return (Some(stat), e.legacy(legacy).into_response());
        }
    }
    let body = match read_body(state, api, method, body).await {
        Ok(b) => b,
        Err(e) => return (Some(stat), e.legacy(legacy).into_response()),
    };
    let key = found.bound.segs[method.key_skip.min(found.bound.segs.len())..].to_vec();
    let call = Call {
        api,
        method,
        key,
        query,
        query_all: pairs,
        body,
    };
    let mutating = parts.method != axum::http::Method::GET;
    let result = crud::run(state, call).await;
    if mutating {
        crate::state_file::persist(state).await;
    }
    let reply = match result {
        Ok(r) => r,
        Err(e) => return (Some(stat), e.into_response()),
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let Some(mut value) = reply.body else {
        return (Some(stat), status.into_response());
    };
    if out.enum_int
        && let Some(schema) = &reply.schema
        && let Err(e) = crate::schema::encode_enums(api, schema, &mut value)
    {
        return (Some(stat), e.legacy(legacy).into_response());
    }
    (Some(stat), json_body(status, &value, out.pretty))
}

/// The best route; among equally good ones from different services (the same AIP path
/// in several APIs), the one whose store holds the resource the request names.
fn pick(state: &State, candidates: Vec<crate::router::Found>) -> Option<crate::router::Found> {
    let first = candidates.first()?;
    let tied = |f: &crate::router::Found| f.rank == first.rank && f.api != first.api;
    if candidates.iter().skip(1).any(tied) {
        let holds = |f: &crate::router::Found| {
            let api = &state.apis[f.api];
            let m = &api.methods[f.method];
            let key = &f.bound.segs[m.key_skip.min(f.bound.segs.len())..];
            let Some((id, coll)) = key.split_last() else {
                return false;
            };
            state
                .store
                .read()
                .map(|s| s.get(&api.id(), &coll.join("/"), id).is_some())
                .unwrap_or(false)
        };
        let rank = first.rank;
        if let Some(i) = candidates.iter().position(|f| f.rank == rank && holds(f)) {
            return candidates.into_iter().nth(i);
        }
    }
    candidates.into_iter().next()
}

async fn read_body(
    state: &State,
    api: &crate::api::Api,
    method: &crate::api::MethodDef,
    body: Body,
) -> Result<Option<Value>, ApiError> {
    let bytes = axum::body::to_bytes(body, state.config.body_limit)
        .await
        .map_err(|_| {
            ApiError::new(
                413,
                "INVALID_ARGUMENT",
                "uploadTooLarge",
                format!(
                    "The request body is larger than the emulator's limit of {} bytes.",
                    state.config.body_limit
                ),
            )
        })?;
    let Some(schema) = method.request.as_deref() else {
        return Ok(None);
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(Value::Object(Default::default())));
    }
    let mut value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid JSON payload received. {e}.")))?;
    if !value.is_object() {
        return Err(ApiError::invalid(
            "Invalid JSON payload received. The request body must be a JSON object.",
        ));
    }
    let field = if api.family == crate::api::Family::Compute {
        "resource"
    } else {
        ""
    };
    crate::schema::check_request(api, schema, &mut value, field)?;
    Ok(Some(value))
}

fn json_body(status: StatusCode, value: &Value, pretty: bool) -> Response {
    let bytes = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    }
    .unwrap_or_default();
    json_response(status, bytes)
}
