//! The embedded catalog: every service and version in Google's Discovery
//! directory (names, titles, preferred flags; no descriptions), so that
//! `SHOW SERVICES` and `registry pull` know Google's surface without a network.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct CatalogEntry {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub preferred: bool,
}

#[derive(Deserialize, Serialize)]
struct CatalogFile {
    services: Vec<CatalogEntry>,
}

/// Reads a Discovery directory list (`index.json`): every listed version,
/// with its preferred flag.
pub fn catalog_from_directory(index: &serde_json::Value) -> Vec<CatalogEntry> {
    let mut out: Vec<CatalogEntry> = index
        .get("items")
        .and_then(|i| i.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|it| {
                    Some(CatalogEntry {
                        name: it.get("name")?.as_str()?.to_string(),
                        version: it.get("version")?.as_str()?.to_string(),
                        title: it
                            .get("title")
                            .and_then(|t| t.as_str())
                            .unwrap_or_default()
                            .to_string(),
                        preferred: it
                            .get("preferred")
                            .and_then(|p| p.as_bool())
                            .unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out
}

/// Builds the catalog from the documents themselves (name, version, title),
/// marking as preferred the version SQL uses ([`crate::choose_version`]).
pub fn catalog_from_documents(
    docs: &[CatalogEntry],
    directory: &[CatalogEntry],
) -> Vec<CatalogEntry> {
    let mut out: Vec<CatalogEntry> = docs.to_vec();
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out.dedup_by(|a, b| a.name == b.name && a.version == b.version);
    let names: std::collections::BTreeSet<String> = out.iter().map(|e| e.name.clone()).collect();
    for name in names {
        let present: Vec<String> = out
            .iter()
            .filter(|e| e.name == name)
            .map(|e| e.version.clone())
            .collect();
        let best = crate::version::choose_version(&name, &present, directory).unwrap_or_default();
        for e in out.iter_mut().filter(|e| e.name == name) {
            e.preferred = e.version == best;
        }
    }
    out
}

/// Serialises a catalog as the embedded file stores it: one entry per line.
pub fn render_catalog(entries: &[CatalogEntry]) -> String {
    let mut s = String::from("{\"services\":[\n");
    for (i, e) in entries.iter().enumerate() {
        let line = serde_json::to_string(e).unwrap_or_default();
        s.push_str(&line);
        s.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    s.push_str("]}\n");
    s
}

/// The embedded catalog, parsed once.
pub fn catalog() -> &'static [CatalogEntry] {
    static CATALOG: OnceLock<Vec<CatalogEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str::<CatalogFile>(crate::EMBEDDED_CATALOG)
            .map(|c| c.services)
            .unwrap_or_default()
    })
}
