// Tier 1, sidecar: each Node process keeps ONE long-lived `qr-cli [--engine E] --serve` child per engine and talks
// to it over its stdin/stdout in length-prefixed frames with request ids (node/tiers/sidecar/framing.js; the
// protocol is in crates/qr-cli/README.md), so many requests are in flight at once and answers come in any order.
// Each request frame carries its image options as the 16-byte record (../options-record.js; the defaults' record,
// made once, when the request gave none); the sidecar answers bad input (status 1) with the contract's message,
// which rejects with `code: 'BAD_INPUT'` (400).
// Loaded by node/server.js (`node server.js --tier tier-1-sidecar`); tested by node/tests/tier-1-sidecar.test.js.
// The binary: env RUSTY_QR_CLI, else <repo>/target/release/qr-cli, as tier-1.
//
// Failures: past `maxInFlight` requests in flight -> BUSY (503). A request not answered within `timeoutMs` (the core
// takes milliseconds) means the sidecar is hung: it is killed at that first timeout, and every request in flight on
// it fails at once (500), so that none waits for a child that will not answer; the next request starts a fresh one.
// A sidecar that dies, or sends a malformed frame or an answer to an id it was never asked (then it is killed with
// SIGKILL), fails its in-flight requests (500); the next request starts a new one, at once after one death, but
// after repeated quick deaths (each within 10 s of its start) only after a backoff (100 ms, doubling to 10 s;
// node/restart-backoff.js), during which requests fail at once with the last death's message (500: the tier is
// broken, not busy).
'use strict';

const { spawn } = require('node:child_process');
const { CLI, TIMEOUT_MS, spawnError } = require('./tier-1');
const { encodeRequest, ResponseDecoder, STATUS, MAX_ID } = require('./sidecar/framing');
const { RestartBackoff } = require('../restart-backoff');

/** Requests one sidecar may have in flight; past it: BUSY. */
const MAX_IN_FLIGHT = 256;
/** A stderr line longer than this is forwarded in pieces. */
const MAX_STDERR_LINE = 4096;

/** An Error with `code: 'BUSY'` (the server answers 503 `server is busy`). */
function busy(message) {
  return Object.assign(new Error(message), { code: 'BUSY' });
}

/** An Error with `code: 'BAD_INPUT'`: the contract's message, which the server answers with a 400. */
function badInput(message) {
  return Object.assign(new Error(message), { code: 'BAD_INPUT' });
}

/** One `qr-cli --serve` child: sends requests, matches answers to them by id, fails them all when it dies. */
class Sidecar {
  constructor(cli, engine, { timeoutMs, maxInFlight, onDeath }) {
    this.timeoutMs = timeoutMs;
    this.maxInFlight = maxInFlight;
    this.onDeath = onDeath;
    this.pending = new Map(); // id -> { resolve, reject, timer }
    this.nextId = 0;
    this.decoder = new ResponseDecoder();
    this.startedAt = Date.now();
    this.reason = ''; // the first stderr line since the last answer: why it is dying, once it dies
    this.dead = null; // the Error its requests failed with, once dead
    const args = engine === undefined ? ['--serve'] : ['--engine', engine, '--serve'];
    // `detached`: its own process group, so a terminal's Ctrl-C (SIGINT to the server's group) lets a graceful
    // shutdown finish. It still never outlives Node: when Node exits its stdin closes, and it exits.
    this.child = spawn(cli, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.pid = this.child.pid;
    this.child.on('error', (err) => this.die(spawnError(err, cli)));
    // After EMFILE/ENFILE Node gives up before creating the pipes; the 'error' above still comes.
    if (!this.child.stdin || !this.child.stdout || !this.child.stderr) return;
    this.child.stdin.on('error', () => {}); // EPIPE once it died: 'close' tells why
    this.child.stdout.on('data', (chunk) => this.receive(chunk));
    this.forwardStderr();
    this.child.on('close', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      this.die(new Error(`qr-cli --serve ${how}${this.reason ? `: ${this.reason}` : ''}`));
    });
    this.setRef(false);
  }

  /**
   * Sends `text` (a Buffer) with `options`; resolves with the image, rejects with the core's message (BAD_INPUT
   * for bad input), BUSY, a timeout or a death.
   */
  request(text, options) {
    if (this.pending.size >= this.maxInFlight) {
      return Promise.reject(busy(`qr-cli --serve has ${this.maxInFlight} requests in flight`));
    }
    let frame;
    const id = this.takeId();
    try {
      frame = encodeRequest(id, options, text);
    } catch (err) {
      return Promise.reject(err);
    }
    // Out of descriptors at spawn (EMFILE, ENFILE): no pipes, and the 'error' that says so comes later.
    if (!this.child.stdin) return Promise.reject(this.dead ?? busy('cannot start qr-cli --serve right now'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.kill(`qr-cli --serve did not answer within ${this.timeoutMs} ms`), this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (this.pending.size === 1) this.setRef(true);
      this.child.stdin.write(frame); // one write per frame: frames never interleave
    });
  }

