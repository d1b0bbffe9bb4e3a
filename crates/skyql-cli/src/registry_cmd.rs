//! `skyql registry pull | list`: installs Discovery documents into the home
//! folder from Google, a URL, a file or a folder, and lists what is installed.
//! A pulled document must describe the service it is pulled as (else a
//! document named `aiplatform` could replace aiplatform under another name),
//! unless `--as` names the service it really is; files and URLs are read up
//! to the `--max-response-mib` cap.

use crate::Global;
use crate::output::{self, Format};
use crate::term;
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
        /// The service the document really describes, when it is not the
        /// one named (it is stored under this name, its own).
        #[arg(long = "as", value_name = "SERVICE")]
        as_service: Option<String>,
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
        RegistryCommand::Pull {
            name,
            from,
            as_service,
        } => pull(
            global,
            &registry,
            &name,
            from.as_deref(),
            as_service.as_deref(),
        ),
    }
}

fn pull(
    global: &Global,
    registry: &Registry,
    name: &str,
    from: Option<&str>,
    as_service: Option<&str>,
) -> Result<()> {
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
        term::out_line(format_args!(
            "pulled {} document(s) from {src} into {}{}",
            report.stored.len(),
            registry.home().display(),
            if report.used_index {
                " (preferred versions from index.json)"
            } else {
                ""
            }
        ))?;
        if !report.failed.is_empty() {
            for f in &report.failed {
                term::err_line(format_args!("skipped {f}"));
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
        Some(src) => (read_capped(global, src)?, src.to_string()),
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
    let described = document_name(&bytes);
    let expected = as_service.unwrap_or(service);
    if let Some(described) = &described
        && described != expected
    {
        let origin = skyql_client::redact(&origin);
        bail!(
            "{origin} describes google.{described}, not google.{expected}; nothing was stored. \
             To install it as google.{described}, run `skyql registry pull google.{described} --from {origin}` \
             (or add `--as {described}`)"
        );
    }
    let info = registry.pull_document(&bytes, &origin, None)?;
    term::out_line(format_args!(
        "pulled google.{} {} (revision {}) into {}",
        info.name,
        info.version,
        info.revision,
        registry.home().display()
    ))?;
    Ok(())
}

/// The `name` a Discovery document gives itself (`None` when it has none:
/// the registry then refuses it with its own message).
fn document_name(bytes: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    doc.get("name")?.as_str().map(String::from)
}

/// Reads a local document, at most the response cap (`/dev/zero` or a
/// growing file never fill memory).
fn read_capped(global: &Global, src: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let cap = crate::max_response_bytes(global);
    let file = std::fs::File::open(src).with_context(|| format!("reading {src}"))?;
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {src}"))?;
    if bytes.len() > cap {
        bail!(
            "{src} is larger than the limit of {} MiB; raise it with --max-response-mib if it is expected",
            cap >> 20
        );
    }
    Ok(bytes)
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
        crate::max_response_bytes(global),
    ))?)
}
