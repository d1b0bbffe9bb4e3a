//! The HTTP front: one handler that routes every request the way Google's front end does,
//! then runs the API method.
//!
//! Routing is done by hand on the raw path (not by a router) so that the emulator sees
//! what Google sees: encoded slashes and `.`/`..` segments are refused, `:cancel` custom
//! verbs are parsed, `/ui/...` aliases are served, and unknown routes get a Google-shaped
//! 404. For API requests the order is: route, fault injection, authentication, query
//! parameters, project permission, regional host check, method.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Value, json};

use crate::Config;
use crate::auth::{self, Audience, BearerCheck, Keys, RefreshCreds, TokenStore};
use crate::clock::{Clock, rfc3339};
use crate::filter::Filter;
use crate::ids::{is_number, nineteen_digits, project_number, splitmix64};
use crate::jobs::{self, FAIL_LABEL, Job, JobJson, Mask, OutOpts};
use crate::paging::PageTokens;
use crate::schema::{self, CUSTOM_JOB};
use crate::status::ApiError;
use crate::store::{Operation, SnapshotRef, Store, write_atomic};

/// The regions `locations.list` reports.
pub const LOCATIONS: &[&str] = &[
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
];

/// Query parameters every Google API accepts.
const SYSTEM_PARAMS: &[&str] = &[
    "alt",
    "$alt",
    "fields",
    "$fields",
    "key",
    "prettyPrint",
    "$prettyPrint",
    "quotaUser",
    "$quotaUser",
    "access_token",
    "oauth_token",
    "callback",
    "$callback",
    "upload_protocol",
    "uploadType",
    "$.xgafv",
    "userIp",
    "trace",
    "$trace",
];

/// Shared state behind every request.
pub struct Inner {
    pub config: Config,
    pub keys: Keys,
    pub tokens: TokenStore,
    pub refresh: RefreshCreds,
    pub clock: Clock,
    pub store: RwLock<Store>,
    /// Project number → project id, for every id seen.
    pub projects: RwLock<BTreeMap<u64, String>>,
    pub allowed: Option<(HashSet<String>, HashSet<u64>)>,
    pub stats: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub fault_rng: Mutex<u64>,
    pub pages: PageTokens,
    pub page_secret_b64: String,
    pub persisted: tokio::sync::Mutex<u64>,
}

/// The API methods the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    LocList,
    LocGet,
    JobCreate,
    JobList,
    JobGet,
    JobCancel,
    JobDelete,
    OpGet,
    OpList,
}

impl Kind {
    /// The Discovery method path below `locations` (the stats name).
    fn stat(self) -> &'static str {
        match self {
            Kind::LocList => "locations.list",
            Kind::LocGet => "locations.get",
            Kind::JobCreate => "customJobs.create",
            Kind::JobList => "customJobs.list",
            Kind::JobGet => "customJobs.get",
            Kind::JobCancel => "customJobs.cancel",
            Kind::JobDelete => "customJobs.delete",
            Kind::OpGet => "operations.get",
            Kind::OpList => "operations.list",
        }
    }
    fn rpc(self) -> &'static str {
        match self {
            Kind::LocList => "google.cloud.location.Locations.ListLocations",
            Kind::LocGet => "google.cloud.location.Locations.GetLocation",
            Kind::JobCreate => "google.cloud.aiplatform.v1.JobService.CreateCustomJob",
            Kind::JobList => "google.cloud.aiplatform.v1.JobService.ListCustomJobs",
            Kind::JobGet => "google.cloud.aiplatform.v1.JobService.GetCustomJob",
            Kind::JobCancel => "google.cloud.aiplatform.v1.JobService.CancelCustomJob",
            Kind::JobDelete => "google.cloud.aiplatform.v1.JobService.DeleteCustomJob",
            Kind::OpGet => "google.longrunning.Operations.GetOperation",
            Kind::OpList => "google.longrunning.Operations.ListOperations",
        }
    }
    fn permission(self) -> &'static str {
        match self {
            Kind::LocList => "aiplatform.locations.list",
            Kind::LocGet => "aiplatform.locations.get",
            Kind::JobCreate => "aiplatform.customJobs.create",
            Kind::JobList => "aiplatform.customJobs.list",
            Kind::JobGet => "aiplatform.customJobs.get",
            Kind::JobCancel => "aiplatform.customJobs.cancel",
            Kind::JobDelete => "aiplatform.customJobs.delete",
            Kind::OpGet => "aiplatform.operations.get",
            Kind::OpList => "aiplatform.operations.list",
        }
    }
    /// Query parameters of the method (JSON names; snake_case is accepted too).
    fn params(self) -> &'static [&'static str] {
        match self {
            Kind::LocList => &["filter", "pageSize", "pageToken", "extraLocationTypes"],
            Kind::JobList => &["filter", "pageSize", "pageToken", "readMask"],
            Kind::OpList => &["filter", "pageSize", "pageToken", "returnPartialSuccess"],
            _ => &[],
        }
    }
    /// The request field that names the resource (for location-mismatch errors).
    fn name_field(self) -> &'static str {
        match self {
            Kind::JobCreate | Kind::JobList | Kind::OpList | Kind::LocList => "parent",
            _ => "name",
        }
    }
}

