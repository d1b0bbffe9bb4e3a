//! CustomJobs: validation on create, the lifecycle on the emulator clock, and the JSON the
//! service writes.
//!
//! A job's state is never stored: it is computed from its creation time, its durations and
//! an optional cancel time, for the emulator clock's current time. That keeps reads free of
//! writes and makes every transition time exact and reproducible:
//! - `JOB_STATE_PENDING` from `createTime` for the job's pending duration (5 s by default),
//! - then `JOB_STATE_RUNNING` (`startTime` set) for its running duration (30 s by default),
//! - then `JOB_STATE_SUCCEEDED`, or `JOB_STATE_FAILED` when the job carries the label
//!   `emulator-outcome: failed` (`error.code` 3 and a message like the real one); `endTime`
//!   is set;
//! - a cancel moves an unfinished job to `JOB_STATE_CANCELLING` at once and to
//!   `JOB_STATE_CANCELLED` 2 s later, with `error.code` 1 (`CANCELLED`) and `endTime`.
//!
//! `updateTime` is the time of the latest transition.

use std::collections::BTreeMap;

use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::rfc3339;
use crate::filter::Subject;
use crate::schema::{self, CUSTOM_JOB, ENCRYPTION_SPEC, JOB_SPEC, JOB_STATE};
use crate::wire::Json;

/// How long a cancelled job stays in `JOB_STATE_CANCELLING`.
pub const CANCELLING_US: i64 = 2_000_000;
/// The label that makes a job end `JOB_STATE_FAILED`.
pub const FAIL_LABEL: (&str, &str) = ("emulator-outcome", "failed");

/// JSON kept as compact text: a fraction of the memory of a `Value` tree (small maps
/// cost hundreds of bytes each), parsed again only when written out. In the state file it
/// is an ordinary JSON value.
#[derive(Clone, Debug, PartialEq)]
pub struct CompactJson(Box<str>);

impl CompactJson {
    pub fn new(v: &Value) -> Self {
        Self(v.to_string().into_boxed_str())
    }
    /// The JSON value (the text was produced by serde_json, so it parses).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl Serialize for CompactJson {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(ser)
    }
}

impl<'de> Deserialize<'de> for CompactJson {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        Value::deserialize(de).map(|v| Self::new(&v))
    }
}

/// A stored CustomJob.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub project_number: u64,
    pub location: String,
    /// Creation order, to break ties between jobs created at the same instant.
    pub seq: u64,
    pub display_name: String,
    pub job_spec: CompactJson,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_spec: Option<Value>,
    pub create_us: i64,
    pub pending_us: i64,
    pub running_us: i64,
    #[serde(default)]
    pub fails: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_us: Option<i64>,
}

/// The computed state of a job at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub state: &'static str,
    pub start_us: Option<i64>,
    pub end_us: Option<i64>,
    pub update_us: i64,
    pub error: Option<JobError>,
}

/// Why a finished job did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobError {
    Failed,
    Cancelled,
}

impl View {
    /// Whether the job has reached a final state.
    pub fn finished(&self) -> bool {
        matches!(
            self.state,
            "JOB_STATE_SUCCEEDED" | "JOB_STATE_FAILED" | "JOB_STATE_CANCELLED"
        )
    }
}

impl Job {
    /// The job's full resource name (with the project number).
    pub fn name(&self) -> String {
        format!(
            "projects/{}/locations/{}/customJobs/{}",
            self.project_number, self.location, self.id
        )
    }

    /// The job's state at `now`.
    pub fn view(&self, now: i64) -> View {
        let start_at = self.create_us + self.pending_us;
        let end_at = start_at + self.running_us;
        if let Some(c) = self.cancel_us.filter(|c| now >= *c) {
            let start = (start_at <= c).then_some(start_at);
            let cancelled_at = c + CANCELLING_US;
            return if now < cancelled_at {
                View {
                    state: "JOB_STATE_CANCELLING",
                    start_us: start,
                    end_us: None,
                    update_us: c,
                    error: None,
                }
            } else {
                View {
                    state: "JOB_STATE_CANCELLED",
                    start_us: start,
                    end_us: Some(cancelled_at),
                    update_us: cancelled_at,
                    error: Some(JobError::Cancelled),
                }
            };
        }
        if now < start_at {
            View {
                state: "JOB_STATE_PENDING",
                start_us: None,
                end_us: None,
                update_us: self.create_us,
                error: None,
            }
        } else if now < end_at {
            View {
                state: "JOB_STATE_RUNNING",
                start_us: Some(start_at),
                end_us: None,
                update_us: start_at,
                error: None,
            }
        } else {
            View {
                state: if self.fails {
                    "JOB_STATE_FAILED"
                } else {
                    "JOB_STATE_SUCCEEDED"
                },
                start_us: Some(start_at),
                end_us: Some(end_at),
                update_us: end_at,
                error: self.fails.then_some(JobError::Failed),
            }
        }
    }

