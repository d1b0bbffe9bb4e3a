//! The generic methods: create/insert, get, list, aggregatedList, patch, update, delete,
//! the IAM trio and compute's `operations.wait`, over the collection store, with the
//! family deciding the server-set fields and what a mutation answers.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::State;
use crate::api::{Api, Family, MethodDef, Role};
use crate::family::{self, Placed, aip, compute};
use crate::filter;
use crate::google_error::ApiError;
use crate::route::Seg;
use crate::store::{Item, Store};

/// The largest page the emulator returns; larger requested sizes are lowered to it (the
/// rest comes with a `nextPageToken`, so nothing is lost).
pub const MAX_PAGE: usize = 1000;
/// The page size when the request gives none and the document states no default.
pub const DEFAULT_PAGE: usize = 500;
/// The longest `operations.wait` blocks (compute's own limit is about two minutes).
const MAX_WAIT: Duration = Duration::from_secs(120);

/// A routed request.
pub struct Call<'a> {
    pub api: &'a Api,
    pub method: &'a MethodDef,
    /// Resource key segments (custom verb and version prefix removed).
    pub key: Vec<String>,
    /// Query parameters declared by the method (camelCase), last value wins.
    pub query: BTreeMap<String, String>,
    /// Every query value, for repeated parameters.
    pub query_all: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// What a method answers: a JSON body (with the schema it follows, for enum encoding), or
/// nothing (204).
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub schema: Option<String>,
}

impl Reply {
    fn json(body: Value, schema: Option<&str>) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
            schema: schema.map(String::from),
        }
    }
}

impl<'a> Call<'a> {
    fn legacy(&self) -> bool {
        self.api.family != Family::Aip
    }

    pub(crate) fn err(&self, e: ApiError) -> ApiError {
        e.legacy(self.legacy())
    }

    /// The resource's schema: what create/update send, else what get returns.
    fn resource_schema(&self) -> Option<&'a str> {
        if let Some((_, resource)) = self.wrapped() {
            return Some(resource);
        }
        let m: &'a MethodDef = self.method;
        match m.role {
            Role::Create | Role::Update | Role::Patch => m.request.as_deref(),
            _ => m.response.as_deref(),
        }
        .filter(|s| !aip::is_long_running(self.api, Some(s)) && *s != "Operation")
    }

    pub(crate) fn not_found(&self, key: &[String]) -> ApiError {
        let path = key.join("/");
        let e = match self.api.family {
            Family::Aip => {
                let what = self.get_schema_for(key).unwrap_or("Resource");
                ApiError::not_found(format!("{what} {path} not found."))
            }
            _ => ApiError::not_found(format!("The resource '{path}' was not found")),
        };
        self.err(e)
    }

    /// The stored item `key` names, or the API's 404 for it.
    pub(crate) fn item<'s>(&self, store: &'s Store, key: &[String]) -> Result<&'s Item, ApiError> {
        split_key(key)
            .and_then(|(coll, id)| store.get(&self.api.id(), &coll, &id))
            .ok_or_else(|| self.not_found(key))
    }

    /// The same, to change.
    pub(crate) fn item_mut<'s>(
        &self,
        store: &'s mut Store,
        key: &[String],
    ) -> Result<&'s mut Item, ApiError> {
        split_key(key)
            .and_then(|(coll, id)| store.get_mut(&self.api.id(), &coll, &id))
            .ok_or_else(|| self.not_found(key))
    }

    /// The schema name of the resource a key names (from the document's get method).
    pub(crate) fn get_schema_for(&self, key: &[String]) -> Option<&'a str> {
        let api: &'a Api = self.api;
        api.methods
            .iter()
            .filter(|m| m.role == Role::Get)
            .find(|m| {
                let mut segs: Vec<String> = literal_prefix(m);
                segs.extend(key.iter().cloned());
                m.template.matches(&segs).is_some()
            })
            .and_then(|m| m.response.as_deref())
    }

    /// For a create whose request wraps the resource (`{"instance": {...}}`): the
    /// wrapping field and the resource's schema.
    pub(crate) fn wrapped(&self) -> Option<(&'a str, &'a str)> {
        if self.method.role != Role::Create || self.method.creates_at_key() {
            return None;
        }
        let mut probe = self.key.clone();
        probe.push("probe".into());
        let resource = self.get_schema_for(&probe)?;
        let api: &'a Api = self.api;
        let request = self.method.request.as_deref()?;
        if request == resource {
            return None;
        }
        api.schema(request)?
            .properties
            .iter()
            .find(|(_, p)| p.reference.as_deref() == Some(resource))
            .map(|(k, _)| (k.as_str(), resource))
    }
}

