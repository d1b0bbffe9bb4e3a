//! Building a [`Service`] from a Discovery [`Document`]: every method is
//! placed in a resource by StackQL's naming rules (`naming.rs`, plus the
//! hand-made names of `exceptions.rs`), its parameters come from the
//! template `template.rs` picks, and each resource gets its method names,
//! order and columns.

use crate::discovery::{Document, MethodNode, ResourceNode, Schema};
use crate::exceptions;
use crate::model::{Column, Method, Param, ParamLocation, Resource, Service};
use crate::naming::{collection_name, full_method_name, resource_name, snake_case};
use crate::template::{placeholders, sql_template};
use crate::verb::SqlVerb;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A method as found in the document, with the keys of its collection.
struct Found {
    keys: Vec<String>,
    key: String,
    node: MethodNode,
}

pub fn service(mut doc: Document, provider: &str) -> Service {
    let name = doc.name.clone().unwrap_or_default();
    let mut found: Vec<Found> = std::mem::take(&mut doc.methods)
        .into_iter()
        .map(|(key, node)| Found {
            keys: Vec::new(),
            key,
            node,
        })
        .collect();
    collect(
        std::mem::take(&mut doc.resources),
        &mut Vec::new(),
        &mut found,
    );
    let mut groups: BTreeMap<String, Vec<Method>> = BTreeMap::new();
    for f in found {
        let id = f.node.id.clone().unwrap_or_else(|| {
            let mut parts = vec![name.clone()];
            parts.extend(f.keys.iter().cloned());
            parts.push(f.key.clone());
            parts.join(".")
        });
        // StackQL reads the collection from the method id (its last but one
        // token), which differs from the tree where a document nests methods
        // under a version key (`logging.getCmekSettings` sits under `v2`).
        let tokens: Vec<&str> = id.split('.').collect();
        let collection = match tokens.as_slice() {
            [.., c, _] => (*c).to_string(),
            _ => name.clone(),
        };
        let resource = match exceptions::resource_for_method(&id) {
            Some(r) => r.to_string(),
            None => resource_name(&collection_name(&collection), &f.key),
        };
        let method = build_method(&doc, id, &f.keys, &f.key, f.node);
        groups.entry(resource).or_default().push(method);
    }
    split_ambiguous_aggregated_lists(&mut groups);
    let full_names = exceptions::full_method_names(&name);
    let mut resources: Vec<Resource> = groups
        .into_iter()
        .map(|(sql_name, methods)| {
            build_resource(&doc, provider, &name, sql_name, methods, full_names)
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

/// Flattens the resource tree (consuming it) into its methods.
fn collect(map: BTreeMap<String, ResourceNode>, keys: &mut Vec<String>, out: &mut Vec<Found>) {
    for (key, node) in map {
        keys.push(key);
        for (mkey, m) in node.methods {
            out.push(Found {
                keys: keys.clone(),
                key: mkey,
                node: m,
            });
        }
        collect(node.resources, keys, out);
        keys.pop();
    }
}

/// Where a merged resource (`backend_services`: global and regional) has an
/// `aggregatedList` that needs no more parameters than another of its
/// lists, a WHERE clause could not tell them apart: the aggregated list
/// becomes `<resource>_aggregated`, as StackQL has it.
fn split_ambiguous_aggregated_lists(groups: &mut BTreeMap<String, Vec<Method>>) {
    let mut moves: Vec<(String, usize)> = Vec::new();
    for (name, methods) in groups.iter() {
        for (i, m) in methods.iter().enumerate() {
            if m.action != "aggregatedList" {
                continue;
            }
            let ambiguous = methods.iter().any(|o| {
                o.verb == SqlVerb::Select
                    && o.action != "aggregatedList"
                    && o.is_list()
                    && o.required_params() == m.required_params()
            });
            if ambiguous {
                moves.push((name.clone(), i));
            }
        }
    }
    for (name, i) in moves.into_iter().rev() {
        let Some(methods) = groups.get_mut(&name) else {
            continue;
        };
        let m = methods.remove(i);
        groups
            .entry(format!("{name}_aggregated"))
            .or_default()
            .push(m);
    }
}

/// Methods with the usual actions come first within a verb.
fn rank(action: &str) -> u8 {
    match action {
        "get" | "list" | "insert" | "create" | "patch" | "update" | "delete" => 0,
        _ => 1,
    }
}

fn build_resource(
    doc: &Document,
    provider: &str,
    service: &str,
    sql_name: String,
    mut methods: Vec<Method>,
    full_names: bool,
) -> Resource {
    let mut variants: Vec<String> = Vec::new();
    for m in &methods {
        if !variants.contains(&m.collection) {
            variants.push(m.collection.clone());
        }
    }
    variants.sort_by(|a, b| (a.split('.').count(), a).cmp(&(b.split('.').count(), b)));
    // Where variants share an action (`projects.sinks.list`,
    // `organizations.sinks.list`), those methods are named in full; the
    // rest keep the action's name (`instances.start`).
    // (Each method's name is its action's, snake_case, until here.)
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &methods {
        *counts.entry(m.name.as_str()).or_default() += 1;
    }
    let full: Vec<bool> = methods
        .iter()
        .map(|m| full_names || counts.get(m.name.as_str()).is_some_and(|n| *n > 1))
        .collect();
    for (m, full) in methods.iter_mut().zip(full) {
        if full {
            m.name = full_method_name(&m.id);
        }
    }
    let mut twins = Vec::new();
    for m in &methods {
        if m.is_list() && pages(doc, m) {
            let mut twin = m.clone();
            twin.name = format!("_{}", m.name);
            twin.verb = SqlVerb::Exec;
            twin.raw_pages = true;
            twins.push(twin);
        }
    }
    methods.extend(twins);
    methods.sort_by(|a, b| {
        (a.verb, rank(&a.action), &a.name).cmp(&(b.verb, rank(&b.action), &b.name))
    });
    let columns = columns_of(doc, &methods);
    let notes = pruned_row_schemas(doc, &methods)
        .into_iter()
        .map(|name| {
            format!(
                "note: schema {name} nests deeper than {} levels of JSON; its fields below that depth are read as empty objects",
                crate::discovery::MAX_SCHEMA_NESTING
            )
        })
        .collect();
    Resource {
        id: format!("{provider}.{service}.{sql_name}"),
        name: sql_name,
        discovery_path: variants.first().cloned().unwrap_or_default(),
        variants,
        methods,
        columns,
        notes,
    }
}

/// True when the method's response carries a `nextPageToken`.
fn pages(doc: &Document, m: &Method) -> bool {
    m.response
        .as_deref()
        .and_then(|r| doc.schemas.get(r))
        .is_some_and(|s| s.properties.contains_key("nextPageToken"))
}

fn build_method(doc: &Document, id: String, keys: &[String], key: &str, m: MethodNode) -> Method {
    let http_method = m.http_method.clone().unwrap_or_else(|| "GET".into());
    let verb = SqlVerb::of(key, &http_method);
    let path = m.path.clone().unwrap_or_default();
    let template = sql_template(&path, m.flat_path.as_deref());
    let mut params = Vec::new();
    for placeholder in placeholders(&template) {
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
        if p.location.as_deref() == Some("path") || params.iter().any(|q| &q.name == pname) {
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
    // Only reads need their response schema (parsing one is not free).
    let reads_rows = key == "getIamPolicy" || (verb == SqlVerb::Select && key != "get");
    let response_schema = response
        .as_deref()
        .filter(|_| reads_rows)
        .and_then(|r| doc.schemas.get(r));
    let resource_key = keys.last().map(String::as_str).unwrap_or_default();
    let (items_key, aggregated, parent_fields) = match response_schema {
        Some(s) if key == "getIamPolicy" && s.properties.contains_key("bindings") => {
            let parents = ["etag", "version"]
                .iter()
                .filter(|f| s.properties.contains_key(**f))
                .map(|f| f.to_string())
                .collect();
            (Some("bindings".to_string()), false, parents)
        }
        Some(s) if verb == SqlVerb::Select && key != "get" => match items_key_of(s, resource_key) {
            Some((k, agg)) => (Some(k), agg, Vec::new()),
            None => (None, false, Vec::new()),
        },
        _ => (None, false, Vec::new()),
    };
    let tokens: Vec<&str> = id.split('.').collect();
    let collection = match tokens.as_slice() {
        [_, middle @ .., _] if !middle.is_empty() => middle.join("."),
        _ => keys.join("."),
    };
    Method {
        name: snake_case(key),
        action: key.to_string(),
        collection,
        id,
        verb,
        http_method,
        path,
        flat_path: m.flat_path.clone(),
        template,
        params,
        discovery_params: Arc::new(m.parameters),
        request: m.request.as_ref().map(|r| r.reference.clone()),
        response,
        description: m.description.clone().unwrap_or_default(),
        items_key,
        parent_fields,
        raw_pages: false,
        aggregated,
    }
}

/// Finds the rows of a read's response: the array property named after the
/// collection, else the first array of objects, else (an aggregated list)
/// an `items` map of scoped lists (the `bool` is true then), else the only
/// array. `nextPageToken` is not required: a read without pages yields the
/// rows of its one response.
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
/// response, or a list's item schema), first method first, no duplicates;
/// then the response fields copied into each row.
fn columns_of(doc: &Document, methods: &[Method]) -> Vec<Column> {
    let mut cols: Vec<Column> = Vec::new();
    let mut selects: Vec<&Method> = methods
        .iter()
        .filter(|m| m.verb == SqlVerb::Select)
        .collect();
    selects.sort_by_key(|m| m.action != "get");
    for m in &selects {
        if let Some(row) = row_schema(doc, m) {
            push_columns(doc, &mut cols, &row.properties);
        }
    }
    for m in &selects {
        let Some(response) = m.response.as_deref().and_then(|r| doc.schemas.get(r)) else {
            continue;
        };
        let parents: BTreeMap<String, Schema> = m
            .parent_fields
            .iter()
            .filter_map(|f| Some((f.clone(), response.properties.get(f)?.clone())))
            .collect();
        push_columns(doc, &mut cols, &parents);
    }
    cols
}

fn push_columns(doc: &Document, cols: &mut Vec<Column>, properties: &BTreeMap<String, Schema>) {
    for (pname, prop) in properties {
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

/// Names of the SELECT methods' row schemas that were too deep to read whole.
fn pruned_row_schemas(doc: &Document, methods: &[Method]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in methods.iter().filter(|m| m.verb == SqlVerb::Select) {
        if let Some(row) = row_schema(doc, m).filter(|s| s.pruned) {
            let name = row
                .id
                .clone()
                .unwrap_or_else(|| m.response.clone().unwrap_or_default());
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The schema of one row a SELECT method yields.
fn row_schema<'a>(doc: &'a Document, m: &Method) -> Option<&'a Schema> {
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
