//! The registry proper: embedded documents plus documents pulled into
//! `<home>/providers/google/<service>/<version>.json`, each with a small
//! `<version>.meta.json` sidecar so that listing never parses whole documents.
//! Every write goes to a temporary file that is then renamed into place
//! (`tempfile`'s persist).

use crate::catalog::{CatalogEntry, catalog, catalog_from_directory};
use crate::error::Error;
use crate::version::{SERVICE_ALIASES, preference_key};
use serde::{Deserialize, Serialize};
use skyql_provider::{PROVIDER, Service, closest, parse_document};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where a service's document comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Carried in the binary (description-free).
    Embedded,
    /// Pulled into the home folder.
    Pulled,
    /// Listed in Google's directory, not installed.
    Available,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Embedded => "embedded",
            Source::Pulled => "pulled",
            Source::Available => "available",
        }
    }
}

/// What the registry knows of one document without loading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub revision: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub preferred: bool,
    #[serde(skip, default = "default_source")]
    pub source: Source,
}

fn default_source() -> Source {
    Source::Pulled
}

impl ServiceInfo {
    pub fn id(&self) -> String {
        format!("{}:{}", self.name, self.version)
    }
}

/// The outcome of pulling a folder.
#[derive(Debug, Default)]
pub struct PullReport {
    pub stored: Vec<ServiceInfo>,
    /// Files that were not Discovery documents, with the reason.
    pub failed: Vec<String>,
    /// True when the folder's `index.json` set the preferred versions.
    pub used_index: bool,
}

pub struct Registry {
    home: PathBuf,
    loaded: Mutex<HashMap<(String, String), Arc<Service>>>,
}

const EMBEDDED_NAME: &str = "aiplatform";
const EMBEDDED_VERSION: &str = "v1";

impl Registry {
    /// Opens the registry under `home`. Nothing is read until asked for.
    pub fn open(home: impl Into<PathBuf>) -> Registry {
        Registry {
            home: home.into(),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    fn provider_dir(&self) -> PathBuf {
        self.home.join("providers").join(PROVIDER)
    }

    pub fn providers(&self) -> Vec<&'static str> {
        vec![PROVIDER]
    }

    /// Checks a provider name, suggesting the right one.
    pub fn check_provider(&self, name: &str) -> Result<(), Error> {
        if name.eq_ignore_ascii_case(PROVIDER) {
            Ok(())
        } else {
            Err(Error::UnknownProvider {
                name: name.to_string(),
                suggestion: closest(name, [PROVIDER]),
            })
        }
    }

    fn embedded_info() -> ServiceInfo {
        let title = catalog()
            .iter()
            .find(|c| c.name == EMBEDDED_NAME && c.version == EMBEDDED_VERSION)
            .map(|c| c.title.clone())
            .unwrap_or_default();
        ServiceInfo {
            name: EMBEDDED_NAME.into(),
            version: EMBEDDED_VERSION.into(),
            revision: embedded_revision(),
            title,
            preferred: true,
            source: Source::Embedded,
        }
    }

    /// Pulled documents of one service (all versions), from the sidecars.
    fn pulled_versions(&self, name: &str) -> Vec<ServiceInfo> {
        let dir = self.provider_dir().join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(fname) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            if !fname.ends_with(".meta.json") {
                continue;
            }
            // A sidecar without its document (or unreadable) is ignored.
            let Some(doc) = fname.strip_suffix(".meta.json") else {
                continue;
            };
            if !dir.join(format!("{doc}.json")).is_file() {
                continue;
            }
            if let Ok(bytes) = std::fs::read(&path)
                && let Ok(mut info) = serde_json::from_slice::<ServiceInfo>(&bytes)
            {
                info.source = Source::Pulled;
                out.push(info);
            }
        }
        out.sort_by(|a, b| a.version.cmp(&b.version));
        out
    }

