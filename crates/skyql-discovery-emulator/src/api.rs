//! One served Discovery document: its methods with the role each plays (create, get, list,
//! IAM, a custom method the emulator does not model, ...), its path templates, and the
//! API family that decides which fields the server sets.
//!
//! Roles come from the method's name and HTTP verb, as the provider maps SQL verbs (`skyql_provider::SqlVerb`), plus the
//! operations collections. Nothing is guessed from descriptions.

use std::collections::BTreeMap;
use std::sync::Arc;

use skyql_provider::{Schema, Service};

use crate::enums::EnumTable;
use crate::error::Error;
use crate::route::{Seg, Template};

/// How a service sets its server-side fields (see `family`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// compute: numeric ids, self links, `compute#operation` for every mutation.
    Compute,
    /// storage: synchronous, generations and metagenerations.
    Storage,
    /// AIP resource names, create/update times, `google.longrunning.Operation`.
    Aip,
    /// Anything else: the body is kept, `kind`/`etag`/`id` set where the schema has them.
    Plain,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Compute => "compute",
            Family::Storage => "storage",
            Family::Aip => "aip",
            Family::Plain => "plain",
        }
    }
}

/// What a method does in the emulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Create,
    Get,
    List,
    AggregatedList,
    Patch,
    Update,
    Delete,
    GetIam,
    SetIam,
    TestIam,
    /// compute's `operations.wait`.
    OpWait,
    /// A method the emulator does not model: 501.
    Custom,
}

/// One method of a served document.
#[derive(Debug)]
pub struct MethodDef {
    /// Discovery id, e.g. `compute.instances.insert`.
    pub id: String,
    /// The Discovery key, e.g. `insert`.
    pub name: String,
    pub role: Role,
    /// Upper-case HTTP method.
    pub http: String,
    pub template: Template,
    /// Leading template segments that are not part of the resource key (`v1`).
    pub key_skip: usize,
    pub params: Arc<BTreeMap<String, Schema>>,
    pub request: Option<String>,
    pub response: Option<String>,
    /// For lists: the array property of the response.
    pub items_key: Option<String>,
}

impl MethodDef {
    /// The query parameter that sets the page size (`pageSize` or `maxResults`).
    pub fn page_size_param(&self) -> Option<&str> {
        ["pageSize", "maxResults"]
            .into_iter()
            .find(|p| self.params.contains_key(*p))
    }

    /// A create whose path names the new resource itself (`PUT v1/{+name}`, as pubsub's
    /// topics), rather than its collection.
    pub fn creates_at_key(&self) -> bool {
        self.role == Role::Create
            && match self.template.segs.last() {
                Some(Seg::Lit(_)) | None => false,
                Some(Seg::Var(v) | Seg::Rest(v)) => self.http == "PUT" || v == "name",
            }
    }

    /// Whether the method declares this query parameter.
    pub fn has_query_param(&self, name: &str) -> bool {
        self.params
            .get(name)
            .is_some_and(|p| p.location.as_deref() == Some("query"))
    }
}

/// A served document.
pub struct Api {
    pub name: String,
    pub version: String,
    /// `https://compute.googleapis.com/`
    pub root_url: String,
    /// `compute/v1/` (may be empty)
    pub service_path: String,
    pub family: Family,
    pub service: Service,
    pub methods: Vec<MethodDef>,
    /// Item templates (relative to keys) of collections that have a create method: a
    /// parent matching one of them must exist.
    pub creatable: Vec<Template>,
    pub enums: EnumTable,
}

/// The last resource names of compute's operation collections and of AIP's.
const OPERATION_COLLECTIONS: &[&str] = &[
    "operations",
    "globalOperations",
    "zoneOperations",
    "regionOperations",
    "globalOrganizationOperations",
];

