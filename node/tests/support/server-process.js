// Test helper: starts `node server.js ...` (or another server with its ready line) on an ephemeral port,
// talks HTTP to it, stops it.
// Used by node/tests/*.test.js (`npm test`); not a test file itself.
'use strict';

const { spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const SERVER_JS = path.join(__dirname, '..', '..', 'server.js');
const READY = /^listening on http:\/\/127\.0\.0\.1:(\d+)\n/;

// Servers still running when the test process exits (a failed or timed-out test) are killed with their
// workers: each runs in its own process group.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Spawns `node server.js ...args --port 0`, resolves once the ready line is printed.
 * Returns { port, child, stdout(), stderr(), waitForStderr(regex), stop(signal) -> exit code }.
 */
function startServer(args, options) {
  return startProcess(process.execPath, [SERVER_JS, ...args, '--port', '0'], options);
}

/** Spawns any server that prints the same ready line (qr-server, web/playground-server.js); as startServer. */
function startProcess(program, args, { env = {}, timeoutMs = 30_000 } = {}) {
  // Its own process group (detached), so `stop(signal, { group: true })` can signal it like a terminal's Ctrl-C.
  const child = spawn(program, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  const stderrWaiters = new Set();
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
    for (const waiter of stderrWaiters) waiter();
  });
  running.add(child);
  // Unreferenced: a test that failed or timed out must not keep the test process (and so the server) alive.
  child.unref();
  child.stdout.unref();
  child.stderr.unref();
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );

  const server = {
    child,
    port: 0,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    /** Resolves with the match once stderr matches `regex` (checked on the whole text so far). */
    waitForStderr(regex, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = regex.exec(stderr);
          if (match) {
            stderrWaiters.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          stderrWaiters.delete(check);
          reject(new Error(`stderr never matched ${regex}:\n${stderr}`));
        }, ms);
        stderrWaiters.add(check);
        check();
      });
    },
    /** Sends `signal` (to the server's whole process group with `group`), resolves with the exit code. */
    async stop(signal = 'SIGTERM', { group = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        if (group) process.kill(-child.pid, signal);
        else child.kill(signal);
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const { code, signal: by } = await exited;
      clearTimeout(timer);
      if (by) throw new Error(`server ended by ${by}; stderr:\n${stderr}`);
      return code;
    },
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    const onData = () => {
      const match = READY.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        server.port = Number(match[1]);
        resolve(server);
      }
    };
    child.stdout.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before its ready line; stderr:\n${stderr}`));
    });
  });
}

/** One request (on a fresh connection unless an `agent` is given): resolves { status, headers, body (Buffer) }. */
function request(port, urlPath, { method = 'GET', headers = {}, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Splits complete HTTP/1.1 responses to GETs off the front of `data` (a Buffer), framed by Content-Length (1xx, 204
 * and 304 have no body). Returns { responses: [{ status, headers (lower-case names), body: Buffer }], rest: Buffer }.
 */
function parseResponses(data) {
  const responses = [];
  for (;;) {
    const end = data.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = data.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const bodyless = status < 200 || status === 204 || status === 304;
    const length = bodyless ? 0 : Number(headers['content-length'] ?? 0);
    if (data.length < end + 4 + length) break;
    responses.push({ status, headers, body: data.subarray(end + 4, end + 4 + length) });
    data = data.subarray(end + 4 + length);
  }
  return { responses, rest: data };
}

/** A GET of a raw `target` (sent as UTF-8, exactly as given) with `Connection: close` and extra `headers` (a `Host`
 * among them replaces 127.0.0.1). */
function requestBytes(target, headers) {
  const lines = [`GET ${target} HTTP/1.1`];
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'host')) lines.push('Host: 127.0.0.1');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push('Connection: close');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

/**
 * Sends one GET with a raw target on a fresh connection with `Connection: close` and resolves its response once the
 * server closes the connection; rejects if anything follows the response.
 */
function send(port, target, { headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(requestBytes(target, headers)));
    const chunks = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no answer within 30 s to GET ${target.slice(0, 60)}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err) => {
      // A server that closes a connection with bytes unread may reset it after answering: the answer counts.
      if (err.code === 'ECONNRESET' && parseResponses(Buffer.concat(chunks)).responses.length === 1) return;
      reject(err);
    });
    socket.on('close', () => {
      const { responses, rest } = parseResponses(Buffer.concat(chunks));
      if (responses.length !== 1) reject(new Error(`${responses.length} responses to GET ${target.slice(0, 60)}`));
      else if (rest.length > 0) reject(new Error(`${rest.length} bytes after the response to ${target.slice(0, 60)}`));
      else resolve(responses[0]);
    });
  });
}

module.exports = { startServer, startProcess, request, send, SERVER_JS };
