//! The client connection as pgwire's handler traits hand it over, named
//! once. Every callback of `StartupHandler`, `SimpleQueryHandler` and
//! `ExtendedQueryHandler` is generic over a client with the same bounds;
//! these traits (implemented for every such type) let each implementation
//! say `C: QueryClient` instead of spelling the list out again.

use futures::sink::Sink;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore};
use pgwire::messages::PgWireBackendMessage;
use std::fmt::Debug;

/// A client in the start-up phase: its session information and the sink
/// of backend messages.
pub trait StartupClient:
    ClientInfo + Sink<PgWireBackendMessage, Error: Debug> + Unpin + Send + Sync
{
}

impl<C> StartupClient for C where
    C: ClientInfo + Sink<PgWireBackendMessage, Error: Debug> + Unpin + Send + Sync
{
}

/// A client of the query protocols: a start-up client whose portal store
/// keeps statements as skyql keeps them (SQL text).
pub trait QueryClient:
    StartupClient + ClientPortalStore<PortalStore: PortalStore<Statement = String>>
{
}

impl<C> QueryClient for C where
    C: StartupClient + ClientPortalStore<PortalStore: PortalStore<Statement = String>>
{
}

/// What sending to a client can fail with (pgwire's callbacks require
/// `PgWireError: From<SendError<C>>` besides the client's own bounds).
pub type SendError<C> = <C as Sink<PgWireBackendMessage>>::Error;
