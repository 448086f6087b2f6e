//! The real `qr-cli` binary: exit codes, stdout (decoded back with rqrr) and stderr.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use qr_core::{Engine, Options};

const TARGETS: &str = include_str!("../../../contract/article-texts.txt");
const USAGE: &str = "Usage: qr-cli [--engine ENGINE] [--] TEXT\n       qr-cli [--engine ENGINE] -\n       qr-cli [--engine ENGINE] --serve\n";

/// Runs the binary with `args`, feeding `stdin` (or nothing) and collecting its output.
fn qr_cli<A: AsRef<OsStr>>(args: &[A], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qr-cli"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qr-cli starts");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // The binary may stop reading early (too-long text); a broken pipe is fine then.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().expect("qr-cli finishes")
}

/// Decodes a PNG with an independent decoder (image + rqrr, via qr-decode).
fn decode(png: &[u8]) -> Vec<u8> {
    qr_decode::decode(png).expect("a QR code PNG")
}

/// Asserts success with a PNG of exactly `text` (the same bytes as the core's) and a silent stderr.
fn assert_png_of(output: &Output, text: &[u8], engine: Engine) {
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "stderr is empty on success"
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(decode(&output.stdout), text);
    let expected = qr_core::generate(
        std::str::from_utf8(text).unwrap(),
        &Options::with_engine(engine),
    )
    .unwrap();
    assert!(
        output.stdout == expected,
        "same bytes as qr_core::generate ({engine})"
    );
}

/// Asserts exit `code`, nothing on stdout and exactly `stderr`.
fn assert_fails(output: &Output, code: i32, stderr: &str) {
    assert_eq!(String::from_utf8_lossy(&output.stderr), stderr);
    assert_eq!(output.status.code(), Some(code));
    assert!(output.stdout.is_empty(), "no PNG on failure");
}

/// Asserts a usage error: exit 2, nothing on stdout, and on stderr clap's `error: ` line, the
/// usage and the pointer to `--help` (never a panic). Returns stderr.
fn assert_usage_error<A: AsRef<OsStr> + std::fmt::Debug>(args: &[A]) -> String {
    let output = qr_cli(args, None);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(stderr.contains(USAGE), "{args:?}: {stderr}");
    assert!(
        stderr.ends_with("For more information, try '--help'.\n"),
        "{args:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty());
    stderr
}

#[test]
fn text_from_argv() {
    for text in TARGETS.lines().chain(["hello", "a b  c", "🦀 ferris"]) {
        assert_png_of(&qr_cli(&[text], None), text.as_bytes(), Engine::default());
    }
}

#[test]
fn every_engine_by_name() {
    for &engine in Engine::ALL {
        let text = "https://github.com/pretzelhammer/rust-blog";
        let output = qr_cli(&["--engine", engine.name(), "--", text], None);
        assert_png_of(&output, text.as_bytes(), engine);
        let flag = format!("--engine={engine}");
        assert_png_of(&qr_cli(&[&flag, text], None), text.as_bytes(), engine);
    }
}

#[test]
fn flag_like_text_after_double_dash() {
    for text in ["--help", "-", "--", "-x", "--engine", "--engine=nope"] {
        assert_png_of(
            &qr_cli(&["--", text], None),
            text.as_bytes(),
            Engine::default(),
        );
    }
}

#[test]
fn text_from_stdin_exact_bytes() {
    for text in [
        "line one\nline two\n",
        "a\0b",
        " leading and trailing spaces ",
        "x",
    ] {
        let output = qr_cli(&["-"], Some(text.as_bytes()));
        assert_png_of(&output, text.as_bytes(), Engine::default());
    }
}

#[test]
fn longest_texts_pass() {
    let ascii = "a".repeat(512);
    assert_png_of(
        &qr_cli(&[&ascii], None),
        ascii.as_bytes(),
        Engine::default(),
    );
    let output = qr_cli(&["-"], Some(ascii.as_bytes()));
    assert_png_of(&output, ascii.as_bytes(), Engine::default());
    let cjk = "漢".repeat(170);
    assert_png_of(&qr_cli(&[&cjk], None), cjk.as_bytes(), Engine::default());
}

#[test]
fn too_long_text_is_exit_1() {
    let too_long = "text must be <= 512 bytes\n";
    let ascii = "a".repeat(513);
    let cjk = "漢".repeat(171);
    assert_eq!(cjk.len(), 513);
    for text in [&ascii, &cjk] {
        assert_fails(&qr_cli(&[text], None), 1, too_long);
        assert_fails(&qr_cli(&["-"], Some(text.as_bytes())), 1, too_long);
    }
    // Far more than the limit on stdin: judged without reading it all.
    let huge = vec![b'x'; 1 << 20];
    assert_fails(&qr_cli(&["-"], Some(&huge)), 1, too_long);
}

#[test]
fn empty_text_is_exit_1() {
    let missing = "missing \"text\" query param\n";
    assert_fails(&qr_cli(&[""], None), 1, missing);
    assert_fails(&qr_cli(&["--", ""], None), 1, missing);
    assert_fails(&qr_cli(&["-"], Some(b"")), 1, missing);
}

#[test]
fn non_utf8_stdin_is_exit_1() {
    for bytes in [&b"\xff"[..], b"abc\xc3", b"\xed\xa0\x80"] {
        let output = qr_cli(&["-"], Some(bytes));
        assert_fails(&output, 1, "\"text\" query param must be valid UTF-8\n");
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_argv_never_panics() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    let bad = || OsString::from_vec(b"caf\xe9".to_vec());
    let valid_utf8 = "\"text\" query param must be valid UTF-8\n";
    assert_fails(&qr_cli(&[bad()], None), 1, valid_utf8);
    assert_fails(&qr_cli(&[OsString::from("--"), bad()], None), 1, valid_utf8);
    let long = OsString::from_vec([b'\xff'; 513].to_vec());
    assert_fails(&qr_cli(&[long], None), 1, "text must be <= 512 bytes\n");
    assert_usage_error(&[OsString::from_vec(b"-\xff".to_vec())]);
    assert_usage_error(&[OsString::from("--engine"), bad(), OsString::from("x")]);
}

#[test]
fn usage_errors_are_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["--"],
        &["--bogus"],
        &["-x", "text"],
        &["one", "two"],
        &["--", "one", "two"],
        &["one", "--", "two"],
        &["-", "extra"],
        &["-", "--", "-"],
        &["--engine"],
        &["--engine", "nope", "text"],
        &["--engine=", "text"],
        &["--engine", "fast", "--engine", "fast", "text"],
    ];
    for args in cases {
        assert_usage_error(args);
    }
    assert!(assert_usage_error(&[] as &[&str]).contains("<TEXT>"));
    assert!(assert_usage_error(&["-x"]).contains("'-x'"));
}