impl Api {
    /// Models a document.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Api, Error> {
        let service = Service::from_json(bytes, origin).map_err(|e| Error::Document {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        Ok(Api::from_service(service))
    }

    pub fn from_service(service: Service) -> Api {
        let family = detect_family(&service);
        let mut methods = Vec::new();
        for resource in &service.resources {
            let last = resource
                .discovery_path
                .rsplit('.')
                .next()
                .unwrap_or_default();
            let is_ops = OPERATION_COLLECTIONS.contains(&last);
            for m in &resource.methods {
                if m.raw_pages {
                    continue;
                }
                let template = Template::parse(m.flat_path.as_deref().unwrap_or(&m.path));
                let key_skip = usize::from(matches!(
                    template.segs.first(),
                    Some(Seg::Lit(l)) if *l == service.version
                ));
                let http = m.http_method.to_ascii_uppercase();
                // The Discovery key (the provider's SQL name may be renamed).
                let name = m.id.rsplit('.').next().unwrap_or(&m.name).to_string();
                let role = role_of(&name, &http, is_ops);
                methods.push(MethodDef {
                    id: m.id.clone(),
                    name,
                    role,
                    http,
                    template,
                    key_skip,
                    params: m.discovery_params.clone(),
                    request: m.request.clone(),
                    response: m.response.clone(),
                    items_key: m.items_key.clone(),
                });
            }
        }
        let creatable = methods
            .iter()
            .filter(|m| m.role == Role::Create)
            .map(|m| {
                let mut segs: Vec<Seg> = m.template.segs[m.key_skip..].to_vec();
                if !m.creates_at_key() {
                    segs.push(Seg::Var("id".into()));
                }
                Template { segs, verb: None }
            })
            .collect();
        let enums = EnumTable::for_service(&service.name, &service.version);
        Api {
            name: service.name.clone(),
            version: service.version.clone(),
            root_url: service.root_url.clone(),
            service_path: service.service_path.clone(),
            family,
            methods,
            creatable,
            enums,
            service,
        }
    }

    /// `compute:v1`
    pub fn id(&self) -> String {
        format!("{}:{}", self.name, self.version)
    }

    /// A named schema.
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.service.schemas.get(name)
    }

    /// Resolves `$ref`s.
    pub fn resolve<'a>(&'a self, schema: &'a Schema) -> &'a Schema {
        let mut s = schema;
        for _ in 0..8 {
            match s.reference.as_deref().and_then(|r| self.schema(r)) {
                Some(next) => s = next,
                None => break,
            }
        }
        s
    }

    /// Whether the resource key names an item of a collection that has a create method.
    pub fn is_creatable_item(&self, key_segs: &[String]) -> bool {
        self.creatable.iter().any(|t| t.matches(key_segs).is_some())
    }

    /// The host of the root URL (`compute.googleapis.com`).
    pub fn host(&self) -> &str {
        let s = self.root_url.trim_start_matches("https://");
        s.split('/').next().unwrap_or(s)
    }

    /// The URL prefix of self links: compute's and storage's are on www.googleapis.com,
    /// as the real services write them; the rest use the document's root URL.
    pub fn link_base(&self) -> String {
        if matches!(self.name.as_str(), "compute" | "storage") {
            format!("https://www.googleapis.com/{}", self.service_path)
        } else {
            format!("{}{}", self.root_url, self.service_path)
        }
    }
}

fn role_of(name: &str, http: &str, is_ops: bool) -> Role {
    match (name, http) {
        ("get", "GET") => Role::Get,
        ("list", "GET") => Role::List,
        ("delete", "DELETE") => Role::Delete,
        ("wait", "POST") if is_ops => Role::OpWait,
        _ if is_ops => Role::Custom,
        ("insert" | "create", "POST") | ("create", "PUT") => Role::Create,
        ("aggregatedList", "GET") => Role::AggregatedList,
        ("patch", "PATCH" | "POST") | ("update", "PATCH") => Role::Patch,
        ("update", "PUT") => Role::Update,
        ("getIamPolicy", _) => Role::GetIam,
        ("setIamPolicy", _) => Role::SetIam,
        ("testIamPermissions", _) => Role::TestIam,
        _ => Role::Custom,
    }
}

/// compute-style when the `Operation` schema has compute's fields; storage-style when a
/// schema keeps metagenerations; AIP-style when paths take whole resource names.
fn detect_family(service: &Service) -> Family {
    let has = |schema: &str, prop: &str| {
        service
            .schemas
            .get(schema)
            .is_some_and(|s| s.properties.contains_key(prop))
    };
    if has("Operation", "targetLink") && has("Operation", "operationType") {
        return Family::Compute;
    }
    if has("Bucket", "metageneration") || has("Object", "metageneration") {
        return Family::Storage;
    }
    // AIP-style when most creates name their parent as a whole (`v1/{+parent}/things`)
    // or the new resource itself (`v1/{+name}`).
    let (mut creates, mut whole) = (0, 0);
    for m in service.resources.iter().flat_map(|r| r.methods.iter()) {
        let name = m.id.rsplit('.').next().unwrap_or_default();
        if name == "create" || name == "insert" {
            creates += 1;
            if m.path.contains("{+parent}") || m.path.contains("{+name}") {
                whole += 1;
            }
        }
    }
    if creates > 0 && whole * 2 >= creates {
        Family::Aip
    } else {
        Family::Plain
    }
}