    /// What filters see.
    pub fn subject<'a>(&'a self, view: &View) -> Subject<'a> {
        Subject {
            display_name: &self.display_name,
            state: view.state,
            create_us: self.create_us,
            labels: &self.labels,
            done: None,
        }
    }

    fn error_json(&self, kind: JobError) -> Value {
        match kind {
            JobError::Cancelled => json!({"code": 1, "message": "CANCELED"}),
            JobError::Failed => json!({
                "code": 3,
                "message": format!(
                    "The replica workerpool0-0 exited with a non-zero status of 1. To find out more about why your job exited please check the logs: https://console.cloud.google.com/logs/viewer?project={}&resource=ml_job%2Fjob_id%2F{}&advancedFilter=resource.type%3D%22ml_job%22%0Aresource.labels.job_id%3D%22{}%22",
                    self.project_number, self.id, self.id
                )
            }),
        }
    }
}

/// Output options of one request.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutOpts {
    /// `$alt=json;enum-encoding=int`.
    pub enum_int: bool,
}

/// A `readMask`: camelCase paths, each a list of segments.
#[derive(Clone, Debug, Default)]
pub struct Mask {
    pub paths: Vec<Vec<String>>,
}

impl Mask {
    /// Parses a comma-separated mask; unknown paths are an error naming the path.
    pub fn parse(s: &str) -> Result<Option<Mask>, String> {
        let mut paths = Vec::new();
        for raw in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match schema::resolve_mask_path(CUSTOM_JOB, raw) {
                Some(p) => paths.push(p),
                None => return Err(raw.to_string()),
            }
        }
        Ok(if paths.is_empty() {
            None
        } else {
            Some(Mask { paths })
        })
    }

    /// None: field excluded; Some(empty): whole field; Some(subpaths): part of it.
    fn field(&self, name: &str) -> Option<Vec<&[String]>> {
        let mut subs = Vec::new();
        let mut hit = false;
        for p in &self.paths {
            if p[0] == name {
                hit = true;
                if p.len() == 1 {
                    return Some(Vec::new());
                }
                subs.push(&p[1..]);
            }
        }
        hit.then_some(subs)
    }
}

fn prune(value: &Value, subs: &[&[String]]) -> Value {
    if subs.is_empty() {
        return value.clone();
    }
    match value {
        Value::Object(obj) => {
            let mut out = Map::new();
            for (k, v) in obj {
                let next: Vec<&[String]> = subs
                    .iter()
                    .filter(|p| p[0] == *k)
                    .map(|p| &p[1..])
                    .collect();
                if next.is_empty() {
                    continue;
                }
                let whole = next.iter().any(|p| p.is_empty());
                let rest: Vec<&[String]> = next.into_iter().filter(|p| !p.is_empty()).collect();
                out.insert(k.clone(), if whole { v.clone() } else { prune(v, &rest) });
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| prune(i, subs)).collect()),
        other => other.clone(),
    }
}

/// A job as the service writes it (proto3 JSON, fields in proto order), optionally
/// restricted by a `readMask`.
pub struct JobJson<'a> {
    pub job: &'a Job,
    pub view: View,
    pub opts: OutOpts,
    pub mask: Option<&'a Mask>,
}

