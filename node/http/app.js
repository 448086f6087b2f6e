// The express app of the HTTP contract (docs/api.md): GET|HEAD /qrcode?text=T&<options> -> the PNG or SVG, with its
// ETag, Cache-Control and CORS headers (304 on a matching If-None-Match); OPTIONS /qrcode -> the CORS preflight;
// GET|HEAD /openapi.json -> contract/openapi.json; GET|HEAD /healthz -> `ok` (503 `draining` once a shutdown has
// begun); every other answer a one-line text/plain body.
// Used by node/http/serve-tier.js; tested in-process by node/tests/app.test.js (`npm test`), and over HTTP, with every
// tier, by the conformance suite (lab/qr-harness/tests/conformance/).
'use strict';

const { isUtf8 } = require('node:buffer');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const express = require('express');
const { parseQuery, rawPathOf, rawQueryOf } = require('./query');

const ERRORS = Object.freeze({
  notFound: 'not found',
  notAllowed: 'method not allowed',
  failed: 'failed to generate qr code',
  busy: 'server is busy',
  draining: 'draining',
  badTarget: 'request target must be printable ASCII (percent-encode the text)',
});

/** The answer's Content-Type for each `format`. */
const CONTENT_TYPES = Object.freeze({ png: 'image/png', svg: 'image/svg+xml' });
/** An image is a pure function of the request (and the server's version): any cache may keep it a day. */
const CACHE_CONTROL = 'public, max-age=86400';
/** The paths whose every answer any web page may read. */
const CORS_PATHS = ['/qrcode', '/openapi.json'];
/** On every answer of the app to CORS_PATHS. */
const CORS = Object.freeze({ 'Access-Control-Allow-Origin': '*' });
/** The methods /qrcode answers. */
const QR_METHODS = 'GET, HEAD, OPTIONS';
/** The answer to a CORS preflight of /qrcode (any origin, method of QR_METHODS and request headers; a day). */
const PREFLIGHT = Object.freeze({
  ...CORS,
  'Access-Control-Allow-Methods': QR_METHODS,
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Max-Age': '86400',
  Allow: QR_METHODS,
});
/** The API's description, served byte for byte: read once, at load. */
const OPENAPI = fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'openapi.json'));

/**
 * Sends a contract answer: the status, `headers`, and `body` as one line of text/plain without a trailing newline.
 * Plain node:http calls, so it also serves a response that never reaches express (node/http/serve-tier.js's 503).
 */
