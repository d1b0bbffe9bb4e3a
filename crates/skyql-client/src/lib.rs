//! The only crate that touches the network: HTTP to Google (or an emulator),
//! with timeouts and clear errors. Everything else asks this crate for bytes.

mod error;
mod fetch;

pub use error::Error;
pub use fetch::fetch_bytes;