/// A routed API call.
struct Call {
    kind: Kind,
    project: String,
    location: Option<String>,
    id: Option<String>,
}

/// Per-request output options.
#[derive(Default)]
struct Query {
    params: BTreeMap<String, String>,
    opts: OutOpts,
    pretty: bool,
    access_token: Option<String>,
}

impl Inner {
    fn record(&self, method: &'static str, status: u16) {
        if let Ok(mut s) = self.stats.lock() {
            *s.entry((method, status)).or_default() += 1;
        }
    }

    fn fault(&self) -> Option<ApiError> {
        let rate = self.config.fault_rate;
        if rate <= 0.0 {
            return None;
        }
        let mut s = self.fault_rng.lock().ok()?;
        let u = (splitmix64(&mut s) >> 11) as f64 / (1u64 << 53) as f64;
        if u >= rate {
            return None;
        }
        Some(if splitmix64(&mut s) & 1 == 0 {
            ApiError::new(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Resource management (CRUD) requests' and limit 'Resource management (CRUD) requests per minute per region' of service 'aiplatform.googleapis.com'.",
            )
            .with_detail(json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {"service": "aiplatform.googleapis.com"}
            }))
            .with_header("retry-after", "1")
        } else {
            ApiError::new(503, "UNAVAILABLE", "The service is currently unavailable.")
        })
    }

    /// Marks the state as changed (for the state file).
    pub fn touch(&self) {
        if let Ok(mut s) = self.store.write() {
            s.generation += 1;
        }
    }

    fn new_id(&self, store: &Store) -> u64 {
        loop {
            let id = nineteen_digits(rand::random());
            if !store.id_taken(id) {
                return id;
            }
        }
    }

    /// Project number and whether the caller may use it.
    fn resolve_project(&self, project: &str) -> Result<u64, ApiError> {
        if is_number(project) {
            return project
                .parse::<u64>()
                .map_err(|_| ApiError::invalid(format!("Invalid project number: {project}")));
        }
        let number = project_number(project);
        let known = self
            .projects
            .read()
            .map(|p| p.contains_key(&number))
            .unwrap_or(true);
        if !known && let Ok(mut p) = self.projects.write() {
            p.insert(number, project.to_string());
        }
        Ok(number)
    }

    fn permitted(&self, project: &str, number: u64) -> bool {
        match &self.allowed {
            None => true,
            Some((ids, numbers)) => ids.contains(project) || numbers.contains(&number),
        }
    }

    /// Writes the state file if anything changed since the last write.
    pub async fn persist(self: &Arc<Self>) {
        let Some(path) = self.config.state_file.clone() else {
            return;
        };
        let mut persisted = self.persisted.lock().await;
        let (generation, bytes) = {
            let Ok(store) = self.store.read() else { return };
            if store.generation <= *persisted {
                return;
            }
            let projects = self.projects.read().map(|p| p.clone()).unwrap_or_default();
            let snap = SnapshotRef {
                version: 1,
                signing_key_pem: &self.keys.private_key_pem,
                page_secret: &self.page_secret_b64,
                refresh: &self.refresh,
                clock_now_us: self.clock.now_us(),
                seq: store.seq,
                projects: &projects,
                jobs: store
                    .jobs
                    .values()
                    .flat_map(|m| m.values())
                    .flat_map(|o| o.items.values())
                    .collect(),
                operations: store
                    .ops
                    .values()
                    .flat_map(|m| m.values())
                    .flat_map(|o| o.items.values())
                    .collect(),
                tokens: self.tokens.export(),
            };
            match serde_json::to_vec(&snap) {
                Ok(b) => (store.generation, b),
                Err(e) => {
                    eprintln!("skyql emulator: cannot encode the state: {e}");
                    return;
                }
            }
        };
        let result = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
        match result {
            Ok(Ok(())) => *persisted = generation,
            Ok(Err(e)) => eprintln!("skyql emulator: cannot write the state file: {e}"),
            Err(e) => eprintln!("skyql emulator: cannot write the state file: {e}"),
        }
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    resp
}

fn to_body<T: Serialize>(value: &T, pretty: bool) -> Vec<u8> {
    let r = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    r.unwrap_or_default()
}

fn ok<T: Serialize>(value: &T, pretty: bool) -> Response {
    json_response(StatusCode::OK, to_body(value, pretty))
}

/// Percent-decodes; `plus` turns `+` into a space (query strings and forms).
pub fn percent_decode(s: &str, plus: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let h = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `a=b&c=d` → pairs, decoded.
fn parse_pairs(s: &str) -> Result<Vec<(String, String)>, ApiError> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (percent_decode(k, true), percent_decode(v, true)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(ApiError::invalid(
                    "Invalid query string: bad percent-encoding.",
                )),
            }
        })
        .collect()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn host_of(parts: &axum::http::request::Parts) -> String {
    header_str(&parts.headers, header::HOST)
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into())
}

/// The single entry point of the router.
pub async fn handle(
    axum::extract::State(inner): axum::extract::State<Arc<Inner>>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/emulator/") {
        return control(&inner, &parts, rest).await;
    }
    if !inner.config.latency.is_zero() {
        tokio::time::sleep(inner.config.latency).await;
    }
    let (stat, resp) = route(&inner, &parts, body, &path).await;
    if let Some(stat) = stat {
        inner.record(stat, resp.status().as_u16());
    }
    resp
}

