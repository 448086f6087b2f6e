//! The one black-box conformance suite: every tier, mode and engine gets the contract's cases
//! (`contract/cases.json`) over a real socket.
//!
//! Run with `cargo xtask test` (after `cargo xtask build`), or a part with
//! `RUSTY_QR_TIERS=tier-0:single,tier-4 cargo test -p qr-harness --test conformance -- --include-ignored`.
//! `RUSTY_QR_EXTERNAL=fast@127.0.0.1:8080` runs tier-4's cases with that engine against a server
//! already running there (the container image: `cargo xtask image --check`) and skips the rest.
//!
//! Each case asserts the exact status, Content-Type, body and headers the contract gives (an
//! image's ETag and Cache-Control, CORS), so the same request gets the same answer from every tier
//! by construction. Every image, a PNG or an SVG rasterised by resvg, is read back as its exact text
//! at its EC level by rqrr, jsqr and ZXing (qr-decode), its pixels hold the case's `image` (size,
//! quiet zone, colours), and the images of every tier but tier-0 and py-tier-0 must equal
//! `qr_core::generate` with the same engine and the query's options byte for byte. Then the attacks
//! of `attacks.rs` (half-closed clients, slow readers, a pipelined flood) run against each tier and
//! mode once.

mod attacks;
mod configurations;
mod image;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qr_core::Engine;
use qr_harness::contract::{self, Case, Contract, Expect};
use qr_harness::http::{self, SlowReader};
use qr_harness::{Mode, Server, ServerSpec, Stack, Tier};

use configurations::selected;
use image::{beyond_a_ceiling, image_check};

/// Sends `case` on its own connections and checks every answer (`contract::run`: HEAD,
/// `same_as`, `not_modified`, `revalidate` too).
fn run_case(spec: ServerSpec, addr: SocketAddr, case: &Case) -> Result<(), String> {
    let send = |method: &str, target: &str, headers: &http::Headers| {
        http::send(addr, method, target, headers).map_err(|e| format!("{method} failed: {e}"))
    };
    contract::run(case, send, image_check(spec, case))
}

/// How many requests the pipelining test writes at once on one connection.
const PIPELINED: usize = 40;
/// How many keep-alive requests run on a second connection meanwhile.
const CONCURRENT: usize = 15;

/// Writes [`PIPELINED`] requests on one connection at once and reads the answers slowly, while a
/// second connection runs requests; every answer must be its own request's, in order.
fn run_pipelining(spec: ServerSpec, addr: SocketAddr, contract: &Contract) -> Vec<String> {
    let requests: Vec<Case> = (0..PIPELINED)
        .map(|i| match i % 10 {
            3 => Case {
                target: format!("/qrcode?text=x{i}&text=y"),
                expect: Expect::Answer(contract.answer("notOnce").clone()),
                ..Case::png("", "")
            },
            7 => Case {
                target: "/qrcode?text=".to_owned(),
                expect: Expect::Answer(contract.answer("missing").clone()),
                ..Case::png("", "")
            },
            1 | 5 => {
                let long = format!("pipelined request {i}: {}", "0123456789abcdef".repeat(25));
                Case::png("", &long)
            }
            _ => Case::png("", &format!("pipelined request {i}")),
        })
        .collect();
    let mut failures = Vec::new();

    let concurrent = std::thread::spawn(move || -> Vec<String> {
        let stream = match http::connect(addr) {
            Ok(stream) => stream,
            Err(e) => return vec![format!("concurrent connection: {e}")],
        };
        let mut writer = stream.try_clone().expect("clone a TcpStream");
        let mut reader = BufReader::new(stream);
        for i in 0..CONCURRENT {
            let case = Case::png("", &format!("concurrent request {i}"));
            let result = writer
                .write_all(&http::request_bytes("GET", &case.target, &[], addr, false))
                .and_then(|()| http::read_response(&mut reader, false))
                .map_err(|e| format!("request failed: {e}"))
                .and_then(|response| {
                    contract::check(&case, &response, false, image_check(spec, &case))
                });
            if let Err(e) = result {
                return vec![format!("concurrent keep-alive request {i}: {e}")];
            }
        }
        Vec::new()
    });

    match http::connect(addr) {
        Err(e) => failures.push(format!("pipelined connection: {e}")),
        Ok(stream) => {
            let mut all = Vec::new();
            for case in &requests {
                all.extend(http::request_bytes("GET", &case.target, &[], addr, false));
            }
            let mut writer = stream.try_clone().expect("clone a TcpStream");
            let write = std::thread::spawn(move || writer.write_all(&all));
            let slow = SlowReader {
                inner: stream,
                chunk: 512,
                pause: Duration::from_millis(2),
            };
            let mut reader = BufReader::with_capacity(512, slow);
            for (i, case) in requests.iter().enumerate() {
                let result = http::read_response(&mut reader, false)
                    .map_err(|e| format!("reading the answer failed: {e}"))
                    .and_then(|response| {
                        contract::check(case, &response, false, image_check(spec, case))
                    });
                if let Err(e) = result {
                    let short: String = case.target.chars().take(60).collect();
                    failures.push(format!("pipelined request {i} ({short}): {e}"));
                    break;
                }
            }
            match write.join().expect("the writer thread does not panic") {
                Ok(()) => {}
                Err(e) => failures.push(format!("writing the pipelined requests failed: {e}")),
            }
        }
    }
    failures.extend(
        concurrent
            .join()
            .expect("the concurrent thread does not panic"),
    );
    failures
}

