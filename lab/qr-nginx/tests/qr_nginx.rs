//! The real `qr-nginx` with real processes and sockets: what each path reaches, keep-alive to the
//! apps, a graceful stop that leaves nothing, an app dying, and nginx failing to start. The contract
//! through nginx is the conformance suite's (tier-4-nginx), not repeated here.
//!
//! Needs the release builds (`cargo xtask build`); run with
//! `cargo test -p qr-nginx --test qr_nginx -- --include-ignored`.

use std::net::TcpListener;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qr_core::Options;
use qr_harness::{Mode, Server, ServerSpec, Tier, http};

/// Requests sent per path: without keep-alive to the apps, each would open its own connection.
const REQUESTS: usize = 20;

/// One qr-nginx at a time: each runs three servers, on a machine with few cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn start() -> Server {
    Server::start(&ServerSpec::new(Tier::Tier4Nginx, Mode::Single))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// `pid`'s state letter from /proc (`Z` for a zombie), or `None` once it is gone.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Fails naming those of `processes` that still run (zombies aside).
fn assert_gone(processes: Vec<u32>) {
    let left: Vec<u32> = processes
        .into_iter()
        .filter(|&pid| state(pid).is_some_and(|state| state != 'Z'))
        .collect();
    assert!(left.is_empty(), "still running: {left:?}");
}

/// SIGTERM, and exit status 0.
fn stop_cleanly(server: Server) {
    let status = server.stop().unwrap_or_else(|e| panic!("{e:#}"));
    assert!(status.success(), "{status}");
}

/// The processes whose parent is `pid`, with their command lines (arguments joined by spaces).
fn children(pid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if ppid == Some(&pid.to_string()) {
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push((child, cmdline));
        }
    }
    found
}

/// Every process below `pid`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        for (child, _) in children(parent) {
            all.push(child);
            next.push(child);
        }
    }
    all
}

/// The child of `pid` whose command line contains `needle`.
fn child(pid: u32, needle: &str) -> u32 {
    let children = children(pid);
    match children
        .iter()
        .find(|(_, cmdline)| cmdline.contains(needle))
    {
        Some(&(child, _)) => child,
        None => panic!("no child of {pid} runs {needle:?}: {children:?}"),
    }
}

/// The rows of /proc/net/tcp (IPv4): (local port, remote port, state, socket inode).
fn tcp_sockets() -> Vec<(u16, u16, String, String)> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = |addr: &str| u16::from_str_radix(addr.rsplit_once(':').unwrap().1, 16).unwrap();
    table
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, remote) = (port(fields[1]), port(fields[2]));
            (local, remote, fields[3].to_owned(), fields[9].to_owned())
        })
        .collect()
}

/// The port process `pid` listens on (its one listening IPv4 socket).
fn listening_port(pid: u32) -> u16 {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|link| {
            let link = link.to_str()?;
            Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    const LISTEN: &str = "0A";
    tcp_sockets()
        .into_iter()
        .find(|(_, _, state, inode)| state == LISTEN && inodes.contains(inode))
        .unwrap_or_else(|| panic!("process {pid} listens on no IPv4 socket"))
        .0
}

/// Connections to `port` from the client side (nginx's), open or closing: one per connection
/// nginx has opened to the app listening there.
fn connections_to(port: u16) -> usize {
    tcp_sockets()
        .iter()
        .filter(|(_, remote, _, _)| *remote == port)
        .count()
}

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn qrcode_reaches_rust_every_other_path_node_over_kept_alive_connections() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = start();
    let addr = server.addr();
    let rust = listening_port(child(server.pid(), "qr-server"));
    let node = listening_port(child(server.pid(), "node/server.js"));

    for _ in 0..REQUESTS {
        let response = http::send(addr, "GET", "/qrcode/nope", &[]).unwrap();
        assert_eq!(
            (response.status, &response.body[..]),
            (404, &b"not found"[..])
        );
    }
    assert_eq!(connections_to(rust), 0, "a 404 path reached qr-server");
    let to_node = connections_to(node);
    assert!(
        (1..=REQUESTS / 2).contains(&to_node),
        "{to_node} connections to node for {REQUESTS} requests"
    );

    let png = qr_core::generate("through nginx", &Options::default()).unwrap();
    for _ in 0..REQUESTS {
        let response = http::send(addr, "GET", "/qrcode?text=through+nginx", &[]).unwrap();
        assert_eq!(response.status, 200);
        assert!(response.body == png, "not qr-server's PNG");
    }
    let to_rust = connections_to(rust);
    assert!(
        (1..=REQUESTS / 2).contains(&to_rust),
        "{to_rust} connections to qr-server for {REQUESTS} requests"
    );

    stop_cleanly(server);
}

/// A request's extra headers: (name, value).
type Headers<'a> = [(&'a str, &'a str)];