async fn route(
    inner: &Arc<Inner>,
    parts: &axum::http::request::Parts,
    body: Body,
    path: &str,
) -> (Option<&'static str>, Response) {
    match path {
        "/token" | "/oauth2/v4/token" | "/o/oauth2/token" => {
            return (Some("token"), token_endpoint(inner, parts, body).await);
        }
        "/$discovery/rest" | "/discovery/v1/apis/aiplatform/v1/rest" => {
            return (None, discovery(inner, parts));
        }
        _ => {}
    }
    if path == "/" || path.starts_with("/computeMetadata/") {
        let is_token = path.ends_with("/token");
        let resp = metadata(inner, parts, path);
        if is_token && resp.status() == StatusCode::OK {
            inner.touch();
            inner.persist().await;
        }
        return (is_token.then_some("metadata.token"), resp);
    }
    if !(path.starts_with("/v1/") || path.starts_with("/ui/")) {
        return (None, not_found_route(path));
    }
    let call = match parse_api_path(&parts.method, path) {
        Ok(Some(call)) => call,
        Ok(None) => return (None, not_found_route(path)),
        Err(e) => return (None, e.into_response()),
    };
    let stat = call.kind.stat();
    let resp = match api(inner, parts, body, call).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    (Some(stat), resp)
}

fn not_found_route(path: &str) -> Response {
    ApiError::not_found(format!(
        "The requested URL {path} was not found on this server."
    ))
    .into_response()
}

/// Splits and checks the path; `Ok(None)` for a route the API does not have.
fn parse_api_path(method: &Method, path: &str) -> Result<Option<Call>, ApiError> {
    let raw: Vec<&str> = path[1..].split('/').collect();
    let mut segs = Vec::with_capacity(raw.len());
    for r in &raw {
        let lower = r.to_ascii_lowercase();
        if lower.contains("%2f") || lower.contains("%5c") {
            return Err(ApiError::invalid(format!(
                "Invalid resource name: encoded '/' in path segment \"{r}\"."
            )));
        }
        let Some(seg) = percent_decode(r, false) else {
            return Err(ApiError::invalid(format!(
                "Invalid resource name: bad percent-encoding in \"{r}\"."
            )));
        };
        if seg == ".." || seg == "." {
            return Err(ApiError::invalid(
                "Invalid resource name: path segments '.' and '..' are not allowed.",
            ));
        }
        if seg.is_empty() {
            return Ok(None);
        }
        segs.push(seg);
    }
    let ui = segs[0] == "ui";
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let delete = *method == Method::DELETE;
    let call = |kind, p: &str, l: Option<&str>, id: Option<&str>| {
        Some(Call {
            kind,
            project: p.to_string(),
            location: l.map(String::from),
            id: id.map(String::from),
        })
    };
    let found = match s[1..] {
        ["projects", p, "locations"] if get => call(Kind::LocList, p, None, None),
        ["projects", p, "locations", l] if get && !l.contains(':') => {
            call(Kind::LocGet, p, Some(l), None)
        }
        ["projects", p, "locations", l, "operations"] if get => {
            call(Kind::OpList, p, Some(l), None)
        }
        ["projects", p, "locations", l, "operations", id] if get && !id.contains(':') => {
            call(Kind::OpGet, p, Some(l), Some(id))
        }
        ["projects", p, "locations", l, "customJobs"] if !ui && get => {
            call(Kind::JobList, p, Some(l), None)
        }
        ["projects", p, "locations", l, "customJobs"] if !ui && post => {
            call(Kind::JobCreate, p, Some(l), None)
        }
        ["projects", p, "locations", l, "customJobs", last] if !ui => match last.split_once(':') {
            Some((id, "cancel")) if post => call(Kind::JobCancel, p, Some(l), Some(id)),
            Some(_) => None,
            None if get => call(Kind::JobGet, p, Some(l), Some(last)),
            None if delete => call(Kind::JobDelete, p, Some(l), Some(last)),
            None => None,
        },
        _ => None,
    };
    Ok(found)
}

fn parse_query(uri_query: Option<&str>, kind: Kind) -> Result<Query, ApiError> {
    let mut q = Query {
        pretty: true,
        ..Query::default()
    };
    for (k, v) in parse_pairs(uri_query.unwrap_or(""))? {
        if SYSTEM_PARAMS.contains(&k.as_str()) {
            match k.as_str() {
                "alt" | "$alt" => {
                    let mut it = v.split(';');
                    let fmt = it.next().unwrap_or("");
                    if fmt != "json" {
                        return Err(ApiError::invalid(format!(
                            "Invalid value for \"alt\": \"{v}\"; only json is served."
                        )));
                    }
                    for opt in it {
                        if opt.trim() == "enum-encoding=int" {
                            q.opts.enum_int = true;
                        }
                    }
                }
                "prettyPrint" | "$prettyPrint" => q.pretty = v != "false",
                "access_token" | "oauth_token" => q.access_token = Some(v),
                _ => {}
            }
            continue;
        }
        let camel = schema::snake_to_camel(&k);
        if kind.params().contains(&camel.as_str()) {
            q.params.insert(camel, v);
        } else {
            return Err(ApiError::bad_payload(format!(
                "Invalid JSON payload received. Unknown name \"{k}\": Cannot bind query parameter. Field '{k}' could not be found in request message."
            )));
        }
    }
    Ok(q)
}

