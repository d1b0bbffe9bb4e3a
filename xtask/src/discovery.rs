//! Google's Discovery documents for tests (pinned PyPI package, never
//! committed) and the embedded, description-free snapshot made from them.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PACKAGE: &str = "google-api-python-client==2.202.0";
pub const EXPECTED_FILES: usize = 611;

pub fn dir() -> PathBuf {
    std::env::var_os("SKYQL_DISCOVERY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join(".discovery"))
}

fn count_json(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// Downloads the pinned wheel with pip and extracts the documents. A partial
/// extraction never replaces a good folder: it goes to a temp folder first.
pub fn fetch(force: bool) -> Result<PathBuf> {
    let target = dir();
    if !force && count_json(&target) == EXPECTED_FILES {
        return Ok(target);
    }
    let work = crate::root().join("target").join("discovery-download");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    eprintln!("xtask: downloading {PACKAGE} with pip");
    let status = Command::new(python())
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            PACKAGE,
            "-d",
        ])
        .arg(&work)
        .status()
        .context("running python -m pip (is Python with pip installed?)")?;
    if !status.success() {
        bail!("pip download {PACKAGE} failed");
    }
    let wheel = std::fs::read_dir(&work)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("pip downloaded no wheel")?;
    let staging = work.join("documents");
    let script = "import sys, zipfile, os\n\
        z = zipfile.ZipFile(sys.argv[1]); out = sys.argv[2]; os.makedirs(out, exist_ok=True)\n\
        pre = 'googleapiclient/discovery_cache/documents/'\n\
        for n in z.namelist():\n\
        \x20   if n.startswith(pre) and n.endswith('.json'):\n\
        \x20       open(os.path.join(out, os.path.basename(n)), 'wb').write(z.read(n))\n";
    let status = Command::new(python())
        .args(["-c", script])
        .arg(&wheel)
        .arg(&staging)
        .status()?;
    if !status.success() {
        bail!("extracting {} failed", wheel.display());
    }
    let n = count_json(&staging);
    if n != EXPECTED_FILES {
        bail!("expected {EXPECTED_FILES} documents in {PACKAGE}, found {n}");
    }
    let _ = std::fs::remove_dir_all(&target);
    std::fs::rename(&staging, &target)
        .with_context(|| format!("moving documents into {}", target.display()))?;
    eprintln!("xtask: {n} files in {}", target.display());
    Ok(target)
}

pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn snapshot_dir() -> PathBuf {
    crate::root().join("crates/skyql-registry/snapshot")
}

/// The snapshot files as they should be, from the pinned documents.
pub fn generate() -> Result<Vec<(PathBuf, String)>> {
    let docs = fetch(false)?;
    let ai = docs.join("aiplatform.v1.json");
    let bytes = std::fs::read(&ai).with_context(|| ai.display().to_string())?;
    let snapshot = skyql_provider::snapshot::render(&bytes, &ai.display().to_string())?;
    let index_path = docs.join("index.json");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(&index_path)?)
        .with_context(|| index_path.display().to_string())?;
    let catalog = skyql_registry::render_catalog(&catalog(&docs, &index)?);
    Ok(vec![
        (snapshot_dir().join("aiplatform.v1.json"), snapshot),
        (snapshot_dir().join("catalog.json"), catalog),
    ])
}

pub fn snapshot(check: bool) -> Result<()> {
    for (path, text) in generate()? {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            eprintln!("xtask: {} is up to date", path.display());
        } else if check {
            bail!("{} is stale: run `cargo xtask snapshot`", path.display());
        } else {
            std::fs::write(&path, &text)?;
            eprintln!("xtask: wrote {} ({} bytes)", path.display(), text.len());
        }
    }
    Ok(())
}

/// The service catalog of every pinned document, preferred flags from `index.json`.
pub fn catalog(
    docs: &Path,
    index: &serde_json::Value,
) -> Result<Vec<skyql_registry::CatalogEntry>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(docs)?.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "json")
            || path.file_name().is_some_and(|n| n == "index.json")
        {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let doc = skyql_provider::parse_document(&bytes, &path.display().to_string())?;
        entries.push(skyql_registry::CatalogEntry {
            name: doc.name.unwrap_or_default(),
            version: doc.version.unwrap_or_default(),
            title: doc.title.unwrap_or_default(),
            preferred: false,
        });
    }
    Ok(skyql_registry::catalog_from_documents(
        &entries,
        &skyql_registry::catalog_from_directory(index),
    ))
}