/// On one connection, a good request and then one the HTTP parser refuses (raw UTF-8 in the
/// target), written at once: the first is answered first, then the refusal with its line.
fn run_refusal_after_keep_alive(
    spec: ServerSpec,
    addr: SocketAddr,
    contract: &Contract,
) -> Vec<String> {
    let good = Case::png("", "kept alive");
    let bad = Case {
        target: "/qrcode?text=caf\u{e9}".to_owned(),
        expect: Expect::Answer(contract.answer("badTarget").clone()),
        ..Case::png("", "")
    };
    let exchange = || -> Result<(), String> {
        let stream = http::connect(addr).map_err(|e| e.to_string())?;
        let requests = [&good, &bad]
            .map(|case| http::request_bytes("GET", &case.target, &[], addr, false))
            .concat();
        (&stream).write_all(&requests).map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream);
        for case in [&good, &bad] {
            let response = http::read_response(&mut reader, false)
                .map_err(|e| format!("reading the answer to {}: {e}", case.target))?;
            contract::check(case, &response, false, image_check(spec, case))?;
        }
        Ok(())
    };
    exchange()
        .err()
        .map(|e| format!("refusal after a keep-alive request: {e}"))
        .into_iter()
        .collect()
}

/// Servers run one at a time: the machine has few cores, and ports and logs stay apart.
static ONE_SERVER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `RUSTY_QR_EXTERNAL`'s `ENGINE@HOST:PORT`.
fn external(value: &str) -> Option<(Engine, SocketAddr)> {
    let (engine, addr) = value.split_once('@')?;
    Some((engine.parse().ok()?, addr.parse().ok()?))
}

/// Starts the server, runs every case and the pipelining test, checks it still serves, stops it
/// gracefully, and fails with every failure found.
fn conformance(tier: Tier, mode: Mode, engine: Option<Engine>, stack: Stack) {
    let spec = ServerSpec {
        workers: (tier.has_modes() && mode == Mode::Cluster).then_some(2),
        engine,
        ..ServerSpec::new(tier, mode).on(stack)
    };
    let label = match engine {
        Some(engine) => format!("{} {engine}", spec.label()),
        None => spec.label(),
    };
    let selection = std::env::var("RUSTY_QR_TIERS").unwrap_or_default();
    if !selected(&selection, &spec) {
        eprintln!("{label}: not selected by RUSTY_QR_TIERS={selection:?}; skipped");
        return;
    }
    let external = std::env::var("RUSTY_QR_EXTERNAL").ok().map(|value| {
        external(&value)
            .unwrap_or_else(|| panic!("RUSTY_QR_EXTERNAL={value:?}: not ENGINE@HOST:PORT"))
    });
    if external.is_some_and(|(running, _)| (tier, engine) != (Tier::Tier4, Some(running))) {
        eprintln!("{label}: RUSTY_QR_EXTERNAL names another server; skipped");
        return;
    }
    let contract = Contract::load().unwrap_or_else(|e| panic!("{e:#}"));
    let mut cases = contract.cases(stack);
    if tier.is_ceiling() {
        cases.retain(|case| !beyond_a_ceiling(case));
    }
    let _one = ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    // An external server is neither started nor stopped here.
    let (server, addr) = match external {
        Some((_, addr)) => (None, addr),
        None => {
            let server = Server::start(&spec).unwrap_or_else(|e| panic!("{e:#}"));
            let addr = server.addr();
            (Some(server), addr)
        }
    };
    let mut failures = Vec::new();
    let mut record = |name: &str, result: Result<(), String>| {
        if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    };

    for case in &cases {
        record(&case.name, run_case(spec, addr, case));
    }
    for failure in run_pipelining(spec, addr, &contract)
        .into_iter()
        .chain(run_refusal_after_keep_alive(spec, addr, &contract))
    {
        record("pipelining", Err(failure));
    }
    // The attacks try connection handling, which no engine changes: one engine's run does.
    if engine != Some(Engine::Article) {
        for failure in attacks::all(spec, addr, server.as_ref().map(Server::pid)) {
            record("attacks", Err(failure));
        }
    }
    // After all of that, the server (every worker) still answers normally.
    for i in 0..4 {
        let case = Case::png(
            format!("still serving after every case ({i})"),
            &format!("{i}"),
        );
        record(&case.name, run_case(spec, addr, &case));
    }

    // A server that died or would not stop explains every other failure: report it first.
    match server.map(Server::stop) {
        None => {}
        Some(Ok(status)) if status.success() => {}
        Some(Ok(status)) => failures.insert(
            0,
            format!("graceful stop: expected exit status 0, got {status}"),
        ),
        Some(Err(e)) => failures.insert(0, format!("graceful stop: {e:#}")),
    }
    let requests = cases.len() + PIPELINED + CONCURRENT + 4;
    eprintln!("{label}: {requests} requests in {:.1?}", started.elapsed());
    const SHOWN: usize = 40;
    let more = match failures.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("\n  ... and {n} more"),
    };
    assert!(
        failures.is_empty(),
        "{label}: {} failure(s):\n  {}{more}",
        failures.len(),
        failures[..failures.len().min(SHOWN)].join("\n  ")
    );
}

#[test]
fn rusty_qr_external_names_an_engine_and_an_address() {
    let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    assert_eq!(external("fast@127.0.0.1:8080"), Some((Engine::Fast, addr)));
    assert_eq!(
        external("article@127.0.0.1:8080"),
        Some((Engine::Article, addr))
    );
    for wrong in [
        "127.0.0.1:8080",
        "fast@localhost:8080",
        "slow@127.0.0.1:8080",
        "",
    ] {
        assert_eq!(external(wrong), None, "{wrong}");
    }
}