fn unauthenticated(kind: Kind, check: &BearerCheck) -> ApiError {
    let (message, reason) = match check {
        BearerCheck::Missing => (
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "CREDENTIALS_MISSING",
        ),
        BearerCheck::Expired => (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "ACCESS_TOKEN_EXPIRED",
        ),
        _ => (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "ACCESS_TOKEN_TYPE_UNSUPPORTED",
        ),
    };
    let mut metadata = json!({"service": "aiplatform.googleapis.com", "method": kind.rpc()});
    if let BearerCheck::Invalid(why) = check {
        metadata["emulatorDetail"] = Value::String(why.clone());
    }
    ApiError::new(401, "UNAUTHENTICATED", message)
        .with_detail(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "googleapis.com",
            "metadata": metadata
        }))
        .with_header(
            "www-authenticate",
            "Bearer realm=\"https://accounts.google.com/\"",
        )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = header_str(headers, header::AUTHORIZATION)?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn own_urls(inner: &Inner, host: &str) -> Vec<String> {
    let mut v = vec![format!("http://{host}/"), format!("http://{host}/token")];
    if let Some(b) = &inner.config.base_url {
        v.push(b.clone());
        v.push(format!("{}/token", b.trim_end_matches('/')));
    }
    v
}

async fn api(
    inner: &Arc<Inner>,
    parts: &axum::http::request::Parts,
    body: Body,
    call: Call,
) -> Result<Response, ApiError> {
    if let Some(fault) = inner.fault() {
        return Err(fault);
    }
    let kind = call.kind;
    let query = parse_query(parts.uri.query(), kind)?;
    let host = host_of(parts);
    let token = bearer(&parts.headers).or(query.access_token.as_deref());
    let check = auth::check_bearer(&inner.keys, &inner.tokens, token, &own_urls(inner, &host));
    if check != BearerCheck::Ok {
        return Err(unauthenticated(kind, &check));
    }
    let number = inner.resolve_project(&call.project)?;
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
        .with_detail(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "IAM_PERMISSION_DENIED",
            "domain": "aiplatform.googleapis.com",
            "metadata": {"permission": kind.permission(), "resource": resource}
        })));
    }
    if let Some(loc) = &call.location {
        let hostname = host.rsplit_once(':').map_or(host.as_str(), |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host.as_str()
            }
        });
        if let Some(region) = hostname.strip_suffix("-aiplatform.googleapis.com")
            && region != loc
        {
            return Err(ApiError::field_violations(&[(
                kind.name_field().to_string(),
                format!(
                    "The provided location ID doesn't match the endpoint. The valid location ID is `{region}`."
                ),
            )]));
        }
    }
    let body = read_body(
        inner,
        parts,
        body,
        matches!(kind, Kind::JobCreate | Kind::JobCancel),
    )
    .await?;
    let location = call.location.as_deref().unwrap_or("");
    let id = call.id.as_deref().unwrap_or("");
    match kind {
        Kind::LocList => list_locations(inner, &call.project, &query),
        Kind::LocGet => {
            if LOCATIONS.contains(&location) {
                Ok(ok(&location_json(&call.project, location), query.pretty))
            } else {
                Err(ApiError::not_found(format!(
                    "Location projects/{}/locations/{location} not found.",
                    call.project
                )))
            }
        }
        Kind::JobCreate => create_job(inner, number, location, body, &query).await,
        Kind::JobList => list_jobs(inner, number, location, &query),
        Kind::JobGet => {
            let id = parse_id(id, "CustomJob")?;
            let now = inner.clock.now_us();
            let store = inner
                .store
                .read()
                .map_err(|_| ApiError::new(500, "INTERNAL", "state lock poisoned"))?;
            let job = store
                .location_jobs(number, location)
                .and_then(|l| l.items.get(&id))
                .ok_or_else(|| job_not_found(number, location, id))?;
            let out = JobJson {
                job,
                view: job.view(now),
                opts: query.opts,
                mask: None,
            };
            Ok(ok(&out, query.pretty))
        }
        Kind::JobCancel => cancel_job(inner, number, location, id, &query).await,
        Kind::JobDelete => delete_job(inner, number, location, id, &query).await,
        Kind::OpGet => get_operation(inner, number, location, id, &query).await,
        Kind::OpList => list_operations(inner, number, location, &query),
    }
}

fn location_json(project: &str, location: &str) -> Value {
    json!({
        "name": format!("projects/{project}/locations/{location}"),
        "locationId": location,
    })
}

fn lock_err<T>(_: T) -> ApiError {
    ApiError::new(
        500,
        "INTERNAL",
        "Internal error: the emulator's state lock is poisoned.",
    )
}

