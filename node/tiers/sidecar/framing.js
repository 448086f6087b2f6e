// The Node end of the `qr-cli --serve` wire protocol (crates/qr-cli/src/wire.rs is the Rust end; the layout,
// limits and lifecycle are in crates/qr-cli/README.md). Used by node/tiers/tier-1-sidecar.js; pure, no I/O.
//
//   u32 LE len   bytes after this field: tag + payload
//   u32 LE tag   id << 1 | isResponse   (ids are 31 bits)
//   request payload:   the 16-byte options record (../options-record.js) + the text's UTF-8 bytes
//   response payload:  u8 status (STATUS) + body (the image, or a one-line UTF-8 message)
'use strict';

const { RECORD_LEN, DEFAULT_RECORD, hasOptions, writeRecord } = require('../options-record');

/** The largest id: the tag keeps its low bit for the response flag. */
const MAX_ID = 0x7fff_ffff;
/** The largest `len` of a request (tag + record + text); the sidecar exits on a larger one. */
const MAX_REQUEST_LEN = 64 * 1024;
/** The largest `len` of a response (tag + status + body); a larger one means the sidecar is broken. */
const MAX_RESPONSE_LEN = 1024 * 1024;
/** Response statuses: the image; bad input (the text or an option breaks its rule, or the size is too small: the
 * body is the contract's 400 message); a failure of the engine. */
const STATUS = Object.freeze({ IMAGE: 0, BAD_INPUT: 1, FAILED: 2 });
/** Bytes before a request's text: len, tag, record. */
const REQUEST_HEADER = 8 + RECORD_LEN;

/**
 * The request frame for `id`, the options (the tier's options object: none -> the defaults' record, made once)
 * and the text's bytes. Throws if the text does not fit a frame.
 */
function encodeRequest(id, options, text) {
  const max = MAX_REQUEST_LEN - 4 - RECORD_LEN;
  if (text.length > max) {
    throw new Error(`a text of ${text.length} bytes does not fit a request frame (at most ${max})`);
  }
  const frame = Buffer.allocUnsafe(REQUEST_HEADER + text.length);
  frame.writeUInt32LE(REQUEST_HEADER - 4 + text.length, 0);
  frame.writeUInt32LE(id * 2, 4); // id << 1 would overflow JS's 32-bit signed shift
  if (hasOptions(options)) writeRecord(options, frame, 8);
  else frame.set(DEFAULT_RECORD, 8);
  text.copy(frame, REQUEST_HEADER);
  return frame;
}

/**
 * Decodes response frames from stdout chunks as they come: `push(chunk)`, then `next()` until it returns null.
 * `next()` returns `{ id, status, body }` (body: a Buffer of its own) or null when the next frame is not complete,
 * and throws an Error once the stream breaks the protocol (a length out of bounds, a request frame, an unknown
 * status): the stream cannot be resynchronised after that.
 */
class ResponseDecoder {
  constructor() {
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
  }

  push(chunk) {
    const rest = this.buffer.length - this.offset;
    this.buffer = rest === 0 ? chunk : Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    this.offset = 0;
  }

  next() {
    const { buffer, offset } = this;
    const available = buffer.length - offset;
    if (available < 4) return null;
    const len = buffer.readUInt32LE(offset);
    if (len > MAX_RESPONSE_LEN) throw new Error(`frame length ${len} is above ${MAX_RESPONSE_LEN}`);
    if (len < 5) throw new Error(`frame length ${len} is too short`);
    if (available < 8) return null;
    const tag = buffer.readUInt32LE(offset + 4);
    if ((tag & 1) === 0) throw new Error(`frame ${tag >>> 1} is a request, not a response`);
    if (available < 4 + len) return null;
    const status = buffer[offset + 8];
    if (!Object.values(STATUS).includes(status)) throw new Error(`unknown status byte ${status}`);
    this.offset = offset + 4 + len;
    return { id: tag >>> 1, status, body: Buffer.from(buffer.subarray(offset + 9, offset + 4 + len)) };
  }
}

module.exports = { encodeRequest, ResponseDecoder, STATUS, MAX_ID, MAX_REQUEST_LEN, MAX_RESPONSE_LEN };
