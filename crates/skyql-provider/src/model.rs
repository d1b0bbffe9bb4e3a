//! The SQL-facing model of one service: resources with their methods, SQL
//! verbs, parameters and columns, built from a [`Document`].

use crate::discovery::{Document, Endpoint, MethodNode, ResourceNode, Schema, Schemas};
use crate::error::Error;
use crate::suggest::closest;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// How a method is reached from SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SqlVerb {
    Select,
    Insert,
    Update,
    Replace,
    Delete,
    Exec,
}

impl SqlVerb {
    pub fn as_str(self) -> &'static str {
        match self {
            SqlVerb::Select => "SELECT",
            SqlVerb::Insert => "INSERT",
            SqlVerb::Update => "UPDATE",
            SqlVerb::Replace => "REPLACE",
            SqlVerb::Delete => "DELETE",
            SqlVerb::Exec => "EXEC",
        }
    }

    /// DESIGN §4: the verb a Discovery method maps to, from its name and HTTP method.
    pub fn of(method_name: &str, http_method: &str) -> SqlVerb {
        let http = http_method.to_ascii_uppercase();
        match (method_name, http.as_str()) {
            ("get" | "list" | "aggregatedList", "GET") => SqlVerb::Select,
            ("create" | "insert", "POST") => SqlVerb::Insert,
            ("patch", _) => SqlVerb::Update,
            ("update", "PUT") => SqlVerb::Replace,
            ("update", "PATCH") => SqlVerb::Update,
            ("delete", _) => SqlVerb::Delete,
            _ => SqlVerb::Exec,
        }
    }
}

impl fmt::Display for SqlVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    Path,
    Query,
}

/// A parameter as SQL sees it: a column usable in WHERE (or `@name` in EXEC).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub location: ParamLocation,
    pub required: bool,
    /// Discovery type (`string`, `integer`, `boolean`, ...).
    pub ty: String,
    pub repeated: bool,
    /// The Discovery `pattern`, where the document gives one for this name.
    pub pattern: Option<String>,
    pub enum_values: Vec<String>,
    pub description: String,
}

/// One method of a resource.
#[derive(Debug, Clone)]
pub struct Method {
    /// SQL name: the Discovery key, or `_list` for the EXEC twin of `list`.
    pub name: String,
    /// Discovery id, e.g. `aiplatform.projects.locations.customJobs.get`.
    pub id: String,
    pub verb: SqlVerb,
    pub http_method: String,
    pub path: String,
    pub flat_path: Option<String>,
    /// SQL-visible parameters: flatPath placeholders, then query parameters.
    pub params: Vec<Param>,
    /// The parameters exactly as the document declares them (e.g. `name` with its pattern).
    pub discovery_params: Arc<BTreeMap<String, Schema>>,
    pub request: Option<String>,
    pub response: Option<String>,
    pub description: String,
    /// For list methods: the array property beside `nextPageToken` that holds the items.
    pub items_key: Option<String>,
    /// True for the `_list` EXEC twin, which returns raw response pages.
    pub raw_pages: bool,
    /// An aggregated list (`aggregatedList`): `items` maps each scope (zone,
    /// region) to a scoped list whose array holds the rows.
    pub aggregated: bool,
}

impl Method {
    /// Required parameter names, sorted.
    pub fn required_params(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// True when this method pages through a collection.
    pub fn is_list(&self) -> bool {
        self.items_key.is_some() && !self.raw_pages
    }
}

/// A column of a resource's virtual table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: String,
    pub description: String,
}

/// A Discovery resource node with methods, under its unique SQL name.
#[derive(Debug, Clone)]
pub struct Resource {
    /// SQL name, e.g. `custom_jobs`.
    pub name: String,
    /// `google.aiplatform.custom_jobs`.
    pub id: String,
    /// Discovery keys from the root, joined by dots: `projects.locations.customJobs`.
    pub discovery_path: String,
    /// Methods in table order: SELECT, INSERT, UPDATE, REPLACE, DELETE, EXEC; by name within a verb.
    pub methods: Vec<Method>,
    /// Response columns of the SELECT methods.
    pub columns: Vec<Column>,
}

