//! Routing the way Google's front end routes: the raw path is split and checked by hand
//! (encoded slashes and `.`/`..` segments refused, `:verb` suffixes parsed, `/ui/...`
//! aliases served) and mapped to one of the API methods the emulator serves, with what
//! each method needs for stats, errors and permissions.

use axum::http::Method;

use crate::fields::{self, Shape};
use crate::status::ApiError;
use crate::wire::percent_decode;

/// The API methods the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LocList,
    LocGet,
    JobCreate,
    JobList,
    JobGet,
    JobCancel,
    JobDelete,
    OpGet,
    OpList,
    OpCancel,
    OpDelete,
    OpWait,
}

impl Kind {
    /// The Discovery method path below `locations` (the stats name); operations under a
    /// custom job are `customJobs.operations.*`.
    pub fn stat(self, under_job: bool) -> &'static str {
        match (self, under_job) {
            (Kind::LocList, _) => "locations.list",
            (Kind::LocGet, _) => "locations.get",
            (Kind::JobCreate, _) => "customJobs.create",
            (Kind::JobList, _) => "customJobs.list",
            (Kind::JobGet, _) => "customJobs.get",
            (Kind::JobCancel, _) => "customJobs.cancel",
            (Kind::JobDelete, _) => "customJobs.delete",
            (Kind::OpGet, false) => "operations.get",
            (Kind::OpList, false) => "operations.list",
            (Kind::OpCancel, false) => "operations.cancel",
            (Kind::OpDelete, false) => "operations.delete",
            (Kind::OpWait, false) => "operations.wait",
            (Kind::OpGet, true) => "customJobs.operations.get",
            (Kind::OpList, true) => "customJobs.operations.list",
            (Kind::OpCancel, true) => "customJobs.operations.cancel",
            (Kind::OpDelete, true) => "customJobs.operations.delete",
            (Kind::OpWait, true) => "customJobs.operations.wait",
        }
    }

    /// The RPC's full name (for `ErrorInfo`).
    pub fn rpc(self) -> &'static str {
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
            Kind::OpCancel => "google.longrunning.Operations.CancelOperation",
            Kind::OpDelete => "google.longrunning.Operations.DeleteOperation",
            Kind::OpWait => "google.longrunning.Operations.WaitOperation",
        }
    }

    /// The IAM permission the method needs.
    pub fn permission(self) -> &'static str {
        match self {
            Kind::LocList => "aiplatform.locations.list",
            Kind::LocGet => "aiplatform.locations.get",
            Kind::JobCreate => "aiplatform.customJobs.create",
            Kind::JobList => "aiplatform.customJobs.list",
            Kind::JobGet => "aiplatform.customJobs.get",
            Kind::JobCancel => "aiplatform.customJobs.cancel",
            Kind::JobDelete => "aiplatform.customJobs.delete",
            Kind::OpGet | Kind::OpWait => "aiplatform.operations.get",
            Kind::OpList => "aiplatform.operations.list",
            Kind::OpCancel => "aiplatform.operations.cancel",
            Kind::OpDelete => "aiplatform.operations.delete",
        }
    }

    /// Query parameters of the method (JSON names; snake_case is accepted too).
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Kind::LocList => &["filter", "pageSize", "pageToken", "extraLocationTypes"],
            Kind::JobList => &["filter", "pageSize", "pageToken", "readMask"],
            Kind::OpList => &["filter", "pageSize", "pageToken", "returnPartialSuccess"],
            Kind::OpWait => &["timeout"],
            _ => &[],
        }
    }

    /// The request field that names the resource (for location-mismatch errors).
    pub fn name_field(self) -> &'static str {
        match self {
            Kind::JobCreate | Kind::JobList | Kind::OpList | Kind::LocList => "parent",
            _ => "name",
        }
    }

    /// Whether the method takes a request body (`body: "*"` or a resource).
    pub fn takes_body(self) -> bool {
        matches!(
            self,
            Kind::JobCreate | Kind::JobCancel | Kind::OpCancel | Kind::OpWait
        )
    }

    /// The shape of the response, for `fields`.
    pub fn response_shape(self) -> &'static Shape {
        match self {
            Kind::LocList => &fields::LOCATION_LIST,
            Kind::LocGet => &fields::LOCATION,
            Kind::JobCreate | Kind::JobGet => &fields::JOB,
            Kind::JobList => &fields::JOB_LIST,
            Kind::JobDelete | Kind::OpGet | Kind::OpWait => &fields::OPERATION,
            Kind::OpList => &fields::OPERATION_LIST,
            Kind::JobCancel | Kind::OpCancel | Kind::OpDelete => &fields::EMPTY,
        }
    }
}

/// A routed API call.
#[derive(Debug)]
pub struct Call {
    pub kind: Kind,
    pub project: String,
    pub location: Option<String>,
    /// The custom job an operation route lives under.
    pub job: Option<String>,
    /// The job or operation id.
    pub id: Option<String>,
}

/// Splits the raw path into decoded segments the way Google's front end checks them:
/// encoded slashes, bad percent-encoding and `.`/`..` segments are 400; `Ok(None)` when a
/// segment is empty (no route has one).
pub fn split_segments(path: &str) -> Result<Option<Vec<String>>, ApiError> {
    let raw: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
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
    Ok(Some(segs))
}

