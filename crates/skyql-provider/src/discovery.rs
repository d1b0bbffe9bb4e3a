//! The shape of a Google Discovery REST document, as serde reads it. Only the
//! parts skyql uses are typed; everything is optional so that any of Google's
//! 600-odd documents loads.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Document {
    pub kind: Option<String>,
    pub discovery_version: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub revision: Option<String>,
    pub root_url: Option<String>,
    pub service_path: Option<String>,
    pub base_url: Option<String>,
    pub endpoints: Vec<Endpoint>,
    /// Methods at the document's root (`cloudasset.searchAllResources`).
    pub methods: BTreeMap<String, MethodNode>,
    pub resources: BTreeMap<String, ResourceNode>,
    pub schemas: Schemas,
}

/// A locational endpoint (`us-central1` → `https://us-central1-aiplatform.googleapis.com/`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Endpoint {
    pub location: String,
    pub endpoint_url: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResourceNode {
    pub methods: BTreeMap<String, MethodNode>,
    pub resources: BTreeMap<String, ResourceNode>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MethodNode {
    pub id: Option<String>,
    pub path: Option<String>,
    pub flat_path: Option<String>,
    pub http_method: Option<String>,
    pub description: Option<String>,
    pub parameters: BTreeMap<String, Schema>,
    pub parameter_order: Vec<String>,
    pub request: Option<SchemaRef>,
    pub response: Option<SchemaRef>,
    pub supports_media_upload: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SchemaRef {
    #[serde(rename = "$ref", default)]
    pub reference: String,
}

/// A JSON-Schema-like node: a named schema, a property, an array item, or a
/// method parameter (which adds `location`, `required`, `pattern`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Schema {
    pub id: Option<String>,
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub format: Option<String>,
    pub description: Option<String>,
    pub properties: BTreeMap<String, Schema>,
    pub items: Option<Box<Schema>>,
    pub additional_properties: Option<Box<Schema>>,
    #[serde(rename = "enum")]
    pub enum_values: Vec<String>,
    pub read_only: bool,
    pub location: Option<String>,
    pub required: bool,
    pub repeated: bool,
    pub pattern: Option<String>,
    pub default: Option<String>,
    pub deprecated: bool,
}

/// A document's named schemas, each parsed only when first asked for: a
/// service has thousands and a statement needs a handful, so start-up only
/// scans their JSON.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Schemas {
    entries: BTreeMap<String, LazySchema>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(transparent)]
struct LazySchema {
    raw: Box<RawValue>,
    #[serde(skip)]
    parsed: OnceLock<Option<Schema>>,
}

impl Clone for LazySchema {
    fn clone(&self) -> Self {
        LazySchema {
            raw: self.raw.clone(),
            parsed: self.parsed.clone(),
        }
    }
}

impl Schemas {
    /// The schema of that name; `None` if absent or not a valid schema.
    pub fn get(&self, name: &str) -> Option<&Schema> {
        let entry = self.entries.get(name)?;
        entry
            .parsed
            .get_or_init(|| serde_json::from_str(entry.raw.get()).ok())
            .as_ref()
    }
}
