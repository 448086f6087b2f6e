//! The real `qr-cli` binary: exit codes, stdout (decoded back with rqrr, and the same bytes as
//! `qr_core::generate`'s) and stderr, with and without the image options.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use qr_core::{Engine, Format, OptionName, Options, QrError};

const TARGETS: &str = include_str!("../../../contract/article-texts.txt");
const USAGE: &str = "Usage: qr-cli [--engine ENGINE] [IMAGE OPTIONS] [--] TEXT\n       qr-cli [--engine ENGINE] [IMAGE OPTIONS] -\n       qr-cli [--engine ENGINE] --serve\n";

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
    assert_eq!(decode(&output.stdout), text);
    assert_image_of(output, text, &Options::with_engine(engine));
}

/// Asserts success with exactly `qr_core::generate`'s bytes for `text` and `options`, and a
/// silent stderr.
fn assert_image_of(output: &Output, text: &[u8], options: &Options) {
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "stderr is empty on success"
    );
    assert_eq!(output.status.code(), Some(0));
    let expected = qr_core::generate(std::str::from_utf8(text).unwrap(), options).unwrap();
    assert!(
        output.stdout == expected,
        "same bytes as qr_core::generate ({options:?})"
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
            for code in ["  0  ", "  1  bad input", "  2  usage error", "  3  "] {
                assert!(help.contains(code), "{code:?} in {help}");
            }
            assert!(help.contains("Image options:"), "{help}");
            for flag in [
                "--format <FORMAT>",
                "--size <PIXELS>",
                "--margin <MODULES>",
                "--ec-level <LEVEL>",
                "--dark <HEX>",
                "--light <HEX>",
            ] {
                assert!(help.contains(flag), "{flag} in {help}");
            }
            let bounds = [
                format!("{} to {}", qr_core::MIN_SIZE, qr_core::MAX_SIZE),
                format!("0 to {}", qr_core::MAX_MARGIN),
                format!("[default: {}]", qr_core::DEFAULT_MARGIN),
            ];
            for bound in bounds {
                assert!(help.contains(&bound), "{bound} in {help}");
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

/// The options of `flags` (name, value pairs), set as `Options::set` sets them.
fn options_of(engine: Engine, flags: &[(OptionName, &str)]) -> Options {
    let mut options = Options::with_engine(engine);
    for &(option, value) in flags {
        options.set(option, value.as_bytes()).unwrap();
    }
    options
}

/// The command-line arguments for `flags`: `--format svg`, `--ec-level H`, ...
fn args_of(engine: Engine, flags: &[(OptionName, &str)]) -> Vec<String> {
    let mut args = vec!["--engine".to_owned(), engine.name().to_owned()];
    for &(option, value) in flags {
        let flag = match option {
            OptionName::EcLevel => "ec-level",
            other => other.name(),
        };
        args.extend([format!("--{flag}"), value.to_owned()]);
    }
    args
}

#[test]
fn image_options_give_the_cores_bytes_png_and_svg_with_every_engine() {
    let text = "https://github.com/pretzelhammer/rust-blog";
    let sets: &[&[(OptionName, &str)]] = &[
        &[(OptionName::Format, "svg")],
        &[
            (OptionName::Format, "SVG"),
            (OptionName::Size, "300"),
            (OptionName::Margin, "2"),
            (OptionName::EcLevel, "h"),
            (OptionName::Dark, "#0b3d91"),
            (OptionName::Light, "ffffff00"),
        ],
        &[(OptionName::Size, "1000"), (OptionName::EcLevel, "Q")],
        &[(OptionName::Margin, "0"), (OptionName::Dark, "0B3D9180")],
        // Every option at its default: the bytes of no options.
        &[
            (OptionName::Format, "png"),
            (OptionName::Margin, "4"),
            (OptionName::EcLevel, "L"),
            (OptionName::Dark, "000000"),
            (OptionName::Light, "ffffffff"),
        ],
    ];
    for &engine in Engine::ALL {
        for flags in sets {
            let options = options_of(engine, flags);
            let mut args = args_of(engine, flags);
            args.push(text.to_owned());
            let output = qr_cli(&args, None);
            assert_image_of(&output, text.as_bytes(), &options);
            let svg = output.stdout.starts_with(b"<svg");
            assert_eq!(svg, options.format == Format::Svg, "{args:?}");
            // The text from stdin, after the flags, is the same.
            args.pop();
            args.push("-".to_owned());
            assert_image_of(
                &qr_cli(&args, Some(text.as_bytes())),
                text.as_bytes(),
                &options,
            );
        }
        let defaults = args_of(engine, sets[4]);
        let output = qr_cli(&[&defaults[..], &[text.to_owned()]].concat(), None);
        assert_png_of(&output, text.as_bytes(), engine);
    }
}

#[test]
fn a_size_too_small_for_the_text_is_exit_1_with_the_minimum() {
    // Version 1 with a 4-module margin needs 29 pixels (docs/api.md).
    let too_small = QrError::SizeTooSmall { min: 29 }.to_string();
    for &engine in Engine::ALL {
        let args = args_of(engine, &[(OptionName::Size, "28")]);
        let output = qr_cli(&[&args[..], &["hello".to_owned()]].concat(), None);
        assert_fails(&output, 1, &format!("{too_small}\n"));
        let args = args_of(engine, &[(OptionName::Size, "29")]);
        let output = qr_cli(&[&args[..], &["hello".to_owned()]].concat(), None);
        assert_eq!(output.status.code(), Some(0), "29 pixels are enough");
    }
    // The margin counts: no margin, 21 pixels are enough.
    let output = qr_cli(&["--size", "21", "--margin", "0", "hello"], None);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn an_option_that_breaks_its_rule_is_exit_1_with_the_contracts_message() {
    let cases: &[(&[&str], OptionName)] = &[
        (&["--format", "gif"], OptionName::Format),
        (&["--format", ""], OptionName::Format),
        (&["--size", "20"], OptionName::Size),
        (&["--size", "1001"], OptionName::Size),
        (&["--size", "+300"], OptionName::Size),
        (&["--margin", "21"], OptionName::Margin),
        (&["--ec-level", "X"], OptionName::EcLevel),
        (&["--dark", "fff"], OptionName::Dark),
        (&["--light", "##ffffff"], OptionName::Light),
        // Checked in the contract's order: format before size before light.
        (
            &["--light", "nope", "--size", "0", "--format", "jpeg"],
            OptionName::Format,
        ),
        (&["--light", "nope", "--size", "0"], OptionName::Size),
    ];
    for (flags, option) in cases {
        let message = format!("{}\n", option.rule());
        assert_fails(
            &qr_cli(&[&flags[..], &["hello"]].concat(), None),
            1,
            &message,
        );
        let output = qr_cli(&[&flags[..], &["-"]].concat(), Some(b"hello"));
        assert_fails(&output, 1, &message);
    }
    // The text's own rule comes first.
    let output = qr_cli(&["--size", "1", "-"], Some(b""));
    assert_fails(&output, 1, "missing \"text\" query param\n");
}

#[cfg(unix)]
#[test]
fn a_non_utf8_option_value_breaks_its_rule() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    let bad = OsString::from_vec(b"sv\xe9".to_vec());
    let output = qr_cli(
        &[OsString::from("--format"), bad, OsString::from("x")],
        None,
    );
    assert_fails(&output, 1, &format!("{}\n", OptionName::Format.rule()));
}

#[test]
fn image_options_with_serve_or_twice_are_usage_errors() {
    assert_usage_error(&["--serve", "--format", "svg"]);
    assert_usage_error(&["--size", "300", "--size", "400", "x"]);
    assert_usage_error(&["--margin"]);
}

#[test]
fn the_most_expensive_request_allowed_is_answered() {
    let text = "\u{1f980}".repeat(128); // 512 bytes
    for &engine in Engine::ALL {
        for format in ["png", "svg"] {
            let flags = [
                (OptionName::Format, format),
                (OptionName::Size, "1000"),
                (OptionName::Margin, "20"),
                (OptionName::EcLevel, "H"),
                (OptionName::Dark, "0b3d9180"),
                (OptionName::Light, "ffffff00"),
            ];
            let mut args = args_of(engine, &flags);
            args.push("-".to_owned());
            let output = qr_cli(&args, Some(text.as_bytes()));
            assert_image_of(&output, text.as_bytes(), &options_of(engine, &flags));
        }
    }
}