fn parse_id(id: &str, what: &str) -> Result<u64, ApiError> {
    if !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()) {
        id.parse().map_err(|_| {
            ApiError::invalid(format!("Invalid {what} id \"{id}\": expected a number."))
        })
    } else {
        Err(ApiError::invalid(format!(
            "Invalid {what} id \"{id}\": expected a number."
        )))
    }
}

fn job_not_found(number: u64, location: &str, id: u64) -> ApiError {
    ApiError::not_found(format!(
        "The CustomJob does not exist: projects/{number}/locations/{location}/customJobs/{id}"
    ))
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
        ApiError::new(
            413,
            "INVALID_ARGUMENT",
            format!("Request payload size exceeds the limit: {limit} bytes."),
        )
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
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !wants_body {
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
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(ApiError::bad_payload(format!(
            "Invalid JSON payload received. {e}"
        ))),
    }
}

async fn create_job(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    body: Option<Value>,
    query: &Query,
) -> Result<Response, ApiError> {
    let body = body.unwrap_or_else(|| json!({}));
    let bound = schema::bind_message(CUSTOM_JOB, &body, "custom_job")
        .map_err(|e| ApiError::bad_payload(e.message))?;
    let new = jobs::validate(bound).map_err(|v| ApiError::field_violations(&v))?;
    let now = inner.clock.now_us();
    let resp = {
        let mut store = inner.store.write().map_err(lock_err)?;
        let id = inner.new_id(&store);
        let seq = store.next_seq();
        let fails = new.labels.get(FAIL_LABEL.0).map(String::as_str) == Some(FAIL_LABEL.1);
        let job = Job {
            id,
            project_number: number,
            location: location.to_string(),
            seq,
            display_name: new.display_name,
            job_spec: jobs::CompactJson::new(&new.job_spec),
            labels: new.labels,
            encryption_spec: new.encryption_spec,
            create_us: now,
            pending_us: inner.config.pending.as_micros() as i64,
            running_us: inner.config.running.as_micros() as i64,
            fails,
            cancel_us: None,
        };
        let out = to_body(
            &JobJson {
                job: &job,
                view: job.view(now),
                opts: query.opts,
                mask: None,
            },
            query.pretty,
        );
        store.insert_job(job);
        store.generation += 1;
        json_response(StatusCode::OK, out)
    };
    inner.persist().await;
    Ok(resp)
}

/// A list response written without building a JSON tree.
struct ListOut<'a, T: Serialize> {
    field: &'static str,
    items: Vec<T>,
    next: Option<String>,
    _p: std::marker::PhantomData<&'a ()>,
}

impl<T: Serialize> Serialize for ListOut<'_, T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        if !self.items.is_empty() {
            m.serialize_entry(self.field, &self.items)?;
        }
        if let Some(n) = &self.next {
            m.serialize_entry("nextPageToken", n)?;
        }
        m.end()
    }
}

fn page_size(query: &Query) -> Result<usize, ApiError> {
    match query.params.get("pageSize").map(|s| s.trim()) {
        None | Some("") => Ok(100),
        Some(s) => match s.parse::<i32>() {
            Ok(n) if n < 0 => Err(ApiError::invalid(format!(
                "Invalid page_size {n}: it must not be negative."
            ))),
            Ok(0) => Ok(100),
            Ok(n) => Ok((n as usize).min(100)),
            Err(_) => Err(ApiError::bad_payload(format!(
                "Invalid value at 'page_size' (TYPE_INT32), \"{s}\""
            ))),
        },
    }
}

fn open_token(inner: &Inner, scope: &str, query: &Query) -> Result<Option<(i64, u64)>, ApiError> {
    match query.params.get("pageToken").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(t) => inner.pages.open(scope, t).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "Invalid page_token: it is malformed, or it belongs to another request (the parent and filter must not change between pages).",
            )
        }),
    }
}

fn list_jobs(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    query: &Query,
) -> Result<Response, ApiError> {
    let size = page_size(query)?;
    let filter_raw = query.params.get("filter").map(String::as_str).unwrap_or("");
    let filter = Filter::parse(filter_raw)
        .map_err(|e| ApiError::invalid(format!("Invalid filter \"{filter_raw}\": {e}.")))?;
    let mask = Mask::parse(
        query
            .params
            .get("readMask")
            .map(String::as_str)
            .unwrap_or(""),
    )
    .map_err(|p| {
        ApiError::invalid(format!(
            "Invalid read_mask path \"{p}\": CustomJob has no such field."
        ))
    })?;
    let scope = format!("customJobs|{number}|{location}|{filter_raw}");
    let after = open_token(inner, &scope, query)?;
    let now = inner.clock.now_us();
    let store = inner.store.read().map_err(lock_err)?;
    let mut items = Vec::with_capacity(size.min(100));
    let mut next = None;
    if let Some(loc) = store.location_jobs(number, location) {
        let mut last = None;
        for (_, job) in loc.iter_from(after) {
            let view = job.view(now);
            if !filter.matches(&job.subject(&view)) {
                continue;
            }
            if items.len() == size {
                next = last.map(|(c, s)| inner.pages.seal(&scope, c, s));
                break;
            }
            last = Some((job.create_us, job.seq));
            items.push(JobJson {
                job,
                view,
                opts: query.opts,
                mask: mask.as_ref(),
            });
        }
    }
    let out = ListOut {
        field: "customJobs",
        items,
        next,
        _p: std::marker::PhantomData,
    };
    Ok(ok(&out, query.pretty))
}

