// The cost of each boundary per call: times every Node tier module's generateQrCode in-process, over each
// workload's requests. Run with `node lab/qr-bench/call-timers/time-node-tiers.js [--tiers tier-0,tier-3]
// [--engines article,fast] [--rounds 200] [--budget-ms 3000] < QUERIES`, QUERIES a JSON object of each workload's
// request queries, `{"default": ["text=..."], "options": ["text=...&format=svg"]}`; prints one JSON object on
// stdout (qr-bench --calls runs it and reads it).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const { parseQuery } = require(path.join(ROOT, 'node', 'http', 'query.js'));

const TIERS = ['tier-0', 'tier-1', 'tier-1-sidecar', 'tier-2', 'tier-2-bindgen', 'tier-3', 'tier-3-async'];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function parseArgs(argv) {
  const opts = { engines: ['article'], rounds: 200, warmup: 20, budgetMs: 3000, tiers: TIERS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--engines') opts.engines = value.split(',').filter(Boolean);
    else if (flag === '--tiers') opts.tiers = value.split(',').filter(Boolean);
    else if (flag === '--rounds') opts.rounds = Number(value);
    else if (flag === '--warmup') opts.warmup = Number(value);
    else if (flag === '--budget-ms') opts.budgetMs = Number(value);
    else throw new Error(`unknown argument ${flag}`);
    i++;
  }
  return opts;
}

/** Each query as the app hands it to a tier: `{ text, options }`, parsed by node/http/query.js. */
function requestsOf(queries) {
  return queries.map((query) => {
    const parsed = parseQuery(query);
    if (parsed.error) throw new Error(`${query}: ${parsed.error}`);
    return parsed;
  });
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Whether `image` is a Buffer holding the image `options` ask for: an SVG document (an XML prolog may come
 * first), or a PNG. */
function isImage(image, options) {
  if (!Buffer.isBuffer(image)) return false;
  if (options.format === 'svg') return image[0] === 0x3c /* < */ && image.includes('<svg');
  return image.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);
}

// Times calls one at a time, as the app makes them (an async export is awaited: its µs include the thread-pool
// hop): a warm-up of one round (at least opts.warmup calls), then rounds until opts.rounds or the budget.
async function measure(generate, engine, requests, opts) {
  const call = ({ text, options }) => generate(text, engine, options);
  for (let i = 0; i < Math.max(opts.warmup, requests.length); i++) await call(requests[i % requests.length]);
  const times = [];
  let bytes = 0;
  const deadline = process.hrtime.bigint() + BigInt(opts.budgetMs) * 1000000n;
  for (let round = 0; round < opts.rounds; round++) {
    for (const request of requests) {
      const t0 = process.hrtime.bigint();
      const image = await call(request);
      const t1 = process.hrtime.bigint();
      if (!isImage(image, request.options)) {
        const asked = `${JSON.stringify(request.text)}, ${JSON.stringify(request.options)}`;
        throw new Error(`generateQrCode(${asked}) did not return ${request.options.format === 'svg' ? 'an SVG' : 'a PNG'} Buffer`);
      }
      times.push(Number(t1 - t0) / 1000);
      bytes += image.length;
    }
    if (process.hrtime.bigint() > deadline) break;
  }
  times.sort((a, b) => a - b);
  return {
    calls: times.length,
    median_us: median(times),
    mean_us: times.reduce((a, b) => a + b, 0) / times.length,
    p90_us: times[Math.min(times.length - 1, Math.floor(times.length * 0.9))],
    image_bytes_mean: bytes / times.length,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Each workload's queries, on stdin (qr-bench writes them there).
  const workloads = Object.entries(JSON.parse(fs.readFileSync(0, 'utf8'))).map(([workload, queries]) => [
    workload,
    requestsOf(queries),
  ]);
  const rows = [];
  for (const tier of opts.tiers) {
    // Tier 0 is pure JS: one row per workload, engine "js".
    const engines = tier === 'tier-0' ? ['js'] : opts.engines;
    let mod;
    let loadError;
    try {
      mod = require(path.join(ROOT, 'node', 'tiers', `${tier}.js`));
    } catch (err) {
      loadError = err;
    }
    for (const engine of engines) {
      for (const [workload, requests] of workloads) {
        const row = { tier, engine, workload };
        try {
          if (loadError) throw loadError;
          Object.assign(row, await measure(mod.generateQrCode, tier === 'tier-0' ? undefined : engine, requests, opts));
        } catch (err) {
          row.error = String(err && err.message ? err.message : err).split('\n')[0];
        }
        rows.push(row);
        const shown = row.error ? `error: ${row.error}` : `${row.median_us.toFixed(1)} µs`;
        process.stderr.write(`${tier} ${engine} ${workload}: ${shown}\n`);
      }
    }
  }
  const requests = Object.fromEntries(workloads.map(([workload, list]) => [workload, list.length]));
  process.stdout.write(`${JSON.stringify({ node: process.version, requests, rows }, null, 2)}\n`);
  // Done: do not wait for tiers' long-lived children (tier-1-sidecar's qr-cli --serve ends when its stdin
  // closes). Writes to a pipe are synchronous on Linux, so the JSON is out.
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