impl JobJson<'_> {
    /// The job's JSON.
    pub fn json(&self) -> Json {
        let job = self.job;
        let v = &self.view;
        let mut out = Json::obj();
        let include = |name: &str| -> Option<Vec<&[String]>> {
            match self.mask {
                None => Some(Vec::new()),
                Some(m) => m.field(name),
            }
        };
        if include("name").is_some() {
            out.push("name", job.name());
        }
        if include("displayName").is_some() && !job.display_name.is_empty() {
            out.push("displayName", job.display_name.as_str());
        }
        if let Some(subs) = include("jobSpec") {
            let mut spec = job.job_spec.value();
            if !subs.is_empty() {
                spec = prune(&spec, &subs);
            }
            out.push(
                "jobSpec",
                schema::message_json(JOB_SPEC, &spec, self.opts.enum_int),
            );
        }
        if include("state").is_some() {
            if self.opts.enum_int {
                out.push("state", JOB_STATE.number(v.state).unwrap_or(0));
            } else {
                out.push("state", v.state);
            }
        }
        if include("createTime").is_some() {
            out.push("createTime", rfc3339(job.create_us));
        }
        if let (Some(_), Some(t)) = (include("startTime"), v.start_us) {
            out.push("startTime", rfc3339(t));
        }
        if let (Some(_), Some(t)) = (include("endTime"), v.end_us) {
            out.push("endTime", rfc3339(t));
        }
        if include("updateTime").is_some() {
            out.push("updateTime", rfc3339(v.update_us));
        }
        if let (Some(subs), Some(kind)) = (include("error"), v.error) {
            out.push("error", Json::from(prune(&job.error_json(kind), &subs)));
        }
        if let Some(subs) = include("labels")
            && !job.labels.is_empty()
        {
            let mut labels = Json::obj();
            for (k, val) in &job.labels {
                if subs.is_empty() || subs.iter().any(|p| p[0] == *k) {
                    labels.push(k, val);
                }
            }
            out.push("labels", labels);
        }
        if let (Some(subs), Some(spec)) = (include("encryptionSpec"), &job.encryption_spec) {
            out.push(
                "encryptionSpec",
                schema::message_json(ENCRYPTION_SPEC, &prune(spec, &subs), self.opts.enum_int),
            );
        }
        out
    }
}

/// A rejected field: (path as the real service writes it, description).
pub type Violation = (String, String);

/// The fields of a create request, once bound and validated.
pub struct NewJob {
    pub display_name: String,
    pub job_spec: Value,
    pub labels: BTreeMap<String, String>,
    pub encryption_spec: Option<Value>,
}

/// Validates a bound CustomJob (camelCase JSON from [`schema::bind_message`]). Violations
/// name fields as the real service does (`job_spec.worker_pool_specs[0].machine_spec.machine_type`).
pub fn validate(mut job: Map<String, Value>) -> Result<NewJob, Vec<Violation>> {
    let required = || "Required field is not set.".to_string();
    let mut v: Vec<Violation> =
        schema::missing_required(CUSTOM_JOB, &Value::Object(job.clone()), "")
            .into_iter()
            .map(|path| (path, required()))
            .collect();
    let display_name = match job.remove("displayName") {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    if !display_name.is_empty() && display_name.trim().is_empty() {
        v.push(("display_name".into(), required()));
    }
    if display_name.chars().count() > 128 {
        v.push((
            "display_name".into(),
            format!(
                "The display name is too long: {} characters. The maximum is 128.",
                display_name.chars().count()
            ),
        ));
    }
    let mut job_spec = job.remove("jobSpec").unwrap_or(Value::Null);
    if let Some(pools) = job_spec
        .get_mut("workerPoolSpecs")
        .and_then(Value::as_array_mut)
    {
        for (i, pool) in pools.iter().enumerate() {
            let Some(obj) = pool.as_object() else {
                continue;
            };
            // Pools after the first may be left empty as placeholders.
            if i > 0 && obj.is_empty() {
                continue;
            }
            v.extend(pool_problems(
                &format!("job_spec.worker_pool_specs[{i}]"),
                pool,
            ));
        }
        // Defaults the real service fills in.
        for pool in pools.iter_mut() {
            if let Value::Object(obj) = pool {
                if obj.is_empty() {
                    continue;
                }
                obj.entry("replicaCount")
                    .or_insert_with(|| Value::String("1".into()));
                if let Value::Object(disk) = obj
                    .entry("diskSpec")
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    disk.entry("bootDiskType")
                        .or_insert_with(|| Value::String("pd-ssd".into()));
                    disk.entry("bootDiskSizeGb").or_insert_with(|| json!(100));
                }
            }
        }
    }
    let labels: BTreeMap<String, String> = match job.remove("labels") {
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, val)| (k, val.as_str().unwrap_or_default().to_string()))
            .collect(),
        _ => BTreeMap::new(),
    };
    if labels.len() > 64 {
        v.push((
            "labels".into(),
            format!("At most 64 labels are allowed; got {}.", labels.len()),
        ));
    }
    for (k, val) in &labels {
        if let Some(problem) = label_problem(k, true) {
            v.push((
                format!("labels[{k}]"),
                format!("Invalid label key \"{k}\": {problem}"),
            ));
        }
        if let Some(problem) = label_problem(val, false) {
            v.push((
                format!("labels[{k}]"),
                format!("Invalid label value \"{val}\": {problem}"),
            ));
        }
    }
    if !v.is_empty() {
        return Err(v);
    }
    Ok(NewJob {
        display_name,
        job_spec,
        labels,
        encryption_spec: job.remove("encryptionSpec"),
    })
}