fn list_locations(inner: &Arc<Inner>, project: &str, query: &Query) -> Result<Response, ApiError> {
    let size = page_size(query)?;
    let scope = format!("locations|{project}");
    let start = open_token(inner, &scope, query)?.map_or(0, |(i, _)| i.max(0) as usize);
    let items: Vec<Value> = LOCATIONS
        .iter()
        .skip(start)
        .take(size)
        .map(|l| location_json(project, l))
        .collect();
    let end = start + items.len();
    let next = (end < LOCATIONS.len()).then(|| inner.pages.seal(&scope, end as i64, 0));
    let out = ListOut {
        field: "locations",
        items,
        next,
        _p: std::marker::PhantomData,
    };
    Ok(ok(&out, query.pretty))
}

async fn cancel_job(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    id: &str,
    query: &Query,
) -> Result<Response, ApiError> {
    let id = parse_id(id, "CustomJob")?;
    let now = inner.clock.now_us();
    {
        let mut store = inner.store.write().map_err(lock_err)?;
        let job = store
            .jobs
            .get_mut(&number)
            .and_then(|m| m.get_mut(location))
            .and_then(|l| l.items.get_mut(&id))
            .ok_or_else(|| job_not_found(number, location, id))?;
        let view = job.view(now);
        if view.finished() {
            return Err(ApiError::failed_precondition(format!(
                "Cannot cancel CustomJob \"{}\": the job is in state {}, which is final.",
                job.name(),
                view.state
            )));
        }
        if view.state != "JOB_STATE_CANCELLING" {
            job.cancel_us = Some(now);
            store.generation += 1;
        }
    }
    inner.persist().await;
    Ok(ok(&json!({}), query.pretty))
}

async fn delete_job(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    id: &str,
    query: &Query,
) -> Result<Response, ApiError> {
    let id = parse_id(id, "CustomJob")?;
    let now = inner.clock.now_us();
    let op_json = {
        let mut store = inner.store.write().map_err(lock_err)?;
        let job = store
            .location_jobs(number, location)
            .and_then(|l| l.items.get(&id))
            .ok_or_else(|| job_not_found(number, location, id))?;
        let view = job.view(now);
        if !view.finished() {
            return Err(ApiError::failed_precondition(format!(
                "CustomJob \"{}\" is in state {} and cannot be deleted: only a finished job (succeeded, failed or cancelled) can be. Cancel it first.",
                job.name(),
                view.state
            )));
        }
        let target = job.name();
        store.remove_job(number, location, id);
        let op_id = inner.new_id(&store);
        let seq = store.next_seq();
        let polls = inner.config.operation_polls;
        let op = Operation {
            id: op_id,
            project_number: number,
            location: location.to_string(),
            seq,
            create_us: now,
            polls_left: polls,
            done_us: (polls == 0).then_some(now),
            target,
        };
        let j = op.json();
        store.insert_op(op);
        store.generation += 1;
        j
    };
    inner.persist().await;
    Ok(ok(&op_json, query.pretty))
}

async fn get_operation(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    id: &str,
    query: &Query,
) -> Result<Response, ApiError> {
    let op_id = parse_id(id, "Operation")?;
    let now = inner.clock.now_us();
    let (j, changed) = {
        let mut store = inner.store.write().map_err(lock_err)?;
        let op = store.op_mut(number, location, op_id).ok_or_else(|| {
            ApiError::not_found(format!(
                "Operation projects/{number}/locations/{location}/operations/{op_id} not found."
            ))
        })?;
        let mut changed = false;
        if op.done_us.is_none() {
            op.polls_left = op.polls_left.saturating_sub(1);
            if op.polls_left == 0 {
                op.done_us = Some(now);
            }
            changed = true;
        }
        let j = op.json();
        if changed {
            store.generation += 1;
        }
        (j, changed)
    };
    if changed {
        inner.persist().await;
    }
    Ok(ok(&j, query.pretty))
}

fn list_operations(
    inner: &Arc<Inner>,
    number: u64,
    location: &str,
    query: &Query,
) -> Result<Response, ApiError> {
    let size = page_size(query)?;
    let filter_raw = query.params.get("filter").map(String::as_str).unwrap_or("");
    let scope = format!("operations|{number}|{location}|{filter_raw}");
    let after = open_token(inner, &scope, query)?;
    let store = inner.store.read().map_err(lock_err)?;
    let mut items = Vec::new();
    let mut next = None;
    if let Some(ops) = store.location_ops(number, location) {
        let mut last = None;
        for (_, op) in ops.iter_from(after) {
            if items.len() == size {
                next = last.map(|(c, s)| inner.pages.seal(&scope, c, s));
                break;
            }
            last = Some((op.create_us, op.seq));
            items.push(op.json());
        }
    }
    let out = ListOut {
        field: "operations",
        items,
        next,
        _p: std::marker::PhantomData,
    };
    Ok(ok(&out, query.pretty))
}

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        to_body(
            &json!({"error": error, "error_description": description}),
            true,
        ),
    )
}