impl Resource {
    pub fn method(&self, name: &str) -> Result<&Method, Error> {
        self.methods
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::UnknownMethod {
                resource: self.id.clone(),
                name: name.to_string(),
                suggestion: closest(name, self.methods.iter().map(|m| m.name.as_str())),
            })
    }

    pub fn methods_for(&self, verb: SqlVerb) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(move |m| m.verb == verb)
    }
}

/// One version of one Google service, ready for SQL.
#[derive(Debug, Clone)]
pub struct Service {
    pub provider: String,
    pub name: String,
    pub version: String,
    pub title: String,
    pub description: String,
    pub revision: String,
    pub root_url: String,
    pub service_path: String,
    pub endpoints: Vec<Endpoint>,
    /// Sorted by SQL name.
    pub resources: Vec<Resource>,
    pub schemas: Schemas,
}

impl Service {
    /// Parses and models a Discovery document; `origin` (a file name or URL)
    /// is only used in error messages.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Service, Error> {
        let doc = parse_document(bytes, origin)?;
        Ok(Service::from_document(doc, crate::PROVIDER))
    }

    /// `aiplatform:v1`, as Google's directory names it.
    pub fn id(&self) -> String {
        format!("{}:{}", self.name, self.version)
    }

    pub fn resource(&self, name: &str) -> Result<&Resource, Error> {
        self.resources
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| Error::UnknownResource {
                service: format!("{}.{}", self.provider, self.name),
                name: name.to_string(),
                suggestion: closest(name, self.resources.iter().map(|r| r.name.as_str())),
            })
    }

    /// The request body schema of a method, if it takes one.
    pub fn request_schema(&self, method: &Method) -> Option<&Schema> {
        method.request.as_deref().and_then(|r| self.schemas.get(r))
    }

    /// The root URL for requests about `location`. A service whose document
    /// lists locational endpoints (`https://{location}-{host}/`, as Vertex AI
    /// does) is regional: any location but `global`, `us` and `eu` included,
    /// gets `https://{location}-{host}/`. Regional endpoints of the other kind
    /// (`{service}.{location}.rep.googleapis.com`, for data residency) are
    /// opt-in and not used. Everything else uses `rootUrl`.
    pub fn root_url_for(&self, location: Option<&str>) -> String {
        let Some(loc) = location.filter(|l| !l.is_empty() && *l != "global") else {
            return self.root_url.clone();
        };
        let regional = self.endpoints.iter().any(|e| {
            e.endpoint_url
                .strip_prefix("https://")
                .and_then(|rest| rest.strip_prefix(e.location.as_str()))
                .is_some_and(|rest| rest.starts_with('-'))
        });
        let valid = loc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        match self.root_url.strip_prefix("https://") {
            Some(host) if regional && valid => format!("https://{loc}-{host}"),
            _ => self.root_url.clone(),
        }
    }

    pub fn from_document(mut doc: Document, provider: &str) -> Service {
        let name = doc.name.clone().unwrap_or_default();
        let mut nodes: Vec<(Vec<String>, BTreeMap<String, MethodNode>)> = Vec::new();
        collect_nodes(
            std::mem::take(&mut doc.resources),
            &mut Vec::new(),
            &mut nodes,
        );
        let paths: Vec<Vec<String>> = nodes.iter().map(|(p, _)| p.clone()).collect();
        let names = crate::naming::unique_names(&paths);
        let mut resources: Vec<Resource> = nodes
            .into_iter()
            .zip(names)
            .map(|((path, methods), sql_name)| {
                build_resource(&doc, provider, &name, sql_name, &path, methods)
            })
            .collect();
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        Service {
            provider: provider.to_string(),
            version: doc.version.clone().unwrap_or_default(),
            title: doc.title.clone().unwrap_or_default(),
            description: doc.description.clone().unwrap_or_default(),
            revision: doc.revision.clone().unwrap_or_default(),
            root_url: doc
                .root_url
                .clone()
                .unwrap_or_else(|| format!("https://{name}.googleapis.com/")),
            service_path: doc.service_path.clone().unwrap_or_default(),
            endpoints: doc.endpoints.clone(),
            resources,
            schemas: doc.schemas,
            name,
        }
    }
}