  /** The next id that is not in flight. */
  takeId() {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === MAX_ID ? 0 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  /** Decodes the answers in a chunk of stdout; a broken frame or an unknown id kills the sidecar. */
  receive(chunk) {
    if (this.dead) return;
    this.decoder.push(chunk);
    for (;;) {
      let frame;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.kill(`qr-cli --serve sent a malformed frame (${err.message})`);
        return;
      }
      if (frame === null) break;
      this.reason = ''; // it still answers: what it wrote before is not why it will die
      const entry = this.pending.get(frame.id);
      if (entry === undefined) {
        this.kill(`qr-cli --serve answered request ${frame.id}, which is not in flight`);
        return;
      }
      this.pending.delete(frame.id);
      clearTimeout(entry.timer);
      if (frame.status === STATUS.IMAGE) {
        entry.resolve(frame.body);
      } else {
        const message = frame.body.toString('utf8');
        entry.reject(frame.status === STATUS.BAD_INPUT ? badInput(message) : new Error(message));
      }
    }
    if (this.pending.size === 0) this.setRef(false);
  }

  /** Forwards each stderr line to ours with a prefix, and keeps the first one since the last answer for the
   * death message (clap's usage error at start; the reason it stops; not a panic it survived long ago). */
  forwardStderr() {
    let partial = '';
    const forward = (line) => {
      if (!this.reason && line.trim()) this.reason = line.trim();
      process.stderr.write(`[qr-cli --serve ${this.pid}] ${line}\n`);
    };
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop();
      lines.forEach(forward);
      if (partial.length > MAX_STDERR_LINE) {
        forward(partial);
        partial = '';
      }
    });
    this.child.stderr.on('end', () => partial && forward(partial));
  }

  /** Kills it with SIGKILL: its stream cannot be trusted (or it hangs). */
  kill(reason) {
    if (this.dead) return;
    this.child.kill('SIGKILL');
    this.die(new Error(`${reason}: killed`));
  }

  /** Fails every request in flight with `err`, once, logs it, and tells the owner. */
  die(err) {
    if (this.dead) return;
    this.dead = err;
    if (this.pid !== undefined) {
      process.stderr.write(`[qr-cli --serve ${this.pid}] died: ${err.message} (${this.pending.size} request(s) in flight failed)\n`);
    }
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(err);
    }
    this.pending.clear();
    this.setRef(false);
    this.onDeath(this, err);
  }

  /** Only a sidecar with requests in flight keeps Node's event loop alive (a graceful shutdown is never held up). */
  setRef(on) {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr]) {
      if (handle) on ? handle.ref() : handle.unref();
    }
  }
}

/** The sidecar of one engine: started on the first request, replaced after a death, with backoff. */
class Slot {
  constructor(cli, engine, settings) {
    this.cli = cli;
    this.engine = engine;
    this.settings = settings;
    this.sidecar = null;
    // The first death restarts at once (on the next request); repeated quick ones back off.
    this.backoff = new RestartBackoff({ firstRestartAtOnce: true });
    this.retryAt = 0;
    this.lastDeath = null;
  }

  request(text, options) {
    if (this.sidecar === null) {
      const wait = this.retryAt - Date.now();
      if (wait > 0) {
        const last = this.lastDeath.message;
        return Promise.reject(new Error(`qr-cli --serve died ${this.backoff.deaths} times in a row (last: ${last}); next start in ${wait} ms`));
      }
      try {
        this.sidecar = new Sidecar(this.cli, this.engine, { ...this.settings, onDeath: (s, err) => this.died(s, err) });
      } catch (err) {
        return Promise.reject(spawnError(err, this.cli)); // spawn throws synchronously for some errors
      }
    }
    return this.sidecar.request(text, options);
  }

  died(sidecar, err) {
    if (this.sidecar === sidecar) this.sidecar = null;
    this.retryAt = Date.now() + this.backoff.delayAfterDeath(Date.now() - sidecar.startedAt);
    this.lastDeath = err;
  }

  pid() {
    return this.sidecar?.pid;
  }
}

/**
 * Makes a `(text, engine, options) -> Promise<Buffer>` with its own sidecars (one per engine name; undefined and null
 * are the core's default). `pids()` lists the live sidecars' pids. Tests pass other settings.
 */
function createGenerator({ cli = CLI, timeoutMs = TIMEOUT_MS, maxInFlight = MAX_IN_FLIGHT } = {}) {
  const slots = new Map(); // engine -> Slot
  const generate = (text, engine, options) => {
    const key = engine ?? undefined;
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = new Slot(cli, key, { timeoutMs, maxInFlight });
      slots.set(key, slot);
    }
    return slot.request(Buffer.from(text, 'utf8'), options);
  };
  generate.pids = () => [...slots.values()].map((slot) => slot.pid()).filter((pid) => pid !== undefined);
  return generate;
}

/** The generator of this tier: the configured binary, the default timeout and bound. */
const generateQrCode = createGenerator();

module.exports = { generateQrCode, createGenerator, MAX_IN_FLIGHT };