fn literal_prefix(m: &MethodDef) -> Vec<String> {
    m.template.segs[..m.key_skip]
        .iter()
        .filter_map(|s| match s {
            Seg::Lit(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn split_key(key: &[String]) -> Option<(String, String)> {
    let (id, coll) = key.split_last()?;
    Some((coll.join("/"), id.clone()))
}

pub(crate) fn lock_err<T>(_: T) -> ApiError {
    ApiError::internal("The emulator's state lock is poisoned; restart it.")
}

/// Renders a stored item as the client sees it now.
pub fn render(api: &Api, item: &Item, now_us: i64) -> Value {
    match (&item.op, api.family) {
        (None, _) => item.body.clone(),
        (Some(_), Family::Compute) => compute::render_operation(item, now_us),
        (Some(_), _) => aip::render_operation(item, now_us),
    }
}

/// Runs a routed call.
pub async fn run(state: &State, call: Call<'_>) -> Result<Reply, ApiError> {
    match call.method.role {
        Role::Create => create(state, &call),
        Role::Get => get(state, &call),
        Role::List => list(state, &call),
        Role::AggregatedList => aggregated_list(state, &call),
        Role::Patch => modify(state, &call, false),
        Role::Update => modify(state, &call, true),
        Role::Delete => delete(state, &call),
        Role::GetIam | Role::SetIam | Role::TestIam => crate::iam::run(state, &call),
        Role::OpWait => wait(state, &call).await,
        Role::Custom => crate::custom::run(state, &call).unwrap_or_else(|| Err(call.err(ApiError::not_implemented(format!(
            "Method {} is not implemented by the skyql emulator: it models create, get, list, patch, update, delete, IAM policies and operations, not custom methods.",
            call.method.id
        ))))),
    }
}

/// The id a create gives its new resource.
fn new_id(call: &Call<'_>, body: &Map<String, Value>) -> Result<String, ApiError> {
    let coll = call.key.last().map(String::as_str).unwrap_or_default();
    let singular = coll
        .strip_suffix("ies")
        .map(|s| format!("{s}y"))
        .or_else(|| coll.strip_suffix('s').map(String::from))
        .unwrap_or_else(|| coll.to_string());
    let id_params: Vec<&String> = call
        .method
        .params
        .iter()
        .filter(|(k, p)| {
            p.location.as_deref() == Some("query") && k.ends_with("Id") && *k != "requestId"
        })
        .map(|(k, _)| k)
        .collect();
    let chosen = id_params
        .iter()
        .find(|k| k.eq_ignore_ascii_case(&format!("{singular}Id")))
        .or_else(|| (id_params.len() == 1).then(|| &id_params[0]));
    if let Some(param) = chosen
        && let Some(v) = call.query.get(param.as_str()).filter(|v| !v.is_empty())
    {
        return Ok(v.clone());
    }
    if let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        let last = name.rsplit('/').next().unwrap_or(name);
        if call.api.family == Family::Compute && !compute::valid_name(last) {
            return Err(call.err(ApiError::bad_payload(
                "resource.name",
                format!("Invalid value for field 'resource.name': '{last}'. Must be a match of regex '[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?'"),
            )));
        }
        return Ok(last.to_string());
    }
    match (call.api.family, chosen) {
        (Family::Aip | Family::Plain, None) => Ok(format!("{:016x}", rand::random::<u64>())),
        (_, Some(param)) => Err(call.err(ApiError::bad_payload(
            param,
            format!("Missing required parameter {param}: the id of the new {singular}."),
        ))),
        _ => Err(call.err(ApiError::bad_payload(
            "resource.name",
            "Invalid value for field 'resource.name': ''. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'",
        ))),
    }
}

pub(crate) fn body_object(call: &Call<'_>) -> Result<Map<String, Value>, ApiError> {
    match &call.body {
        Some(Value::Object(m)) => Ok(m.clone()),
        None => Ok(Map::new()),
        Some(_) => Err(call.err(ApiError::invalid(
            "Invalid JSON payload received. The request body must be a JSON object.",
        ))),
    }
}

/// Query parameters that scope a created item's list (required, non-path, not an id).
fn scope_params(call: &Call<'_>) -> BTreeMap<String, String> {
    call.method
        .params
        .iter()
        .filter(|(k, p)| p.required && p.location.as_deref() == Some("query") && !k.ends_with("Id"))
        .filter_map(|(k, _)| call.query.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

fn duration_us(state: &State) -> i64 {
    i64::try_from(state.config.operation_duration.as_micros()).unwrap_or(i64::MAX / 4)
}

/// A create request that wraps the resource (spanner's and bigtable's
/// `{"instanceId": "i", "instance": {...}}`, container's `{"cluster": {...}}`): the
/// resource inside, its schema, and the id the wrapper names, if any.
fn unwrap_request(
    call: &Call<'_>,
    body: Map<String, Value>,
) -> (Map<String, Value>, Option<String>) {
    let Some((field, _)) = call.wrapped() else {
        return (body, None);
    };
    let id = body
        .get(&format!("{field}Id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from);
    let inner = match body.get(field) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    (inner, id)
}

fn create(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let api = call.api;
    let body = body_object(call)?;
    let (mut body, wrapped_id) = unwrap_request(call, body);
    let (coll_key, id) = if call.method.creates_at_key() {
        let (id, coll) = call
            .key
            .split_last()
            .ok_or_else(|| call.not_found(&call.key))?;
        (coll.to_vec(), id.clone())
    } else {
        match wrapped_id {
            Some(id) => (call.key.clone(), id),
            None => (call.key.clone(), new_id(call, &body)?),
        }
    };
    let collection = coll_key.join("/");
    let mut item_key = coll_key.clone();
    item_key.push(id.clone());
    let now = state.clock.now_us();
    let schema = call.resource_schema();
    let mut store = state.store.write().map_err(lock_err)?;
    // A parent the document lets clients create must exist.
    if coll_key.len() >= 3 {
        let parent = &coll_key[..coll_key.len() - 1];
        if api.is_creatable_item(parent)
            && let Some((pc, pid)) = split_key(parent)
            && store.get(&state.api_id(api), &pc, &pid).is_none()
        {
            return Err(call.not_found(parent));
        }
    }
    let api_id = state.api_id(api);
    if store.get(&api_id, &collection, &id).is_some() {
        let e = match api.family {
            Family::Aip => ApiError::already_exists(format!(
                "{} {} already exists.",
                schema.unwrap_or("Resource"),
                item_key.join("/")
            )),
            _ => ApiError::already_exists(format!(
                "The resource '{}' already exists",
                item_key.join("/")
            )),
        };
        return Err(call.err(e));
    }
    let seq = store.next_seq();
    let placed = Placed {
        key: &item_key,
        schema,
        now_us: now,
        seq,
        query: &call.query,
    };
    family::on_create(api, &placed, &mut body);
    let extra = family::kms::on_create(api, &item_key, &mut body, now, &call.query)
        .map_err(|e| call.err(e))?;
    if let Some((c, child, it)) = extra {
        store.collection_mut(&api_id, &c).insert(child, it);
    }
    let item = Item {
        body: Value::Object(body),
        created_us: now,
        scope: scope_params(call),
        op: None,
    };
    let resource = item.body.clone();
    store.collection_mut(&api_id, &collection).insert(id, item);
    store.generation += 1;
    let mutation = Mutation::stored(&item_key, "insert", resource);
    mutation_reply(state, &mut store, call, mutation, now)
}

/// What a mutation did, for its answer.
pub(crate) struct Mutation<'a> {
    /// The key of the resource changed.
    pub target: &'a [String],
    /// `insert`, `update`, `delete`, or a custom method's name.
    pub verb: &'a str,
    /// The resource's `id` (compute operations' `targetId`).
    pub target_id: Option<String>,
    /// The resource as stored now, when the answer may carry it.
    pub resource: Option<Value>,
    /// The failure the operation ends with: (HTTP code, reason, message).
    pub error: Option<(u16, String, String)>,
}

impl<'a> Mutation<'a> {
    /// A change that left `resource` stored under `target`.
    pub(crate) fn stored(target: &'a [String], verb: &'a str, resource: Value) -> Self {
        Mutation {
            target,
            verb,
            target_id: id_of(&resource),
            resource: Some(resource),
            error: None,
        }
    }
}

/// A resource's `id` field.
pub(crate) fn id_of(resource: &Value) -> Option<String> {
    resource.get("id").and_then(Value::as_str).map(String::from)
}

/// What a mutation answers: a compute operation, a long-running operation, the resource,
/// or nothing.
pub(crate) fn mutation_reply(
    state: &State,
    store: &mut Store,
    call: &Call<'_>,
    mutation: Mutation<'_>,
    now: i64,
) -> Result<Reply, ApiError> {
    let Mutation {
        target,
        verb,
        target_id,
        resource,
        error,
    } = mutation;
    let api = call.api;
    let api_id = state.api_id(api);
    let response = call.method.response.as_deref();
    if api.family == Family::Compute && response == Some("Operation") {
        let op_type = if verb == "insert" {
            "insert"
        } else {
            call.method.name.as_str()
        };
        let Some(op) = compute::operation(
            api,
            target,
            op_type,
            target_id.as_deref(),
            now,
            duration_us(state),
            error,
            &state.user,
        ) else {
            return Err(call.err(ApiError::internal(format!(
                "The emulator cannot place an operation for {}.",
                target.join("/")
            ))));
        };
        let rendered = compute::render_operation(&op.item, now);
        store
            .collection_mut(&api_id, &op.collection)
            .insert(op.id, op.item);
        store.generation += 1;
        return Ok(Reply::json(rendered, Some("Operation")));
    }
    if aip::is_long_running(api, response) {
        let ops =
            aip::operations_collection(api, target).unwrap_or_else(|| vec!["operations".into()]);
        let schema = if verb == "delete" {
            "Empty".to_string()
        } else {
            call.resource_schema().unwrap_or("Empty").to_string()
        };
        let payload = resource.map(|r| (r, schema.as_str()));
        let (coll, id, item) = aip::operation(
            api,
            &ops,
            &target.join("/"),
            verb,
            payload.or(Some((json!({}), "Empty"))),
            now,
            duration_us(state),
        );
        let rendered = aip::render_operation(&item, now);
        store.collection_mut(&api_id, &coll).insert(id, item);
        store.generation += 1;
        return Ok(Reply::json(rendered, response));
    }
    match (response, resource) {
        (None, _) => Ok(Reply {
            status: 204,
            body: None,
            schema: None,
        }),
        (Some(schema), Some(r))
            if Some(schema) == call.resource_schema() || call.method.role != Role::Delete =>
        {
            Ok(Reply::json(r, Some(schema)))
        }
        (Some(schema), _) => Ok(Reply::json(json!({}), Some(schema))),
    }
}

fn get(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let store = state.store.read().map_err(lock_err)?;
    let item = call.item(&store, &call.key)?;
    let body = render(call.api, item, state.clock.now_us());
    Ok(Reply::json(body, call.method.response.as_deref()))
}

/// Page size, filter and order of a list request.
struct ListArgs {
    size: usize,
    offset: usize,
    filter: Option<filter::Expr>,
    order: Vec<(Vec<String>, bool)>,
    scope: String,
}

fn list_args(call: &Call<'_>, scope: &str) -> Result<ListArgs, ApiError> {
    let m = call.method;
    let size = match m.page_size_param() {
        Some(p) => match call.query.get(p) {
            Some(v) => v.parse::<usize>().map_err(|_| {
                call.err(ApiError::bad_payload(
                    p,
                    format!("Invalid value for {p}: {v:?} is not a whole number."),
                ))
            })?,
            None => m
                .params
                .get(p)
                .and_then(|s| s.default.as_deref())
                .and_then(|d| d.parse().ok())
                .unwrap_or(DEFAULT_PAGE),
        },
        None => usize::MAX,
    };
    let size = if size == 0 {
        DEFAULT_PAGE
    } else {
        size.min(MAX_PAGE)
    };
    let (filter_text, filter) = list_param(
        call,
        "filter",
        filter::parse,
        " The emulator supports comparisons (=, !=, <, <=, >, >=, :, eq, ne) joined by AND, OR, NOT and parentheses.",
    )?;
    let (order_text, order) = list_param(call, "orderBy", filter::parse_order, "")?;
    let scope = format!("{scope}|{filter_text}|{order_text}");
    let offset = match call.query.get("pageToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => open_token(t, &scope).ok_or_else(|| {
            call.err(ApiError::bad_payload(
                "pageToken",
                "Invalid page token: it does not come from this list (same parent, filter and order).",
            ))
        })?,
    };
    Ok(ListArgs {
        size,
        offset,
        filter,
        order,
        scope,
    })
}

/// A list parameter's text (empty when absent) and what `parse` makes of it; what `parse`
/// refuses is a 400 naming the parameter, with `hint` after the reason.
fn list_param<'c, T>(
    call: &'c Call<'_>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
    hint: &str,
) -> Result<(&'c str, T), ApiError> {
    let text = call.query.get(name).map(String::as_str).unwrap_or("");
    let value = parse(text).map_err(|e| {
        call.err(ApiError::bad_payload(
            name,
            format!("Invalid {name} {text:?}: {e}.{hint}"),
        ))
    })?;
    Ok((text, value))
}

fn scope_hash(scope: &str) -> u64 {
    scope.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn seal_token(offset: usize, scope: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{:016x}:{offset}", scope_hash(scope)))
}

fn open_token(token: &str, scope: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let (h, offset) = raw.split_once(':')?;
    (h == format!("{:016x}", scope_hash(scope))).then_some(())?;
    offset.parse().ok()
}

/// Filters and orders items, then cuts the page.
fn page<'a>(
    api: &Api,
    now: i64,
    args: &ListArgs,
    items: impl Iterator<Item = &'a Item>,
) -> (Vec<Value>, usize, Option<String>) {
    // Without a filter or an order only the page itself is rendered.
    if args.filter.is_none() && args.order.is_empty() {
        let items: Vec<&Item> = items.collect();
        let total = items.len();
        let end = args.offset.saturating_add(args.size).min(total);
        let next = (end < total).then(|| seal_token(end, &args.scope));
        let page = items
            .get(args.offset.min(total)..end)
            .unwrap_or_default()
            .iter()
            .map(|it| render(api, it, now))
            .collect();
        return (page, total, next);
    }
    let mut rows: Vec<Value> = items
        .map(|it| render(api, it, now))
        .filter(|v| args.filter.as_ref().is_none_or(|f| filter::matches(f, v)))
        .collect();
    if !args.order.is_empty() {
        rows.sort_by(|a, b| filter::order(a, b, &args.order));
    }
    let total = rows.len();
    let end = args.offset.saturating_add(args.size).min(total);
    let next = (end < total).then(|| seal_token(end, &args.scope));
    let page = if args.offset < total {
        rows.drain(args.offset..end).collect()
    } else {
        Vec::new()
    };
    (page, total, next)
}

fn list(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let api = call.api;
    let collection = call.key.join("/");
    let args = list_args(call, &collection)?;
    let scope = scope_params(call);
    let now = state.clock.now_us();
    let store = state.store.read().map_err(lock_err)?;
    let items = store
        .collection(&state.api_id(api), &collection)
        .into_iter()
        .flat_map(|c| c.values())
        .filter(|it| {
            scope
                .iter()
                .all(|(k, v)| it.scope.get(k).is_none_or(|s| s == v))
        });
    let (rows, total, next) = page(api, now, &args, items);
    drop(store);
    let items_key = call
        .method
        .items_key
        .clone()
        .unwrap_or_else(|| "items".into());
    let response = call.method.response.as_deref();
    let mut out = Map::new();
    list_envelope(api, response, &call.key, &mut out);
    if !rows.is_empty() {
        out.insert(items_key, Value::Array(rows));
    }
    if let Some(n) = next {
        out.insert("nextPageToken".into(), Value::String(n));
    }
    if total > 0 && family::has_prop(api, response, "totalSize") {
        out.insert("totalSize".into(), Value::from(total));
    }
    Ok(Reply::json(Value::Object(out), response))
}

/// `kind`, `id` and `selfLink` of a compute-style list.
fn list_envelope(api: &Api, response: Option<&str>, key: &[String], out: &mut Map<String, Value>) {
    if let Some(kind) = family::kind_of(api, response) {
        out.insert("kind".into(), Value::String(kind));
    }
    if api.family == Family::Compute {
        if family::has_prop(api, response, "id") {
            out.insert("id".into(), Value::String(key.join("/")));
        }
        if family::has_prop(api, response, "selfLink") {
            out.insert(
                "selfLink".into(),
                Value::String(format!("{}{}", api.link_base(), family::encoded_path(key))),
            );
        }
    }
}

fn aggregated_list(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let api = call.api;
    // projects/p/aggregated/instances
    let Some((name, head)) = call.key.split_last() else {
        return Err(call.not_found(&call.key));
    };
    let project_prefix: Vec<&String> = head.iter().take_while(|s| *s != "aggregated").collect();
    let prefix = format!(
        "{}/",
        project_prefix
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("/")
    );
    let response = call.method.response.as_deref();
    let scoped_key = response
        .and_then(|r| api.schema(r))
        .and_then(|s| s.properties.get("items"))
        .and_then(|i| i.additional_properties.as_ref())
        .and_then(|ap| ap.reference.as_deref())
        .and_then(|r| api.schema(r))
        .and_then(|s| {
            s.properties
                .iter()
                .find(|(_, p)| p.ty.as_deref() == Some("array"))
                .map(|(k, _)| k.clone())
        })
        .unwrap_or_else(|| name.clone());
    let args = list_args(call, &call.key.join("/"))?;
    let now = state.clock.now_us();
    let store = state.store.read().map_err(lock_err)?;
    let api_id = state.api_id(api);
    let mut scoped: Vec<(String, Value, &Item)> = Vec::new();
    for (coll, items) in store.collections_named(&api_id, &prefix, name) {
        let scope = coll[prefix.len()..coll.len() - name.len()].trim_end_matches('/');
        let scope_ok = scope == "global"
            || scope.split('/').count() == 2
                && (scope.starts_with("zones/") || scope.starts_with("regions/"));
        if !scope_ok {
            continue;
        }
        for it in items.values() {
            scoped.push((scope.to_string(), render(api, it, now), it));
        }
    }
    // Filter and page over (scope, item) pairs.
    let mut rows: Vec<(String, Value)> = scoped
        .into_iter()
        .filter(|(_, v, _)| args.filter.as_ref().is_none_or(|f| filter::matches(f, v)))
        .map(|(s, v, _)| (s, v))
        .collect();
    drop(store);
    if !args.order.is_empty() {
        rows.sort_by(|a, b| filter::order(&a.1, &b.1, &args.order));
    }
    let total = rows.len();
    let end = args.offset.saturating_add(args.size).min(total);
    let next = (end < total).then(|| seal_token(end, &args.scope));
    let mut items: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    if args.offset < total {
        for (scope, v) in rows.drain(args.offset..end) {
            items.entry(scope).or_default().push(v);
        }
    }
    let mut out = Map::new();
    list_envelope(api, response, &call.key, &mut out);
    if !items.is_empty() {
        let map: Map<String, Value> = items
            .into_iter()
            .map(|(scope, v)| (scope, json!({ scoped_key.clone(): v })))
            .collect();
        out.insert("items".into(), Value::Object(map));
    }
    if let Some(n) = next {
        out.insert("nextPageToken".into(), Value::String(n));
    }
    Ok(Reply::json(Value::Object(out), response))
}

/// JSON merge: objects merge key by key, `null` removes, anything else replaces.
fn merge(into: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        match (into.get_mut(&k), v) {
            (_, Value::Null) => {
                into.remove(&k);
            }
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Applies `updateMask` paths (`labels`, `a.b`, snake_case accepted).
fn apply_mask(into: &mut Map<String, Value>, patch: &Map<String, Value>, mask: &str) {
    for path in mask.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parts: Vec<String> = path.split('.').map(crate::schema::snake_to_camel).collect();
        let mut src: Option<&Value> = None;
        let mut cur = patch;
        for (i, p) in parts.iter().enumerate() {
            match cur.get(p) {
                Some(Value::Object(m)) if i + 1 < parts.len() => cur = m,
                Some(v) if i + 1 == parts.len() => src = Some(v),
                _ => break,
            }
        }
        set_path(into, &parts, src.cloned());
    }
}

/// Sets (or with `None` removes) the value at a path, creating objects on the way.
fn set_path(into: &mut Map<String, Value>, parts: &[String], value: Option<Value>) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        match value {
            Some(v) => {
                into.insert(first.clone(), v);
            }
            None => {
                into.remove(first);
            }
        }
        return;
    }
    let entry = into
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(next) = entry {
        set_path(next, rest, value);
    }
}

fn modify(state: &State, call: &Call<'_>, replace: bool) -> Result<Reply, ApiError> {
    let api = call.api;
    let patch = body_object(call)?;
    let now = state.clock.now_us();
    let schema = call.resource_schema();
    let mut store = state.store.write().map_err(lock_err)?;
    let seq = store.next_seq();
    let item = call.item_mut(&mut store, &call.key)?;
    let Value::Object(current) = &mut item.body else {
        return Err(call.err(ApiError::internal("stored item is not an object")));
    };
    if api.family == Family::Compute
        && let Some(given) = patch.get("fingerprint").and_then(Value::as_str)
        && current
            .get("fingerprint")
            .and_then(Value::as_str)
            .is_some_and(|f| f != given)
    {
        return Err(call.err(ApiError::new(
            412,
            "FAILED_PRECONDITION",
            "conditionNotMet",
            "Supplied fingerprint does not match current fingerprint.",
        )));
    }
    if let Some(given) = patch.get("etag").and_then(Value::as_str)
        && api.family == Family::Aip
        && current
            .get("etag")
            .and_then(Value::as_str)
            .is_some_and(|e| e != given)
    {
        return Err(call.err(ApiError::aborted(
            "The etag in the request does not match the resource's current etag.",
        )));
    }
    if replace {
        let kept: Map<String, Value> = read_only_fields(api, schema)
            .into_iter()
            .filter_map(|f| current.get(&f).map(|v| (f, v.clone())))
            .collect();
        *current = patch;
        current.extend(kept);
    } else if let Some(mask) = call.query.get("updateMask").filter(|m| !m.is_empty()) {
        apply_mask(current, &patch, mask);
    } else {
        let mut patch = patch;
        for f in read_only_fields(api, schema) {
            patch.remove(&f);
        }
        merge(current, patch);
    }
    let placed = Placed {
        key: &call.key,
        schema,
        now_us: now,
        seq,
        query: &call.query,
    };
    family::on_update(api, &placed, current);
    let resource = item.body.clone();
    store.generation += 1;
    let mutation = Mutation::stored(&call.key, "update", resource);
    mutation_reply(state, &mut store, call, mutation, now)
}

/// Output-only properties of a schema, which updates keep from the stored resource.
fn read_only_fields(api: &Api, schema: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = schema
        .and_then(|s| api.schema(s))
        .map(|s| {
            s.properties
                .iter()
                .filter(|(_, p)| p.read_only)
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    v.push("name".into());
    v.extend(family::server_fields(api).iter().map(|f| f.to_string()));
    v
}

fn delete(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let api = call.api;
    let (coll, id) = split_key(&call.key).ok_or_else(|| call.not_found(&call.key))?;
    let now = state.clock.now_us();
    let api_id = state.api_id(api);
    let mut store = state.store.write().map_err(lock_err)?;
    let item = call.item(&store, &call.key)?;
    let target_id = id_of(&item.body);
    let mut error = None;
    if api.family == Family::Compute
        && item.op.is_none()
        && let Some(link) = item.body.get("selfLink").and_then(Value::as_str)
    {
        let link = link.to_string();
        let items = store
            .apis
            .get(&api_id)
            .into_iter()
            .flat_map(|c| c.values())
            .flat_map(|c| c.values());
        if let Some(by) = compute::referrer(items, &link) {
            let path = call.key.join("/");
            error = Some((
                400,
                "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE".to_string(),
                format!(
                    "The {} resource '{path}' is already being used by '{}'",
                    singular(&call.key),
                    by.trim_start_matches(&api.link_base())
                ),
            ));
        }
    }
    if error.is_none() {
        store.remove(&api_id, &coll, &id);
    }
    let mutation = Mutation {
        target: &call.key,
        verb: "delete",
        target_id,
        resource: None,
        error,
    };
    mutation_reply(state, &mut store, call, mutation, now)
}

fn singular(key: &[String]) -> String {
    let coll = key
        .len()
        .checked_sub(2)
        .and_then(|i| key.get(i))
        .map(String::as_str)
        .unwrap_or("resource");
    coll.strip_suffix('s').unwrap_or(coll).to_string()
}

/// The key of the resource a custom-style method acts on: the key without the
/// template's trailing literals (compute's `/wait`, `/getIamPolicy`, storage's `/iam`).
pub fn target_key(call: &Call<'_>) -> Vec<String> {
    let trailing = call
        .method
        .template
        .segs
        .iter()
        .rev()
        .take_while(|s| matches!(s, Seg::Lit(_)))
        .count();
    call.key[..call.key.len().saturating_sub(trailing)].to_vec()
}

async fn wait(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let key = target_key(call);
    let done_us = {
        let store = state.store.read().map_err(lock_err)?;
        let item = call.item(&store, &key)?;
        item.op.as_ref().map(|o| o.done_us)
    };
    if let Some(done) = done_us
        && state.clock.mode() == skyql_emulator::ClockMode::Real
    {
        let left = done - state.clock.now_us();
        if left > 0 {
            let pause = Duration::from_micros(u64::try_from(left).unwrap_or(0)).min(MAX_WAIT);
            tokio::time::sleep(pause).await;
        }
    }
    let store = state.store.read().map_err(lock_err)?;
    let item = call.item(&store, &key)?;
    Ok(Reply::json(
        render(call.api, item, state.clock.now_us()),
        Some("Operation"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_list() {
        let t = seal_token(5, "a|f|o");
        assert_eq!(open_token(&t, "a|f|o"), Some(5));
        assert_eq!(open_token(&t, "b|f|o"), None);
        assert_eq!(open_token("garbage", "a|f|o"), None);
    }

    #[test]
    fn masks_and_merges() {
        let mut cur = json!({"labels": {"a": "1"}, "description": "x", "nested": {"k": 1, "j": 2}});
        let Value::Object(m) = &mut cur else {
            unreachable!()
        };
        let patch = json!({"labels": {"b": "2"}, "nested": {"k": 5}});
        let Value::Object(p) = patch else {
            unreachable!()
        };
        apply_mask(m, &p, "labels,description,nested.k");
        assert_eq!(
            cur,
            json!({"labels": {"b": "2"}, "nested": {"k": 5, "j": 2}})
        );
        let Value::Object(m) = &mut cur else {
            unreachable!()
        };
        let Value::Object(p) = json!({"labels": {"c": "3"}, "nested": null}) else {
            unreachable!()
        };
        merge(m, p);
        assert_eq!(cur, json!({"labels": {"b": "2", "c": "3"}}));
    }
}
