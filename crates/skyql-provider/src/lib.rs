//! The provider model: turns a Google Discovery REST document into services,
//! resources, methods, parameters and columns, following the naming rules of
//! DESIGN §4. Pure data: the only I/O is the caller handing us document bytes.

mod discovery;
mod error;
mod model;
mod naming;
pub mod snapshot;
mod suggest;

pub use discovery::{Document, Endpoint, Schema, Schemas};
pub use error::Error;
pub use model::{Column, Method, Param, ParamLocation, Resource, Service, SqlVerb};
pub use model::{parse_document, placeholders};
pub use naming::snake_case;
pub use suggest::closest;

/// The only provider skyql knows today.
pub const PROVIDER: &str = "google";
