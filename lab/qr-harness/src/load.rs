//! Load with every answer accounted for: keep-alive connections, each a thread sending a cycle
//! of contract cases one after another and sorting every answer into a [`Tally`]. The fault
//! tests (`tests/faults/`) and `cargo xtask soak` drive servers with it; the benchmark's
//! throughput figures come from oha instead.
//!
//! An answer is right when `contract::check` passes it (status, type, exact body and length,
//! caching, CORS, required and absent headers; a case marked for HEAD is sent as HEAD too), and an
//! image looks like its format (the PNG signature, an `<svg` element) and equals, byte for byte,
//! the first one this load got for the same case (the conformance suite decodes them; here the
//! point is that none differs, under any load or fault).

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qr_contract::Format;

use crate::contract::{self, Case, Contract, Expect, Image, Reply};
use crate::http;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The root element every SVG holds (after an XML declaration, if any).
const SVG_ROOT: &[u8] = b"<svg";
/// How many failed answers a tally describes in words (the rest are only counted), and how
/// many of them may be `dropped` or `refused` ones, so that rarer failures still show.
const EXAMPLES: usize = 12;
const DROPPED_EXAMPLES: usize = 4;
/// A client thread's stack: it holds one response and a few buffers.
const STACK_BYTES: usize = 256 * 1024;
/// How long a client waits before it connects again after a connection was refused, turned
/// away or lost, as real clients back off (a closed port or a 503 is not spun on).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Every answer of a load, sorted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The contract's answer, complete.
    pub ok: u64,
    /// 503 `server is busy`: the connection was turned away.
    pub busy: u64,
    /// `/healthz` said 503 `draining`: the server is shutting down, its right answer then.
    pub draining: u64,
    /// The connection could not be opened (nothing listens, or not within the I/O timeout), or a
    /// new one closed or reset before any byte of its first answer (a closing port resets the
    /// connections it had not accepted yet; a server past its bound may reset instead of a 503),
    /// or answered its first request with a bodiless 408 (accepted too late to read it in time).
    pub refused: u64,
    /// A kept-alive connection closed or reset before any byte of the answer: the request is
    /// lost (when the server closed the connection as idle, the race HTTP/1.1 lets a client
    /// retry, RFC 9112 section 9.3.1).
    pub dropped: u64,
    /// The answer began but did not complete.
    pub truncated: u64,
    /// A complete answer that is not the contract's.
    pub wrong: u64,
    /// No answer (or no connection) within [`http::IO_TIMEOUT`].
    pub stalled: u64,
    /// The longest wait for a 503, and for a right answer, request written to answer read.
    pub slowest_busy: Duration,
    pub slowest_ok: Duration,
    /// What went wrong, for the first few `dropped`, `truncated` and `wrong` answers.
    pub examples: Vec<String>,
}

impl Tally {
    /// Requests that got no answer or part of one.
    pub fn lost(&self) -> u64 {
        self.dropped + self.truncated
    }

    /// The counts added since `earlier` (a snapshot of the same load); the slowest times and
    /// examples are this tally's.
    pub fn since(&self, earlier: &Tally) -> Tally {
        Tally {
            ok: self.ok - earlier.ok,
            busy: self.busy - earlier.busy,
            draining: self.draining - earlier.draining,
            refused: self.refused - earlier.refused,
            dropped: self.dropped - earlier.dropped,
            truncated: self.truncated - earlier.truncated,
            wrong: self.wrong - earlier.wrong,
            stalled: self.stalled - earlier.stalled,
            ..self.clone()
        }
    }

    fn failed(&mut self, kind: Failure, what: String) {
        let (count, cap) = match kind {
            Failure::Dropped => (&mut self.dropped, DROPPED_EXAMPLES),
            Failure::Refused => (&mut self.refused, DROPPED_EXAMPLES),
            Failure::Truncated => (&mut self.truncated, EXAMPLES),
            Failure::Wrong => (&mut self.wrong, EXAMPLES),
            Failure::Stalled => (&mut self.stalled, EXAMPLES),
        };
        *count += 1;
        if self.examples.len() < cap {
            self.examples.push(what);
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ok, {} busy (503), {} draining, {} refused, {} dropped, {} truncated, {} wrong, {} stalled; slowest ok {:?}, slowest 503 {:?}",
            self.ok,
            self.busy,
            self.draining,
            self.refused,
            self.dropped,
            self.truncated,
            self.wrong,
            self.stalled,
            self.slowest_ok,
            self.slowest_busy
        )?;
        for example in &self.examples {
            write!(f, "\n  {example}")?;
        }
        Ok(())
    }
}

