//! The real `qr-server` binary: its ready line, flags, and exit 0 after SIGTERM or SIGINT.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::*;

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qr-server"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qr-server starts")
}

/// Starts the server on an ephemeral port and returns it with the address from its ready line.
fn start(extra: &[&str]) -> (Child, SocketAddr) {
    let mut args = vec!["--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = spawn(&args);
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_suffix('\n')
        .and_then(|line| line.strip_prefix("listening on http://"))
        .unwrap_or_else(|| panic!("not a ready line: {line:?}"));
    let addr: SocketAddr = addr.parse().unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the real port");
    (child, addr)
}

#[cfg(unix)]
fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn serves_then_exits_0_on_sigterm_and_sigint() {
    for name in ["TERM", "INT"] {
        let (mut child, addr) = start(&[]);
        let reply = send(addr, &request("GET", "/qrcode?text=hello"));
        assert_eq!(decode(&reply.body), b"hello");
        signal(&child, name);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "SIG{name}");
        let mut rest = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        assert_eq!(rest, "", "one line on stdout");
    }
}

#[cfg(unix)]
#[test]
fn flags_are_taken() {
    for &engine in qr_core::Engine::ALL {
        let (mut child, addr) = start(&[
            &format!("--engine={engine}"),
            "--max-connections",
            "1",
            "--header-read-timeout-ms",
            "5000",
        ]);
        let reply = send(addr, &request("GET", "/qrcode?text=flags"));
        let expected = qr_core::png("flags", &qr_core::Options::with_engine(engine)).unwrap();
        assert!(reply.body == expected, "{engine}");
        signal(&child, "TERM");
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--engine", "nope"][..],
        &["--addr", "not-an-address"],
        &["--addr"],
        &["--max-connections", "0"],
        &["--max-connections", "many"],
        &["--header-read-timeout-ms", "-1"],
        &["--bogus"],
        &["extra"],
    ] {
        let output = spawn(args).wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("qr-server: "), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: qr-server"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn an_address_in_use_is_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = spawn(&["--addr", &addr]).wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen on"));
    assert!(output.stdout.is_empty(), "no ready line");
}
