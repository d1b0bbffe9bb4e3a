//! The Resource Manager v3 read surface (`cloudresourcemanager.googleapis.com/v3`) over
//! the emulator's organisation ([`crate::org`]), on the same port as Vertex AI under the
//! paths of the v3 Discovery document: `projects.list` (`parent` required), `projects.search`
//! (`query`), `projects.get`, `folders.list`/`search`/`get`, `organizations.get`/`search`.
//!
//! Rules: projects outside `--projects` are invisible (left out of lists, 403 on get, as
//! the real service answers for projects the caller cannot see); a parent that does not
//! exist is 403 too. Pages hold `pageSize` items (default 100, at most 1,000) behind
//! sealed page tokens bound to the method, parent and query. Every call is charged to the
//! caller's quota project (`X-Goog-User-Project`, else the credentials' project) and
//! fault injection applies as for Vertex AI.
//!
//! `query` (search) is a subset of the real syntax: terms separated by spaces, all of
//! which must hold; a term is `field:value` (case-insensitive, `*` matches any run of
//! characters) or `field=value` (exact); values may be double-quoted. Fields: projects
//! `id`/`projectId`, `name`/`displayName`, `parent`, `parent.type`
//! (`folder`/`organization`), `parent.id`, `state`/`lifecycleState`, `labels.KEY`
//! (no seeded project has labels); folders `displayName`, `parent`, `state`;
//! organizations `domain`, `displayName`, `directoryCustomerId`. Anything else is 400.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderName, Method, request::Parts};
use axum::response::Response;

use crate::auth::{BearerCheck, unauthenticated};
use crate::fields::Shape;
use crate::methods::{Query, list_json, page_size_up_to};
use crate::org::{Folder, ORGANIZATION_DOMAIN, ORGANIZATION_ID, Project, organization_name};
use crate::routing::split_segments;
use crate::server::parse_query;
use crate::state::Inner;
use crate::status::ApiError;
use crate::wire::{self, Json, header_str};

/// The service name in errors and quota buckets.
pub const SERVICE: &str = "cloudresourcemanager.googleapis.com";

/// Responses are checked loosely for `fields` (any name is accepted).
static ANY: Shape = Shape::Any;

/// The Resource Manager methods the emulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrmKind {
    ProjectList,
    ProjectSearch,
    ProjectGet,
    FolderList,
    FolderSearch,
    FolderGet,
    OrgGet,
    OrgSearch,
}

impl CrmKind {
    /// The Discovery method id (the stats name).
    pub fn stat(self) -> &'static str {
        match self {
            CrmKind::ProjectList => "cloudresourcemanager.projects.list",
            CrmKind::ProjectSearch => "cloudresourcemanager.projects.search",
            CrmKind::ProjectGet => "cloudresourcemanager.projects.get",
            CrmKind::FolderList => "cloudresourcemanager.folders.list",
            CrmKind::FolderSearch => "cloudresourcemanager.folders.search",
            CrmKind::FolderGet => "cloudresourcemanager.folders.get",
            CrmKind::OrgGet => "cloudresourcemanager.organizations.get",
            CrmKind::OrgSearch => "cloudresourcemanager.organizations.search",
        }
    }

    /// The RPC's full name (for `ErrorInfo`).
    fn rpc(self) -> &'static str {
        match self {
            CrmKind::ProjectList => "google.cloud.resourcemanager.v3.Projects.ListProjects",
            CrmKind::ProjectSearch => "google.cloud.resourcemanager.v3.Projects.SearchProjects",
            CrmKind::ProjectGet => "google.cloud.resourcemanager.v3.Projects.GetProject",
            CrmKind::FolderList => "google.cloud.resourcemanager.v3.Folders.ListFolders",
            CrmKind::FolderSearch => "google.cloud.resourcemanager.v3.Folders.SearchFolders",
            CrmKind::FolderGet => "google.cloud.resourcemanager.v3.Folders.GetFolder",
            CrmKind::OrgGet => "google.cloud.resourcemanager.v3.Organizations.GetOrganization",
            CrmKind::OrgSearch => {
                "google.cloud.resourcemanager.v3.Organizations.SearchOrganizations"
            }
        }
    }

    /// Query parameters of the method (JSON names).
    fn params(self) -> &'static [&'static str] {
        match self {
            CrmKind::ProjectList | CrmKind::FolderList => {
                &["pageSize", "pageToken", "parent", "showDeleted"]
            }
            CrmKind::ProjectSearch | CrmKind::FolderSearch | CrmKind::OrgSearch => {
                &["pageSize", "pageToken", "query"]
            }
            _ => &[],
        }
    }
}

