//! The state behind every request of the Vertex AI emulator ([`Inner`]): configuration,
//! credentials, clock, test-support controls, jobs and operations, and the state file they
//! are written to.

use std::collections::{BTreeMap, HashSet};
use std::sync::RwLock;

use crate::Config;
use crate::auth::Auth;
use crate::clock::Clock;
use crate::control::{Control, EmulatorState};
use crate::files::StateWriter;
use crate::ids::{is_number, nineteen_digits, project_number};
use crate::org::Org;
use crate::paging::PageTokens;
use crate::quota::Quotas;
use crate::status::ApiError;
use crate::store::{SnapshotRef, Store};

/// Shared state behind every request.
pub struct Inner {
    pub config: Config,
    pub auth: Auth,
    pub clock: Clock,
    pub control: Control,
    pub store: RwLock<Store>,
    /// Project number → project id, for every id seen.
    pub projects: RwLock<BTreeMap<u64, String>>,
    pub allowed: Option<(HashSet<String>, HashSet<u64>)>,
    pub pages: PageTokens,
    pub page_secret_b64: String,
    /// The state file's writes.
    pub state_writer: StateWriter,
    /// The location ids `locations.list` reports, sorted.
    pub locations: Vec<String>,
    /// The organisation Resource Manager answers for.
    pub org: Org,
    /// Per-project request quotas.
    pub quotas: Quotas,
    /// Project numbers whose Vertex AI API is disabled.
    pub disabled: HashSet<u64>,
    /// Project numbers the credentials may not use.
    pub denied: HashSet<u64>,
}

impl EmulatorState for Inner {
    fn control(&self) -> &Control {
        &self.control
    }
    fn clock(&self) -> &Clock {
        &self.clock
    }
    /// Jobs, operations and the quotas' buckets.
    fn clear(&self) {
        if let Ok(mut st) = self.store.write() {
            st.clear();
        }
        self.quotas.clear();
    }
    fn touch(&self) {
        Inner::touch(self);
    }
    async fn persist(&self) {
        Inner::persist(self).await;
    }
}

/// The error for a poisoned lock (a bug, never the caller's fault).
pub fn lock_err<T>(_: T) -> ApiError {
    ApiError::internal("Internal error: the emulator's state lock is poisoned.")
}

impl Inner {
    /// Marks the state as changed (for the state file).
    pub fn touch(&self) {
        if let Ok(mut s) = self.store.write() {
            s.generation += 1;
        }
    }

    /// A 19-digit id not used by any job or operation.
    pub fn new_id(&self, store: &Store) -> u64 {
        loop {
            let id = nineteen_digits(rand::random());
            if !store.id_taken(id) {
                return id;
            }
        }
    }

    /// The project number of a project id or number (remembering ids seen).
    pub fn resolve_project(&self, project: &str) -> Result<u64, ApiError> {
        if is_number(project) {
            return project
                .parse::<u64>()
                .map_err(|_| ApiError::invalid(format!("Invalid project number: {project}")));
        }
        let number = project_number(project);
        let known = self
            .projects
            .read()
            .map(|p| p.contains_key(&number))
            .unwrap_or(true);
        if !known && let Ok(mut p) = self.projects.write() {
            p.insert(number, project.to_string());
        }
        Ok(number)
    }

    /// Whether the credentials may use the project (in `--projects`, if given, and not
    /// in `--deny-project`).
    pub fn permitted(&self, project: &str, number: u64) -> bool {
        !self.denied.contains(&number) && self.visible(project, number)
    }

    /// Whether Resource Manager shows the project to the credentials (in `--projects`, if
    /// given; a denied project is still seen, as a project where a role is missing).
    pub fn visible(&self, project: &str, number: u64) -> bool {
        match &self.allowed {
            None => true,
            Some((ids, numbers)) => ids.contains(project) || numbers.contains(&number),
        }
    }

    /// Writes the state file if anything changed since the last write. Failures are
    /// counted in the control's persistence report, never printed.
    pub async fn persist(&self) {
        let path = self.config.state_file.as_deref();
        self.state_writer
            .write(path, &self.control, &self.store, |store| {
                let projects = self.projects.read().map(|p| p.clone()).unwrap_or_default();
                serde_json::to_vec(&SnapshotRef {
                    version: 1,
                    signing_key_pem: &self.auth.keys.private_key_pem,
                    page_secret: &self.page_secret_b64,
                    refresh: &self.auth.refresh,
                    clock_now_us: self.clock.now_us(),
                    seq: store.seq,
                    projects: &projects,
                    jobs: store.all_jobs().collect(),
                    operations: store.all_ops().collect(),
                    tokens: self.auth.tokens.export(),
                })
            })
            .await;
    }
}