#[test]
fn unknown_engine_is_exit_2_and_names_the_engines() {
    for args in [&["--engine", "nope", "text"][..], &["--engine=nope", "-"]] {
        let stderr = assert_usage_error(args);
        // The core's own message, which lists `Engine::ALL` (node/tests/tier-1.test.js reads it).
        let message = "nope".parse::<Engine>().unwrap_err().to_string();
        assert!(stderr.contains(&message), "{stderr}");
        assert!(stderr.contains("'--engine <ENGINE>'"), "{stderr}");
    }
}

#[test]
fn help_is_exit_0_on_stdout_with_options_defaults_exit_codes_and_examples() {
    for flag in ["--help", "-h"] {
        for args in [
            &[flag][..],
            &["--engine", "article", flag],
            &["hello", flag],
        ] {
            let output = qr_cli(args, None);
            let help = String::from_utf8_lossy(&output.stdout);
            assert_eq!(output.status.code(), Some(0), "{args:?}");
            assert!(output.stderr.is_empty(), "{args:?}");
            assert!(help.contains(USAGE), "{help}");
            assert!(help.contains("--engine <ENGINE>"), "{help}");
            assert!(
                help.contains(&format!("[default: {}]", Engine::default())),
                "{help}"
            );
            let names: Vec<&str> = Engine::ALL.iter().map(|engine| engine.name()).collect();
            assert!(
                help.contains(&format!("[possible values: {}]", names.join(", "))),
                "{help}"
            );
            assert!(help.contains("--version"), "{help}");
            assert!(
                help.contains(&format!("1 to {} bytes", qr_core::MAX_TEXT_BYTES)),
                "{help}"
            );
            assert!(help.contains("Exit status:"), "{help}");
            for code in ["  0  ", "  1  ", "  2  usage error"] {
                assert!(help.contains(code), "{code:?} in {help}");
            }
            assert!(help.contains("Examples:\n  qr-cli "), "{help}");
            assert!(help.contains(" - > "), "an example reads stdin: {help}");
        }
    }
}

#[test]
fn version_is_exit_0_on_stdout() {
    for flag in ["--version", "-V"] {
        let output = qr_cli(&[flag], None);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("qr-cli {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert!(output.stderr.is_empty());
    }
}

#[test]
fn flags_after_the_text_are_still_flags() {
    let text = "hello";
    for &engine in Engine::ALL {
        let output = qr_cli(&[text, "--engine", engine.name()], None);
        assert_png_of(&output, text.as_bytes(), engine);
    }
}