/// A routed Resource Manager call: the method and, for `get`, the id in the path.
#[derive(Debug)]
pub struct CrmCall {
    pub kind: CrmKind,
    pub id: Option<String>,
}

/// Routes a `/v3/...` path; `Ok(None)` for a route the emulator does not serve.
pub fn parse_path(method: &Method, path: &str) -> Result<Option<CrmCall>, ApiError> {
    if *method != Method::GET {
        return Ok(None);
    }
    let Some(segs) = split_segments(path)? else {
        return Ok(None);
    };
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let call = |kind, id: Option<&str>| {
        Some(CrmCall {
            kind,
            id: id.map(String::from),
        })
    };
    Ok(match s[..] {
        ["v3", "projects"] => call(CrmKind::ProjectList, None),
        ["v3", "projects:search"] => call(CrmKind::ProjectSearch, None),
        ["v3", "projects", id] if !id.contains(':') => call(CrmKind::ProjectGet, Some(id)),
        ["v3", "folders"] => call(CrmKind::FolderList, None),
        ["v3", "folders:search"] => call(CrmKind::FolderSearch, None),
        ["v3", "folders", id] if !id.contains(':') => call(CrmKind::FolderGet, Some(id)),
        ["v3", "organizations:search"] => call(CrmKind::OrgSearch, None),
        ["v3", "organizations", id] if !id.contains(':') => call(CrmKind::OrgGet, Some(id)),
        _ => None,
    })
}

/// The real service's answer for a resource the caller cannot see (or that does not
/// exist).
fn no_permission() -> ApiError {
    ApiError::new(
        403,
        "PERMISSION_DENIED",
        "The caller does not have permission",
    )
}

/// One page of `items` (already in order; only the page is written out by `json`) with
/// a sealed token to the next.
fn page<T>(
    inner: &Inner,
    field: &str,
    scope: &str,
    query: &Query,
    items: Vec<T>,
    json: impl Fn(T) -> Json,
) -> Result<Json, ApiError> {
    let size = page_size_up_to(query, 1_000)?;
    let start = match query.param("pageToken") {
        None | Some("") => 0,
        Some(t) => inner
            .pages
            .open(scope, t)
            .map(|(i, _)| i.max(0) as usize)
            .ok_or_else(|| {
                ApiError::invalid(
                    "Invalid page_token: it is malformed, or it belongs to another request (the parent and query must not change between pages).",
                )
            })?,
    };
    let total = items.len();
    let shown: Vec<Json> = items.into_iter().skip(start).take(size).map(json).collect();
    let end = start + shown.len();
    let next = (end < total).then(|| inner.pages.seal(scope, end as i64, 0));
    Ok(list_json(field, shown, next))
}

/// A checked `parent` of `projects.list` / `folders.list`.
fn parent_param(inner: &Inner, query: &Query) -> Result<String, ApiError> {
    let Some(parent) = query.param("parent").filter(|p| !p.is_empty()) else {
        return Err(ApiError::field_violations(&[(
            "parent".into(),
            "A parent is required: organizations/{organization_id} or folders/{folder_id}.".into(),
        )]));
    };
    let well_formed = ["organizations/", "folders/"].iter().any(|prefix| {
        parent.strip_prefix(prefix).is_some_and(|id| {
            !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit())
        })
    });
    if !well_formed {
        return Err(ApiError::field_violations(&[(
            "parent".into(),
            format!(
                "Invalid parent \"{parent}\": expected organizations/{{organization_id}} or folders/{{folder_id}}."
            ),
        )]));
    }
    if !inner.org.has_parent(parent) {
        return Err(no_permission());
    }
    Ok(parent.to_string())
}

/// One term of a search query.
struct Term {
    field: String,
    value: String,
    /// `=` (exact) rather than `:` (case-insensitive, with wildcards).
    exact: bool,
}

