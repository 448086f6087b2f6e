//! What an attacker tried on the servers (the reliability issues' red team), run against every
//! configuration once its contract has passed: a client that shuts its sending side after its
//! requests, clients that pipeline requests and never read the answers, and one connection's
//! pipelined flood. Each returns the failures it found, one line each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qr_harness::contract::{self, Case};
use qr_harness::{ServerSpec, Stack, http, procs};

use crate::image_check;

/// How often the half-close is tried: the red team saw it lost one time in two.
const HALF_CLOSES: usize = 10;
/// Clients that pipeline requests and never read (enough to hold every thread of a pool).
const SLOW_READERS: usize = 4;
/// Requests each of them writes at once.
const UNREAD_REQUESTS: usize = 2_000;
/// A slow reader's receive buffer: small, so that the server's writes to it block at once.
const SLOW_READER_BUFFER: usize = 4 * 1024;
/// How long another client's request may take while the slow readers hold on.
const PROBE_LIMIT: Duration = Duration::from_secs(3);
/// Requests one connection pipelines in one write: more than tier-1-sidecar's in-flight bound
/// (256), which a flood answered all at once would exceed.
const FLOOD: usize = 300;
/// Requests another client makes meanwhile, none of which may be turned away.
const BESIDE_FLOOD: usize = 10;
/// How many `qr-cli` processes spawned per request may run at once during the flood: one for
/// the flood's connection, one for the other client's.
const MAX_SPAWNED: usize = 2;

/// Every attack against the server at `addr`.
pub fn all(spec: ServerSpec, addr: SocketAddr, server_pid: Option<u32>) -> Vec<String> {
    let mut failures = half_closed(spec, addr);
    // The flood before the slow readers: a server may still be answering what they pipelined
    // after they have gone (granian does, for seconds), which the flood's count would take for
    // its own.
    failures.extend(pipelined_flood(spec, addr, server_pid));
    failures.extend(slow_readers(spec, addr));
    failures
}

/// A client writes its request (two, pipelined, every other time), shuts its sending side, and
/// must still get every answer, then the end of the connection. On granian, whose hyper is not
/// told to allow half-closed connections (granian has no setting for it), an answer may instead
/// never come, the connection closed before its first byte: counted and printed, as
/// docs/python.md says; a wrong or cut answer, or a connection left open, fails there too.
fn half_closed(spec: ServerSpec, addr: SocketAddr) -> Vec<String> {
    let mut failures = Vec::new();
    let mut unanswered = 0;
    for attempt in 0..HALF_CLOSES {
        let cases: Vec<Case> = (0..1 + attempt % 2)
            .map(|i| Case::png("", &format!("half-closed {i}")))
            .collect();
        // Ok(true): every answer came; Ok(false): the connection closed before one began.
        let exchange = || -> Result<bool, String> {
            let stream = http::connect(addr).map_err(|e| e.to_string())?;
            for case in &cases {
                (&stream)
                    .write_all(&http::request_bytes("GET", &case.target, &[], addr, false))
                    .map_err(|e| format!("writing: {e}"))?;
            }
            stream
                .shutdown(Shutdown::Write)
                .map_err(|e| format!("shutting the sending side: {e}"))?;
            let mut reader = BufReader::new(stream);
            for case in &cases {
                if spec.stack == Stack::Granian && reader.fill_buf().is_ok_and(|b| b.is_empty()) {
                    return Ok(false);
                }
                let response = http::read_response(&mut reader, false)
                    .map_err(|e| format!("reading its answer: {e}"))?;
                contract::check(case, &response, false, image_check(spec, case))?;
            }
            let mut rest = Vec::new();
            reader
                .get_ref()
                .set_read_timeout(Some(Duration::from_secs(5)))
                .map_err(|e| e.to_string())?;
            match reader.read_to_end(&mut rest) {
                Ok(_) if rest.is_empty() => Ok(true),
                Ok(_) => Err(format!("{} bytes after the answers", rest.len())),
                Err(e) => Err(format!(
                    "the connection was not closed after the answers: {e}"
                )),
            }
        };
        match exchange() {
            Ok(answered) => unanswered += usize::from(!answered),
            Err(e) => {
                failures.push(format!(
                    "half-closed client (attempt {attempt}, {} request(s)): {e}",
                    cases.len()
                ));
                break;
            }
        }
    }
    if unanswered > 0 {
        eprintln!(
            "{}: {unanswered} of {HALF_CLOSES} half-closed clients got no answer (granian)",
            spec.label()
        );
    }
    failures
}

