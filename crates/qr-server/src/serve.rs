//! The accept loop: HTTP/1.1 connections served up to a bound (one more is answered 503 at once
//! and closed, `turn_away`), with the header-read timeout and the head limits, until shutdown
//! drains them (`drain.rs`).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::drain::Drain;
use crate::raw_target::EscapedTargets;
use crate::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_SHUTDOWN_GRACE, MAX_HEAD_BYTES,
    MAX_HEAD_FIELDS, Ops,
};

/// The most connections [`ServeConfig::max_connections`] takes (tokio's semaphore holds no more).
pub const MAX_CONNECTIONS: usize = Semaphore::MAX_PERMITS;

/// The longest [`ServeConfig::header_read_timeout`]: hyper adds it to the current instant, which
/// an absurd value would overflow.
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// How connections are served. [`serve`] clamps values out of range into it.
#[derive(Debug, Clone, Copy)]
pub struct ServeConfig {
    /// Time a client has to send a request's head; the connection is closed after it. At most
    /// [`MAX_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// Time in-flight connections get to finish once shutdown starts.
    pub shutdown_grace: Duration,
    /// Connections served at once, 1 to [`MAX_CONNECTIONS`]; one more gets a 503 and is closed.
    pub max_connections: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Connections past the bound being answered 503 at once; one more is closed without an answer,
/// so a flood costs a bounded number of tasks and file descriptors.
pub const MAX_TURNING_AWAY: usize = 256;

/// How long a turned-away connection may take to get its 503 and close.
const TURN_AWAY_TIME: Duration = Duration::from_secs(1);

/// What the client of a turned-away connection may still send before it is closed (its head).
const TURN_AWAY_DRAIN_BYTES: usize = 64 * 1024;

/// The 503 a connection past the bound gets, written before its request is read (the same
/// status, type and body as [`AppError::Busy`](crate::AppError::Busy)'s; unit tests hold both to
/// the contract).
const BUSY_RESPONSE: &str = concat!(
    "HTTP/1.1 503 Service Unavailable\r\n",
    "content-type: text/plain; charset=utf-8\r\n",
    "content-length: 14\r\n",
    "connection: close\r\n",
    "\r\n",
    "server is busy",
);

/// What a [`serve`] run did, for its caller's last log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Connections answered 503 (or closed, past [`MAX_TURNING_AWAY`]) because the bound was full.
    pub turned_away: u64,
}

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` resolves, then stops accepting and
/// drains the open connections: `ops` says `draining` on `/healthz`, a request already sent is
/// answered with `connection: close`, a connection with none closes (see `drain.rs`), a 503 being
/// written is finished, all within `config.shutdown_grace`. `ops` also counts the connections
/// turned away.
///
/// Not `axum::serve`: it has no header-read timeout and no head size limit.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    ops: &Ops,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Served> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout.min(MAX_HEADER_READ_TIMEOUT))
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEAD_FIELDS)
        .half_close(true);
    let turning_away = Arc::new(Semaphore::new(MAX_TURNING_AWAY));
    let mut served = Served::default();
    let open = Arc::new(Semaphore::new(
        config.max_connections.clamp(1, MAX_CONNECTIONS),
    ));
    let drain = Drain::default();
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    eprintln!("qr-server: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // A connection's errors (client gone, header timeout, bad request) are the client's.
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let (stream, service) = drain.connection(stream, router.clone());
                let io = TokioIo::new(EscapedTargets::new(stream));
                let connection = http.serve_connection(io, service);
                connections.spawn(async move {
                    let _ = connection.await;
                    drop(permit);
                });
            }
            Err(_) => {
                served.turned_away += 1;
                ops.turned_away();
                // Past MAX_TURNING_AWAY the stream is dropped here: closed without an answer.
                if let Ok(permit) = turning_away.clone().try_acquire_owned() {
                    connections.spawn(async move {
                        turn_away(stream).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    // Connections first: an answer that says `draining` must also say `connection: close`, and
    // the health flag's Release store publishes the drain to whoever reads it.
    drain.start();
    ops.start_draining();
    connections.close();
    match tokio::time::timeout(config.shutdown_grace, connections.wait()).await {
        Ok(()) => Ok(served),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connections still open when the shutdown grace period ended",
        )),
    }
}

/// Answers a connection past the bound: the 503 at once, without waiting for its request, then
/// a lingering close (what the client sent is read and dropped, so closing does not reset the
/// connection before the client reads the 503), all within [`TURN_AWAY_TIME`].
async fn turn_away(mut stream: TcpStream) {
    let answer = async {
        stream.write_all(BUSY_RESPONSE.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0; 4096];
        let mut drained = 0;
        while drained < TURN_AWAY_DRAIN_BYTES {
            match stream.read(&mut sink).await? {
                0 => break,
                n => drained += n,
            }
        }
        io::Result::Ok(())
    };
    let _ = tokio::time::timeout(TURN_AWAY_TIME, answer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw 503 of a turned-away connection is the contract's `busy` answer (the router's
    /// `AppError::Busy` is held to the same answer in lib.rs).
    #[test]
    fn the_raw_503_of_a_turned_away_connection_is_the_contract_s_busy_answer() {
        let contract = qr_harness::contract::Contract::load().unwrap();
        let reply = contract.answer("busy");
        assert_eq!(reply.status, 503);
        let raw = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
            "text/plain; charset=utf-8",
            reply.body.len(),
            reply.body
        );
        assert_eq!(
            BUSY_RESPONSE, raw,
            "the raw 503 of a turned-away connection"
        );
    }
}