function sendText(res, status, body, headers = undefined) {
  const length = Buffer.byteLength(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': length });
  res.end(body);
}

/** The strong ETag of an answer: `"` + the first 32 hex digits of the SHA-256 of its body + `"`. */
function etagOf(body) {
  return `"${crypto.hash('sha256', body).slice(0, 32)}"`;
}

/** One member of an If-None-Match list: separators, an optional `W/`, then the quoted tag. */
const LISTED_TAG = /\s*(?:,\s*)*(?:W\/)?("[^"]*")/y;

/**
 * Whether an `If-None-Match` header (undefined when absent; Node joins repeated ones with ", ") matches `etag`: `*`
 * alone, or a list holding it, a weak `W/` tag comparing by its opaque part (RFC 9110's weak comparison); the list
 * ends at what is not a quoted tag, as qr-server and the Python host read it.
 */
function noneMatch(header, etag) {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  LISTED_TAG.lastIndex = 0;
  for (let listed; (listed = LISTED_TAG.exec(header)) !== null; ) {
    if (listed[1] === etag) return true;
  }
  return false;
}

/**
 * Builds the app around `generate(text, options) -> Buffer | Promise<Buffer>` (the tier, engine already bound).
 * `generate` is only called with valid text and options (node/http/query.js's parse); a thrown error with
 * `code === 'BAD_INPUT'` (a `size` too small for the text) means 400 with its message, `code === 'BUSY'` 503, any
 * other 500. `log(line)` gets one line per failure (stderr by default); `draining()` says whether a shutdown has begun.
 */
function createApp(generate, log = (line) => console.error(line), draining = () => false) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false); // ours is in ./query.js; express's would turn `text=a&text=b` into an array
  app.set('etag', false); // ours is the body's digest, the same on every tier; 200s bypass res.send and its freshness check
  app.set('case sensitive routing', true); // /QRCODE is 404
  app.set('strict routing', true); // /qrcode/ is 404

  // GET also answers HEAD: express sends the same headers without the body.
  app.get('/qrcode', async (req, res) => {
    const parsed = parseQuery(rawQueryOf(req.url));
    if (parsed.error !== undefined) {
      sendText(res, 400, parsed.error, CORS);
      return;
    }
    let image;
    try {
      image = await generate(parsed.text, parsed.options);
    } catch (err) {
      if (err && err.code === 'BAD_INPUT') {
        sendText(res, 400, err.message, CORS);
      } else if (err && err.code === 'BUSY') {
        sendText(res, 503, ERRORS.busy, CORS);
      } else {
        log(`generating a qr code failed: ${err instanceof Error ? err.message : err}`);
        sendText(res, 500, ERRORS.failed, CORS);
      }
      return;
    }
    const etag = etagOf(image);
    const caching = { ETag: etag, 'Cache-Control': CACHE_CONTROL, ...CORS };
    if (noneMatch(req.headers['if-none-match'], etag)) {
      res.writeHead(304, caching);
      res.end();
      return;
    }
    const contentType = CONTENT_TYPES[parsed.options.format ?? 'png'];
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': image.length, ...caching });
    res.end(image);
  });

  // A CORS preflight (any query, any Origin or none): which methods and headers a page may use.
  app.options('/qrcode', (req, res) => {
    res.writeHead(204, PREFLIGHT);
    res.end();
  });

  app.get('/openapi.json', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': OPENAPI.length, ...CORS });
    res.end(OPENAPI);
  });

  // For load balancers and Kubernetes' readiness probe: not ready once the server has begun to drain.
  app.get('/healthz', (req, res) => (draining() ? sendText(res, 503, ERRORS.draining) : sendText(res, 200, 'ok')));

  // Any other method on these paths (OPTIONS too on /openapi.json and /healthz, which express would otherwise answer
  // itself).
  app.all('/qrcode', (req, res) => sendText(res, 405, ERRORS.notAllowed, { Allow: QR_METHODS, ...CORS }));
  app.all('/openapi.json', (req, res) => sendText(res, 405, ERRORS.notAllowed, { Allow: 'GET, HEAD', ...CORS }));
  app.all('/healthz', (req, res) => sendText(res, 405, ERRORS.notAllowed, { Allow: 'GET, HEAD' }));

  // Any other path.
  app.use((req, res) => sendText(res, 404, ERRORS.notFound));

  // Only reached by a bug (express's own errors are not expected here): log it, answer 500.
  app.use((err, req, res, _next) => {
    log(`unexpected error on ${req.method} ${req.url}: ${err && err.stack ? err.stack : err}`);
    if (res.headersSent) {
      res.destroy();
    } else {
      sendText(res, 500, ERRORS.failed);
    }
  });

  return app;
}

/**
 * The target of the request Node's parser refused (its `clientError`), when it is valid UTF-8, printable ASCII but for
 * some non-ASCII characters: raw UTF-8, which tier-4 answers with the contract's line; else null. A control byte, DEL
 * or bytes that are not UTF-8 get the HTTP layer's bodiless 400 in every tier. The failing request line is found
 * around `err.bytesParsed` in `err.rawPacket` (which may hold pipelined requests before it).
 */
function rawUtf8Target(err) {
  if (err.code !== 'HPE_INVALID_URL' || !Buffer.isBuffer(err.rawPacket)) return null;
  const packet = err.rawPacket;
  const at = Math.min(err.bytesParsed ?? 0, packet.length);
  const start = packet.lastIndexOf('\r\n', at) === -1 ? 0 : packet.lastIndexOf('\r\n', at) + 2;
  const lineEnd = packet.indexOf('\r\n', at);
  const line = packet.subarray(start, lineEnd === -1 ? packet.length : lineEnd);
  const targetStart = line.indexOf(0x20) + 1;
  const targetEnd = line.indexOf(0x20, targetStart);
  if (targetStart === 0 || targetEnd === -1) return null;
  const target = line.subarray(targetStart, targetEnd);
  const rawUtf8 = target.some((b) => b >= 0x80) && target.every((b) => b > 0x20 && b !== 0x7f) && isUtf8(target);
  return rawUtf8 ? target : null;
}

/**
 * What to answer when Node's HTTP parser refuses a request before express sees it: raw UTF-8 in the target gets the
 * contract's one line, as in tier-4 (with `Access-Control-Allow-Origin: *` on /qrcode and /openapi.json, as every
 * answer there); anything else Node's own bodiless 400, 408 or 431. Returns the raw response.
 */
function clientErrorResponse(err) {
  const status = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 }[err.code] ?? 400;
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status];
  const target = rawUtf8Target(err);
  let body = '';
  let headers = '';
  if (target !== null) {
    body = ERRORS.badTarget;
    headers = 'Content-Type: text/plain; charset=utf-8\r\n';
    if (CORS_PATHS.includes(rawPathOf(target.toString('latin1')))) headers += 'Access-Control-Allow-Origin: *\r\n';
  }
  return `HTTP/1.1 ${status} ${reason}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

module.exports = { noneMatch, createApp, sendText, clientErrorResponse, ERRORS };
