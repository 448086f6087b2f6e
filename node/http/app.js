// The express app of the HTTP contract: GET|HEAD /qrcode?text=T -> PNG, GET|HEAD /healthz -> `ok` (503 `draining`
// once a shutdown has begun), every other answer a one-line text/plain body.
// Used by node/http/serve-tier.js; tested in-process by node/tests/app.test.js (`npm test`), and over HTTP, with every
// tier, by the conformance suite (lab/qr-harness/tests/conformance/).
'use strict';

const { isUtf8 } = require('node:buffer');
const express = require('express');
const { parseTextParam, rawQueryOf } = require('./query');

const ERRORS = Object.freeze({
  notFound: 'not found',
  notAllowed: 'method not allowed',
  failed: 'failed to generate qr code',
  busy: 'server is busy',
  draining: 'draining',
  badTarget: 'request target must be printable ASCII (percent-encode the text)',
});

/**
 * Sends a contract answer: the status, and `body` as one line of text/plain without a trailing newline.
 * Plain node:http calls, so it also serves a response that never reaches express (node/http/serve-tier.js's 503).
 */
function sendText(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Builds the app around `generate(text) -> Buffer | Promise<Buffer>` (the tier, engine already bound).
 * `generate` is only called with valid text; a thrown error with `code === 'BUSY'` means 503, any other 500.
 * `log(line)` gets one line per failure (stderr by default); `draining()` says whether a shutdown has begun.
 */
function createApp(generate, log = (line) => console.error(line), draining = () => false) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false); // ours is in ./query.js; express's would turn `text=a&text=b` into an array
  app.set('etag', false); // no ETag (and 200s bypass res.send, so no 304s): every tier answers the same request with the same bytes
  app.set('case sensitive routing', true); // /QRCODE is 404
  app.set('strict routing', true); // /qrcode/ is 404

  // GET also answers HEAD: express sends the same headers without the body.
  app.get('/qrcode', async (req, res) => {
    const parsed = parseTextParam(rawQueryOf(req.url));
    if (parsed.error !== undefined) {
      sendText(res, 400, parsed.error);
      return;
    }
    let png;
    try {
      png = await generate(parsed.text);
    } catch (err) {
      if (err && err.code === 'BUSY') {
        sendText(res, 503, ERRORS.busy);
      } else {
        log(`generating a qr code failed: ${err instanceof Error ? err.message : err}`);
        sendText(res, 500, ERRORS.failed);
      }
      return;
    }
    // Not res.send(): its freshness check would turn `If-None-Match: *` into a 304.
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
    res.end(png);
  });

  // For load balancers and Kubernetes' readiness probe: not ready once the server has begun to drain.
  app.get('/healthz', (req, res) => (draining() ? sendText(res, 503, ERRORS.draining) : sendText(res, 200, 'ok')));

  // Any other method on these paths (OPTIONS too, which express would otherwise answer itself).
  app.all(['/qrcode', '/healthz'], (req, res) => {
    res.setHeader('Allow', 'GET, HEAD');
    sendText(res, 405, ERRORS.notAllowed);
  });

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
 * Whether the request Node's parser refused (its `clientError`) has a target that is valid UTF-8, printable ASCII but
 * for some non-ASCII characters: raw UTF-8, which tier-4 answers with the contract's line. A control byte, DEL or bytes
 * that are not UTF-8 get the HTTP layer's bodiless 400 in every tier. The failing request line is found around
 * `err.bytesParsed` in `err.rawPacket` (which may hold pipelined requests before it).
 */
function isRawUtf8Target(err) {
  if (err.code !== 'HPE_INVALID_URL' || !Buffer.isBuffer(err.rawPacket)) return false;
  const packet = err.rawPacket;
  const at = Math.min(err.bytesParsed ?? 0, packet.length);
  const start = packet.lastIndexOf('\r\n', at) === -1 ? 0 : packet.lastIndexOf('\r\n', at) + 2;
  const lineEnd = packet.indexOf('\r\n', at);
  const line = packet.subarray(start, lineEnd === -1 ? packet.length : lineEnd);
  const targetStart = line.indexOf(0x20) + 1;
  const targetEnd = line.indexOf(0x20, targetStart);
  if (targetStart === 0 || targetEnd === -1) return false;
  const target = line.subarray(targetStart, targetEnd);
  return target.some((b) => b >= 0x80) && target.every((b) => b > 0x20 && b !== 0x7f) && isUtf8(target);
}

/**
 * What to answer when Node's HTTP parser refuses a request before express sees it: raw UTF-8 in the target gets the
 * contract's one line, as in tier-4; anything else Node's own bodiless 400, 408 or 431. Returns the raw response.
 */
function clientErrorResponse(err) {
  const status = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 }[err.code] ?? 400;
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status];
  const body = isRawUtf8Target(err) ? ERRORS.badTarget : '';
  const type = body ? 'Content-Type: text/plain; charset=utf-8\r\n' : '';
  return `HTTP/1.1 ${status} ${reason}\r\n${type}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

module.exports = { createApp, sendText, clientErrorResponse, ERRORS };
