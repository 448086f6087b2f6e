// Unit tests of node/restart-backoff.js: the delays before restarting a cluster worker (every restart waits) and
// tier-1-sidecar's child (the first restart is at once), for quick deaths in a row and after a stable life.
// Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { RestartBackoff, STABLE_AFTER_MS } = require('../restart-backoff');

const QUICK = 50; // ms lived: a quick death
const STABLE = STABLE_AFTER_MS; // ms lived: a stable life, just

/** The delays `backoff` gives for deaths after these lifetimes, in order. */
const delays = (backoff, lifetimes) => lifetimes.map((lived) => backoff.delayAfterDeath(lived));

test('cluster workers: every restart waits, 100 ms doubling per quick death in a row up to 10 s', () => {
  const quick = Array(10).fill(QUICK);
  assert.deepEqual(delays(new RestartBackoff(), quick), [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
});

test('cluster workers: a stable death waits 100 ms and starts the count over, as its first death', () => {
  const backoff = new RestartBackoff();
  assert.deepEqual(delays(backoff, [QUICK, QUICK, QUICK, STABLE, QUICK, QUICK]), [100, 200, 400, 100, 200, 400]);
  assert.deepEqual(delays(backoff, [STABLE - 1]), [800], 'just under 10 s is a quick death');
  assert.deepEqual(delays(backoff, [STABLE, STABLE]), [100, 100]);
});

test('sidecar: the first quick death restarts at once, the second waits 100 ms, doubling up to 10 s', () => {
  const backoff = new RestartBackoff({ firstRestartAtOnce: true });
  const quick = Array(10).fill(QUICK);
  assert.deepEqual(delays(backoff, quick), [0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
  assert.equal(backoff.deaths, 10, 'quick deaths in a row');
});

test('sidecar: a stable death restarts at once and is not counted, so the next quick one restarts at once too', () => {
  const backoff = new RestartBackoff({ firstRestartAtOnce: true });
  assert.deepEqual(delays(backoff, [QUICK, QUICK, QUICK, STABLE]), [0, 100, 200, 0]);
  assert.equal(backoff.deaths, 0);
  assert.deepEqual(delays(backoff, [QUICK, QUICK, STABLE - 1]), [0, 100, 200], 'just under 10 s is a quick death');
});
