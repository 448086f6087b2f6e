//! `qr-cli --serve`: answers request frames ([`crate::wire`]) until its input closes.
//!
//! Plain std threads, chosen by measurement over tokio-util's `LengthDelimitedCodec` (README.md):
//! one reader thread decodes frames and queues jobs; one compute thread per CPU renders them; the
//! calling thread is the single writer, so response frames never interleave. Answers go out in
//! the order they are ready, not the order they were asked.

use std::io::{self, BufWriter, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use qr_core::{Engine, record};

use crate::wire::{self, FrameError, RECORD_LEN, Status};

/// How many decoded requests may wait for a compute thread (per thread) before the reader stops
/// reading; Node bounds what it has in flight anyway.
const QUEUE_PER_THREAD: usize = 64;
/// The reader's read size.
const READ_CHUNK: usize = 64 * 1024;

/// Why serving stopped with an error (the process then exits 1 with this as its stderr line).
#[derive(Debug)]
pub enum ServeError {
    /// The input broke the protocol: the stream cannot be trusted any more.
    Frame(FrameError),
    /// The input ended in the middle of a frame.
    Truncated { bytes: usize },
    /// Reading the input failed.
    Read(io::Error),
    /// Writing an answer failed (Node is gone).
    Write(io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Frame(err) => write!(f, "malformed frame on stdin: {err}"),
            ServeError::Truncated { bytes } => {
                write!(f, "stdin closed in the middle of a frame ({bytes} bytes)")
            }
            ServeError::Read(err) => write!(f, "failed to read stdin: {err}"),
            ServeError::Write(err) => write!(f, "failed to write to stdout: {err}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// One request for a compute thread.
struct Job {
    id: u32,
    record: [u8; RECORD_LEN],
    text: Vec<u8>,
}

/// One answer for the writer.
struct Answer {
    id: u32,
    status: Status,
    body: Vec<u8>,
}

/// Serves `input` -> `output` with `engine` and `threads` compute threads (at least one). Returns
/// `Ok` once the input closed and every request read was answered; a broken input frame answers the
/// requests before it, then returns the error; a failed write returns at once.
pub fn serve<R, W>(engine: Engine, threads: usize, input: R, output: W) -> Result<(), ServeError>
where
    R: Read + Send + 'static,
    W: Write,
{
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(QUEUE_PER_THREAD * threads.max(1));
    let (answer_tx, answer_rx) = mpsc::channel::<Answer>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    for _ in 0..threads.max(1) {
        let (jobs, answers) = (Arc::clone(&job_rx), answer_tx.clone());
        thread::spawn(move || compute(engine, &jobs, &answers));
    }
    drop(answer_tx);
    let reader = thread::spawn(move || read_requests(input, &job_tx));
    write_answers(&answer_rx, output)?;
    // Every compute thread has finished, so the reader has dropped its sender: it has returned.
    reader
        .join()
        .unwrap_or_else(|panic| panic::resume_unwind(panic))
}

/// The reader: decodes frames from `input` and queues them until the input ends or breaks.
fn read_requests<R: Read>(mut input: R, jobs: &SyncSender<Job>) -> Result<(), ServeError> {
    let mut buf = Vec::with_capacity(READ_CHUNK);
    let mut chunk = vec![0; READ_CHUNK];
    loop {
        let read = match input.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Ok(()),
            Ok(0) => return Err(ServeError::Truncated { bytes: buf.len() }),
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ServeError::Read(err)),
        };
        buf.extend_from_slice(&chunk[..read]);
        let mut start = 0;
        while let Some((request, used)) =
            wire::decode_request(&buf[start..]).map_err(ServeError::Frame)?
        {
            let job = Job {
                id: request.id,
                record: *request.record,
                text: request.text.to_vec(),
            };
            start += used;
            if jobs.send(job).is_err() {
                return Ok(()); // the writer gave up (a failed write): it reports that
            }
        }
        buf.drain(..start);
    }
}

/// A compute thread: renders jobs until the reader is done and the queue is empty.
fn compute(engine: Engine, jobs: &Mutex<Receiver<Job>>, answers: &mpsc::Sender<Answer>) {
    loop {
        // The guard is dropped at the end of the statement, before rendering.
        let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(Job { id, record, text }) = job else {
            return;
        };
        // qr-core never panics; if it ever did, the request still gets its answer.
        let (status, body) =
            panic::catch_unwind(AssertUnwindSafe(|| render(engine, &record, &text)))
                .unwrap_or_else(|_| (Status::Failed, b"qr-cli panicked".to_vec()));
        if answers.send(Answer { id, status, body }).is_err() {
            return; // the writer gave up
        }
    }
}

/// The answer to one request: the contract's text rule, then the options record's (the order of
/// the HTTP checks), then the image; else the core's message.
fn render(engine: Engine, record: &[u8; RECORD_LEN], bytes: &[u8]) -> (Status, Vec<u8>) {
    let image = qr_core::text(bytes).and_then(|text| {
        let options = record::decode(engine, record)?;
        qr_core::generate(text, &options)
    });
    match image {
        Ok(image) => (Status::Image, image),
        Err(err) if err.is_bad_input() => (Status::BadInput, err.to_string().into_bytes()),
        Err(err) => (Status::Failed, err.to_string().into_bytes()),
    }
}

/// The single writer: writes answers as they come, flushing whenever none is waiting.
fn write_answers<W: Write>(answers: &Receiver<Answer>, output: W) -> Result<(), ServeError> {
    let mut output = BufWriter::new(output);
    while let Ok(mut answer) = answers.recv() {
        loop {
            let header = wire::response_header(answer.id, answer.status, answer.body.len());
            output
                .write_all(&header)
                .and_then(|()| output.write_all(&answer.body))
                .map_err(ServeError::Write)?;
            match answers.try_recv() {
                Ok(next) => answer = next,
                Err(_) => break,
            }
        }
        output.flush().map_err(ServeError::Write)?;
    }
    Ok(())
}
