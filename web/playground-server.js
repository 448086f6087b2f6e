// The playground's server: the page, its script and the Wasm module over HTTP (browsers refuse Wasm from
// file://), and `/tier/PORT/qrcode?...` passed on to http://127.0.0.1:PORT/qrcode?... so the page reaches a
// running tier from its own origin. Run with `cargo xtask serve web [--port P]` (it builds the Wasm module), or
// `node web/playground-server.js [--port P]`; prints `listening on http://127.0.0.1:PORT`, stops on SIGINT/SIGTERM.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { parseArgs } = require('node:util');

const ROOT = path.join(__dirname, '..');
/** What the page loads: URL path -> [file, content type]. Nothing else is served. */
const FILES = new Map([
  ['/', [path.join(__dirname, 'index.html'), 'text/html; charset=utf-8']],
  ['/playground.js', [path.join(__dirname, 'playground.js'), 'text/javascript; charset=utf-8']],
  ['/playground.css', [path.join(__dirname, 'playground.css'), 'text/css; charset=utf-8']],
  ['/qr-wasm-abi.js', [path.join(ROOT, 'node', 'tiers', 'qr-wasm-abi.js'), 'text/javascript; charset=utf-8']],
  ['/qr_wasm.wasm', [path.join(ROOT, 'node', 'build', 'qr_wasm.wasm'), 'application/wasm']],
]);
const TIER = /^\/tier\/(\d{1,5})(\/qrcode(?:\?.*)?)$/;
/** The names this server answers to: a page elsewhere that rebinds its own name to 127.0.0.1 gets a 403. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

function answer(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Passes the request on to the tier on `port` and its answer back (status, type, body). */
function passToTier(req, res, port, target) {
  if (port < 1 || port > 65535) return answer(res, 400, `${port} is not a port`);
  let upstream;
  try {
    upstream = http.get({ host: '127.0.0.1', port, path: target, timeout: 10_000 }, (tierRes) => {
      const headers = { 'Content-Type': tierRes.headers['content-type'] ?? 'application/octet-stream' };
      if (tierRes.headers['content-length'] !== undefined) headers['Content-Length'] = tierRes.headers['content-length'];
      res.writeHead(tierRes.statusCode, headers);
      tierRes.pipe(res);
    });
  } catch (err) {
    return answer(res, 400, `cannot pass this request on: ${err.message}`); // e.g. a raw non-ASCII byte in it
  }
  upstream.on('timeout', () => upstream.destroy(new Error('no answer within 10 s')));
  // The page aborts a request when the text changes: so does the tier's.
  res.on('close', () => upstream.destroy());
  upstream.on('error', (err) => {
    if (res.headersSent) return res.destroy();
    answer(res, 502, `no tier answers on 127.0.0.1:${port} (${err.code ?? err.message}): start one, e.g. cargo xtask serve tier-4 --port ${port}`);
  });
}

function handle(req, res) {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!LOCAL_HOSTS.has(host)) return answer(res, 403, 'this server answers to 127.0.0.1 and localhost only');
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed');
  const tier = TIER.exec(req.url);
  if (tier) return passToTier(req, res, Number(tier[1]), tier[2]);
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
  try {
    const { values } = parseArgs({ options: { port: { type: 'string', default: '42070' } } });
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  } catch (err) {
    console.error(`web/playground-server.js: ${err.message}`);
    process.exit(2);
  }
  const server = http.createServer(handle);
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