/// Splits and checks the path; `Ok(None)` for a route the API does not have.
pub fn parse_api_path(method: &Method, path: &str) -> Result<Option<Call>, ApiError> {
    let Some(segs) = split_segments(path)? else {
        return Ok(None);
    };
    let ui = segs[0] == "ui";
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let delete = *method == Method::DELETE;
    let call = |kind, p: &str, l: Option<&str>, job: Option<&str>, id: Option<&str>| {
        Some(Call {
            kind,
            project: p.to_string(),
            location: l.map(String::from),
            job: job.map(String::from),
            id: id.map(String::from),
        })
    };
    // `operations/{id}` and `operations/{id}:verb`.
    let operation = |p: &str, l: &str, job: Option<&str>, last: &str| match last.split_once(':') {
        Some((id, "cancel")) if post => call(Kind::OpCancel, p, Some(l), job, Some(id)),
        Some((id, "wait")) if post => call(Kind::OpWait, p, Some(l), job, Some(id)),
        Some(_) => None,
        None if get => call(Kind::OpGet, p, Some(l), job, Some(last)),
        None if delete => call(Kind::OpDelete, p, Some(l), job, Some(last)),
        None => None,
    };
    let found = match s[1..] {
        ["projects", p, "locations"] if get => call(Kind::LocList, p, None, None, None),
        ["projects", p, "locations", l] if get && !l.contains(':') => {
            call(Kind::LocGet, p, Some(l), None, None)
        }
        ["projects", p, "locations", l, "operations"] if get => {
            call(Kind::OpList, p, Some(l), None, None)
        }
        ["projects", p, "locations", l, "operations", last] => operation(p, l, None, last),
        ["projects", p, "locations", l, "customJobs", j, "operations"] if get => {
            call(Kind::OpList, p, Some(l), Some(j), None)
        }
        [
            "projects",
            p,
            "locations",
            l,
            "customJobs",
            j,
            "operations",
            last,
        ] => operation(p, l, Some(j), last),
        ["projects", p, "locations", l, "customJobs"] if !ui && get => {
            call(Kind::JobList, p, Some(l), None, None)
        }
        ["projects", p, "locations", l, "customJobs"] if !ui && post => {
            call(Kind::JobCreate, p, Some(l), None, None)
        }
        ["projects", p, "locations", l, "customJobs", last] if !ui => match last.split_once(':') {
            Some((id, "cancel")) if post => call(Kind::JobCancel, p, Some(l), None, Some(id)),
            Some(_) => None,
            None if get => call(Kind::JobGet, p, Some(l), None, Some(last)),
            None if delete => call(Kind::JobDelete, p, Some(l), None, Some(last)),
            None => None,
        },
        _ => None,
    };
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let l = "/v1/projects/p/locations/l";
        let cases = [
            (
                "GET",
                "/v1/projects/p/locations".to_string(),
                Some(Kind::LocList),
            ),
            (
                "GET",
                "/ui/projects/p/locations/l".into(),
                Some(Kind::LocGet),
            ),
            ("GET", format!("{l}/customJobs"), Some(Kind::JobList)),
            ("POST", format!("{l}/customJobs"), Some(Kind::JobCreate)),
            ("GET", format!("{l}/customJobs/1"), Some(Kind::JobGet)),
            ("DELETE", format!("{l}/customJobs/1"), Some(Kind::JobDelete)),
            (
                "POST",
                format!("{l}/customJobs/1:cancel"),
                Some(Kind::JobCancel),
            ),
            (
                "POST",
                format!("{l}/customJobs/1%3Acancel"),
                Some(Kind::JobCancel),
            ),
            (
                "GET",
                "/ui/projects/p/locations/l/operations/9".into(),
                Some(Kind::OpGet),
            ),
            ("GET", format!("{l}/operations"), Some(Kind::OpList)),
            (
                "POST",
                format!("{l}/operations/9:cancel"),
                Some(Kind::OpCancel),
            ),
            ("POST", format!("{l}/operations/9:wait"), Some(Kind::OpWait)),
            ("DELETE", format!("{l}/operations/9"), Some(Kind::OpDelete)),
            (
                "GET",
                format!("{l}/customJobs/1/operations"),
                Some(Kind::OpList),
            ),
            (
                "GET",
                format!("{l}/customJobs/1/operations/9"),
                Some(Kind::OpGet),
            ),
            (
                "POST",
                format!("{l}/customJobs/1/operations/9:wait"),
                Some(Kind::OpWait),
            ),
            (
                "POST",
                "/ui/projects/p/locations/l/customJobs/1/operations/9:cancel".into(),
                Some(Kind::OpCancel),
            ),
            (
                "DELETE",
                "/ui/projects/p/locations/l/customJobs/1/operations/9".into(),
                Some(Kind::OpDelete),
            ),
            ("GET", "/ui/projects/p/locations/l/customJobs".into(), None),
            ("PUT", format!("{l}/customJobs/1"), None),
            ("GET", format!("{l}/customJobs/1:cancel"), None),
            ("GET", format!("{l}/operations/9:wait"), None),
            ("GET", format!("{l}/models"), None),
            ("GET", "/v1/projects//locations".into(), None),
        ];
        for (m, p, want) in cases {
            let method: Method = m.parse().unwrap();
            let got = parse_api_path(&method, &p).unwrap().map(|c| c.kind);
            assert_eq!(got, want, "{m} {p}");
        }
        let c = parse_api_path(
            &Method::GET,
            "/v1/projects/p/locations/l/customJobs/7/operations/9",
        )
        .unwrap()
        .unwrap();
        assert_eq!((c.job.as_deref(), c.id.as_deref()), (Some("7"), Some("9")));
        for p in [
            "/v1/projects/p/locations/l/customJobs/..",
            "/v1/projects/p%2Fx/locations",
            "/v1/projects/p/locations/%2e%2e/customJobs",
        ] {
            assert!(parse_api_path(&Method::GET, p).is_err(), "{p}");
        }
    }
}