/// The ways an answer can fail.
#[derive(Clone, Copy)]
enum Failure {
    Refused,
    Dropped,
    Truncated,
    Wrong,
    Stalled,
}

/// What a client does after an exchange.
enum Next {
    /// Sends its next request on the same connection.
    Keep,
    /// Opens a new connection at once (the server closed this one after a normal answer).
    Reconnect,
    /// Waits [`RETRY_PAUSE`], then opens a new connection.
    BackOff,
}

/// Load running against one server until [`Load::finish`].
pub struct Load {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    threads: Vec<JoinHandle<()>>,
}

/// What every client thread shares.
struct Shared {
    addr: SocketAddr,
    cases: Vec<Case>,
    /// What the clients send in turn: a case, and whether as HEAD.
    requests: Vec<(usize, bool)>,
    /// The first image answered for each case: every later one must equal it.
    images: Vec<OnceLock<Vec<u8>>>,
    /// The contract's 503 `server is busy`.
    busy: Reply,
    /// The contract's `/healthz` answers: `healthy`, and `draining` once a shutdown has begun.
    healthy: Reply,
    draining: Reply,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
}

impl Load {
    /// Opens `connections` client threads against `addr`, each cycling through `cases` from its
    /// own offset (so they mix). `contract` gives the answers that are right only at some times:
    /// `busy` (503 past the connection bound) and `draining` (`/healthz` while shutting down).
    pub fn start(
        addr: SocketAddr,
        connections: usize,
        cases: Vec<Case>,
        contract: &Contract,
    ) -> io::Result<Load> {
        assert!(!cases.is_empty(), "a load needs at least one case");
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let requests = cases
            .iter()
            .enumerate()
            .flat_map(|(i, case)| std::iter::once((i, false)).chain(case.head.then_some((i, true))))
            .collect();
        let shared = Arc::new(Shared {
            addr,
            requests,
            images: cases.iter().map(|_| OnceLock::new()).collect(),
            cases,
            busy: contract.answer("busy").clone(),
            healthy: contract.answer("healthy").clone(),
            draining: contract.answer("draining").clone(),
            stop: stop.clone(),
            tally: tally.clone(),
        });
        let mut threads = Vec::with_capacity(connections);
        for client in 0..connections {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("load-{client}"))
                .stack_size(STACK_BYTES)
                .spawn(move || shared.client(client));
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(error) => {
                    // Stop the threads already started before reporting.
                    Load {
                        stop,
                        tally,
                        threads,
                    }
                    .finish();
                    return Err(error);
                }
            }
        }
        Ok(Load {
            stop,
            tally,
            threads,
        })
    }

    /// The tally so far.
    pub fn tally(&self) -> Tally {
        self.tally.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (at most `limit`) until `done` holds for the tally; panics naming `what`, with the
    /// tally, if it does not (for tests).
    pub fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&Tally) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            let tally = self.tally();
            if done(&tally) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what} not within {limit:?}: {tally}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Lets every client finish the request it is on, then returns the tally.
    pub fn finish(mut self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for thread in std::mem::take(&mut self.threads) {
            // A panicking client thread is a bug in this module; its tally is kept.
            let _ = thread.join();
        }
        self.tally()
    }
}

impl Shared {
    /// One client: a connection kept alive while the server keeps it, reopened when it closes.
    fn client(&self, client: usize) {
        let mut connection: Option<(BufReader<Counting>, bool)> = None;
        let mut next = client % self.requests.len();
        while !self.stop.load(Ordering::Relaxed) {
            let (reader, reused) = match connection.as_mut() {
                Some(open) => open,
                None => match http::connect(self.addr) {
                    Ok(stream) => connection.insert((BufReader::new(Counting::new(stream)), false)),
                    Err(_) => {
                        self.record(|t| t.refused += 1);
                        std::thread::sleep(RETRY_PAUSE);
                        continue;
                    }
                },
            };
            let request = self.requests[next];
            next = (next + 1) % self.requests.len();
            let next_step = self.exchange(request, reader, *reused);
            *reused = true;
            match next_step {
                Next::Keep => {}
                Next::Reconnect => connection = None,
                Next::BackOff => {
                    connection = None;
                    std::thread::sleep(RETRY_PAUSE);
                }
            }
        }
    }

