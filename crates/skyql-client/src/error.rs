//! The client's single error type. Users read these: every variant names the
//! request (method and URL) or the credential source, and what to do.

use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// The request never got an HTTP answer (DNS, refused, reset, timeout).
    #[error("{method} {url}: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
    /// A non-2xx answer whose body is not a Google error (an HTML page, a
    /// truncated body): status and the start of the body, whitespace collapsed.
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    /// A Google API error (`{"error":{"code","message","status","details"}}`).
    #[error("{method} {url}: {status} {code}: {message}")]
    Api {
        method: String,
        url: String,
        /// HTTP status.
        status: u16,
        /// google.rpc status name, e.g. `NOT_FOUND` (empty when absent).
        code: String,
        message: String,
        details: Vec<Value>,
    },
    /// A 2xx answer whose body is not JSON.
    #[error("{method} {url}: HTTP {status}: the response is not valid JSON ({message}): {body}")]
    InvalidJson {
        method: String,
        url: String,
        status: u16,
        message: String,
        body: String,
    },
    /// No token could be obtained; `source` names the credential source tried.
    #[error("{source_name}: {message}")]
    Auth {
        source_name: String,
        message: String,
    },
    /// Bad configuration (`--auth`, `--endpoint`, a request's URL).
    #[error("{0}")]
    Config(String),
    #[error("`{url}` is not an http(s) URL")]
    BadUrl { url: String },
}
