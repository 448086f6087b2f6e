//! The Node decoders, reached from Rust: npm `jsqr` (payload bytes) and ZXing (`zxing-wasm`: the
//! text a phone scanner shows and the EC level it reads), in one long-lived
//! `node lab/qr-decode/decode-lines.js` process shared by the whole test binary.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

use crate::EcLevel;

/// What the Node decoders read in one PNG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readings {
    /// jsqr's payload bytes, or why it could not read them.
    pub jsqr: Result<Vec<u8>, String>,
    /// ZXing's text and EC level, or why it could not read them.
    pub zxing: Result<(String, EcLevel), String>,
}

/// How long one PNG may take to decode before the decoder process counts as stuck.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

struct Decoder {
    child: Child,
    stdin: ChildStdin,
    /// The answer lines, read by a thread so that a stuck decoder is a timeout, not a hang.
    answers: mpsc::Receiver<String>,
}

impl Drop for Decoder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static DECODER: Mutex<Option<Decoder>> = Mutex::new(None);

/// Reads `png` with jsqr and ZXing. `resample` lets jsqr retry on module centres sampled from the
/// image (for tier-0's fractional module sizes only). `Err` means the decoder process failed.
pub fn read(png: &[u8], resample: bool) -> Result<Readings, String> {
    let mut guard = DECODER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if guard.is_none() {
        *guard = Some(start()?);
    }
    let decoder = guard.as_mut().expect("started above");
    let mut hex = String::with_capacity(png.len() * 2);
    for byte in png {
        write!(hex, "{byte:02x}").expect("writing to a String");
    }
    let line = format!("{{\"png\":\"{hex}\",\"resample\":{resample}}}\n");
    let answer = match decoder.stdin.write_all(line.as_bytes()) {
        Ok(()) => decoder.answers.recv_timeout(ANSWER_TIMEOUT).ok(),
        Err(_) => None,
    };
    let Some(answer) = answer else {
        *guard = None; // dropping it kills the process; the next call starts a new one
        return Err(format!(
            "the Node decoder process stopped or gave no answer within {ANSWER_TIMEOUT:?}"
        ));
    };
    let answer: Value = serde_json::from_str(&answer)
        .map_err(|e| format!("the Node decoder said {answer:?}: {e}"))?;
    let reading = |value: &str, error: &str| match (&answer[value], &answer[error]) {
        (Value::String(value), _) => Ok(value.clone()),
        (_, Value::String(why)) => Err(why.clone()),
        _ => Err(format!("the Node decoder said {answer}")),
    };
    Ok(Readings {
        jsqr: reading("jsqr", "jsqrError")
            .and_then(|hex| from_hex(&hex))
            .map_err(|why| format!("jsqr cannot read it: {why}")),
        zxing: zxing_reading(&answer).map_err(|why| format!("ZXing cannot read it: {why}")),
    })
}

/// ZXing's `{"text": ..., "ecLevel": ...}` in `answer`, or its `zxingError`.
fn zxing_reading(answer: &Value) -> Result<(String, EcLevel), String> {
    if let Value::String(why) = &answer["zxingError"] {
        return Err(why.clone());
    }
    let read = &answer["zxing"];
    match (read["text"].as_str(), read["ecLevel"].as_str()) {
        (Some(text), Some(level)) => Ok((text.to_owned(), level.parse()?)),
        _ => Err(format!("the Node decoder said {answer}")),
    }
}

fn start() -> Result<Decoder, String> {
    let root = crate::repo_root();
    for package in ["jsqr", "zxing-wasm"] {
        if !root.join("node/node_modules").join(package).is_dir() {
            return Err(format!(
                "node/node_modules/{package} is missing: run `cargo xtask build`"
            ));
        }
    }
    let mut child = Command::new("node")
        .arg("lab/qr-decode/decode-lines.js")
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node for the decoders: {e}"))?;
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let (sender, answers) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    Ok(Decoder {
        stdin: child.stdin.take().expect("piped"),
        answers,
        child,
    })
}

fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("bad hex {hex:?}"))
        })
        .collect()
}
