//! The emulator's data: jobs and operations by project number and location, kept in
//! newest-first order for listing, and their snapshot in the state file.
//!
//! The state file is JSON, written atomically and privately (see [`crate::files`]) after
//! every change, so that a restart finds every job, every operation and the signing key.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::auth::RefreshCreds;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::files::{Versioned, read_if_exists};
use crate::jobs::Job;
use crate::wire::Json;

/// Position in newest-first order: later creation first, then later sequence first.
pub type OrderKey = (Reverse<i64>, Reverse<u64>);

/// Items of one location in newest-first order.
pub struct Ordered<T> {
    pub items: HashMap<u64, T>,
    pub order: BTreeMap<OrderKey, u64>,
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Self {
            items: HashMap::new(),
            order: BTreeMap::new(),
        }
    }
}

impl<T> Ordered<T> {
    pub fn insert(&mut self, id: u64, create_us: i64, seq: u64, item: T) {
        self.order.insert((Reverse(create_us), Reverse(seq)), id);
        self.items.insert(id, item);
    }
    pub fn remove(&mut self, id: u64, create_us: i64, seq: u64) -> Option<T> {
        self.order.remove(&(Reverse(create_us), Reverse(seq)));
        self.items.remove(&id)
    }
    /// Items after the position `after` (exclusive), newest first.
    pub fn iter_from(&self, after: Option<(i64, u64)>) -> impl Iterator<Item = (&OrderKey, &T)> {
        use std::ops::Bound;
        let start = match after {
            Some((c, s)) => Bound::Excluded((Reverse(c), Reverse(s))),
            None => Bound::Unbounded,
        };
        self.order
            .range((start, Bound::Unbounded))
            .filter_map(|(k, id)| self.items.get(id).map(|item| (k, item)))
    }
}

/// A long-running operation (the emulator creates them for deletes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Operation {
    pub id: u64,
    pub project_number: u64,
    pub location: String,
    /// The custom job the operation lives under (`.../customJobs/J/operations/O`); `None`
    /// for a location-scoped one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_job: Option<u64>,
    /// Cancelled by `operations.cancel` (it finished with `error.code` 1).
    #[serde(default)]
    pub cancelled: bool,
    pub seq: u64,
    pub create_us: i64,
    /// Polls left before the operation reports `done`.
    pub polls_left: u32,
    /// When it finished (emulator clock).
    #[serde(default)]
    pub done_us: Option<i64>,
    /// The resource it acted on.
    pub target: String,
}

impl Operation {
    pub fn name(&self) -> String {
        match self.parent_job {
            Some(job) => format!(
                "projects/{}/locations/{}/customJobs/{job}/operations/{}",
                self.project_number, self.location, self.id
            ),
            None => format!(
                "projects/{}/locations/{}/operations/{}",
                self.project_number, self.location, self.id
            ),
        }
    }

    /// Whether the operation has finished.
    pub fn done(&self) -> bool {
        self.done_us.is_some()
    }

    /// The `google.longrunning.Operation` JSON, fields in proto order (name, metadata,
    /// done, error or response).
    pub fn json(&self) -> Json {
        let update = self.done_us.unwrap_or(self.create_us);
        let generic = Json::obj()
            .with("createTime", rfc3339(self.create_us))
            .with("updateTime", rfc3339(update));
        let metadata = Json::obj()
            .with(
                "@type",
                "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
            )
            .with("genericMetadata", generic);
        let mut op = Json::obj()
            .with("name", self.name())
            .with("metadata", metadata);
        if self.done() {
            op.push("done", true);
            if self.cancelled {
                op.push(
                    "error",
                    Json::obj().with("code", 1i64).with("message", "CANCELLED"),
                );
            } else {
                op.push(
                    "response",
                    Json::obj().with("@type", "type.googleapis.com/google.protobuf.Empty"),
                );
            }
        }
        op
    }
}

/// All jobs and operations.
#[derive(Default)]
pub struct Store {
    pub jobs: HashMap<u64, HashMap<String, Ordered<Job>>>,
    pub ops: HashMap<u64, HashMap<String, Ordered<Operation>>>,
    /// Creation sequence, shared by jobs and operations.
    pub seq: u64,
    /// Bumped on every change; the persisted generation trails it.
    pub generation: u64,
    pub job_count: usize,
}

impl Versioned for Store {
    fn generation(&self) -> u64 {
        self.generation
    }
}

impl Store {
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn location_jobs(&self, project: u64, location: &str) -> Option<&Ordered<Job>> {
        self.jobs.get(&project)?.get(location)
    }

