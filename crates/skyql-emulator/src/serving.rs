//! Running an emulator on its own listener in a background task, for any emulator built
//! on this crate: bind, serve until told to stop, flush its state after the last request,
//! stop when dropped.
//!
//! An emulator says what it serves and what it keeps by implementing [`Serve`];
//! [`bind`] then [`start`] give a [`Running`] handle.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::Error;

/// What an emulator gives the serving loop.
pub trait Serve: Clone + Send + Sync + 'static {
    /// The router answering every request.
    fn router(&self) -> axum::Router;
    /// Writes what must survive a restart (called once the last request is answered).
    fn flush(&self) -> impl Future<Output = ()> + Send;
}

/// Binds `addr` and returns the listener with the address it got (port 0 picks one).
pub async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), Error> {
    let bind_err = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_err)?;
    let local = listener.local_addr().map_err(bind_err)?;
    Ok((listener, local))
}

/// Serves on `listener` until `shutdown` completes, then flushes.
pub async fn serve<E: Serve>(
    emulator: &E,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let result = axum::serve(listener, emulator.router())
        .with_graceful_shutdown(shutdown)
        .await;
    emulator.flush().await;
    result.map_err(|source| Error::Bind { addr, source })
}

/// A running emulator on its own listener. Dropping it stops the server.
pub struct Running<E: Serve> {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub addr: SocketAddr,
    pub emulator: E,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), Error>>>,
}

/// Serves `emulator` on `listener` (bound to `addr`) in a background task of the current
/// tokio runtime.
pub fn start<E: Serve>(
    emulator: E,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
) -> Running<E> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = emulator.clone();
    let task = tokio::spawn(async move {
        serve(&serving, listener, async move {
            let _ = rx.await;
        })
        .await
    });
    Running {
        base_url: format!("http://{addr}"),
        addr,
        emulator,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl<E: Serve> Running<E> {
    /// Stops serving, waits (up to 10 s) for open requests, and flushes.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => Err(Error::Config(format!("server task failed: {e}"))),
                Err(_) => {
                    self.emulator.flush().await;
                    Ok(())
                }
            },
            None => Ok(()),
        }
    }
}

impl<E: Serve> Drop for Running<E> {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