    /// Sends case `index` (as HEAD if `head`) on the connection and sorts the answer; returns what
    /// the client does next.
    fn exchange(
        &self,
        (index, head): (usize, bool),
        reader: &mut BufReader<Counting>,
        reused: bool,
    ) -> Next {
        let case = &self.cases[index];
        let method = if head { "HEAD" } else { &case.method };
        let connection = if reused { "kept-alive" } else { "new" };
        let request = http::request_bytes(method, &case.target, &case.headers, self.addr, false);
        let started = Instant::now();
        let unanswered = if reused {
            Failure::Dropped
        } else {
            Failure::Refused
        };
        if let Err(error) = reader.get_mut().stream.write_all(&request) {
            self.record(|t| {
                t.failed(
                    unanswered,
                    format!("{}: {connection} connection: write: {error}", case.name),
                )
            });
            return Next::BackOff;
        }
        let before = reader.get_ref().read;
        let result = http::read_response(reader, method == "HEAD");
        let elapsed = started.elapsed();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                let got = reader.get_ref().read - before;
                let timed_out = matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                );
                let (kind, what) = match (got, timed_out) {
                    (_, true) => (Failure::Stalled, "no answer within the I/O timeout"),
                    (0, false) => (unanswered, "closed before any byte"),
                    (_, false) => (Failure::Truncated, "answer cut short"),
                };
                self.record(|t| {
                    t.failed(
                        kind,
                        format!(
                            "{}: {connection} connection: {what} after {elapsed:?} ({got} bytes): {error}",
                            case.name
                        ),
                    )
                });
                return Next::BackOff;
            }
        };
        let closes = response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if response.status == self.busy.status && response.body == self.busy.body.as_bytes() {
            self.record(|t| {
                t.busy += 1;
                t.slowest_busy = t.slowest_busy.max(elapsed);
            });
            return Next::BackOff;
        }
        // A new connection's head that the server timed out (a bodiless 408): under overload it
        // was accepted so late that its header timeout ran out before a busy Node event loop read
        // the head. The server never began the request: refused, like a reset before any byte.
        if !reused && response.status == 408 && response.body.is_empty() {
            let what = format!("{}: new connection: 408 after {elapsed:?}", case.name);
            self.record(|t| t.failed(Failure::Refused, what));
            return Next::BackOff;
        }
        let draining_body = if head { "" } else { &self.draining.body };
        if matches!(&case.expect, Expect::Answer(reply) if *reply == self.healthy)
            && response.status == self.draining.status
            && response.body == draining_body.as_bytes()
        {
            self.record(|t| t.draining += 1);
            return Next::BackOff;
        }
        let same_image = |image: &Image, body: &[u8]| {
            let looks_right = match image.format {
                Format::Png => body.starts_with(PNG_SIGNATURE),
                Format::Svg => body.windows(SVG_ROOT.len()).any(|at| at == SVG_ROOT),
            };
            if !looks_right {
                return Err(format!(
                    "a 200 whose body is not {}",
                    image.format.content_type()
                ));
            }
            let first = self.images[index].get_or_init(|| body.to_vec());
            if first.as_slice() == body {
                Ok(())
            } else {
                Err(format!(
                    "an image of {} bytes that differs from the first answer's {} bytes",
                    body.len(),
                    first.len()
                ))
            }
        };
        match contract::check(case, &response, head, same_image) {
            Ok(()) => self.record(|t| {
                t.ok += 1;
                t.slowest_ok = t.slowest_ok.max(elapsed);
            }),
            Err(why) => {
                self.record(|t| t.failed(Failure::Wrong, format!("{method} {}: {why}", case.name)));
            }
        }
        // An error the HTTP layer answers (a 400, a 431) may close without saying so.
        if closes || matches!(case.expect, Expect::Status(_)) {
            Next::Reconnect
        } else {
            Next::Keep
        }
    }

    fn record(&self, update: impl FnOnce(&mut Tally)) {
        update(&mut self.tally.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// A stream that counts the bytes read from it, to tell a dropped request from a cut answer.
struct Counting {
    stream: TcpStream,
    read: u64,
}

impl Counting {
    fn new(stream: TcpStream) -> Counting {
        Counting { stream, read: 0 }
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}