async fn token_endpoint(
    inner: &Arc<Inner>,
    parts: &axum::http::request::Parts,
    body: Body,
) -> Response {
    if parts.method != Method::POST {
        return oauth_error("invalid_request", "The token endpoint accepts POST only.");
    }
    let bytes = match axum::body::to_bytes(body, inner.config.body_limit).await {
        Ok(b) => b,
        Err(_) => return oauth_error("invalid_request", "Request body too large."),
    };
    let ct = header_str(&parts.headers, header::CONTENT_TYPE).unwrap_or("");
    let text = String::from_utf8_lossy(&bytes);
    let params: BTreeMap<String, String> = if ct.starts_with("application/json") {
        match serde_json::from_slice::<BTreeMap<String, Value>>(&bytes) {
            Ok(m) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
            Err(_) => return oauth_error("invalid_request", "Invalid JSON body."),
        }
    } else {
        match parse_pairs(&text) {
            Ok(p) => p.into_iter().collect(),
            Err(_) => return oauth_error("invalid_request", "Invalid form body."),
        }
    };
    let lifetime = inner.config.token_lifetime.as_secs() as i64;
    let grant = params.get("grant_type").map(String::as_str).unwrap_or("");
    match grant {
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let Some(assertion) = params.get("assertion") else {
                return oauth_error("invalid_request", "Missing required parameter: assertion");
            };
            let host = host_of(parts);
            let urls = own_urls(inner, &host);
            if let Err(e) = auth::verify_jwt(&inner.keys, assertion, Audience::TokenEndpoint(&urls))
            {
                return oauth_error("invalid_grant", &e);
            }
        }
        "refresh_token" => {
            let r = &inner.refresh;
            let given = |k: &str| params.get(k).map(String::as_str);
            if given("refresh_token") != Some(r.refresh_token.as_str()) {
                return oauth_error("invalid_grant", "Token has been expired or revoked.");
            }
            if given("client_id").is_some_and(|c| c != r.client_id)
                || given("client_secret").is_some_and(|c| c != r.client_secret)
            {
                return oauth_error("invalid_client", "The OAuth client was not found.");
            }
        }
        "" => return oauth_error("invalid_request", "Missing required parameter: grant_type"),
        other => {
            return oauth_error(
                "unsupported_grant_type",
                &format!("Invalid grant_type: {other}"),
            );
        }
    }
    let token = inner.tokens.issue(lifetime);
    inner.touch();
    inner.persist().await;
    ok(
        &json!({
            "access_token": token,
            "expires_in": lifetime,
            "scope": "https://www.googleapis.com/auth/cloud-platform",
            "token_type": "Bearer"
        }),
        true,
    )
}