    pub fn location_jobs_mut(&mut self, project: u64, location: &str) -> &mut Ordered<Job> {
        self.jobs
            .entry(project)
            .or_default()
            .entry(location.to_string())
            .or_default()
    }

    pub fn location_ops(&self, project: u64, location: &str) -> Option<&Ordered<Operation>> {
        self.ops.get(&project)?.get(location)
    }

    pub fn insert_job(&mut self, job: Job) {
        let (id, c, s) = (job.id, job.create_us, job.seq);
        let loc = job.location.clone();
        self.location_jobs_mut(job.project_number, &loc)
            .insert(id, c, s, job);
        self.job_count += 1;
    }

    pub fn remove_job(&mut self, project: u64, location: &str, id: u64) -> Option<Job> {
        let loc = self.jobs.get_mut(&project)?.get_mut(location)?;
        let (c, s) = loc.items.get(&id).map(|j| (j.create_us, j.seq))?;
        let job = loc.remove(id, c, s);
        if job.is_some() {
            self.job_count -= 1;
        }
        job
    }

    pub fn insert_op(&mut self, op: Operation) {
        let (id, c, s) = (op.id, op.create_us, op.seq);
        let loc = op.location.clone();
        self.ops
            .entry(op.project_number)
            .or_default()
            .entry(loc)
            .or_default()
            .insert(id, c, s, op);
    }

    /// The operation `id` in a location, if it lives under `parent_job` there.
    pub fn op_mut(
        &mut self,
        project: u64,
        location: &str,
        parent_job: Option<u64>,
        id: u64,
    ) -> Option<&mut Operation> {
        self.ops
            .get_mut(&project)?
            .get_mut(location)?
            .items
            .get_mut(&id)
            .filter(|op| op.parent_job == parent_job)
    }

    /// Removes an operation (it must live under `parent_job`).
    pub fn remove_op(
        &mut self,
        project: u64,
        location: &str,
        parent_job: Option<u64>,
        id: u64,
    ) -> Option<Operation> {
        let loc = self.ops.get_mut(&project)?.get_mut(location)?;
        let (c, s) = loc
            .items
            .get(&id)
            .filter(|op| op.parent_job == parent_job)
            .map(|op| (op.create_us, op.seq))?;
        loc.remove(id, c, s)
    }

    /// Every job, for the state file.
    pub fn all_jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs
            .values()
            .flat_map(|m| m.values())
            .flat_map(|o| o.items.values())
    }

    /// Every operation, for the state file.
    pub fn all_ops(&self) -> impl Iterator<Item = &Operation> {
        self.ops
            .values()
            .flat_map(|m| m.values())
            .flat_map(|o| o.items.values())
    }

    /// Whether a job or operation id is taken anywhere.
    pub fn id_taken(&self, id: u64) -> bool {
        self.jobs
            .values()
            .flat_map(|m| m.values())
            .any(|o| o.items.contains_key(&id))
            || self
                .ops
                .values()
                .flat_map(|m| m.values())
                .any(|o| o.items.contains_key(&id))
    }

    pub fn clear(&mut self) {
        self.jobs.clear();
        self.ops.clear();
        self.job_count = 0;
        self.generation += 1;
    }
}

/// What the state file holds.
#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub signing_key_pem: String,
    pub page_secret: String,
    pub refresh: RefreshCreds,
    pub clock_now_us: i64,
    pub seq: u64,
    #[serde(default)]
    pub projects: BTreeMap<u64, String>,
    pub jobs: Vec<Job>,
    pub operations: Vec<Operation>,
    /// Issued access tokens and their expiry (Unix seconds), so clients keep working.
    #[serde(default)]
    pub tokens: BTreeMap<String, i64>,
}

/// The same, borrowed, for writing.
#[derive(Serialize)]
pub struct SnapshotRef<'a> {
    pub version: u32,
    pub signing_key_pem: &'a str,
    pub page_secret: &'a str,
    pub refresh: &'a RefreshCreds,
    pub clock_now_us: i64,
    pub seq: u64,
    pub projects: &'a BTreeMap<u64, String>,
    pub jobs: Vec<&'a Job>,
    pub operations: Vec<&'a Operation>,
    pub tokens: BTreeMap<String, i64>,
}

/// Reads a state file; `Ok(None)` when it does not exist yet.
pub fn read_snapshot(path: &Path) -> Result<Option<Snapshot>, Error> {
    let bytes = match read_if_exists(path) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::StateFile {
            path: path.to_path_buf(),
            message: format!(
                "not a skyql emulator state file ({e}); move it away or pick another path"
            ),
        })
}
