//! One client connection from accept to close: TLS negotiation, then
//! pgwire's message loop, with every way a connection can go wrong (a
//! garbage start-up packet, an oversized message, a client gone in the
//! middle of a result) ending only this connection, with a log line.

use crate::Shared;
use crate::auth::Startup;
use crate::handler::ConnHandler;
use futures::{SinkExt, StreamExt};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::{ClientInfo, NoopHandler, PgWireConnectionState};
use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// A client has this long to finish its start-up (TLS and authentication).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    startup: Arc<Startup>,
) {
    let log = |line: &str| (shared.log)(&format!("{peer}: {line}"));
    let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
    let negotiated = tokio::time::timeout_at(deadline, negotiate_tls::<String>(socket, tls)).await;
    let mut framed = match negotiated {
        Ok(Ok(Some(f))) => f,
        Ok(Ok(None)) => {
            log(
                "closed: the client started TLS directly, but this server has no certificate (give --tls-cert and --tls-key)",
            );
            return;
        }
        Ok(Err(e)) => {
            log(&format!("closed during TLS negotiation: {e}"));
            return;
        }
        Err(_) => {
            log("closed: no start-up message within 60 seconds");
            return;
        }
    };
    let handler = Arc::new(ConnHandler::new(shared.clone(), peer));
    let cancel = Arc::new(DefaultCancelHandler::new(shared.cancels.clone()));
    let copy = Arc::new(NoopHandler);
    let mut registered = false;
    loop {
        let starting = matches!(
            framed.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        if !starting && !registered {
            let (pid, key) = framed.pid_and_secret_key();
            if let Ok(mut b) = shared.backends.lock() {
                b.insert(pid, key);
            }
            registered = true;
        }
        let next = if starting {
            match tokio::time::timeout_at(deadline, framed.next()).await {
                Ok(m) => m,
                Err(_) => {
                    log("closed: start-up not finished within 60 seconds");
                    break;
                }
            }
        } else {
            framed.next().await
        };
        let msg = match next {
            None => {
                // psql and drivers say Terminate first; a bare close means
                // the client went away (possibly in the middle of a result).
                if !starting {
                    log("connection closed by the client without Terminate");
                }
                break;
            }
            Some(Err(e)) => {
                // The stream cannot be resynchronised after a bad frame.
                log(&format!("closed: unreadable message from the client: {e}"));
                let info = ErrorInfo::new(
                    "FATAL".into(),
                    "08P01".into(),
                    format!("invalid message: {e}"),
                );
                let _ = framed
                    .send(PgWireBackendMessage::ErrorResponse(info.into()))
                    .await;
                break;
            }
            Some(Ok(PgWireFrontendMessage::Terminate(_))) => break,
            Some(Ok(m)) => m,
        };
        let extended = match framed.state() {
            PgWireConnectionState::CopyInProgress(e) => e,
            _ => msg.is_extended_query(),
        };
        let is_cancel = matches!(msg, PgWireFrontendMessage::CancelRequest(_));
        let result = process_message(
            msg,
            &mut framed,
            startup.clone(),
            handler.clone(),
            handler.clone(),
            copy.clone(),
            cancel.clone(),
        )
        .await;
        if let Err(e) = result {
            if let PgWireError::IoError(io) = &e {
                log(&format!("connection lost: {io}"));
                break;
            }
            let fatal = e.is_fatal();
            if fatal || starting {
                log(&format!("closed: {e}"));
            }
            if let Err(io) = process_error(&mut framed, e, extended).await {
                log(&format!("connection lost while sending an error: {io}"));
                break;
            }
            if fatal {
                break;
            }
        }
        if is_cancel {
            break;
        }
    }
    if registered && let Ok(mut b) = shared.backends.lock() {
        b.remove(&framed.pid_and_secret_key().0);
    }
}