/// The service's rules for one worker pool beyond its `REQUIRED` fields: a machine type,
/// a task (container or Python package), accelerator type and count both set or neither.
fn pool_problems(p: &str, pool: &Value) -> Vec<Violation> {
    let mut v = Vec::new();
    let text = |ptr: &str| pool.pointer(ptr).and_then(Value::as_str).unwrap_or("");
    if text("/machineSpec/machineType").is_empty() {
        v.push((
            format!("{p}.machine_spec.machine_type"),
            "Required field is not set.".to_string(),
        ));
    }
    let accelerator = text("/machineSpec/acceleratorType");
    let has_type = !accelerator.is_empty() && accelerator != "ACCELERATOR_TYPE_UNSPECIFIED";
    let count = pool
        .pointer("/machineSpec/acceleratorCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if count < 0 {
        v.push((
            format!("{p}.machine_spec.accelerator_count"),
            format!("accelerator_count must not be negative; got {count}."),
        ));
    } else if has_type && count == 0 {
        v.push((
            format!("{p}.machine_spec.accelerator_count"),
            format!("accelerator_count must be set with accelerator_type {accelerator}: set both or neither."),
        ));
    } else if !has_type && count > 0 {
        v.push((
            format!("{p}.machine_spec.accelerator_type"),
            format!(
                "accelerator_type must be set with accelerator_count {count}: set both or neither."
            ),
        ));
    }
    if pool.get("containerSpec").is_none() && pool.get("pythonPackageSpec").is_none() {
        v.push((
            format!("{p}.task"),
            "Required field is not set: set container_spec or python_package_spec.".into(),
        ));
    }
    v
}

/// Vertex AI's label rules: keys 1-64 characters starting with a lowercase letter, values
/// 0-64 characters; both only lowercase letters, digits, `_` and `-` (international
/// letters allowed), at most 128 bytes.
fn label_problem(s: &str, key: bool) -> Option<&'static str> {
    let n = s.chars().count();
    if key && n == 0 {
        return Some("keys must not be empty");
    }
    if n > 64 || s.len() > 128 {
        return Some("at most 64 characters are allowed");
    }
    let lower_letter = |c: char| c.is_lowercase() || (c.is_alphabetic() && !c.is_uppercase());
    if key && !s.chars().next().is_some_and(lower_letter) {
        return Some("keys must start with a lowercase letter");
    }
    if !s
        .chars()
        .all(|c| lower_letter(c) || c.is_numeric() || c == '_' || c == '-')
    {
        return Some("only lowercase letters, digits, underscores and dashes are allowed");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            id: 1_234_567_890_123_456_789,
            project_number: 123_456_789_012,
            location: "us-central1".into(),
            seq: 1,
            display_name: "j".into(),
            job_spec: CompactJson::new(&json!({})),
            labels: BTreeMap::new(),
            encryption_spec: None,
            create_us: 0,
            pending_us: 5_000_000,
            running_us: 30_000_000,
            fails: false,
            cancel_us: None,
        }
    }

    #[test]
    fn lifecycle() {
        let j = job();
        assert_eq!(j.view(0).state, "JOB_STATE_PENDING");
        let r = j.view(5_000_000);
        assert_eq!(
            (r.state, r.start_us),
            ("JOB_STATE_RUNNING", Some(5_000_000))
        );
        let s = j.view(35_000_000);
        assert_eq!(
            (s.state, s.end_us),
            ("JOB_STATE_SUCCEEDED", Some(35_000_000))
        );
        let mut f = job();
        f.fails = true;
        assert_eq!(f.view(40_000_000).error, Some(JobError::Failed));
        let mut c = job();
        c.cancel_us = Some(1_000_000);
        let v = c.view(1_000_000);
        assert_eq!((v.state, v.start_us), ("JOB_STATE_CANCELLING", None));
        let v = c.view(3_000_000);
        assert_eq!(v.state, "JOB_STATE_CANCELLED");
        assert_eq!(v.end_us, Some(3_000_000));
        assert_eq!(v.update_us, 3_000_000);
    }

    #[test]
    fn label_rules() {
        assert!(label_problem("team", true).is_none());
        assert!(label_problem("équipe-1", true).is_none());
        assert!(label_problem("", false).is_none());
        assert!(label_problem("Team", true).is_some());
        assert!(label_problem("1team", true).is_some());
        assert!(label_problem("a b", false).is_some());
        assert!(label_problem(&"a".repeat(64), true).is_none());
        assert!(label_problem(&"a".repeat(65), true).is_some());
        assert!(label_problem(&"a".repeat(65), false).is_some());
    }
}
