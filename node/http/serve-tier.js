// One HTTP server process: loads a tier, self-checks it, serves the app on 127.0.0.1 on express or fastify (the
// connection rules here, the same for both: the connection bound, the header timeout, pipelined requests one at a
// time, a half-closed client, the parser's refusals), shuts down gracefully. Started by node/server.js (single mode)
// or by each cluster worker (node/primary.js); tested by node/tests/server.test.js.
'use strict';

const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { ANSWERS, clientErrorResponse, writeAnswer } = require('./answers');
const { appServer } = require('./frameworks');
const { oneAtATime } = require('./one-at-a-time');

/** Request line + headers up to 64 KiB, so a 20 KB URL reaches the app (and gets "text must be <= 512 bytes"). */
const MAX_HEADER_SIZE = 64 * 1024;
/** Header fields a request may have (the contract's rule for every host, and nginx's default); more is a 431. */
const MAX_HEADER_FIELDS = 1000;
/** A client that has not sent its request line and headers by then is cut off (tier-4 has the same
 * limit); Node checks it every CHECK_INTERVAL_MS, and answers 408 where hyper just closes. */
const HEADERS_TIMEOUT_MS = 10_000;
const CHECK_INTERVAL_MS = 1_000;
/** How long in-flight requests get to finish after SIGINT/SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long a connection with nothing in flight stays open after SIGINT/SIGTERM, for a request its client sent
 * before it could know (tier-4 has the same grace). */
const IDLE_GRACE_MS = 250;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Loads node/tiers/<tier>.js and binds the engine: `(text, options) -> Promise<Buffer>`. */
function loadTier(tier, engine) {
  const tierModule = require(path.join(__dirname, '..', 'tiers', `${tier}.js`));
  if (typeof tierModule.generateQrCode !== 'function') {
    throw new Error(`node/tiers/${tier}.js does not export generateQrCode(text, engine, options)`);
  }
  return async (text, options) => tierModule.generateQrCode(text, engine, options);
}

/**
 * Loads `tier`, self-checks it, and serves it with the app on `framework` (node/http/frameworks.js) on
 * 127.0.0.1:`port` until SIGINT/SIGTERM (one process: single mode, or one cluster worker). `onListening(port)` is
 * called once the socket listens.
 * Failing to load the tier, its self-check or listen is fatal: one log line, exit 1.
 * A cluster worker (`clustered`) takes orders from the primary only: SIGTERM stops it gracefully (again and
 * again: the primary forwards a signal the whole process group may also have got) and SIGINT, which a
 * terminal's Ctrl-C sends to every process of the group, is ignored; the primary forces with SIGKILL.
 */
