//! `--state-file`: the resources, IAM policies, the clock, the signing key and the issued
//! access tokens survive a restart. Written after each change and at shutdown by the
//! shared writer (`skyql_emulator::files::StateWriter`: atomically, readable by its owner
//! only); a failed write is counted by the shared control block and shown by
//! `GET /emulator/stats`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use skyql_emulator::auth::RefreshCreds;
use skyql_emulator::files::read_if_exists;

use crate::State;
use crate::error::Error;
use crate::store::Store;

#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub signing_key_pem: String,
    pub refresh: RefreshCreds,
    pub clock_now_us: i64,
    pub store: Store,
    /// Issued access tokens still valid, so that clients keep working across a restart.
    #[serde(default)]
    pub tokens: std::collections::BTreeMap<String, i64>,
}

/// Reads a state file; `None` when it does not exist yet.
pub fn read(path: &Path) -> Result<Option<Snapshot>, Error> {
    let failed = |message: String| Error::StateFile {
        path: path.to_path_buf(),
        message,
    };
    let Some(bytes) = read_if_exists(path).map_err(|e| failed(e.to_string()))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| failed(format!("{e}; delete it to start afresh")))
}

/// The same, borrowed, for writing.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    signing_key_pem: &'a str,
    refresh: &'a RefreshCreds,
    clock_now_us: i64,
    store: &'a Store,
    tokens: std::collections::BTreeMap<String, i64>,
}

/// Writes the state file if there is one and anything changed since the last write.
pub async fn persist(state: &State) {
    let path = state.config.state_file.as_deref();
    state
        .state_writer
        .write(path, &state.control, &state.store, |store| {
            serde_json::to_vec(&SnapshotRef {
                version: 1,
                signing_key_pem: &state.auth.keys.private_key_pem,
                refresh: &state.auth.refresh,
                clock_now_us: state.clock.now_us(),
                store,
                tokens: state.auth.tokens.export(),
            })
        })
        .await;
}