/// Parses bytes into a [`Document`], checking that it is a Discovery REST document.
pub fn parse_document(bytes: &[u8], origin: &str) -> Result<Document, Error> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        origin: origin.to_string(),
        source,
    })?;
    let not = |reason: &str| Error::NotDiscovery {
        origin: origin.to_string(),
        reason: reason.to_string(),
    };
    match doc.kind.as_deref() {
        Some("discovery#restDescription") => {}
        Some("discovery#directoryList") => {
            return Err(not(
                "it is a Discovery directory list (index.json), not a service document",
            ));
        }
        Some(other) => {
            return Err(not(&format!(
                "its kind is `{other}`, expected `discovery#restDescription`"
            )));
        }
        None => return Err(not("it has no `kind: discovery#restDescription`")),
    }
    if doc.name.as_deref().is_none_or(str::is_empty) {
        return Err(not("it has no service `name`"));
    }
    if doc.version.as_deref().is_none_or(str::is_empty) {
        return Err(not("it has no `version`"));
    }
    Ok(doc)
}

/// Flattens the resource tree (consuming it) into the nodes that have methods.
fn collect_nodes(
    map: BTreeMap<String, ResourceNode>,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, BTreeMap<String, MethodNode>)>,
) {
    for (key, node) in map {
        prefix.push(key);
        if !node.methods.is_empty() {
            out.push((prefix.clone(), node.methods));
        }
        collect_nodes(node.resources, prefix, out);
        prefix.pop();
    }
}

fn build_resource(
    doc: &Document,
    provider: &str,
    service: &str,
    sql_name: String,
    path: &[String],
    nodes: BTreeMap<String, MethodNode>,
) -> Resource {
    let resource_key = path.last().map(String::as_str).unwrap_or_default();
    let mut methods = Vec::new();
    for (key, m) in nodes {
        let method = build_method(doc, &key, m, resource_key);
        if method.is_list() {
            let mut twin = method.clone();
            twin.name = format!("_{}", method.name);
            twin.verb = SqlVerb::Exec;
            twin.raw_pages = true;
            methods.push(twin);
        }
        methods.push(method);
    }
    methods.sort_by(|a, b| (a.verb, &a.name).cmp(&(b.verb, &b.name)));
    let columns = columns_of(doc, &methods);
    Resource {
        id: format!("{provider}.{service}.{sql_name}"),
        name: sql_name,
        discovery_path: path.join("."),
        methods,
        columns,
    }
}

fn build_method(doc: &Document, key: &str, m: MethodNode, resource_key: &str) -> Method {
    let http_method = m.http_method.clone().unwrap_or_else(|| "GET".into());
    let verb = SqlVerb::of(key, &http_method);
    let path = m.path.clone().unwrap_or_default();
    let template = m.flat_path.as_deref().unwrap_or(&path);
    let mut params = Vec::new();
    for placeholder in placeholders(template) {
        let declared = m.parameters.get(&placeholder);
        params.push(Param {
            name: placeholder.clone(),
            location: ParamLocation::Path,
            required: true,
            ty: declared
                .and_then(|s| s.ty.clone())
                .unwrap_or_else(|| "string".into()),
            repeated: false,
            pattern: declared.and_then(|s| s.pattern.clone()),
            enum_values: declared.map(|s| s.enum_values.clone()).unwrap_or_default(),
            description: declared
                .and_then(|s| s.description.clone())
                .unwrap_or_default(),
        });
    }
    for (pname, p) in &m.parameters {
        if p.location.as_deref() == Some("path") {
            continue;
        }
        if params.iter().any(|q| &q.name == pname) {
            continue;
        }
        params.push(Param {
            name: pname.clone(),
            location: ParamLocation::Query,
            required: p.required,
            ty: p.ty.clone().unwrap_or_else(|| "string".into()),
            repeated: p.repeated,
            pattern: p.pattern.clone(),
            enum_values: p.enum_values.clone(),
            description: p.description.clone().unwrap_or_default(),
        });
    }
    let response = m.response.as_ref().map(|r| r.reference.clone());
    let (items_key, aggregated) = if verb == SqlVerb::Select && key != "get" {
        response
            .as_deref()
            .and_then(|r| doc.schemas.get(r))
            .and_then(|s| items_key_of(s, resource_key))
            .map_or((None, false), |(k, agg)| (Some(k), agg))
    } else {
        (None, false)
    };
    Method {
        name: key.to_string(),
        id: m.id.clone().unwrap_or_default(),
        verb,
        http_method,
        path,
        flat_path: m.flat_path.clone(),
        params,
        discovery_params: Arc::new(m.parameters),
        request: m.request.as_ref().map(|r| r.reference.clone()),
        response,
        description: m.description.clone().unwrap_or_default(),
        items_key,
        raw_pages: false,
        aggregated,
    }
}