/// Parses a search `query` (see the module page) against the fields it may name.
fn parse_search(query: &str, fields: &[&str]) -> Result<Vec<Term>, ApiError> {
    let chars: Vec<char> = query.chars().collect();
    let mut terms = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != ':' && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let field: String = chars[start..i].iter().collect();
        if i >= chars.len() || chars[i].is_whitespace() {
            return Err(ApiError::invalid(format!(
                "Invalid query \"{query}\": the term at position {} needs field:value or field=value.",
                start + 1
            )));
        }
        let exact = chars[i] == '=';
        i += 1;
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                value.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() {
                return Err(ApiError::invalid(format!(
                    "Invalid query \"{query}\": an unterminated quoted value."
                )));
            }
            i += 1;
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                value.push(chars[i]);
                i += 1;
            }
        }
        let known = fields.contains(&field.as_str())
            || (fields.contains(&"labels.*") && field.starts_with("labels."));
        if !known {
            return Err(ApiError::invalid(format!(
                "Invalid query \"{query}\": unknown field \"{field}\"; the emulator supports {}.",
                fields.join(", ")
            )));
        }
        terms.push(Term {
            field,
            value,
            exact,
        });
    }
    Ok(terms)
}

/// `pattern` with `*` wildcards against `text`, case-insensitively.
fn glob(pattern: &str, text: &str) -> bool {
    crate::filter::glob(&pattern.to_lowercase(), &text.to_lowercase())
}

/// Whether every term holds, `value_of` giving a field's value (`None`: no such value).
fn matches(terms: &[Term], value_of: impl Fn(&str) -> Option<String>) -> bool {
    terms.iter().all(|t| match value_of(&t.field) {
        Some(v) if t.exact => v == t.value,
        Some(v) => glob(&t.value, &v),
        None => false,
    })
}

