//! Files that appear whole or not at all: bytes go to a temporary file in
//! the destination folder, are synced, then renamed over the final name. A
//! reader (or `--merge`) never sees half a file, and every byte written is
//! counted into a SHA-256 on the way, so the manifest records the hash of
//! exactly what was written.

use crate::Error;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// A writer that hashes and counts what passes through it.
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The writer back, with the hex SHA-256 and length of what was written.
    pub fn finish(self) -> (W, String, u64) {
        let hash = hex(&self.hasher.finalize());
        (self.inner, hash, self.bytes)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What was written: its SHA-256 (hex) and size in bytes.
pub struct Written {
    pub sha256: String,
    pub bytes: u64,
}

/// Writes `path` atomically with `fill`, which writes the content into the
/// (hashing) writer it is given.
pub fn write_file<F>(path: &Path, fill: F) -> Result<Written, Error>
where
    F: FnOnce(&mut Hashing<std::io::BufWriter<std::fs::File>>) -> Result<(), Error>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".skyql-export-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(Error::write(dir))?;
    let (tmp_file, tmp_path) = tmp.into_parts();
    let mut w = Hashing::new(std::io::BufWriter::new(tmp_file));
    fill(&mut w)?;
    let (buf, sha256, bytes) = w.finish();
    let file = buf
        .into_inner()
        .map_err(|e| Error::write(path)(e.into_error()))?;
    file.sync_all().map_err(Error::write(path))?;
    drop(file);
    tmp_path
        .persist(path)
        .map_err(|e| Error::write(path)(e.error))?;
    Ok(Written { sha256, bytes })
}

/// The SHA-256 (hex) and size of a file on disk.
pub fn hash_file(path: &Path) -> Result<Written, Error> {
    let mut file = std::fs::File::open(path).map_err(Error::read(path))?;
    let mut w = Hashing::new(std::io::sink());
    std::io::copy(&mut file, &mut w).map_err(Error::read(path))?;
    let (_, sha256, bytes) = w.finish();
    Ok(Written { sha256, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_hashes_them() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("f.txt");
        let w = write_file(&path, |w| {
            w.write_all(b"abc").map_err(Error::write("f"))?;
            Ok(())
        })
        .expect("write");
        assert_eq!(
            w.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(w.bytes, 3);
        assert_eq!(std::fs::read(&path).expect("read"), b"abc");
        assert_eq!(hash_file(&path).expect("hash").sha256, w.sha256);
        // A failed fill leaves neither the file nor a temporary behind.
        let other = dir.path().join("g.txt");
        let r = write_file(&other, |_| Err(Error::Result("no".into())));
        assert!(r.is_err() && !other.exists());
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(left.len(), 1);
    }
}
