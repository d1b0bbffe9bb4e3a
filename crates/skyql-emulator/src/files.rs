//! Files holding secrets (the state file with its signing key and tokens, the key files the
//! CLI writes): created with mode 0600 from the first byte, written whole or not at all.
//!
//! A `tempfile::NamedTempFile` in the target's folder is created 0600 on Unix; it is
//! written, synced and renamed over the target, so a reader never sees half a file and no
//! one else can ever read it.
//!
//! Every emulator built on this crate keeps its state file the same way ([`StateWriter`]):
//! written only when its data changed since the last write, off the async runtime, and
//! every outcome counted in the control block's persistence report, never printed.

use std::io::Write;
use std::path::Path;
use std::sync::RwLock;

use crate::control::Control;
use crate::error::Error;

/// Writes `bytes` to `path` atomically, readable by its owner only.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// A file's bytes; `None` when it does not exist (yet).
pub fn read_if_exists(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Data whose changes are counted: its generation goes up with every change.
pub trait Versioned {
    fn generation(&self) -> u64;
}

/// Writes an emulator's state file when its data changed, remembering the generation
/// last written.
#[derive(Default)]
pub struct StateWriter {
    written: tokio::sync::Mutex<u64>,
}

impl StateWriter {
    /// Writes `path` (if there is one) from `data`, when its generation is past the one
    /// last written: `encode` turns the data into the file's bytes. Writes are serialised;
    /// success and failure go to `control`'s persistence report.
    pub async fn write<T: Versioned>(
        &self,
        path: Option<&Path>,
        control: &Control,
        data: &RwLock<T>,
        encode: impl FnOnce(&T) -> serde_json::Result<Vec<u8>>,
    ) {
        let Some(path) = path else {
            return;
        };
        let mut written = self.written.lock().await;
        let (generation, bytes) = {
            let Ok(data) = data.read() else {
                control.persist_failed("the state lock is poisoned".into());
                return;
            };
            let generation = data.generation();
            if generation <= *written {
                return;
            }
            match encode(&data) {
                Ok(b) => (generation, b),
                Err(e) => {
                    control.persist_failed(format!("cannot encode the state: {e}"));
                    return;
                }
            }
        };
        let path = path.to_path_buf();
        match tokio::task::spawn_blocking(move || write_private_atomic(&path, &bytes)).await {
            Ok(Ok(())) => {
                *written = generation;
                control.persisted();
            }
            Ok(Err(e)) => control.persist_failed(e.to_string()),
            Err(e) => control.persist_failed(format!("the writer task failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        write_private_atomic(&path, b"{}").unwrap();
        write_private_atomic(&path, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
