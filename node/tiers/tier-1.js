// Tier 1: the hot function is a Rust command-line program, spawned once per request (the article's strategy).
// Loaded by node/server.js (`node server.js --tier tier-1`); tested by node/tests/tier-1.test.js.
// The binary: env RUSTY_QR_CLI, else <repo>/target/release/qr-cli (built by `cargo xtask build`).
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const { hasOptions } = require('./options-record');

const CLI = process.env.RUSTY_QR_CLI || path.join(__dirname, '..', '..', 'target', 'release', 'qr-cli');
/** A child that has not exited by then is killed with SIGKILL and the request fails (500). */
const TIMEOUT_MS = 5_000;
/** Spawn failures that mean "out of processes or file descriptors right now": 503, not 500. */
const BUSY_CODES = new Set(['EAGAIN', 'EMFILE', 'ENFILE']);
/** At most this much of the child's stderr is kept for the error message. */
const MAX_STDERR = 4096;
/** qr-cli's exit status for bad input: its stderr line is the contract's message (a 400). */
const EXIT_BAD_INPUT = 1;

/**
 * Makes a `(text, engine, options) -> Promise<Buffer>` that runs `qr-cli [--engine E] [--FLAG=VALUE]... -` with
 * the text on stdin (so a NUL byte passes and nothing is read as a flag), one flag per option given (`ecLevel`
 * -> `--ec-level`; joined to its value, so that no value is ever read as a flag). Success is exit status 0 with a non-empty stdout, never judged by stderr. Errors: the child's
 * first stderr line (the core's message) as the message, with `code: 'BAD_INPUT'` for exit status 1 (bad input);
 * `code: 'BUSY'` when the spawn failed for lack of processes or descriptors. Tests pass other settings.
 */
function createGenerator({ cli = CLI, timeoutMs = TIMEOUT_MS } = {}) {
  return (text, engine, options) => run(cli, timeoutMs, text, cliArgs(engine, options));
}

/** The generator of this tier: the configured binary, the default timeout. */
const generateQrCode = createGenerator();

/** `--ec-level` for `ecLevel`: qr-cli's flag for an option (qr-cli's clap turns away a name it has no flag for). */
function flagOf(name) {
  return `--${name.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`)}`;
}

/** qr-cli's arguments: the engine, a `--flag=value` per option given (none: no flags at all), then `-` (stdin). */
function cliArgs(engine, options) {
  const args = engine == null ? [] : ['--engine', engine];
  if (hasOptions(options)) {
    for (const [name, value] of Object.entries(options)) if (value !== undefined) args.push(`${flagOf(name)}=${value}`);
  }
  args.push('-');
  return args;
}

/** One request: one child process. */
function run(cli, timeoutMs, text, args) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      // `detached`: the child gets its own process group, so a terminal's Ctrl-C (SIGINT to the server's
      // group) lets in-flight children finish during a graceful shutdown instead of killing them.
      child = spawn(cli, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        detached: true,
      });
    } catch (err) {
      reject(spawnError(err, cli)); // spawn throws synchronously for some errors (e.g. bad arguments)
      return;
    }
    const stdout = [];
    let stderr = '';
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL'); // no-op if it already exited
      reject(err);
    };

    // An async spawn failure (ENOENT, EAGAIN, ...) arrives as 'error'; 'close' may follow, `settled` guards it.
    child.on('error', (err) => fail(spawnError(err, cli)));
    // After EMFILE/ENFILE Node gives up before creating the pipes; the 'error' above still comes.
    if (!child.stdin || !child.stdout || !child.stderr) return;
    // The child may exit before reading stdin (EPIPE): its exit status tells what happened, so ignore it here.
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8');
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      const image = Buffer.concat(stdout);
      const message = firstLine(stderr);
      if (code === 0 && image.length > 0) {
        if (message) console.error(`qr-cli succeeded but wrote to stderr: ${message}`);
        settled = true;
        resolve(image);
      } else if (signal === 'SIGKILL' && child.killed) {
        fail(new Error(`qr-cli did not finish within ${timeoutMs} ms and was killed`));
      } else if (code === EXIT_BAD_INPUT && message) {
        fail(Object.assign(new Error(message), { code: 'BAD_INPUT' }));
      } else {
        fail(new Error(message || `qr-cli exited with ${signal ? `signal ${signal}` : `status ${code}`}`));
      }
    });

    child.stdin.end(Buffer.from(text, 'utf8'));
  });
}

/** Turns a spawn failure into the error the server maps: BUSY -> 503, anything else -> 500. */
function spawnError(err, cli) {
  if (BUSY_CODES.has(err.code)) {
    const busy = new Error(`cannot spawn qr-cli right now: ${err.code}`);
    busy.code = 'BUSY';
    return busy;
  }
  if (err.code === 'ENOENT') {
    return new Error(`qr-cli not found at ${cli}: run \`cargo xtask build\` or set RUSTY_QR_CLI`);
  }
  return new Error(`cannot spawn ${cli}: ${err.message}`);
}

/** The first non-empty line of the child's stderr (the message; a usage line may follow it), trimmed. */
function firstLine(text) {
  return text.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
}

module.exports = { generateQrCode, createGenerator, cliArgs, spawnError, CLI, TIMEOUT_MS };
