//! The only crate that touches the network: HTTP to Google (or an emulator),
//! with credentials, the endpoint override, retries, a concurrency limit and
//! clear errors. Everything else asks this crate for values or bytes.
//!
//! # Behaviour worth knowing
//! - Credentials ([`AuthConfig`]) are resolved at the first request that needs
//!   a token, never in [`Client::new`]: statements that need no network work
//!   without credentials. `Default` tries `GOOGLE_CREDENTIALS` (key JSON), the
//!   `GOOGLE_APPLICATION_CREDENTIALS` file, gcloud's
//!   `application_default_credentials.json` (`$CLOUDSDK_CONFIG` or
//!   `~/.config/gcloud`), then the metadata server (`GCE_METADATA_HOST` or
//!   `metadata.google.internal`, 2 s timeout). Key files may hold a service
//!   account key or `authorized_user` credentials.
//! - Tokens are cached until a quarter of their lifetime (at most 60 s) before
//!   they expire; concurrent requests wait for one refresh. A 401 drops the
//!   token and retries once with a new one (not for fixed tokens).
//! - Retries: 429 and 503 for every method; 502, 504, timeouts and broken
//!   connections for idempotent ones (GET, PUT, DELETE); refused connections
//!   for all. Backoff 200 ms doubling to 5 s, with jitter; `Retry-After`
//!   seconds are honoured up to 60 s. After `max_retries` the last error is
//!   returned. A request holds its concurrency permit through its retries.
//! - Answers: an empty 2xx body is `{}`; Google's error JSON becomes
//!   [`Error::Api`]; any other error body becomes [`Error::Status`] with its
//!   first 200 characters.
//! - Dry run prints `[dry-run] METHOD URL` (and the JSON body on the next
//!   line) to stderr, fetches no token and sends nothing.

mod auth;
mod client;
mod config;
mod error;
mod fetch;

pub use client::{ApiRequest, Client};
pub use config::{AuthConfig, ClientConfig};
pub use error::Error;
pub use fetch::fetch_bytes;
