//! The real `qr-server` binary: its ready line, flags, `--help`, `--version`, usage errors (exit
//! 2), and exit 0 after SIGTERM or SIGINT.
//!
//! Run with `cargo test -p qr-server --test binary`.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::*;

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
        let expected = qr_core::generate("flags", &qr_core::Options::with_engine(engine)).unwrap();
        assert!(reply.body == expected, "{engine}");
        signal(&child, "TERM");
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}

/// Runs the binary to its end with `args` and returns its output.
fn run_to_end<A: AsRef<std::ffi::OsStr>>(args: &[A]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qr-server"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("qr-server runs")
}

/// Asserts a usage error: exit 2, nothing on stdout, and on stderr clap's `error: ` line, the
/// usage and the pointer to `--help` (never a panic). Returns stderr.
fn assert_usage_error<A: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[A]) -> String {
    let output = run_to_end(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(
        stderr.contains("\nUsage: qr-server [OPTIONS]\n"),
        "{args:?}: {stderr}"
    );
    assert!(
        stderr.ends_with("For more information, try '--help'.\n"),
        "{args:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}: no ready line");
    stderr
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--engine", "nope"][..],
        &["--engine="],
        &["--engine"],
        &["--addr", "not-an-address"],
        &["--addr", "127.0.0.1"],
        &["--addr"],
        &["--max-connections", "many"],
        &["--max-connections", "-1"],
        &["--max-connections"],
        &["--header-read-timeout-ms", "-1"],
        &["--header-read-timeout-ms", "1.5"],
        &["--addr", "127.0.0.1:0", "--addr", "127.0.0.1:0"],
        &["--bogus"],
        &["-x"],
        &["extra"],
        &["--", "extra"],
    ] {
        assert_usage_error(args);
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_usage_errors() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    let bad = || OsString::from_vec(b"caf\xe9".to_vec());
    assert_usage_error(&[bad()]);
    assert_usage_error(&[OsString::from("--engine"), bad()]);
    assert_usage_error(&[OsString::from("--addr"), bad()]);
}

#[test]
fn unknown_engine_is_exit_2_and_names_the_engines() {
    for args in [&["--engine", "nope"][..], &["--engine=nope"]] {
        let stderr = assert_usage_error(args);
        let message = "nope".parse::<qr_core::Engine>().unwrap_err().to_string();
        assert!(stderr.contains(&message), "{stderr}");
        assert!(stderr.contains("'--engine <ENGINE>'"), "{stderr}");
    }
}

/// 0, and numbers past what the server can hold or past what fits, are usage errors with a
/// message that names the bound, not a panic.
#[test]
fn absurd_numbers_exit_2_with_a_clear_message() {
    let most = tokio::sync::Semaphore::MAX_PERMITS;
    let past_most = (most + 1).to_string();
    for (flag, value, message) in [
        ("--max-connections", "0", "must be at least 1".to_owned()),
        (
            "--max-connections",
            &past_most,
            format!("must be at most {most}"),
        ),
        (
            "--max-connections",
            "18446744073709551615",
            format!("must be at most {most}"),
        ),
        (
            "--max-connections",
            "999999999999999999999999",
            format!("must be at most {most}"),
        ),
        (
            "--header-read-timeout-ms",
            "0",
            "must be at least 1".to_owned(),
        ),
        (
            "--header-read-timeout-ms",
            "86400001",
            "must be at most 86400000".to_owned(),
        ),
        (
            "--header-read-timeout-ms",
            "18446744073709551615",
            "must be at most 86400000".to_owned(),
        ),
        (
            "--header-read-timeout-ms",
            "999999999999999999999999",
            "must be at most 86400000".to_owned(),
        ),
    ] {
        for args in [
            vec![flag.to_owned(), value.to_owned()],
            vec![format!("{flag}={value}")],
        ] {
            let stderr = assert_usage_error(&args);
            let line = format!("error: invalid value '{value}' for '{flag} <");
            assert!(stderr.starts_with(&line), "{args:?}: {stderr}");
            assert!(stderr.contains(&message), "{args:?}: {stderr}");
        }
    }
}

/// The largest values taken still serve (no overflow, no panic, in the server or in hyper).
#[cfg(unix)]
#[test]
fn the_largest_values_taken_serve() {
    let most = tokio::sync::Semaphore::MAX_PERMITS.to_string();
    let (mut child, addr) = start(&[
        "--max-connections",
        &most,
        "--header-read-timeout-ms",
        "86400000",
    ]);
    let reply = send(addr, &request("GET", "/qrcode?text=largest"));
    assert_eq!(decode(&reply.body), b"largest");
    signal(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn help_is_exit_0_on_stdout_with_defaults_exit_codes_and_an_example() {
    for flag in ["--help", "-h"] {
        for args in [
            &[flag][..],
            &["--engine", "article", flag],
            &["--addr", "127.0.0.1:0", flag],
        ] {
            let output = run_to_end(args);
            let help = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(0), "{args:?}");
            assert!(output.stderr.is_empty(), "{args:?}");
            assert!(help.contains("Usage: qr-server [OPTIONS]\n"), "{help}");
            let defaults = qr_server::ServeConfig::default();
            let names: Vec<&str> = qr_core::Engine::ALL.iter().map(|e| e.name()).collect();
            for (option, default) in [
                ("--addr <HOST:PORT>", "127.0.0.1:42069".to_owned()),
                ("--engine <ENGINE>", qr_core::Engine::default().to_string()),
                (
                    "--max-connections <N>",
                    defaults.max_connections.to_string(),
                ),
                (
                    "--header-read-timeout-ms <MS>",
                    defaults.header_read_timeout.as_millis().to_string(),
                ),
            ] {
                let line = help
                    .lines()
                    .find(|line| line.trim_start().starts_with(option))
                    .unwrap_or_else(|| panic!("{option} in {help}"));
                assert!(line.contains(&format!("[default: {default}]")), "{line}");
            }
            assert!(
                help.contains(&format!("[possible values: {}]", names.join(", "))),
                "{help}"
            );
            assert!(help.contains("--version"), "{help}");
            assert!(help.contains("`listening on http://ADDR`"), "{help}");
            assert!(
                help.contains(&format!(
                    "{} s to finish",
                    defaults.shutdown_grace.as_secs()
                )),
                "{help}"
            );
            assert!(help.contains("Exit status:"), "{help}");
            for code in ["  0  ", "  1  ", "  2  usage error"] {
                assert!(help.contains(code), "{code:?} in {help}");
            }
            assert!(help.contains("Example:\n  qr-server --addr "), "{help}");
        }
    }
}

#[test]
fn version_is_exit_0_on_stdout() {
    for flag in ["--version", "-V"] {
        let output = run_to_end(&[flag]);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("qr-server {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert!(output.stderr.is_empty());
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

/// Under a hard open-file limit too low for the bound, the server says so and serves a lower
/// bound instead of failing later with EMFILE.
#[cfg(unix)]
#[test]
fn a_low_open_file_limit_lowers_the_bound_with_one_line() {
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -n 400 && exec \"$0\" --addr 127.0.0.1:0",
            env!("CARGO_BIN_EXE_qr-server"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = ready_addr(&mut child);
    assert_eq!(
        decode(&send(addr, &request("GET", "/qrcode?text=hi")).body),
        b"hi"
    );
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains(
            "--max-connections 1024 needs more open files than the limit (400) allows: serving at most 80 connections"
        ),
        "{stderr}"
    );
}

/// A `--ceiling` the contract refuses is a start-up error: no ready line, exit 1.
#[test]
fn a_ceiling_text_the_contract_refuses_fails_before_the_ready_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_qr-server"))
        .args(["--addr", "127.0.0.1:0", "--ceiling", ""])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "qr-server: --ceiling \"\": missing \"text\" query param\n"
    );
}

#[cfg(unix)]
#[test]
fn the_access_log_is_one_line_per_request_on_stderr_and_off_by_default() {
    for (flags, logged) in [(&["--access-log"][..], true), (&[], false)] {
        let (mut child, addr) = start(flags);
        send(addr, &request("GET", "/qrcode?text=logged"));
        send(addr, &request("HEAD", "/nope"));
        signal(&child, "TERM");
        assert_eq!(child.wait().unwrap().code(), Some(0));
        let mut stderr = String::new();
        (child.stderr.take().unwrap())
            .read_to_string(&mut stderr)
            .unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        if !logged {
            assert_eq!(lines, [] as [&str; 0], "no log without --access-log");
            continue;
        }
        let png = qr_core::generate("logged", &qr_core::Options::default()).unwrap();
        let expected = [
            format!("GET /qrcode?text=logged 200 {} ", png.len()),
            "HEAD /nope 404 9 ".to_owned(),
        ];
        assert_eq!(lines.len(), 2, "{stderr}");
        for (line, start) in lines.iter().zip(&expected) {
            let millis = line.strip_prefix(start.as_str());
            let millis = millis.and_then(|rest| rest.strip_suffix("ms"));
            assert!(
                millis.is_some_and(|ms| ms.parse::<f64>().is_ok()),
                "{line:?} is not {start:?} and a time"
            );
        }
    }
}
