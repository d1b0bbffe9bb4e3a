//! `skyql registry pull | list`: installs Discovery documents into the home
//! folder from Google, a URL, a file or a folder, and lists what is installed.

use crate::Global;
use crate::output::{self, Format};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use skyql_engine::Table;
use skyql_registry::Registry;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Install a service's Discovery document (or, with --from DIR, a whole folder).
    Pull {
        /// google.<service>[:version], or google with --from DIR for every document in it.
        name: String,
        /// A file, a folder of documents, or a URL, instead of Google's Discovery service.
        #[arg(long)]
        from: Option<String>,
    },
    /// List installed documents: service, version, revision, embedded or pulled.
    List,
}

pub fn run(global: &Global, registry: Arc<Registry>, cmd: RegistryCommand) -> Result<()> {
    match cmd {
        RegistryCommand::List => {
            let mut t = Table::new(["name", "version", "revision", "source", "preferred"]);
            for d in registry.documents() {
                t.push(vec![
                    d.name.into(),
                    d.version.into(),
                    d.revision.into(),
                    d.source.as_str().into(),
                    if d.preferred { "yes" } else { "no" }.into(),
                ]);
            }
            output::write(
                &mut std::io::stdout().lock(),
                &t,
                Format::resolve(global.output),
            )?;
            Ok(())
        }
        RegistryCommand::Pull { name, from } => pull(global, &registry, &name, from.as_deref()),
    }
}

fn pull(global: &Global, registry: &Registry, name: &str, from: Option<&str>) -> Result<()> {
    let (provider, rest) = name.split_once('.').unwrap_or((name, ""));
    registry.check_provider(provider)?;
    let (service, version) = match rest.split_once(':') {
        Some((s, v)) => (s, Some(v)),
        None => (rest, None),
    };
    if let Some(src) = from
        && !is_url(src)
        && Path::new(src).is_dir()
    {
        let only = (!service.is_empty()).then_some(service);
        let report = registry.pull_folder(Path::new(src), only)?;
        if only.is_some() && report.stored.is_empty() {
            bail!("{src} holds no Discovery document for google.{service}");
        }
        println!(
            "pulled {} document(s) from {src} into {}{}",
            report.stored.len(),
            registry.home().display(),
            if report.used_index {
                " (preferred versions from index.json)"
            } else {
                ""
            }
        );
        if !report.failed.is_empty() {
            for f in &report.failed {
                eprintln!("skipped {f}");
            }
            bail!(
                "{} file(s) in {src} were not Discovery documents",
                report.failed.len()
            );
        }
        return Ok(());
    }
    if service.is_empty() {
        bail!(
            "name a service to pull, e.g. `skyql registry pull google.aiplatform`, or pull a whole folder with `skyql registry pull google --from DIR`"
        );
    }
    let version = version
        .map(String::from)
        .or_else(|| {
            skyql_registry::catalog()
                .iter()
                .find(|c| c.name == service && c.preferred)
                .map(|c| c.version.clone())
        })
        .unwrap_or_else(|| "v1".into());
    let (bytes, origin) = match from {
        Some(src) if is_url(src) => (fetch(global, src)?, src.to_string()),
        Some(src) => (
            std::fs::read(src).with_context(|| format!("reading {src}"))?,
            src.to_string(),
        ),
        None => {
            let url = match &global.endpoint {
                Some(base) => format!(
                    "{}/$discovery/rest?version={version}",
                    base.trim_end_matches('/')
                ),
                None => skyql_registry::discovery_url(service, &version),
            };
            (fetch(global, &url)?, url)
        }
    };
    let info = registry.pull_document(&bytes, &origin, None)?;
    if info.name != service {
        eprintln!(
            "note: {origin} describes google.{}, not google.{service}; stored as google.{}",
            info.name, info.name
        );
    }
    println!(
        "pulled google.{} {} (revision {}) into {}",
        info.name,
        info.version,
        info.revision,
        registry.home().display()
    );
    Ok(())
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn fetch(global: &Global, url: &str) -> Result<Vec<u8>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(rt.block_on(skyql_client::fetch_bytes(
        url,
        Duration::from_secs(global.timeout),
    ))?)
}