fn metadata(inner: &Arc<Inner>, parts: &axum::http::request::Parts, path: &str) -> Response {
    let flavor = header_str(&parts.headers, HeaderName("metadata-flavor"))
        .is_some_and(|v| v.eq_ignore_ascii_case("google"));
    let text = |status: StatusCode, body: String, ct: &'static str| {
        let mut r = (status, body).into_response();
        let h = r.headers_mut();
        h.insert("metadata-flavor", HeaderValue::from_static("Google"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        r
    };
    if !flavor {
        if path == "/" {
            return not_found_route(path);
        }
        return text(
            StatusCode::FORBIDDEN,
            "Missing required header \"Metadata-Flavor\": \"Google\"\n".into(),
            "text/plain; charset=utf-8",
        );
    }
    let q: BTreeMap<String, String> = parse_pairs(parts.uri.query().unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .collect();
    let email = &inner.keys.client_email;
    let sa = path
        .strip_prefix("/computeMetadata/v1/instance/service-accounts/")
        .map(|rest| rest.split_once('/').unwrap_or((rest, "")));
    let json_ct = "application/json";
    let plain = "application/text";
    match (path, sa) {
        ("/", _) | ("/computeMetadata/", _) | ("/computeMetadata/v1/", _) => {
            text(StatusCode::OK, "computeMetadata/\n".into(), plain)
        }
        ("/computeMetadata/v1/project/project-id", _) => {
            text(StatusCode::OK, inner.keys.project_id.clone(), plain)
        }
        ("/computeMetadata/v1/project/numeric-project-id", _) => text(
            StatusCode::OK,
            project_number(&inner.keys.project_id).to_string(),
            plain,
        ),
        (_, Some((who, rest))) if who == "default" || who == email => match rest {
            "token" => {
                let lifetime = inner.config.token_lifetime.as_secs() as i64;
                let token = inner.tokens.issue(lifetime);
                let body =
                    json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"});
                text(StatusCode::OK, body.to_string(), json_ct)
            }
            "email" => text(StatusCode::OK, email.clone(), plain),
            "scopes" => text(
                StatusCode::OK,
                "https://www.googleapis.com/auth/cloud-platform\n".into(),
                plain,
            ),
            "" if q.get("recursive").is_some_and(|r| r == "true") => {
                let body = json!({
                    "aliases": ["default"],
                    "email": email,
                    "scopes": ["https://www.googleapis.com/auth/cloud-platform"]
                });
                text(StatusCode::OK, body.to_string(), json_ct)
            }
            "" => text(
                StatusCode::OK,
                "aliases\nemail\nscopes\ntoken\n".into(),
                plain,
            ),
            _ => text(StatusCode::NOT_FOUND, "Not Found\n".into(), plain),
        },
        _ => text(StatusCode::NOT_FOUND, "Not Found\n".into(), plain),
    }
}

#[allow(non_snake_case)]
fn HeaderName(name: &'static str) -> header::HeaderName {
    header::HeaderName::from_static(name)
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

async fn control(inner: &Arc<Inner>, parts: &axum::http::request::Parts, rest: &str) -> Response {
    let get = parts.method == Method::GET;
    let post = parts.method == Method::POST;
    match rest {
        "stats" if get => {
            // Fields in this order: method, status, count (as documented).
            #[derive(Serialize)]
            struct Count<'a> {
                method: &'a str,
                status: u16,
                count: u64,
            }
            #[derive(Serialize)]
            struct Stats<'a> {
                requests: Vec<Count<'a>>,
            }
            let stats = inner.stats.lock();
            let requests = match &stats {
                Ok(s) => s
                    .iter()
                    .map(|((m, st), n)| Count {
                        method: m,
                        status: *st,
                        count: *n,
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            ok(&Stats { requests }, false)
        }
        "clock" if get => ok(
            &json!({"now": rfc3339(inner.clock.now_us()), "mode": format!("{:?}", inner.clock.mode()).to_lowercase()}),
            false,
        ),
        "clock:advance" if post => {
            let pairs = parse_pairs(parts.uri.query().unwrap_or("")).unwrap_or_default();
            let seconds = pairs
                .iter()
                .find(|(k, _)| k == "seconds")
                .and_then(|(_, v)| v.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 3.2e9);
            match seconds {
                Some(s) => {
                    inner.clock.advance_us((s * 1e6) as i64);
                    if let Ok(mut st) = inner.store.write() {
                        st.generation += 1;
                    }
                    inner.persist().await;
                    ok(&json!({"now": rfc3339(inner.clock.now_us())}), false)
                }
                None => ApiError::invalid(
                    "clock:advance needs ?seconds=N with N a non-negative number.",
                )
                .into_response(),
            }
        }
        "reset" if post => {
            if let Ok(mut st) = inner.store.write() {
                st.clear();
            }
            if let Ok(mut s) = inner.stats.lock() {
                s.clear();
            }
            inner.persist().await;
            ok(&json!({}), false)
        }
        _ => not_found_route(&format!("/emulator/{rest}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let cases = [
            ("GET", "/v1/projects/p/locations", Some(Kind::LocList)),
            ("GET", "/ui/projects/p/locations/l", Some(Kind::LocGet)),
            (
                "GET",
                "/v1/projects/p/locations/l/customJobs",
                Some(Kind::JobList),
            ),
            (
                "POST",
                "/v1/projects/p/locations/l/customJobs",
                Some(Kind::JobCreate),
            ),
            (
                "GET",
                "/v1/projects/p/locations/l/customJobs/1",
                Some(Kind::JobGet),
            ),
            (
                "DELETE",
                "/v1/projects/p/locations/l/customJobs/1",
                Some(Kind::JobDelete),
            ),
            (
                "POST",
                "/v1/projects/p/locations/l/customJobs/1:cancel",
                Some(Kind::JobCancel),
            ),
            (
                "POST",
                "/v1/projects/p/locations/l/customJobs/1%3Acancel",
                Some(Kind::JobCancel),
            ),
            (
                "GET",
                "/ui/projects/p/locations/l/operations/9",
                Some(Kind::OpGet),
            ),
            (
                "GET",
                "/v1/projects/p/locations/l/operations",
                Some(Kind::OpList),
            ),
            ("GET", "/ui/projects/p/locations/l/customJobs", None),
            ("PUT", "/v1/projects/p/locations/l/customJobs/1", None),
            (
                "GET",
                "/v1/projects/p/locations/l/customJobs/1:cancel",
                None,
            ),
            ("GET", "/v1/projects/p/locations/l/models", None),
            ("GET", "/v1/projects//locations", None),
        ];
        for (m, p, want) in cases {
            let method: Method = m.parse().unwrap();
            let got = parse_api_path(&method, p).unwrap().map(|c| c.kind);
            assert_eq!(got, want, "{m} {p}");
        }
        for p in [
            "/v1/projects/p/locations/l/customJobs/..",
            "/v1/projects/p%2Fx/locations",
            "/v1/projects/p/locations/%2e%2e/customJobs",
        ] {
            assert!(parse_api_path(&Method::GET, p).is_err(), "{p}");
        }
    }

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("%24alt", true).as_deref(), Some("$alt"));
        assert_eq!(percent_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(percent_decode("%zz", true), None);
        let q = parse_query(
            Some("%24alt=json%3Benum-encoding%3Dint&page_size=3"),
            Kind::JobList,
        )
        .unwrap();
        assert!(q.opts.enum_int);
        assert_eq!(q.params.get("pageSize").map(String::as_str), Some("3"));
        assert!(parse_query(Some("bogus=1"), Kind::JobGet).is_err());
    }
}