/// The headers of qr-server's answers that must come through nginx as they are.
const PASSED_ON: [&str; 10] = [
    "content-type",
    "content-length",
    "etag",
    "cache-control",
    "allow",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "connection",
];

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn qr_server_s_answers_come_through_nginx_unchanged() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = start();
    let addr = server.addr();
    let rust = listening_port(child(server.pid(), "qr-server"));
    let direct = std::net::SocketAddr::from(([127, 0, 0, 1], rust));
    let png = qr_core::generate("cache me", &Options::default()).unwrap();
    let etag = qr_harness::contract::etag_of(&png);
    let weak = format!("W/{etag}");
    let preflight = [
        ("Origin", "https://example.com"),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "if-none-match"),
    ];
    let requests: &[(&str, &str, &Headers)] = &[
        // Raw characters a URI may not carry: nginx passes the target on as the client sent it.
        ("GET", "/qrcode?text=<b>\"{a}|b\"\\^`", &[]),
        (
            "GET",
            "/qrcode?text=a&format=svg&ecLevel=H&dark=0b3d91&light=ffffff00",
            &[],
        ),
        ("GET", "/qrcode?text=hello&size=28", &[]),
        // Revalidation: qr-server's 304, and its 200 to a tag it does not have.
        ("GET", "/qrcode?text=cache+me", &[("If-None-Match", &etag)]),
        ("HEAD", "/qrcode?text=cache+me", &[("If-None-Match", &weak)]),
        ("GET", "/qrcode?text=cache+me", &[("If-None-Match", "*")]),
        (
            "GET",
            "/qrcode?text=cache+me",
            &[("If-None-Match", "\"x\"")],
        ),
        ("OPTIONS", "/qrcode?text=a", &preflight),
        ("OPTIONS", "/qrcode", &[]),
        ("POST", "/qrcode", &[]),
        // nginx refuses TRACE itself; the app that owns the path answers instead.
        ("TRACE", "/qrcode?text=a", &[]),
        ("TRACE", "/metrics", &[]),
        ("GET", "/openapi.json", &[]),
        ("HEAD", "/openapi.json", &[]),
    ];
    for &(method, target, headers) in requests {
        let headers: Vec<(String, String)> = (headers.iter())
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let through = http::send(addr, method, target, &headers).unwrap();
        let expected = http::send(direct, method, target, &headers).unwrap();
        let request = format!("{method} {target} {headers:?}");
        assert_eq!(through.status, expected.status, "{request}");
        assert!(through.body == expected.body, "{request}: the body");
        for name in PASSED_ON {
            assert_eq!(
                through.header(name),
                expected.header(name),
                "{request}: {name}"
            );
        }
    }
    stop_cleanly(server);
}

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn sigterm_stops_all_three_and_leaves_no_process_or_folder() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = start();
    let pid = server.pid();
    let master = child(pid, "nginx: master process");
    for needle in ["qr-server", "node/server.js"] {
        child(pid, needle);
    }
    assert!(!children(master).is_empty(), "nginx has workers");
    let processes = descendants(pid);
    let run_dir = qr_harness::paths::target_dir().join(format!("nginx/{pid}"));
    assert!(run_dir.join("nginx.conf").is_file());

    stop_cleanly(server);
    assert_gone(processes);
    assert!(!run_dir.exists(), "{} left behind", run_dir.display());
}

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn a_killed_qr_server_stops_nginx_and_node_and_exits_1() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = start();
    let pid = server.pid();
    let rust = child(pid, "qr-server");
    let others: Vec<u32> = descendants(pid)
        .into_iter()
        .filter(|&p| p != rust)
        .collect();

    std::process::Command::new("kill")
        .args(["-KILL", &rust.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while state(pid) != Some('Z') {
        assert!(Instant::now() < deadline, "qr-nginx still runs");
        std::thread::sleep(Duration::from_millis(20));
    }

    let error = format!("{:#}", server.stop().unwrap_err());
    assert!(
        error.contains("had exited on its own (exit status: 1)"),
        "{error}"
    );
    let line = "qr-nginx: qr-server exited unexpectedly (signal: 9 (SIGKILL)); stopping the others";
    assert!(error.contains(line), "{error}");
    assert_gone(others);
}

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn a_sigkilled_qr_nginx_leaves_no_process_behind() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = start();
    let pid = server.pid();
    let processes = descendants(pid);
    assert!(
        processes.len() >= 4,
        "qr-server, node, nginx and its workers: {processes:?}"
    );
    // No chance to stop anything: its children learn it from their parent-death signal.
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes
        .iter()
        .any(|&p| state(p).is_some_and(|state| state != 'Z'))
    {
        assert!(Instant::now() < deadline, "left behind: {processes:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
}

#[test]
#[ignore = "needs `cargo xtask build`; run by `cargo xtask test`"]
fn nginx_failing_to_listen_is_shown_and_exits_1() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let spec = ServerSpec {
        port,
        ..ServerSpec::new(Tier::Tier4Nginx, Mode::Single)
    };
    let error = format!("{:#}", Server::start(&spec).unwrap_err());
    assert!(
        error.contains("exited before it was ready (exit status: 1)"),
        "{error}"
    );
    let bind = format!("bind() to 127.0.0.1:{port} failed (98: Address already in use)");
    assert!(error.contains(&bind), "{error}");
    assert!(
        error.contains("qr-nginx: nginx exited before it was ready (exit status: 1)"),
        "{error}"
    );
}
