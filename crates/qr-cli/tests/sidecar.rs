//! `qr-cli --serve` end to end: the real binary driven through its pipes with the protocol's frames,
//! each with its options record.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};

use qr_cli::wire::{self, Frame, MAX_ID, MAX_REQUEST_LEN, MAX_RESPONSE_LEN, RECORD_LEN, Status};
use qr_core::{EcLevel, Engine, Format, OptionName, Options, QrError, Rgba, record};

const TARGETS: &str = include_str!("../../../contract/article-texts.txt");

/// Starts `qr-cli --serve` with `args` before `--serve`.
fn sidecar(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qr-cli"))
        .args(args)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qr-cli --serve starts")
}

/// Writes `input` to a new sidecar, closes its stdin and waits for it.
fn serve(args: &[&str], input: &[u8]) -> Output {
    let mut child = sidecar(args);
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A sidecar that stops at a malformed frame may not read the rest: a broken pipe is fine then.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("qr-cli --serve finishes")
}

/// An owned response.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: Status,
    body: Vec<u8>,
}

/// Every response frame of `stdout` by id (each id once), checking that nothing else is there.
fn answers(stdout: &[u8]) -> HashMap<u32, Answer> {
    let mut answers = HashMap::new();
    let mut rest = stdout;
    while !rest.is_empty() {
        let (frame, used) = wire::decode(rest, MAX_RESPONSE_LEN)
            .expect("well-formed responses")
            .expect("whole frames only");
        let Frame::Response { id, status, body } = frame else {
            panic!("a request frame on stdout: {frame:?}");
        };
        let answer = Answer {
            status,
            body: body.to_vec(),
        };
        assert!(
            answers.insert(id, answer).is_none(),
            "id {id} answered twice"
        );
        rest = &rest[used..];
    }
    answers
}

/// The record of the default options (the engine is not in it).
fn default_record() -> [u8; RECORD_LEN] {
    record::encode(&Options::default())
}

/// A request frame for `id` and `text` with the default options.
fn request(id: u32, text: &[u8]) -> Vec<u8> {
    wire::encode_request(id, &default_record(), text)
}

/// Request frames for `(id, text)` pairs with the default options, concatenated.
fn requests<'a>(pairs: impl IntoIterator<Item = (u32, &'a [u8])>) -> Vec<u8> {
    pairs
        .into_iter()
        .flat_map(|(id, text)| request(id, text))
        .collect()
}

fn png(text: &str, engine: Engine) -> Answer {
    image(text, &Options::with_engine(engine))
}

/// The answer `qr_core::generate` gives for `text` and `options`.
fn image(text: &str, options: &Options) -> Answer {
    Answer {
        status: Status::Image,
        body: qr_core::generate(text, options).unwrap(),
    }
}

fn bad_input(err: QrError) -> Answer {
    Answer {
        status: Status::BadInput,
        body: err.to_string().into_bytes(),
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn pipelined_requests_each_get_the_cores_png_then_exit_0() {
    let texts: Vec<&str> = TARGETS.lines().filter(|line| !line.is_empty()).collect();
    for &engine in Engine::ALL {
        // 300 requests in one write, ids out of order and at the edges of the id space.
        let ids: Vec<u32> = (0..300_u32)
            .map(|i| match i {
                0 => MAX_ID,
                1 => 0,
                _ => (i * 7919) % 1000 + 1,
            })
            .collect();
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        let text_of = |i: usize| texts[i % texts.len()];
        let input = requests(
            ids.iter()
                .enumerate()
                .map(|(i, &id)| (id, text_of(i).as_bytes())),
        );
        let output = serve(&["--engine", engine.name()], &input);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stderr(&output), "");
        let answers = answers(&output.stdout);
        assert_eq!(answers.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(answers[id], png(text_of(i), engine), "id {id} ({engine})");
        }
    }
}

#[test]
fn the_default_engine_is_the_cores() {
    let output = serve(&[], &request(1, b"default"));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        answers(&output.stdout)[&1],
        png("default", Engine::default())
    );
}

