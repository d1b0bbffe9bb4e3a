//! The only crate that touches the network: HTTP to Google (or an emulator),
//! with credentials, the endpoint override, retries, a concurrency limit and
//! clear errors. Everything else asks this crate for values or bytes.

mod auth;
mod client;
mod config;
mod error;
mod fetch;

pub use client::{ApiRequest, Client};
pub use config::{AuthConfig, ClientConfig};
pub use error::Error;
pub use fetch::fetch_bytes;
