// Tier 3: the hot function as a native addon (napi-rs), loaded into this process with require().
// Loaded by node/server.js (`node server.js --tier tier-3`); tested by node/tests/tier-3.test.js.
// The addon: node/build/qr_napi.node (crates/qr-napi, built by `cargo xtask build`), loaded here once and
// exported for the modules built on it (tier-3-async, node-ceiling).
'use strict';

const path = require('node:path');
const { hasOptions } = require('./options-record');

const addon = require(path.join(__dirname, '..', 'build', 'qr_napi.node'));

/**
 * The addon's arguments for `options`: the plain object napi-rs converts to its `QrOptions` struct, or nothing
 * when no option is given (then no property is read: the call costs what it did before options).
 */
function addonOptions(options) {
  return hasOptions(options) ? options : undefined;
}

/**
 * The addon's error as the tier interface's: `InvalidArg` (bad input: the contract's 400 message) becomes
 * `code: 'BAD_INPUT'`; any other (GenericFailure: an unknown engine, a failure, a panic) stays a failure.
 */
function tierError(err) {
  if (err?.code === 'InvalidArg') err.code = 'BAD_INPUT';
  return err;
}

/**
 * `(text, engine, options) -> Buffer`: the image of `text` with the named engine (undefined = the core's default)
 * and the options given, computed synchronously on this thread. The addon returns a Buffer that owns the Rust
 * allocation (no copy, no view into shared memory). Throws an Error with the core's message (`code: 'BAD_INPUT'`
 * for bad input); a Rust panic is caught and thrown as an Error too.
 */
function generateQrCode(text, engine, options) {
  try {
    return addon.generate(text, engine, addonOptions(options));
  } catch (err) {
    throw tierError(err);
  }
}

module.exports = { generateQrCode, addon, addonOptions, tierError };
