// The answers of the HTTP contract (docs/api.md), framework-neutral: the routes (GET|HEAD /qrcode?text=T&<options>
// -> the PNG or SVG, with its ETag, Cache-Control and CORS headers, 304 on a matching If-None-Match; OPTIONS /qrcode
// -> the CORS preflight; GET|HEAD /openapi.json -> contract/openapi.json; GET|HEAD /healthz -> `ok`, 503 `draining`
// once a shutdown has begun; another method -> the path's 405) and every other answer as plain data, `{ status,
// headers, body }`, with a one-line text/plain body; and the answer to a request Node's parser refuses.
// Used by node/http/express-app.js and node/http/fastify-app.js (each turns the routes into its framework's) and
// node/http/serve-tier.js; tested in-process, through both frameworks, by node/tests/app.test.js (`npm test`), and
// over HTTP, with every tier, by the conformance suite (lab/qr-harness/tests/conformance/).
'use strict';

const { isUtf8 } = require('node:buffer');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
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
/** The API's description, served byte for byte: read once, at load. */
const OPENAPI = fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'openapi.json'));

/** An answer whose body is one line of text/plain, without a trailing newline, after `headers`. */
function textAnswer(status, body, headers = undefined) {
  const length = Buffer.byteLength(body);
  const type = 'text/plain; charset=utf-8';
  return { status, headers: { ...headers, 'Content-Type': type, 'Content-Length': length }, body };
}

/** The answers that never change. */
const ANSWERS = Object.freeze({
  notFound: textAnswer(404, ERRORS.notFound),
  // To a connection past the bound (node/http/serve-tier.js), whatever it asks.
  busy: textAnswer(503, ERRORS.busy),
  // Only reached by a bug: an app's own error.
  failed: textAnswer(500, ERRORS.failed),
  healthy: textAnswer(200, 'ok'),
  draining: textAnswer(503, ERRORS.draining),
  // A CORS preflight of /qrcode (any query, any Origin or none): any origin, method of QR_METHODS and request
  // headers, for a day; no body.
  preflight: {
    status: 204,
    headers: {
      ...CORS,
      'Access-Control-Allow-Methods': QR_METHODS,
      'Access-Control-Allow-Headers': '*',
      'Access-Control-Max-Age': '86400',
      Allow: QR_METHODS,
    },
    body: undefined,
  },
  openapi: {
    status: 200,
    headers: { 'Content-Type': 'application/json', 'Content-Length': OPENAPI.length, ...CORS },
    body: OPENAPI,
  },
});

/**
 * Writes an answer with plain node:http calls (on HEAD Node sends the headers alone): the express app's way, and
 * node/http/serve-tier.js's for a response that never reaches an app (its 503).
 */
function writeAnswer(res, { status, headers, body }) {
  res.writeHead(status, headers);
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
 * The answer to GET or HEAD of the request target `url` on /qrcode, with request `headers`: a 400 for a query that
 * breaks a rule, else `generate(text, options)`'s image (a 304 on a matching If-None-Match). A thrown error with
 * `code === 'BAD_INPUT'` (a `size` too small for the text) is a 400 with its message, `code === 'BUSY'` a 503, any
 * other a 500 and one `log` line.
 */
async function qrcodeAnswer(generate, log, url, headers) {
  const parsed = parseQuery(rawQueryOf(url));
  if (parsed.error !== undefined) return textAnswer(400, parsed.error, CORS);
  let image;
  try {
    image = await generate(parsed.text, parsed.options);
  } catch (err) {
    if (err && err.code === 'BAD_INPUT') return textAnswer(400, err.message, CORS);
    if (err && err.code === 'BUSY') return textAnswer(503, ERRORS.busy, CORS);
    log(`generating a qr code failed: ${err instanceof Error ? err.message : err}`);
    return textAnswer(500, ERRORS.failed, CORS);
  }
  const etag = etagOf(image);
  const caching = { ETag: etag, 'Cache-Control': CACHE_CONTROL, ...CORS };
  if (noneMatch(headers['if-none-match'], etag)) return { status: 304, headers: caching, body: undefined };
  const contentType = CONTENT_TYPES[parsed.options.format ?? 'png'];
  const headers200 = { 'Content-Type': contentType, 'Content-Length': image.length, ...caching };
  return { status: 200, headers: headers200, body: image };
}

/**
 * The app's routes around `generate(text, options) -> Buffer | Promise<Buffer>` (the tier, engine already bound),
 * `log(line)` (one line per failure) and `draining()` (whether a shutdown has begun): for each path, `get(url,
 * headers)`, the answer (or a promise of it) to GET, and to HEAD without its body; `options`, the answer to OPTIONS
 * when the path has one; `notAllowed`, the answer to any other method. Any other path is ANSWERS.notFound.
 */
function contractRoutes(generate, log, draining) {
  const notAllowed = (allow, headers) => textAnswer(405, ERRORS.notAllowed, { Allow: allow, ...headers });
  return [
    {
      path: '/qrcode',
      get: (url, headers) => qrcodeAnswer(generate, log, url, headers),
      options: ANSWERS.preflight,
      notAllowed: notAllowed(QR_METHODS, CORS),
    },
    { path: '/openapi.json', get: () => ANSWERS.openapi, notAllowed: notAllowed('GET, HEAD', CORS) },
    // For load balancers and Kubernetes' readiness probe: not ready once the server has begun to drain.
    {
      path: '/healthz',
      get: () => (draining() ? ANSWERS.draining : ANSWERS.healthy),
      notAllowed: notAllowed('GET, HEAD'),
    },
  ];
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
 * What to answer when Node's HTTP parser refuses a request before any app sees it: raw UTF-8 in the target gets the
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

module.exports = { ANSWERS, contractRoutes, clientErrorResponse, writeAnswer };
