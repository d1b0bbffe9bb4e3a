//! The SQL-facing model of one service: resources with their methods, SQL
//! verbs, parameters and columns. [`crate::build`] makes it from a
//! [`Document`].

use crate::discovery::{Document, Endpoint, Schema, Schemas};
use crate::error::Error;
use crate::suggest::closest;
use crate::verb::SqlVerb;
use std::collections::BTreeMap;
use std::sync::Arc;

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
    /// SQL name: the action in snake_case (`get`, `aggregated_list`), or the
    /// full path (`projects_locations_saved_queries_list`) where the resource
    /// has variants; `_` + that for the EXEC twin of a list.
    pub name: String,
    /// The Discovery method key: `list`, `getIamPolicy`.
    pub action: String,
    /// The Discovery keys of the method's collection: `projects.locations.customJobs`.
    pub collection: String,
    /// Discovery id, e.g. `aiplatform.projects.locations.customJobs.get`.
    pub id: String,
    pub verb: SqlVerb,
    pub http_method: String,
    pub path: String,
    pub flat_path: Option<String>,
    /// The template requests are built from (relative to the service path);
    /// its placeholders are the path parameters (see `template.rs`).
    pub template: String,
    /// SQL-visible parameters: the template's placeholders, then query parameters.
    pub params: Vec<Param>,
    /// The parameters exactly as the document declares them (e.g. `name` with its pattern).
    pub discovery_params: Arc<BTreeMap<String, Schema>>,
    pub request: Option<String>,
    pub response: Option<String>,
    pub description: String,
    /// Where the rows are: for lists the array property beside
    /// `nextPageToken`; for an IAM policy, its `bindings`.
    pub items_key: Option<String>,
    /// Response fields copied into every row (an IAM policy's `etag` and
    /// `version` go with each of its bindings).
    pub parent_fields: Vec<String>,
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

    /// True when this method's rows are an array of its response (a list,
    /// followed through its pages, or an IAM policy's bindings).
    pub fn is_list(&self) -> bool {
        self.items_key.is_some() && !self.raw_pages
    }

    /// Path parameter values recovered from a resource name by this
    /// method's template, aligned from the end
    /// (`projects/1/locations/l/customJobs/7` → customJobsId = 7, ...);
    /// `None` if the name does not fit it.
    pub fn params_from_name(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let tsegs: Vec<&str> = self.template.split('/').collect();
        let nsegs: Vec<&str> = name.split('/').collect();
        let offset = tsegs.len().checked_sub(nsegs.len())?;
        let mut out = BTreeMap::new();
        for (t, n) in tsegs[offset..].iter().zip(&nsegs) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(p) => {
                    out.insert(p.trim_start_matches('+').to_string(), (*n).to_string());
                }
                _ if t == n => {}
                _ => return None,
            }
        }
        (!out.is_empty()).then_some(out)
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
    /// Discovery keys from the root, joined by dots, of its first collection:
    /// `projects.locations.customJobs`.
    pub discovery_path: String,
    /// Every collection whose methods the resource gathers (a collection
    /// under several parents, `projects.sinks` and `organizations.sinks`).
    pub variants: Vec<String>,
    /// Methods in table order: SELECT, INSERT, UPDATE, REPLACE, DELETE, EXEC; by name within a verb.
    pub methods: Vec<Method>,
    /// Response columns of the SELECT methods.
    pub columns: Vec<Column>,
    /// What DESCRIBE should say about the columns, e.g. that a row schema
    /// nests deeper than skyql reads.
    pub notes: Vec<String>,
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

    /// The method of `verb` for a statement that gives the parameters
    /// `given` says it does: the most specific one whose required parameters
    /// are all given, else the first of the verb (whose error then names
    /// what is missing).
    pub fn method_for(&self, verb: SqlVerb, given: impl Fn(&str) -> bool) -> Option<&Method> {
        let mut fitting: Vec<&Method> = self
            .methods_for(verb)
            .filter(|m| !m.raw_pages && m.required_params().iter().all(|p| given(p)))
            .collect();
        fitting.sort_by_key(|m| std::cmp::Reverse(m.required_params().len()));
        fitting
            .first()
            .copied()
            .or_else(|| self.methods_for(verb).next())
    }

    /// The names skyql gave this resource before it followed StackQL
    /// (`locations_clusters`, `projects_locations_clusters`), for "did you mean".
    pub fn former_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for v in &self.variants {
            let keys: Vec<&str> = v.split('.').collect();
            // Only the collections this resource is named after.
            if keys
                .last()
                .is_none_or(|k| crate::naming::collection_name(k) != self.name)
            {
                continue;
            }
            for start in 0..keys.len() {
                let name = keys[start..]
                    .iter()
                    .map(|k| crate::naming::snake_case(k))
                    .collect::<Vec<_>>()
                    .join("_");
                if name != self.name && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
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
                suggestion: self
                    .resources
                    .iter()
                    .find(|r| r.former_names().iter().any(|f| f == name))
                    .map(|r| r.name.clone())
                    .or_else(|| closest(name, self.resources.iter().map(|r| r.name.as_str()))),
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

    pub fn from_document(doc: Document, provider: &str) -> Service {
        crate::build::service(doc, provider)
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