    fn pulled_names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.provider_dir()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .collect();
        names.sort();
        names
    }

    /// Every installed document (pulled and embedded), for `registry list`.
    pub fn documents(&self) -> Vec<ServiceInfo> {
        let mut docs: Vec<ServiceInfo> = self
            .pulled_names()
            .iter()
            .flat_map(|n| self.pulled_versions(n))
            .collect();
        docs.push(Self::embedded_info());
        docs.sort_by(|a, b| {
            (&a.name, &a.version, a.source as u8).cmp(&(&b.name, &b.version, b.source as u8))
        });
        docs
    }

    /// The installed versions of a service, pulled first, then embedded.
    fn installed(&self, name: &str) -> Vec<ServiceInfo> {
        let mut v = self.pulled_versions(name);
        if name == EMBEDDED_NAME && !v.iter().any(|i| i.version == EMBEDDED_VERSION) {
            v.push(Self::embedded_info());
        }
        v
    }

    /// The version of a service that SQL uses: one marked preferred, else the
    /// directory's preferred one if installed, else the most stable, newest.
    fn preferred(&self, name: &str) -> Option<ServiceInfo> {
        let installed = self.installed(name);
        if let Some(p) = installed
            .iter()
            .find(|i| i.preferred && i.source == Source::Pulled)
        {
            return Some(p.clone());
        }
        let cat_pref = catalog().iter().find(|c| c.name == name && c.preferred);
        if let Some(c) = cat_pref
            && let Some(i) = installed.iter().find(|i| i.version == c.version)
        {
            return Some(i.clone());
        }
        installed
            .into_iter()
            .max_by_key(|i| preference_key(&i.version))
    }

    /// One row per service: installed services at their preferred version,
    /// and the rest of Google's directory as `available`.
    pub fn services(&self) -> Vec<ServiceInfo> {
        // Only services with a folder of their own (one listing) or the
        // embedded one can be installed; the rest come from the catalog alone.
        let pulled: std::collections::BTreeSet<String> = self.pulled_names().into_iter().collect();
        let mut names: std::collections::BTreeSet<&str> =
            catalog().iter().map(|c| c.name.as_str()).collect();
        names.extend(pulled.iter().map(String::as_str));
        names.insert(EMBEDDED_NAME);
        let mut out: Vec<ServiceInfo> = names
            .into_iter()
            .filter_map(|n| {
                let installed = pulled.contains(n) || n == EMBEDDED_NAME;
                installed
                    .then(|| self.preferred(n))
                    .flatten()
                    .or_else(|| catalog_info(n))
            })
            .collect();
        // Versions served under names of their own (`iamv2`), where pulled.
        for (alias, target, version) in SERVICE_ALIASES {
            if !pulled.contains(*target) {
                continue;
            }
            if let Some(mut info) = self
                .pulled_versions(target)
                .into_iter()
                .find(|i| i.version == *version)
            {
                info.name = (*alias).to_string();
                info.preferred = true;
                out.push(info);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    fn all_service_names(&self) -> Vec<String> {
        self.services().into_iter().map(|s| s.name).collect()
    }

    /// Loads (once) the preferred version of a service.
    pub fn service(&self, name: &str) -> Result<Arc<Service>, Error> {
        if let Some((_, target, version)) = SERVICE_ALIASES.iter().find(|(a, _, _)| *a == name) {
            return self.alias(name, target, version);
        }
        let Some(info) = self.preferred(name) else {
            if catalog().iter().any(|c| c.name == name) {
                return Err(Error::NotInstalled { name: name.into() });
            }
            let names = self.all_service_names();
            return Err(Error::UnknownService {
                name: name.into(),
                suggestion: closest(name, names.iter().map(String::as_str)),
            });
        };
        let key = (info.name.clone(), info.version.clone());
        if let Ok(cache) = self.loaded.lock()
            && let Some(s) = cache.get(&key)
        {
            return Ok(s.clone());
        }
        let service = match info.source {
            Source::Embedded => Service::from_json(
                crate::EMBEDDED_AIPLATFORM.as_bytes(),
                "embedded aiplatform v1 snapshot",
            )?,
            _ => {
                let path = self.document_path(&info.name, &info.version);
                let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                Service::from_json(&bytes, &path.display().to_string())?
            }
        };
        let service = Arc::new(service);
        if let Ok(mut cache) = self.loaded.lock() {
            cache.insert(key, service.clone());
        }
        Ok(service)
    }

    /// A version of a service that StackQL serves under a name of its own
    /// (`iamv2` is iam v2), renamed so that its resource ids say so.
    fn alias(&self, alias: &str, target: &str, version: &str) -> Result<Arc<Service>, Error> {
        let key = (alias.to_string(), version.to_string());
        if let Ok(cache) = self.loaded.lock()
            && let Some(s) = cache.get(&key)
        {
            return Ok(s.clone());
        }
        if !self
            .pulled_versions(target)
            .iter()
            .any(|i| i.version == version)
        {
            return Err(Error::VersionNotInstalled {
                alias: alias.into(),
                service: target.into(),
                version: version.into(),
            });
        }
        let path = self.document_path(target, version);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let mut service = Service::from_json(&bytes, &path.display().to_string())?;
        let (from, to) = (
            format!("{PROVIDER}.{target}."),
            format!("{PROVIDER}.{alias}."),
        );
        for r in &mut service.resources {
            if let Some(rest) = r.id.strip_prefix(&from) {
                r.id = format!("{to}{rest}");
            }
        }
        service.name = alias.to_string();
        let service = Arc::new(service);
        if let Ok(mut cache) = self.loaded.lock() {
            cache.insert(key, service.clone());
        }
        Ok(service)
    }

    /// Splits `provider.service.resource` and loads the service, checking the
    /// resource exists. Returns the service and the resource's SQL name.
    pub fn resolve(&self, dotted: &str) -> Result<(Arc<Service>, String), Error> {
        let parts: Vec<&str> = dotted.split('.').collect();
        let [provider, service, resource] = parts[..] else {
            return Err(Error::BadName {
                name: dotted.into(),
            });
        };
        self.check_provider(provider)?;
        let svc = self.service(service)?;
        svc.resource(resource)?;
        Ok((svc, resource.to_string()))
    }

    pub fn document_path(&self, name: &str, version: &str) -> PathBuf {
        self.provider_dir()
            .join(name)
            .join(format!("{version}.json"))
    }

    /// Validates one Discovery document and stores it. `preferred` overrides
    /// the preferred flag (from a directory's index.json).
    pub fn pull_document(
        &self,
        bytes: &[u8],
        origin: &str,
        preferred: Option<bool>,
    ) -> Result<ServiceInfo, Error> {
        let doc = parse_document(bytes, origin)?;
        let name = doc.name.unwrap_or_default();
        let version = doc.version.unwrap_or_default();
        if name.contains(['/', '\\', '.'])
            || version.contains(['/', '\\'])
            || version.starts_with('.')
        {
            return Err(skyql_provider::Error::NotDiscovery {
                origin: origin.into(),
                reason: format!(
                    "its name `{name}` or version `{version}` is not usable as a folder name"
                ),
            }
            .into());
        }
        let preferred = preferred.unwrap_or_else(|| {
            catalog()
                .iter()
                .find(|c| c.name == name && c.version == version)
                .is_some_and(|c| c.preferred)
        });
        let info = ServiceInfo {
            title: doc.title.unwrap_or_default(),
            revision: doc.revision.unwrap_or_default(),
            name,
            version,
            preferred,
            source: Source::Pulled,
        };
        let path = self.document_path(&info.name, &info.version);
        write_atomically(&path, bytes)?;
        let meta = serde_json::to_vec_pretty(&info).unwrap_or_default();
        write_atomically(&path.with_extension("meta.json"), &meta)?;
        if let Ok(mut cache) = self.loaded.lock() {
            cache.remove(&(info.name.clone(), info.version.clone()));
        }
        Ok(info)
    }

    /// Pulls every Discovery document in a folder, or with `only`, every
    /// version of that one service. `index.json` (a directory list) is not
    /// stored; it marks which version of each service is preferred.
    pub fn pull_folder(&self, dir: &Path, only: Option<&str>) -> Result<PullReport, Error> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::EmptyFolder {
                path: dir.display().to_string(),
            });
        }
        let mut report = PullReport::default();
        let mut index_pref: Option<Vec<CatalogEntry>> = None;
        if let Some(index) = files
            .iter()
            .find(|p| p.file_name().is_some_and(|n| n == "index.json"))
            && let Ok(bytes) = std::fs::read(index)
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && value.get("kind").and_then(|k| k.as_str()) == Some("discovery#directoryList")
        {
            index_pref = Some(catalog_from_directory(&value));
            report.used_index = true;
        }
        for path in &files {
            if report.used_index && path.file_name().is_some_and(|n| n == "index.json") {
                continue;
            }
            let origin = path.display().to_string();
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    report.failed.push(format!("{origin}: {e}"));
                    continue;
                }
            };
            let header = parse_header(&bytes);
            if let Some(only) = only
                && header.as_ref().is_none_or(|(n, _)| n != only)
            {
                continue;
            }
            // The preferred flag comes from the folder's index when it has one.
            let preferred = index_pref.as_ref().and_then(|idx| {
                let (n, v) = parse_header(&bytes)?;
                idx.iter().any(|c| c.name == n).then(|| {
                    idx.iter()
                        .any(|c| c.name == n && c.version == v && c.preferred)
                })
            });
            match self.pull_document(&bytes, &origin, preferred) {
                Ok(info) => report.stored.push(info),
                Err(e) => report.failed.push(e.to_string()),
            }
        }
        let directory = index_pref.unwrap_or_else(|| catalog().to_vec());
        let names: std::collections::BTreeSet<String> =
            report.stored.iter().map(|i| i.name.clone()).collect();
        for name in names {
            let best = self.settle_preferred(&name, &directory)?;
            for info in report.stored.iter_mut().filter(|i| i.name == name) {
                info.preferred = best.as_deref() == Some(info.version.as_str());
            }
        }
        Ok(report)
    }

    /// Marks as preferred the pulled version of `name` that SQL should use
    /// (see [`crate::choose_version`]), rewriting the sidecars that change.
    fn settle_preferred(
        &self,
        name: &str,
        directory: &[CatalogEntry],
    ) -> Result<Option<String>, Error> {
        let pulled = self.pulled_versions(name);
        let present: Vec<String> = pulled.iter().map(|i| i.version.clone()).collect();
        let best = crate::version::choose_version(name, &present, directory);
        for mut info in pulled {
            let preferred = best.as_deref() == Some(info.version.as_str());
            if info.preferred != preferred {
                info.preferred = preferred;
                let meta = serde_json::to_vec_pretty(&info).unwrap_or_default();
                let path = self.document_path(&info.name, &info.version);
                write_atomically(&path.with_extension("meta.json"), &meta)?;
            }
        }
        Ok(best)
    }
}

