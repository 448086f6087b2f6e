//! Graceful shutdown that answers the requests clients have already sent. Once it starts:
//!
//! - every response made from then on says `connection: close`, so its client sends no more;
//! - a connection with no request in flight and its last answer written ends once a read would
//!   wait and [`IDLE_GRACE`] has passed: a silent one, one with half a head and an idle
//!   kept-alive one close within it, while a request that has arrived unread, or arrives within
//!   the grace, is read and answered (with `close`) first. (Requests pipelined behind an answer
//!   that says `close` are not answered: HTTP/1.1 lets their client send them again.)
//!
//! Not hyper-util's `GracefulShutdown`: it closes an idle kept-alive connection without reading
//! what its client has already sent (the client gets a reset instead of an answer), and waits for a
//! connection that has sent part of a head until the header timeout ends it.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, header};
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Duration, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower_service::Service;

use crate::raw_target;

/// How long an idle connection stays open once draining starts, for a request its client sent
/// before it could know: on a loaded machine a client's next request can be milliseconds behind
/// the response it follows (with none, 2 to 18 of 100 busy clients lost one at SIGTERM here).
pub(crate) const IDLE_GRACE: Duration = Duration::from_millis(250);

/// The switch every connection watches.
#[derive(Debug, Default)]
pub(crate) struct Drain {
    stopping: CancellationToken,
}

impl Drain {
    /// Starts draining every connection made by [`Drain::connection`].
    pub(crate) fn start(&self) {
        self.stopping.cancel();
    }

    /// The socket and the service of one connection, both watching this drain.
    pub(crate) fn connection(
        &self,
        stream: TcpStream,
        router: Router,
    ) -> (DrainingStream, DrainingService) {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let stream = DrainingStream {
            stream,
            stopping: Box::pin(self.stopping.clone().cancelled_owned()),
            stopped: false,
            grace: None,
            in_flight: in_flight.clone(),
            unflushed: false,
        };
        let service = DrainingService {
            router,
            stopping: self.stopping.clone(),
            in_flight,
        };
        (stream, service)
    }
}

/// A connection's socket: once draining, a read that would wait ends the stream instead after
/// [`IDLE_GRACE`], unless a request is in flight or an answer is not all written yet (hyper reads
/// while it answers, to notice a client that went away, and an end of stream then would cut the
/// answer short).
pub(crate) struct DrainingStream {
    stream: TcpStream,
    /// Resolves when draining starts, and wakes a read that waits.
    stopping: Pin<Box<WaitForCancellationFutureOwned>>,
    stopped: bool,
    /// The idle connection's grace, from the first read that would wait while draining.
    grace: Option<Pin<Box<Sleep>>>,
    in_flight: Arc<AtomicUsize>,
    /// Bytes written since hyper last flushed, which it does once its own buffer is empty: the
    /// answer is not all in the socket yet (hyper drops a response's body before that).
    unflushed: bool,
}

impl AsyncRead for DrainingStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Poll::Ready(read) = Pin::new(&mut this.stream).poll_read(cx, buf) {
            return Poll::Ready(read);
        }
        if !this.stopped {
            this.stopped = this.stopping.as_mut().poll(cx).is_ready();
        }
        if !this.stopped || this.unflushed || this.in_flight.load(Ordering::Acquire) > 0 {
            return Poll::Pending;
        }
        let grace = this
            .grace
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(IDLE_GRACE)));
        // Nothing read once the grace is over: the end of the stream.
        grace.as_mut().poll(cx).map(Ok)
    }
}

impl AsyncWrite for DrainingStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.unflushed |= matches!(written, Poll::Ready(Ok(n)) if n > 0);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.unflushed |= matches!(written, Poll::Ready(Ok(n)) if n > 0);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.stream).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) {
            this.unflushed = false;
        }
        flushed
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router for one connection, counting its requests in flight until hyper drops their
/// response body, and closing the connection after a response made while draining (or to a
/// request with a body: `raw_target::closes_connection`).
pub(crate) struct DrainingService {
    router: Router,
    stopping: CancellationToken,
    in_flight: Arc<AtomicUsize>,
}

impl hyper::service::Service<Request<Incoming>> for DrainingService {
    type Response = Response<InFlightBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::enter(&self.in_flight);
        let close = raw_target::closes_connection(&request);
        // A Router is always ready: no `poll_ready` needed.
        let response = self.router.clone().call(request);
        let stopping = self.stopping.clone();
        Box::pin(async move {
            let mut response = response.await?;
            if close || stopping.is_cancelled() {
                let close = HeaderValue::from_static("close");
                response.headers_mut().insert(header::CONNECTION, close);
            }
            Ok(response.map(|body| InFlightBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// One request in flight on a connection, from its head until hyper drops its response body.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until hyper is done with it.
pub(crate) struct InFlightBody {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for InFlightBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
