//! The suite's second decoder: npm `jsqr`, independent of rqrr and of every encoder, in one
//! long-lived `node node/testing/decode-lines.js` process shared by the whole suite.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

struct Jsqr {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Jsqr {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static JSQR: Mutex<Option<Jsqr>> = Mutex::new(None);

/// Decodes `png` with jsqr. `resample` lets it retry on module centres sampled from the image, for
/// tier-0's fractional module sizes only.
pub fn decode(png: &[u8], resample: bool) -> Result<Vec<u8>, String> {
    let mut guard = JSQR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if guard.is_none() {
        *guard = Some(start()?);
    }
    let jsqr = guard.as_mut().expect("started above");
    let mut line = String::with_capacity(2 + png.len() * 2);
    line.push_str(if resample { "1 " } else { "0 " });
    for byte in png {
        write!(line, "{byte:02x}").expect("writing to a String");
    }
    line.push('\n');
    let mut answer = String::new();
    let exchanged = jsqr
        .stdin
        .write_all(line.as_bytes())
        .and_then(|()| jsqr.stdout.read_line(&mut answer));
    match exchanged {
        Ok(n) if n > 0 => {}
        _ => {
            *guard = None;
            return Err("the jsqr decoder process stopped".into());
        }
    }
    match answer.trim_end().split_once(' ') {
        Some(("ok", hex)) => from_hex(hex),
        Some(("err", why)) => Err(format!("jsqr cannot decode it: {why}")),
        _ => Err(format!("jsqr decoder said {answer:?}")),
    }
}

fn start() -> Result<Jsqr, String> {
    let root = qr_harness::repo_root();
    if !root.join("node/node_modules/jsqr").is_dir() {
        return Err("node/node_modules/jsqr is missing: run `cargo xtask build`".into());
    }
    let mut child = Command::new("node")
        .arg("node/testing/decode-lines.js")
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node for jsqr: {e}"))?;
    Ok(Jsqr {
        stdin: child.stdin.take().expect("piped"),
        stdout: BufReader::new(child.stdout.take().expect("piped")),
        child,
    })
}

fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("bad hex from the jsqr decoder: {hex:?}"))
        })
        .collect()
}