#[test]
fn bad_text_is_a_typed_answer_and_serving_goes_on() {
    let long = [b'a'; 513];
    let input = requests([
        (1, &b""[..]),
        (2, &long[..]),
        (3, b"\xff\xfe"),
        (4, b"fine"),
        (5, b"nul\0inside"),
    ]);
    let output = serve(&["--engine", "fast"], &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let answers = answers(&output.stdout);
    let bad = |message: &str| Answer {
        status: Status::BadInput,
        body: message.as_bytes().to_vec(),
    };
    assert_eq!(answers[&1], bad("missing \"text\" query param"));
    assert_eq!(answers[&2], bad("text must be <= 512 bytes"));
    assert_eq!(answers[&3], bad("\"text\" query param must be valid UTF-8"));
    assert_eq!(answers[&4], png("fine", Engine::Fast));
    assert_eq!(answers[&5], png("nul\0inside", Engine::Fast));
}

#[test]
fn stdin_closed_at_once_is_exit_0_with_nothing_written() {
    let output = serve(&[], b"");
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}

/// Asserts exit 1, one stderr line matching `line`, and the answers to the requests before it.
fn assert_broken(input: &[u8], line: &str, answered: &[u32]) {
    let output = serve(&["--engine", "fast"], input);
    assert_eq!(output.status.code(), Some(1), "{line}");
    assert_eq!(stderr(&output), format!("{line}\n"));
    let mut ids: Vec<u32> = answers(&output.stdout).into_keys().collect();
    ids.sort_unstable();
    assert_eq!(ids, answered, "{line}");
}

#[test]
fn a_malformed_frame_answers_what_came_before_then_exits_1() {
    let good = requests([(1, &b"one"[..]), (2, b"two")]);
    let with = |tail: &[u8]| [&good[..], tail].concat();
    // Too long: known from the length field alone.
    let too_long = (MAX_REQUEST_LEN + 1).to_le_bytes();
    assert_broken(
        &with(&too_long),
        "malformed frame on stdin: frame length 65537 is above 65536",
        &[1, 2],
    );
    assert_broken(
        &with(&[0, 0, 0, 0]),
        "malformed frame on stdin: frame length 0 is too short",
        &[1, 2],
    );
    // A response frame sent to the sidecar.
    let mut response = wire::response_header(9, Status::Image, 1).to_vec();
    response.push(b'x');
    assert_broken(
        &with(&response),
        "malformed frame on stdin: frame 9 has the response bit set",
        &[1, 2],
    );
    // Stdin closed in the middle of a frame.
    let cut = request(3, b"cut short");
    assert_broken(
        &with(&cut[..10]),
        "stdin closed in the middle of a frame (10 bytes)",
        &[1, 2],
    );
    // A request too short to hold its options record.
    let mut short = 10_u32.to_le_bytes().to_vec();
    short.extend_from_slice(&[0; 10]);
    assert_broken(
        &with(&short),
        "malformed frame on stdin: frame length 10 is too short",
        &[1, 2],
    );
}

#[test]
fn an_oversized_frame_is_refused_without_waiting_for_its_bytes() {
    // Stdin stays open: the sidecar must not wait for the 4 GB it was promised.
    let mut child = sidecar(&[]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&u32::MAX.to_le_bytes()).unwrap();
    stdin.flush().unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    child.stderr.unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(
        stderr,
        "malformed frame on stdin: frame length 4294967295 is above 65536\n"
    );
}

#[test]
fn answers_come_while_stdin_stays_open() {
    // Node keeps the pipe open: every request is answered without waiting for more input.
    let mut child = sidecar(&["--engine", "fast"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    for id in [5, 4, 3] {
        stdin
            .write_all(&request(id, format!("open {id}").as_bytes()))
            .unwrap();
        let mut header = [0; 8];
        stdout.read_exact(&mut header).unwrap();
        let len = u32::from_le_bytes(header[..4].try_into().unwrap()) as usize;
        let mut frame = header.to_vec();
        frame.resize(4 + len, 0);
        stdout.read_exact(&mut frame[8..]).unwrap();
        assert_eq!(
            answers(&frame)[&id],
            png(&format!("open {id}"), Engine::Fast)
        );
    }
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn an_unknown_engine_exits_2_at_once_with_clap_message() {
    let output = serve(&["--engine", "nope"], b"");
    assert_eq!(output.status.code(), Some(2));
    let first = stderr(&output)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        first.starts_with(
            "error: invalid value 'nope' for '--engine <ENGINE>': unknown engine \"nope\""
        ),
        "{first}"
    );
}

/// The options the request frames below carry, with `engine`.
fn option_sets(engine: Engine) -> Vec<Options> {
    let mut svg = Options::with_engine(engine);
    svg.format = Format::Svg;
    let mut brand = svg;
    brand.size = Some(300);
    brand.margin = 2;
    brand.ec_level = EcLevel::H;
    brand.dark = Rgba([0x0b, 0x3d, 0x91, 0xff]);
    brand.light = Rgba([0xff, 0xff, 0xff, 0]);
    let mut large = Options::with_engine(engine);
    large.size = Some(1000);
    large.ec_level = EcLevel::Q;
    large.margin = 0;
    large.dark = Rgba([0x0b, 0x3d, 0x91, 0x80]);
    vec![svg, brand, large, Options::with_engine(engine)]
}

#[test]
fn each_request_carries_its_options_and_gets_the_cores_bytes() {
    let text = "https://github.com/pretzelhammer/rust-blog";
    for &engine in Engine::ALL {
        let sets = option_sets(engine);
        let input: Vec<u8> = (0..)
            .zip(&sets)
            .flat_map(|(id, options)| {
                wire::encode_request(id, &record::encode(options), text.as_bytes())
            })
            .collect();
        let output = serve(&["--engine", engine.name()], &input);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let answers = answers(&output.stdout);
        for (id, options) in (0..).zip(&sets) {
            assert_eq!(answers[&id], image(text, options), "{options:?}");
        }
        assert!(answers[&0].body.starts_with(b"<svg"), "an SVG");
        assert_eq!(answers[&3], png(text, engine), "the default record");
    }
}

#[test]
fn bad_options_are_typed_answers_with_the_contracts_message() {
    let record = default_record();
    let with = |at: usize, value: u8| {
        let mut changed = record;
        changed[at] = value;
        changed
    };
    let mut too_small = Options::default();
    too_small.size = Some(28);
    let input = [
        // Version 1 with a 4-module margin needs 29 pixels (docs/api.md).
        wire::encode_request(1, &record::encode(&too_small), b"hello"),
        wire::encode_request(2, &with(0, 2), b"hello"),
        wire::encode_request(3, &with(1, 4), b"hello"),
        wire::encode_request(4, &with(2, 21), b"hello"),
        wire::encode_request(5, &with(4, 20), b"hello"),
        // The text's rule first, as over HTTP.
        wire::encode_request(6, &with(0, 2), b""),
        wire::encode_request(7, &record, b"fine"),
    ]
    .concat();
    let output = serve(&["--engine", "fast"], &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let answers = answers(&output.stdout);
    assert_eq!(answers[&1], bad_input(QrError::SizeTooSmall { min: 29 }));
    assert_eq!(
        answers[&1].body,
        b"\"size\" must be at least 29 pixels for this text, ecLevel and margin"
    );
    assert_eq!(
        answers[&2],
        bad_input(QrError::BadOption(OptionName::Format))
    );
    assert_eq!(
        answers[&3],
        bad_input(QrError::BadOption(OptionName::EcLevel))
    );
    assert_eq!(
        answers[&4],
        bad_input(QrError::BadOption(OptionName::Margin))
    );
    assert_eq!(answers[&5], bad_input(QrError::BadOption(OptionName::Size)));
    assert_eq!(answers[&6], bad_input(QrError::Missing));
    assert_eq!(answers[&7], png("fine", Engine::Fast));
}

#[test]
fn the_largest_image_allowed_fits_a_response_frame() {
    let text = "\u{1f980}".repeat(128); // 512 bytes
    for &engine in Engine::ALL {
        for format in [Format::Png, Format::Svg] {
            let mut options = Options::with_engine(engine);
            options.format = format;
            options.size = Some(qr_core::MAX_SIZE);
            options.margin = qr_core::MAX_MARGIN;
            options.ec_level = EcLevel::H;
            options.dark = Rgba([0x0b, 0x3d, 0x91, 0x80]);
            options.light = Rgba([0xff, 0xff, 0xfe, 0x10]);
            let image = qr_core::generate(&text, &options).unwrap();
            assert!(
                5 + image.len() <= MAX_RESPONSE_LEN as usize,
                "{} bytes ({options:?})",
                image.len()
            );
            let input = wire::encode_request(1, &record::encode(&options), text.as_bytes());
            let output = serve(&["--engine", engine.name()], &input);
            assert_eq!(answers(&output.stdout)[&1].body, image);
        }
    }
}
