// The playground's server: the page, its script and the Wasm module over HTTP (browsers refuse Wasm from
// file://), and `/tier/PORT/qrcode?...` passed on to http://127.0.0.1:PORT/qrcode?... so the page reaches a
// running tier from its own origin. Run with `cargo xtask serve web [--port P]` (it builds the Wasm module), or
// `node web/playground-server.js [--port P] [--timeout-ms T]`; prints `listening on http://127.0.0.1:PORT`, stops
// on SIGINT/SIGTERM.
//
// It trusts no upstream: an answer is passed to the browser only once it has come whole, within the timeout, and
// only if it is what a QR tier answers (200 image/png or image/svg+xml, or an error as one line of text/plain); anything else
// becomes a 502 or 504 of its own. A browser connection's requests are passed one at a time
// (node/http/one-at-a-time.js), over a few kept-alive upstream connections, which close with the client's.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { oneAtATime } = require('../node/http/one-at-a-time');

const ROOT = path.join(__dirname, '..');
/** What the page loads: URL path -> [file, content type]. Nothing else is served. */
const FILES = new Map([
  ['/', [path.join(__dirname, 'index.html'), 'text/html; charset=utf-8']],
  ['/playground.js', [path.join(__dirname, 'playground.js'), 'text/javascript; charset=utf-8']],
  ['/playground.css', [path.join(__dirname, 'playground.css'), 'text/css; charset=utf-8']],
  ['/options-record.js', [path.join(ROOT, 'node', 'tiers', 'options-record.js'), 'text/javascript; charset=utf-8']],
  ['/qr-wasm-abi.js', [path.join(ROOT, 'node', 'tiers', 'qr-wasm-abi.js'), 'text/javascript; charset=utf-8']],
  ['/qr_wasm.wasm', [path.join(ROOT, 'node', 'build', 'qr_wasm.wasm'), 'application/wasm']],
]);
const TIER = /^\/tier\/(\d{1,5})(\/qrcode(?:\?.*)?)$/;
/** The names this server answers to: a page elsewhere that rebinds its own name to 127.0.0.1 gets a 403. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** An upstream's SVG opened on its own runs nothing and loads nothing on this origin. */
const SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

function answer(res, status, body, type = 'text/plain; charset=utf-8') {
  if (res.destroyed) return;
  const headers = { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' };
  if (type === 'image/svg+xml') headers['Content-Security-Policy'] = SVG_POLICY;
  res.writeHead(status, headers);
  res.end(body);
}

/** The most a QR tier's answer may be (its PNGs are a few KiB). */
const MAX_ANSWER_BYTES = 1 << 20;
/** The upstream connections kept, to any one tier: a flood of requests shares them. */
const UPSTREAM_CONNECTIONS = 4;
const upstreams = new http.Agent({ keepAlive: true, maxSockets: UPSTREAM_CONNECTIONS, timeout: 5_000 });

/** What a tier's image may be. An SVG is served as an image only, never as a document of this origin: the page
 * shows it through <img>, where scripts do not run, and it is sent with a sandboxing Content-Security-Policy. */
const IMAGE_TYPES = new Set(['image/png', 'image/svg+xml']);

/** Whether a tier may answer `status` with `type`: an image, or one of the contract's text answers. */
function qrAnswer(status, type) {
  if (status === 200) return IMAGE_TYPES.has(type);
  return status >= 400 && status <= 599 && type === 'text/plain; charset=utf-8';
}

/**
 * Passes the request on to the tier on `port` and, once all of it has come within `timeoutMs`, its answer back
 * (status, type, body); what no QR tier answers, an answer cut short or one too late is the playground's own 502 or
 * 504 instead.
 */
function passToTier(res, port, target, timeoutMs) {
  if (port < 1 || port > 65535) return answer(res, 400, `${port} is not a port`);
  let settled = false;
  let upstream = null;
  let deadline = null;
  const fail = (status, message) => {
    if (settled) return;
    settled = true;
    clearTimeout(deadline);
    upstream?.destroy();
    answer(res, status, message);
  };
  try {
    upstream = http.get({ host: '127.0.0.1', port, path: target, agent: upstreams }, (tierRes) => {
      const type = tierRes.headers['content-type'];
      if (!qrAnswer(tierRes.statusCode, type)) {
        return fail(502, `the tier on ${port} answered ${tierRes.statusCode} ${type ?? 'with no type'}, which no QR tier answers`);
      }
      const chunks = [];
      let length = 0;
      tierRes.on('data', (chunk) => {
        length += chunk.length;
        if (length > MAX_ANSWER_BYTES) fail(502, `the tier on ${port} answered more than ${MAX_ANSWER_BYTES} bytes`);
        else chunks.push(chunk);
      });
      tierRes.on('end', () => {
        if (settled) return;
        if (!tierRes.complete) return fail(502, `the tier on ${port} cut its answer short`);
        settled = true;
        clearTimeout(deadline);
        answer(res, tierRes.statusCode, Buffer.concat(chunks), type);
      });
      tierRes.on('aborted', () => fail(502, `the tier on ${port} cut its answer short`));
    });
  } catch (err) {
    return answer(res, 400, `cannot pass this request on: ${err.message}`); // e.g. a raw non-ASCII byte in it
  }
  deadline = setTimeout(() => fail(504, `the tier on ${port} did not answer within ${timeoutMs} ms`), timeoutMs);
  // A tier that switches protocols (101) is not a QR tier.
  upstream.on('upgrade', (tierRes, socket) => {
    socket.destroy();
    fail(502, `the tier on ${port} answered ${tierRes.statusCode}, which no QR tier answers`);
  });
  // The page aborts a request when the text changes, or the browser goes: so does the tier's.
  res.on('close', () => {
    clearTimeout(deadline);
    if (!settled) {
      settled = true;
      upstream.destroy();
    }
  });
  upstream.on('error', (err) => {
    fail(502, `no tier answers on 127.0.0.1:${port} (${err.code ?? err.message}): start one, e.g. cargo xtask serve tier-4 --port ${port}`);
  });
}

function handle(req, res, timeoutMs) {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!LOCAL_HOSTS.has(host)) return answer(res, 403, 'this server answers to 127.0.0.1 and localhost only');
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed');
  const tier = TIER.exec(req.url);
  if (tier) return oneAtATime(req.socket, res, () => passToTier(res, Number(tier[1]), tier[2], timeoutMs));
  const file = FILES.get(req.url.split('?')[0]);
  if (!file) return answer(res, 404, 'not found');
  fs.readFile(file[0], (err, body) => {
    if (err) return answer(res, 500, `cannot read ${path.relative(ROOT, file[0])}: run \`cargo xtask build\``);
    res.writeHead(200, { 'Content-Type': file[1], 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

function main() {
  let port;
  let timeoutMs;
  try {
    const { values } = parseArgs({
      options: { port: { type: 'string', default: '42070' }, 'timeout-ms': { type: 'string', default: '10000' } },
    });
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
    timeoutMs = Number(values['timeout-ms']);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`--timeout-ms ${values['timeout-ms']} is not a number of milliseconds`);
  } catch (err) {
    console.error(`web/playground-server.js: ${err.message}`);
    process.exit(2);
  }
  const server = http.createServer((req, res) => handle(req, res, timeoutMs));
  server.on('error', (err) => {
    console.error(`web/playground-server.js: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