/// The `{name}` / `{+name}` placeholders of a path template, in order.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner =
            rest[start + 1..start + len].trim_start_matches(['+', '/', '.', ';', '?', '&', '#']);
        if !inner.is_empty() && !out.iter().any(|o: &String| o == inner) {
            out.push(inner.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

/// Finds the items of a list response: the array property beside
/// `nextPageToken`, preferring one named after the resource, then one of
/// objects; or, for an aggregated list, the `items` map of scoped lists
/// (the `bool` is true then).
fn items_key_of(response: &Schema, resource_key: &str) -> Option<(String, bool)> {
    let arrays: Vec<(&String, &Schema)> = response
        .properties
        .iter()
        .filter(|(_, p)| p.ty.as_deref() == Some("array"))
        .collect();
    let is_object_array = |p: &Schema| {
        p.items
            .as_ref()
            .is_some_and(|i| i.reference.is_some() || i.ty.as_deref() == Some("object"))
    };
    if let Some((k, _)) = arrays.iter().find(|(k, _)| k.as_str() == resource_key) {
        return Some(((*k).clone(), false));
    }
    if let Some((k, _)) = arrays.iter().find(|(_, p)| is_object_array(p)) {
        return Some(((*k).clone(), false));
    }
    if let Some(items) = response.properties.get("items")
        && items.additional_properties.is_some()
    {
        return Some(("items".to_string(), true));
    }
    if arrays.len() == 1 {
        return arrays.first().map(|(k, _)| ((*k).clone(), false));
    }
    None
}

/// Columns: the properties of the SELECT methods' row schema (the `get`
/// response, or a list's item schema), first method first, no duplicates.
fn columns_of(doc: &Document, methods: &[Method]) -> Vec<Column> {
    let mut cols: Vec<Column> = Vec::new();
    let mut selects: Vec<&Method> = methods
        .iter()
        .filter(|m| m.verb == SqlVerb::Select)
        .collect();
    selects.sort_by_key(|m| m.name != "get");
    for m in selects {
        let Some(row) = row_schema(doc, m) else {
            continue;
        };
        for (pname, prop) in &row.properties {
            if cols.iter().any(|c| &c.name == pname) {
                continue;
            }
            let referenced = prop.reference.as_deref().and_then(|r| doc.schemas.get(r));
            let ty = match (&prop.ty, referenced) {
                (Some(t), _) => t.clone(),
                (None, Some(r)) => r.ty.clone().unwrap_or_else(|| "object".into()),
                (None, None) => "object".into(),
            };
            let description = match referenced {
                Some(r) => r.description.clone(),
                None => prop.description.clone(),
            }
            .unwrap_or_default();
            cols.push(Column {
                name: pname.clone(),
                ty,
                description,
            });
        }
    }
    cols
}

/// The schema of one row a SELECT method yields.
pub(crate) fn row_schema<'a>(doc: &'a Document, m: &Method) -> Option<&'a Schema> {
    let response = doc.schemas.get(m.response.as_deref()?)?;
    match &m.items_key {
        Some(k) => {
            let items = response.properties.get(k)?.items.as_deref()?;
            match &items.reference {
                Some(r) => doc.schemas.get(r),
                None => Some(items),
            }
        }
        None => Some(response),
    }
}