fn catalog_info(name: &str) -> Option<ServiceInfo> {
    let entries: Vec<&CatalogEntry> = catalog().iter().filter(|c| c.name == name).collect();
    let c = entries
        .iter()
        .find(|c| c.preferred)
        .or_else(|| entries.iter().max_by_key(|c| preference_key(&c.version)))?;
    Some(ServiceInfo {
        name: c.name.clone(),
        version: c.version.clone(),
        revision: String::new(),
        title: c.title.clone(),
        preferred: c.preferred,
        source: Source::Available,
    })
}

/// Reads just `name` and `version` of a document.
fn parse_header(bytes: &[u8]) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Header {
        name: String,
        version: String,
    }
    let h: Header = serde_json::from_slice(bytes).ok()?;
    Some((h.name, h.version))
}

fn embedded_revision() -> String {
    // The snapshot's top-level keys are few; a full parse is not needed for this.
    let s = crate::EMBEDDED_AIPLATFORM;
    s.find("\"revision\":\"")
        .map(|i| &s[i + 12..])
        .and_then(|rest| rest.find('"').map(|j| rest[..j].to_string()))
        .unwrap_or_default()
}

/// Writes `bytes` to `path` via a temporary file in the same folder that is
/// then renamed into place, so that a failed or interrupted write never
/// leaves a partial file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