async function serveTier({ tier, engine, framework, port, maxConnections, log, onListening, clustered = false }) {
  let server = null;
  let closing = false;
  const inFlight = new Set(); // responses not finished yet
  const served = new Set(); // open connections within the bound
  const open = new Set(); // every open connection, within the bound or not
  const turnedAway = new WeakSet(); // connections past it: each request gets a 503 and the connection closes
  const lastResponse = new WeakMap(); // socket -> the response to its latest request (they finish in order)
  /** Whether a request on `socket` is still being answered. */
  const busy = (socket) => lastResponse.get(socket)?.writableFinished === false;

  const shutdown = (signal) => {
    if (closing && clustered) return;
    if (closing) {
      log(`${signal} again: cutting every connection`);
      server?.closeAllConnections();
      process.exit(1);
    }
    closing = true;
    if (server === null) process.exit(0); // still starting: nothing to finish
    log(`${signal}: finishing ${inFlight.size} in-flight request(s)`);
    // Every response from now on closes its connection, and the port closes now; but not through server.close(),
    // which would also destroy idle kept-alive connections without reading what their clients have already sent
    // (they would get a reset) and stop the header-timeout checker. Requests that have arrived, or arrive within
    // the grace, are answered; then a connection with no request in flight closes, whether kept alive or silent
    // or halfway through its head.
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    net.Server.prototype.close.call(server, () => process.exit(0));
    setTimeout(() => {
      for (const socket of open) if (!busy(socket)) socket.destroy();
    }, IDLE_GRACE_MS);
    setTimeout(() => {
      log(`requests still running after ${SHUTDOWN_GRACE_MS} ms: cutting their connections`);
      server.closeAllConnections();
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGINT', () => (clustered ? undefined : shutdown('SIGINT')));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  let generate;
  try {
    generate = loadTier(tier, engine);
    // Self-check before listening: catches a missing binary or addon, an unknown engine, and warms up.
    const png = await generate('rusty-qr', {});
    if (!Buffer.isBuffer(png) || !png.subarray(0, 8).equals(PNG_SIGNATURE)) {
      throw new Error('generateQrCode did not return a PNG Buffer');
    }
  } catch (err) {
    log(`${tier} failed its start-up self-check: ${err && err.message ? err.message : err}`);
    process.exit(1);
  }
  if (closing) process.exit(0);

  const options = {
    maxHeaderSize: MAX_HEADER_SIZE,
    headersTimeout: HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
    requireHostHeader: false, // hyper (tier-4) does not require one either
  };
  // The one server, whichever framework answers: `app(req, res)` is called for each request it lets through.
  const makeServer = (app) => http.createServer(options, (req, res) => {
    if (turnedAway.has(req.socket)) {
      res.setHeader('Connection', 'close');
      writeAnswer(res, ANSWERS.busy);
      return;
    }
    if (req.rawHeaders.length > 2 * MAX_HEADER_FIELDS) {
      // The HTTP layer's refusal, as in every host: a status, no body, and the connection closes.
      res.writeHead(431, { 'Content-Length': 0, Connection: 'close' });
      res.end();
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    lastResponse.set(req.socket, res);
    if (closing) res.setHeader('Connection', 'close'); // e.g. the next pipelined request
    // A body is never read (GET and HEAD need none): answer, then close, instead of waiting up to
    // requestTimeout for a body that may trickle in a byte at a time (tier-4 closes such a connection too).
    if (req.headers['content-length'] > 0 || req.headers['transfer-encoding'] !== undefined) {
      res.setHeader('Connection', 'close');
    }
    oneAtATime(req.socket, res, () => app(req, res));
  });
  server = await appServer(framework, makeServer, generate, log, () => closing);
  // A client that has sent its whole request and then shut its sending side (`nc -N`, HTTP/1.0-style clients) still
  // gets every answer: Node's default ends such a connection at once, losing the answers still being made (every
  // answer of an async tier). This is http.Server's own switch for it; the connection ends after the last answer.
  server.httpAllowHalfOpen = true;
  // Node keeps a request's first maxHeadersCount fields and drops the rest unsaid: one more than the bound, so that a
  // request past it is seen, and refused above.
  server.maxHeadersCount = MAX_HEADER_FIELDS + 1;
  // Past `maxConnections` open connections a new one is read, answered 503 and closed, so an overload cannot
  // queue without limit. (Tier-4 writes its 503 before reading anything and closes within 1 s.)
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (served.size >= maxConnections) {
      turnedAway.add(socket);
      return;
    }
    served.add(socket);
    socket.once('close', () => served.delete(socket));
  });
  // Node's parser refused a request (see clientErrorResponse): answer it after the responses to the requests before it
  // on the same connection (keep-alive, pipelining), then close the connection.
  server.on('clientError', (err, socket) => {
    const answer = () => (socket.writable ? socket.end(clientErrorResponse(err)) : socket.destroy());
    const last = lastResponse.get(socket);
    if (last === undefined || last.writableFinished) answer();
    else last.once('finish', answer).once('close', () => last.writableFinished || socket.destroy());
  });
  server.on('error', (err) => {
    log(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => onListening(server.address().port));
}

module.exports = { serveTier };
