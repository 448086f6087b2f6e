// The cost of each boundary per call: times every Node tier module's generateQrCode in-process.
// Run with `node lab/qr-bench/call-timers/time-node-tiers.js [--engines article,fast] [--rounds 200]
// [--budget-ms 3000] < TEXTS`, the texts one a line; prints one JSON object on stdout (qr-bench --calls
// runs it and reads it).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TIERS = ['tier-0', 'tier-1', 'tier-1-sidecar', 'tier-2', 'tier-2-bindgen', 'tier-3', 'tier-3-async'];

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

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// Times calls one at a time (an async export is awaited: its µs include the thread-pool hop).
async function measure(generate, engine, targets, opts) {
  const call = (text) => generate(text, engine);
  for (let i = 0; i < opts.warmup; i++) await call(targets[i % targets.length]);
  const times = [];
  let bytes = 0;
  const deadline = process.hrtime.bigint() + BigInt(opts.budgetMs) * 1000000n;
  for (let round = 0; round < opts.rounds; round++) {
    for (const text of targets) {
      const t0 = process.hrtime.bigint();
      const png = await call(text);
      const t1 = process.hrtime.bigint();
      if (!Buffer.isBuffer(png) || png.length < 8 || png.readUInt32BE(0) !== 0x89504e47) {
        throw new Error(`generateQrCode(${JSON.stringify(text)}) did not return a PNG Buffer`);
      }
      times.push(Number(t1 - t0) / 1000);
      bytes += png.length;
    }
    if (process.hrtime.bigint() > deadline) break;
  }
  times.sort((a, b) => a - b);
  return {
    calls: times.length,
    median_us: median(times),
    mean_us: times.reduce((a, b) => a + b, 0) / times.length,
    p90_us: times[Math.min(times.length - 1, Math.floor(times.length * 0.9))],
    png_bytes_mean: bytes / times.length,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The texts to time, one a line, on stdin (qr-bench writes its targets there).
  const targets = fs
    .readFileSync(0, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const rows = [];
  for (const tier of opts.tiers) {
    // Tier 0 is pure JS: one row, engine "js".
    const engines = tier === 'tier-0' ? ['js'] : opts.engines;
    let mod;
    let loadError;
    try {
      mod = require(path.join(ROOT, 'node', 'tiers', `${tier}.js`));
    } catch (err) {
      loadError = err;
    }
    for (const engine of engines) {
      const row = { tier, engine };
      try {
        if (loadError) throw loadError;
        Object.assign(row, await measure(mod.generateQrCode, tier === 'tier-0' ? undefined : engine, targets, opts));
      } catch (err) {
        row.error = String(err && err.message ? err.message : err).split('\n')[0];
      }
      rows.push(row);
      process.stderr.write(`${tier} ${engine}: ${row.error ? `error: ${row.error}` : `${row.median_us.toFixed(1)} µs`}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ node: process.version, targets: targets.length, rows }, null, 2)}\n`);
  // Done: do not wait for tiers' long-lived children (tier-1-sidecar's qr-cli --serve ends when its stdin
  // closes). Writes to a pipe are synchronous on Linux, so the JSON is out.
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
