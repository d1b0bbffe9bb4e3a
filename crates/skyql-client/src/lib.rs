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
//! - Retries: 429 (and a 403 whose reason is a rate limit) and 503 for
//!   every method; 502, 504, timeouts and broken connections for idempotent
//!   ones (GET, PUT, DELETE); refused connections for all. Never a 403
//!   SERVICE_DISABLED / PERMISSION_DENIED. Backoff 200 ms doubling to 5 s,
//!   with jitter; `Retry-After` seconds are honoured up to 60 s. Retries
//!   are budgeted by `retry_deadline` (120 s by default); the error after
//!   them is [`Error::GaveUp`], saying how many attempts were made. A
//!   request holds a concurrency permit only while in flight.
//! - Rate limits ([`Quotas`], `quota.rs`): token buckets per (service,
//!   project), per service and overall, from Google's published quotas;
//!   a 429 slows the narrowest bucket and Retry-After holds it.
//! - [`Client::stats`] counts calls, attempts, retries, failures, 429s and
//!   rate-limit waits, for the engine's per-statement accounting.
//! - Answers: an empty 2xx body is `{}`; Google's error JSON becomes
//!   [`Error::Api`]; any other error body becomes [`Error::Status`] with its
//!   first 200 characters.
//! - Dry run hands each request (method, the exact URL and body bytes that
//!   would be sent) to the configured [`DryRunSink`], fetches no token and
//!   sends nothing. The client never prints.
//! - Where requests go: the URL is built once from the root (or
//!   `--endpoint`) and the encoded path, never resolved (a `.`/`..`/empty
//!   segment is refused); endpoints with userinfo, a query or a fragment are
//!   refused and userinfo is never echoed. A bearer token is only sent over
//!   https, to loopback, or to the `--endpoint` the user gave.
//! - A response body larger than `max_response_bytes` (64 MiB by default)
//!   is an error, for API answers and fetched documents alike.

mod auth;
mod client;
mod config;
mod error;
mod fetch;
mod quota;
mod target;

pub use client::{ApiRequest, Client, ClientStats};
pub use config::{AuthConfig, ClientConfig, DEFAULT_MAX_RESPONSE_BYTES, DryRunRequest, DryRunSink};
pub use error::Error;
pub use fetch::fetch_bytes;
pub use quota::{DEFAULT_PER_PROJECT_PER_MINUTE, DEFAULT_RATES, Quotas, ServiceRate};
pub use target::redact;
