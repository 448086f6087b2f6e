// Not a tier: the Node host's ceiling. Every valid /qrcode request gets the same image, made once at load by
// the napi addon, so the benchmark measures express, the query parsing and the HTTP stack with the QR work
// free: the most any tier can serve on this host. Never serve it for real: every image shows CEILING_TEXT.
// Loaded by node/server.js (`node server.js --tier node-ceiling [--engine E]`); tested by node/tests/tier-3.test.js.
'use strict';

const tier3 = require('./tier-3');

/** The text of every image: its PNG is the median size of the benchmark's targets (qr_harness::CEILING_TEXT). */
const CEILING_TEXT = 'https://www.reddit.com/r/rust/top/?t=month';

/** The image for each engine name and format asked for so far (one or two entries per process in practice). */
const made = new Map();

/**
 * `(text, engine, options) -> Buffer`: the image of CEILING_TEXT with the named engine, a PNG, or an SVG when
 * `options.format` is 'svg' (its Content-Type follows the request's format), whatever `text` and the other options
 * are. The server has parsed them as for any tier, so an invalid one is still its 400. The first call per engine
 * and format makes it (the server's start-up call, for the PNG), every later call returns the same Buffer.
 */
function generateQrCode(text, engine, options) {
  const format = options?.format ?? 'png';
  const key = `${engine}\u0000${format}`;
  if (!made.has(key)) made.set(key, tier3.generateQrCode(CEILING_TEXT, engine, format === 'png' ? {} : { format }));
  return made.get(key);
}

module.exports = { generateQrCode, CEILING_TEXT };