/// Clients pipeline requests and never read the answers; meanwhile a fresh client's requests
/// are each answered within [`PROBE_LIMIT`]: a reader that does not read costs the host no
/// thread.
fn slow_readers(spec: ServerSpec, addr: SocketAddr) -> Vec<String> {
    let mut failures = Vec::new();
    let mut hogs = Vec::new();
    let mut writers = Vec::new();
    for i in 0..SLOW_READERS {
        let stream = match http::connect(addr) {
            Ok(stream) => stream,
            Err(e) => return vec![format!("slow reader {i}: cannot connect: {e}")],
        };
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&stream, SLOW_READER_BUFFER);
        let request = http::request_bytes("GET", "/qrcode?text=unread", &[], addr, false);
        let requests = request.repeat(UNREAD_REQUESTS);
        let mut writer = stream.try_clone().expect("clone a TcpStream");
        // Blocks once the server stops reading; ends when the socket is shut below.
        writers.push(std::thread::spawn(move || {
            let _ = writer.write_all(&requests);
        }));
        hogs.push(stream);
    }
    // Time for the servers' writes to fill the small buffers.
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..3 {
        let case = Case::png("", &format!("beside slow readers {i}"));
        let started = Instant::now();
        let result = http::send(addr, "GET", &case.target, &[])
            .map_err(|e| e.to_string())
            .and_then(|response| {
                contract::check(&case, &response, false, image_check(spec, &case))
            });
        let took = started.elapsed();
        match result {
            Err(e) => failures.push(format!("a request beside {SLOW_READERS} slow readers: {e}")),
            Ok(()) if took > PROBE_LIMIT => failures.push(format!(
                "a request beside {SLOW_READERS} slow readers took {took:.1?} (limit {PROBE_LIMIT:?})"
            )),
            Ok(()) => {}
        }
    }
    for hog in &hogs {
        let _ = hog.shutdown(Shutdown::Both);
    }
    for writer in writers {
        let _ = writer.join();
    }
    failures
}

/// One connection writes [`FLOOD`] requests at once and reads the answers, which must come in
/// order; meanwhile another client is never turned away, and no more than [`MAX_SPAWNED`]
/// `qr-cli` processes run at once: a connection's requests are answered one at a time.
fn pipelined_flood(spec: ServerSpec, addr: SocketAddr, server_pid: Option<u32>) -> Vec<String> {
    let cases: Vec<Case> = (0..FLOOD)
        .map(|i| Case::png("", &format!("flood {i}")))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let most_spawned = Arc::new(AtomicUsize::new(0));
    let monitor = server_pid.map(|pid| {
        let (stop, most) = (stop.clone(), most_spawned.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                most.fetch_max(spawned_qr_clis(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    });
    let beside = std::thread::spawn(move || -> Vec<String> {
        (0..BESIDE_FLOOD)
            .filter_map(|i| {
                let case = Case::png("", &format!("beside a flood {i}"));
                http::send(addr, "GET", &case.target, &[])
                    .map_err(|e| e.to_string())
                    .and_then(|response| {
                        contract::check(&case, &response, false, image_check(spec, &case))
                    })
                    .err()
                    .map(|e| format!("a request beside a pipelined flood: {e}"))
            })
            .collect()
    });
    let mut failures = Vec::new();
    match http::connect(addr) {
        Err(e) => failures.push(format!("pipelined flood: cannot connect: {e}")),
        Ok(stream) => {
            let all: Vec<u8> = cases
                .iter()
                .flat_map(|case| http::request_bytes("GET", &case.target, &[], addr, false))
                .collect();
            let mut writer = stream.try_clone().expect("clone a TcpStream");
            let write = std::thread::spawn(move || writer.write_all(&all));
            let mut reader = BufReader::new(stream);
            for (i, case) in cases.iter().enumerate() {
                let result = http::read_response(&mut reader, false)
                    .map_err(|e| format!("reading the answer: {e}"))
                    .and_then(|response| {
                        contract::check(case, &response, false, image_check(spec, case))
                    });
                if let Err(e) = result {
                    failures.push(format!("pipelined flood, request {i} of {FLOOD}: {e}"));
                    break;
                }
            }
            if let Ok(Err(e)) = write.join() {
                failures.push(format!("pipelined flood: writing failed: {e}"));
            }
        }
    }
    failures.extend(beside.join().expect("the other client does not panic"));
    stop.store(true, Ordering::Relaxed);
    if let Some(monitor) = monitor {
        monitor.join().expect("the monitor does not panic");
    }
    let most = most_spawned.load(Ordering::Relaxed);
    if most > MAX_SPAWNED {
        failures.push(format!(
            "pipelined flood: {most} qr-cli processes ran at once (at most {MAX_SPAWNED})"
        ));
    }
    failures
}

/// How many `qr-cli` processes spawned for one request each (not a `--serve` sidecar) run in
/// `root`'s process tree now.
fn spawned_qr_clis(root: u32) -> usize {
    let all = procs::scan_all().unwrap_or_default();
    procs::tree_pids(root as i32, &all)
        .into_iter()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let mut args = cmdline.split(|&b| b == 0);
            let program = args.next().unwrap_or_default();
            program.ends_with(b"qr-cli") && !args.any(|arg| arg == b"--serve")
        })
        .count()
}
