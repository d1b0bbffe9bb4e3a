//! The registry's single error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Provider(#[from] skyql_provider::Error),
    #[error(
        "unknown provider `{name}`{} (skyql knows: google)",
        skyql_provider::hint(suggestion)
    )]
    UnknownProvider {
        name: String,
        suggestion: Option<String>,
    },
    #[error(
        "unknown service `google.{name}`{}; `SHOW SERVICES IN google` lists them",
        skyql_provider::hint(suggestion)
    )]
    UnknownService {
        name: String,
        suggestion: Option<String>,
    },
    #[error(
        "service `google.{name}` is known but not installed: run `skyql registry pull google.{name}` (or use an embedded service such as google.aiplatform)"
    )]
    NotInstalled { name: String },
    #[error(
        "service `google.{alias}` is {service} {version}, which is not installed: run `skyql registry pull google.{service}:{version}`"
    )]
    VersionNotInstalled {
        alias: String,
        service: String,
        version: String,
    },
    #[error(
        "`{name}` is not a resource name: expected provider.service.resource, e.g. google.aiplatform.custom_jobs"
    )]
    BadName { name: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no Discovery documents (*.json) found in this folder")]
    EmptyFolder { path: String },
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