/// Answers a Resource Manager request (after routing).
pub async fn handle(inner: &Arc<Inner>, parts: &Parts, _body: Body, call: CrmCall) -> Response {
    match answer(inner, parts, &call) {
        Ok(r) => r,
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

fn answer(inner: &Arc<Inner>, parts: &Parts, call: &CrmCall) -> Result<Response, ApiError> {
    let consumer = header_str(
        &parts.headers,
        HeaderName::from_static("x-goog-user-project"),
    )
    .filter(|p| !p.is_empty())
    .unwrap_or(&inner.auth.keys.project_id)
    .to_string();
    let consumer_number = inner.resolve_project(&consumer)?;
    if let Some(fault) = inner.control.fault_for(SERVICE, Some(consumer_number)) {
        return Err(fault);
    }
    let kind = call.kind;
    let (output, query) = parse_query(parts.uri.query(), kind.params(), &ANY)?;
    let check = inner.auth.check(parts, output.access_token.as_deref());
    if check != BearerCheck::Ok {
        return Err(unauthenticated(SERVICE, kind.rpc(), &check));
    }
    inner
        .quotas
        .take(SERVICE, consumer_number, inner.clock.now_us())?;
    let org = &inner.org;
    let visible = || {
        org.projects
            .iter()
            .filter(|p| inner.visible(&p.id, p.number))
    };
    let id = call.id.as_deref().unwrap_or("");
    let result = match kind {
        CrmKind::ProjectList => {
            let parent = parent_param(inner, &query)?;
            let items = visible().filter(|p| p.parent == parent).collect();
            let scope = format!(
                "crm.projects.list|{parent}|{}",
                query.param("showDeleted").unwrap_or("")
            );
            page(inner, "projects", &scope, &query, items, Project::json)?
        }
        CrmKind::ProjectSearch => {
            let q = query.param("query").unwrap_or("");
            let terms = parse_search(
                q,
                &[
                    "id",
                    "projectId",
                    "name",
                    "displayName",
                    "parent",
                    "parent.type",
                    "parent.id",
                    "state",
                    "lifecycleState",
                    "labels.*",
                ],
            )?;
            let items = visible()
                .filter(|p| {
                    matches(&terms, |field| match field {
                        "id" | "projectId" | "name" | "displayName" => Some(p.id.clone()),
                        "parent" => Some(p.parent.clone()),
                        "parent.type" => p.parent.split('/').next().map(|t| {
                            if t == "folders" {
                                "folder".into()
                            } else {
                                "organization".into()
                            }
                        }),
                        "parent.id" => p.parent.split('/').nth(1).map(String::from),
                        "state" | "lifecycleState" => Some("ACTIVE".into()),
                        _ => None,
                    })
                })
                .collect();
            page(
                inner,
                "projects",
                &format!("crm.projects.search|{q}"),
                &query,
                items,
                Project::json,
            )?
        }
        CrmKind::ProjectGet => org
            .project(id)
            .filter(|p| inner.visible(&p.id, p.number))
            .map(|p| p.json())
            .ok_or_else(no_permission)?,
        CrmKind::FolderList => {
            let parent = parent_param(inner, &query)?;
            let items = org.folders.iter().filter(|f| f.parent == parent).collect();
            let scope = format!(
                "crm.folders.list|{parent}|{}",
                query.param("showDeleted").unwrap_or("")
            );
            page(inner, "folders", &scope, &query, items, Folder::json)?
        }
        CrmKind::FolderSearch => {
            let q = query.param("query").unwrap_or("");
            let terms = parse_search(q, &["displayName", "parent", "state", "lifecycleState"])?;
            let items = org
                .folders
                .iter()
                .filter(|f| {
                    matches(&terms, |field| match field {
                        "displayName" => Some(f.display_name.to_string()),
                        "parent" => Some(f.parent.clone()),
                        "state" | "lifecycleState" => Some("ACTIVE".into()),
                        _ => None,
                    })
                })
                .collect();
            page(
                inner,
                "folders",
                &format!("crm.folders.search|{q}"),
                &query,
                items,
                Folder::json,
            )?
        }
        CrmKind::FolderGet => org.folder(id).map(|f| f.json()).ok_or_else(no_permission)?,
        CrmKind::OrgGet => {
            if id != ORGANIZATION_ID.to_string() {
                return Err(no_permission());
            }
            org.organization_json()
        }
        CrmKind::OrgSearch => {
            let q = query.param("query").unwrap_or("");
            let terms = parse_search(q, &["domain", "displayName", "directoryCustomerId"])?;
            let found = matches(&terms, |field| match field {
                "domain" | "displayName" => Some(ORGANIZATION_DOMAIN.into()),
                "directoryCustomerId" => Some(crate::org::DIRECTORY_CUSTOMER_ID.into()),
                _ => None,
            });
            let items = if found {
                vec![org.organization_json()]
            } else {
                Vec::new()
            };
            page(
                inner,
                "organizations",
                &format!("crm.organizations.search|{q}|{}", organization_name()),
                &query,
                items,
                |j| j,
            )?
        }
    };
    let result = match &output.fields {
        Some(sel) => sel.apply(&result),
        None => result,
    };
    Ok(wire::ok(&result, output.pretty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_queries() {
        let kind = |p: &str| parse_path(&Method::GET, p).unwrap().map(|c| c.kind);
        assert_eq!(kind("/v3/projects"), Some(CrmKind::ProjectList));
        assert_eq!(kind("/v3/projects:search"), Some(CrmKind::ProjectSearch));
        assert_eq!(kind("/v3/projects%3Asearch"), Some(CrmKind::ProjectSearch));
        assert_eq!(kind("/v3/projects/demo-project"), Some(CrmKind::ProjectGet));
        assert_eq!(kind("/v3/folders/1"), Some(CrmKind::FolderGet));
        assert_eq!(kind("/v3/organizations:search"), Some(CrmKind::OrgSearch));
        assert_eq!(kind("/v3/projects/p:move"), None);
        assert!(parse_path(&Method::POST, "/v3/projects").unwrap().is_none());
        let t = parse_search(
            r#"parent.type:folder  name:"demo*1""#,
            &["parent.type", "name"],
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[1].field.as_str(), t[1].value.as_str()),
            ("name", "demo*1")
        );
        assert!(parse_search("bogus:1", &["name"]).is_err());
        assert!(parse_search("name", &["name"]).is_err());
        assert!(glob("demo-*-1*", "Demo-Project-12"));
        assert!(!glob("demo-*-2", "demo-project-12"));
        assert!(glob("*", ""));
    }
}
