//! The client's single error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("GET {url}: {message}")]
    Transport { url: String, message: String },
    #[error("GET {url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("`{url}` is not an http(s) URL")]
    BadUrl { url: String },
}
