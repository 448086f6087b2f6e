// rusty-qr's Node.js host: one server for GET /qrcode?text=T, backed by one tier of Rust adoption.
// Run with `node server.js --tier TIER [--mode single|cluster]
//          [--workers N] [--port P] [--engine E] [--max-connections N] [--http express|fastify]`  (port 42069 by
//          default; 0 = an ephemeral port; past N open connections per process, 1024 by default, a new one gets a
//          503; the app on express by default, or on fastify: node/http/frameworks.js).
// TIER is one of TIERS below, each a module node/tiers/<TIER>.js; node-ceiling is the host's benchmark ceiling.
//
// The tier interface (every node/tiers/<tier>.js; see node/tiers/README.md):
//   generateQrCode(text: string, engine: string | undefined) -> Buffer | Promise<Buffer>
//   - `text` is already validated by the server: non-empty, <= 512 UTF-8 bytes, valid UTF-8 (it may hold NUL);
//   - `engine` is the --engine name as given (undefined = the core's default); the tier or the Rust core judges it;
//   - a thrown error carries the core's message and becomes 500, except `err.code === 'BUSY'`, which becomes 503.
// On start each process calls generateQrCode('rusty-qr', engine) once and must get a PNG, else it exits 1.
//
// Ready: exactly one line `listening on http://127.0.0.1:PORT` on stdout (in cluster mode once every worker
// listens). Logs go to stderr. SIGINT/SIGTERM: finish in-flight requests, exit 0; a second signal forces.
'use strict';

const cluster = require('node:cluster');
const os = require('node:os');
const { parseArgs } = require('node:util');
const { HTTP_FRAMEWORKS } = require('./http/frameworks');
const { serveTier } = require('./http/serve-tier');
const { runPrimary, workerPort } = require('./primary');

const TIERS = ['tier-0', 'tier-1', 'tier-1-sidecar', 'tier-2', 'tier-2-bindgen', 'tier-3', 'tier-3-async', 'node-ceiling'];
const MODES = ['single', 'cluster'];
const DEFAULT_PORT = 42069;
const DEFAULT_MAX_CONNECTIONS = 1024; // as tier-4's qr-server: far above the benchmark's 100
const USAGE =
  `usage: node server.js --tier ${TIERS.join('|')} [--mode single|cluster] ` +
  `[--workers N] [--port P] [--engine E] [--max-connections N] [--http ${HTTP_FRAMEWORKS.join('|')}]`;

/** Parses argv into `{ tier, mode, workers, port, engine, maxConnections, http }`; throws an Error with a one-line
 * message. */
function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      tier: { type: 'string' },
      mode: { type: 'string', default: 'single' },
      workers: { type: 'string' },
      port: { type: 'string', default: String(DEFAULT_PORT) },
      engine: { type: 'string' },
      'max-connections': { type: 'string', default: String(DEFAULT_MAX_CONNECTIONS) },
      http: { type: 'string', default: HTTP_FRAMEWORKS[0] },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { help: true };
  const integer = (name, value, min, max) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new Error(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
    return n;
  };
  if (values.tier === undefined) throw new Error('--tier is required');
  if (!TIERS.includes(values.tier)) throw new Error(`--tier must be one of ${TIERS.join(', ')}, got '${values.tier}'`);
  if (!MODES.includes(values.mode)) throw new Error(`--mode must be single or cluster, got '${values.mode}'`);
  if (values.workers !== undefined && values.mode !== 'cluster') throw new Error('--workers needs --mode cluster');
  if (values.engine !== undefined && values.tier === 'tier-0') throw new Error('tier-0 is pure JS: it takes no --engine');
  if (values.engine === '') throw new Error('--engine must not be empty');
  if (!HTTP_FRAMEWORKS.includes(values.http)) {
    throw new Error(`--http must be one of ${HTTP_FRAMEWORKS.join(', ')}, got '${values.http}'`);
  }
  return {
    tier: values.tier,
    mode: values.mode,
    workers: values.workers === undefined ? os.availableParallelism() : integer('workers', values.workers, 1, 1024),
    port: integer('port', values.port, 0, 65535),
    engine: values.engine,
    maxConnections: integer('max-connections', values['max-connections'], 1, 1_000_000),
    http: values.http,
  };
}

function main() {
  let options;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`server.js: ${err.message} (${USAGE})\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { tier, mode, workers, port, engine, maxConnections, http } = options;
  if (tier === 'tier-3-async' && process.env.UV_THREADPOOL_SIZE === undefined) {
    process.stderr.write('[tier-3-async] UV_THREADPOOL_SIZE is not set: libuv\'s pool has 4 threads (set it before node starts)\n');
  }
  const ready = (realPort) => process.stdout.write(`listening on http://127.0.0.1:${realPort}\n`);

  if (mode === 'single') {
    const log = (line) => process.stderr.write(`[${tier}] ${line}\n`);
    serveTier({ tier, engine, framework: http, port, maxConnections, log, onListening: ready });
  } else if (cluster.isPrimary) {
    const log = (line) => process.stderr.write(`[${tier} primary] ${line}\n`);
    log(`forking ${workers} worker(s)`);
    runPrimary({ workers, port, log, onReady: ready });
  } else {
    const log = (line) => process.stderr.write(`[${tier} worker ${cluster.worker.id}] ${line}\n`);
    const port = workerPort();
    serveTier({ tier, engine, framework: http, port, maxConnections, log, onListening: () => {}, clustered: true });
  }
}

main();
