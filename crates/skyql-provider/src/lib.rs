//! The provider model: turns a Google Discovery REST document into services,
//! resources, methods, parameters and columns, named as StackQL's Google
//! provider names them. Pure data: the only I/O is the caller handing us
//! document bytes.

mod build;
mod discovery;
mod error;
pub mod exceptions;
mod model;
mod naming;
pub mod snapshot;
mod suggest;
mod template;
mod verb;

pub use discovery::{Document, Endpoint, Schema, Schemas};
pub use error::{Error, hint};
pub use model::parse_document;
pub use model::{Column, Method, Param, ParamLocation, Resource, Service};
pub use naming::snake_case;
pub use suggest::closest;
pub use template::placeholders;
pub use verb::SqlVerb;

/// The only provider skyql knows today.
pub const PROVIDER: &str = "google";
