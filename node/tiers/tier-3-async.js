// Tier 3, async: the same napi-rs addon as tier-3, called as an AsyncTask that runs on libuv's thread pool,
// so one Node process uses every core while its event loop keeps parsing requests.
// Loaded by node/server.js (`node server.js --tier tier-3-async`); tested by node/tests/tier-3.test.js.
// The pool has UV_THREADPOOL_SIZE threads (4 when unset); libuv reads it once, before this script runs, so
// the launcher (`cargo xtask serve`, qr_harness::ServerSpec) sets it to the CPU count.
'use strict';

const { addon, addonOptions, tierError } = require('./tier-3');

/**
 * `(text, engine, options) -> Promise<Buffer>`: the image of `text` with the named engine (undefined = the core's
 * default) and the options given, computed on a libuv pool thread. Rejects with an Error carrying the core's
 * message (`code: 'BAD_INPUT'` for bad input; a Rust panic too, as a failure).
 */
function generateQrCode(text, engine, options) {
  return addon.generateAsync(text, engine, addonOptions(options)).catch((err) => {
    throw tierError(err);
  });
}

module.exports = { generateQrCode };
