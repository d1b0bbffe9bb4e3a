//! The provider crate's single error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{origin}: not valid JSON: {source}")]
    Json {
        origin: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{origin}: not a Google Discovery REST document: {reason}")]
    NotDiscovery { origin: String, reason: String },
    #[error("unknown resource `{name}` in {service}{}", hint(suggestion))]
    UnknownResource {
        service: String,
        name: String,
        suggestion: Option<String>,
    },
    #[error("unknown method `{name}` on {resource}{}", hint(suggestion))]
    UnknownMethod {
        resource: String,
        name: String,
        suggestion: Option<String>,
    },
}

/// Renders the "did you mean" tail of an error message.
pub fn hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
        None => String::new(),
    }
}
