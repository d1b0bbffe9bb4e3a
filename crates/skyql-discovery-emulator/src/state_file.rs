//! `--state-file`: the resources, IAM policies, the clock, the signing key and the issued
//! access tokens survive a restart. Written atomically (a temporary file, then a rename) after each change and at
//! shutdown; a failed write is counted by the shared control block and shown by
//! `GET /emulator/stats`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use skyql_emulator::auth::RefreshCreds;

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
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::StateFile {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::StateFile {
            path: path.to_path_buf(),
            message: format!("{e}; delete it to start afresh"),
        })
}

/// Writes the state file if there is one and anything changed since the last write.
pub async fn persist(state: &State) {
    let Some(path) = state.config.state_file.clone() else {
        return;
    };
    let mut persisted = state.persisted.lock().await;
    let (generation, bytes) = {
        let Ok(store) = state.store.read() else {
            return;
        };
        if store.generation <= *persisted {
            return;
        }
        #[derive(Serialize)]
        struct SnapshotRef<'a> {
            version: u32,
            signing_key_pem: &'a str,
            refresh: &'a RefreshCreds,
            clock_now_us: i64,
            store: &'a Store,
            tokens: std::collections::BTreeMap<String, i64>,
        }
        let snap = SnapshotRef {
            version: 1,
            signing_key_pem: &state.auth.keys.private_key_pem,
            refresh: &state.auth.refresh,
            clock_now_us: state.clock.now_us(),
            store: &store,
            tokens: state.auth.tokens.export(),
        };
        match serde_json::to_vec(&snap) {
            Ok(b) => (store.generation, b),
            Err(e) => {
                state
                    .control
                    .persist_failed(format!("cannot encode the state: {e}"));
                return;
            }
        }
    };
    let result = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
    match result {
        Ok(Ok(())) => {
            *persisted = generation;
            state.control.persisted();
        }
        Ok(Err(e)) => state.control.persist_failed(e.to_string()),
        Err(e) => state.control.persist_failed(e.to_string()),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
