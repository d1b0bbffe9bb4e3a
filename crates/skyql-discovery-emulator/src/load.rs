//! Finding the documents to serve: by service name (`compute`, or `compute:beta` for one
//! version) among the documents pulled into the skyql home folder and the pinned ones in
//! a Discovery folder (`.discovery/`, as `cargo xtask fetch-discovery` fills it, named
//! `<service>.<version>.json`). A pulled document wins over a pinned one. Without a
//! version the preferred one is served: Google's directory's choice, else the most
//! stable and newest. aiplatform v1 is always at hand: skyql embeds its snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use skyql_registry::{Registry, catalog, preference_key};

use crate::api::Api;
use crate::error::Error;

/// Where documents come from.
#[derive(Default)]
pub struct Sources<'a> {
    /// The skyql home's registry (pulled documents).
    pub registry: Option<&'a Registry>,
    /// A folder of pinned documents.
    pub discovery_dir: Option<&'a Path>,
}

/// Pinned documents in a folder: service → version → file.
fn pinned(dir: &Path) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut out: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".json") else {
            continue;
        };
        if stem.ends_with(".meta") || stem == "index" {
            continue;
        }
        if let Some((name, version)) = stem.split_once('.') {
            out.entry(name.to_string())
                .or_default()
                .insert(version.to_string(), path.clone());
        }
    }
    out
}

fn preferred_version<'a>(
    name: &str,
    versions: impl Iterator<Item = &'a String> + Clone,
) -> Option<&'a String> {
    let directory = catalog()
        .iter()
        .find(|c| c.name == name && c.preferred)
        .map(|c| c.version.clone());
    if let Some(v) = directory
        && let Some(found) = versions.clone().find(|x| **x == v)
    {
        return Some(found);
    }
    versions.max_by_key(|v| preference_key(v))
}

/// Loads the named services; `all` loads every pulled or pinned service (its preferred
/// version).
pub fn load(names: &[String], sources: &Sources<'_>) -> Result<Vec<Api>, Error> {
    let pinned = sources.discovery_dir.map(pinned).unwrap_or_default();
    let mut wanted: Vec<(String, Option<String>)> = Vec::new();
    for n in names {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if n == "all" {
            let mut all: std::collections::BTreeSet<String> = pinned.keys().cloned().collect();
            if let Some(reg) = sources.registry {
                all.extend(
                    reg.documents()
                        .into_iter()
                        .filter(|d| d.source == skyql_registry::Source::Pulled)
                        .map(|d| d.name),
                );
            }
            wanted.extend(all.into_iter().map(|n| (n, None)));
            continue;
        }
        match n.split_once([':', '@']) {
            Some((s, v)) => wanted.push((s.to_string(), Some(v.to_string()))),
            None => wanted.push((n.to_string(), None)),
        }
    }
    if wanted.is_empty() {
        return Err(Error::Config(
            "no services to serve: give --services compute,storage,... or --services all".into(),
        ));
    }
    let mut apis = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (name, version) in wanted {
        if !seen.insert((name.clone(), version.clone())) {
            continue;
        }
        apis.push(load_one(&name, version.as_deref(), sources, &pinned)?);
    }
    Ok(apis)
}

fn load_one(
    name: &str,
    version: Option<&str>,
    sources: &Sources<'_>,
    pinned: &BTreeMap<String, BTreeMap<String, PathBuf>>,
) -> Result<Api, Error> {
    if let Some(reg) = sources.registry {
        let pulled: Vec<String> = reg
            .documents()
            .into_iter()
            .filter(|d| d.name == name && d.source == skyql_registry::Source::Pulled)
            .map(|d| d.version)
            .collect();
        let pick = match version {
            Some(v) => pulled.iter().find(|x| *x == v),
            None => preferred_version(name, pulled.iter()),
        };
        if let Some(v) = pick {
            let path = reg.document_path(name, v);
            return read(&path);
        }
    }
    if let Some(versions) = pinned.get(name) {
        let pick = match version {
            Some(v) => versions.get_key_value(v).map(|(k, _)| k),
            None => preferred_version(name, versions.keys()),
        };
        if let Some(path) = pick.and_then(|v| versions.get(v)) {
            return read(path);
        }
    }
    // The aiplatform v1 snapshot skyql embeds, when nothing newer is at hand.
    if name == "aiplatform" && version.is_none_or(|v| v == "v1") {
        return Api::from_json(
            skyql_registry::EMBEDDED_AIPLATFORM.as_bytes(),
            "the embedded aiplatform v1 snapshot",
        );
    }
    let hint = match (sources.discovery_dir, version) {
        (_, Some(v)) => format!(
            " at version {v}: pull it (skyql registry pull google.{name}) or check the version"
        ),
        (Some(dir), None) => {
            match skyql_provider::closest(name, pinned.keys().map(String::as_str)) {
                Some(s) => format!(" in {} or the skyql home: did you mean {s}?", dir.display()),
                None => format!(
                    " in {} or the skyql home: pull it (skyql registry pull google.{name})",
                    dir.display()
                ),
            }
        }
        (None, None) => format!(
            ": pull it (skyql registry pull google.{name}) or give --discovery-dir with the pinned documents"
        ),
    };
    Err(Error::UnknownService {
        name: name.to_string(),
        hint,
    })
}

fn read(path: &Path) -> Result<Api, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Api::from_json(&bytes, &path.display().to_string())
}
