// Not a tier: the Node host's ceiling. Every valid /qrcode request gets the same PNG, made once at load by
// the napi addon, so the benchmark measures express, the query parsing and the HTTP stack with the QR work
// free: the most any tier can serve on this host. Never serve it for real: every image shows CEILING_TEXT.
// Loaded by node/server.js (`node server.js --tier node-ceiling [--engine E]`); tested by node/tests/tier-3.test.js.
'use strict';

const { addon } = require('./tier-3');

/** The text of every image: its PNG is the median size of the benchmark's targets (qr_harness::CEILING_TEXT). */
const CEILING_TEXT = 'https://www.reddit.com/r/rust/top/?t=month';

/** The PNG for each engine name asked for so far (one entry per process in practice). */
const made = new Map();

/**
 * `(text, engine) -> Buffer`: the PNG of CEILING_TEXT with the named engine, whatever `text` is; the first
 * call per engine makes it (the server's start-up call), every later call returns the same Buffer.
 */
function generateQrCode(text, engine) {
  if (!made.has(engine)) made.set(engine, addon.generate(CEILING_TEXT, engine));
  return made.get(engine);
}

module.exports = { generateQrCode, CEILING_TEXT };
