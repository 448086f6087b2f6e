// Tests of node/tiers/options-record.js, the one JS encoder of the 16-byte options record (qr_core's `record`), and
// of the sidecar's request frames that carry it (node/tiers/sidecar/framing.js): the layout byte by byte, the
// defaults' record, and what the Rust side must refuse. That the Rust side reads these bytes as the same options is
// tested through the boundaries: tier-1-sidecar.test.js and tier-2.test.js (the shared suite) hold the images to
// qr-cli's and the napi addon's. Run with `npm test` (in node/); needs no build.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const record = require('../tiers/options-record');
const { encodeRequest, MAX_REQUEST_LEN } = require('../tiers/sidecar/framing');

/** The bytes of a record, from its fields as crates/qr-contract/src/record.rs lays them out. */
function layout({ format, ecLevel, margin, size, dark, light }) {
  const bytes = Buffer.alloc(16);
  bytes[0] = format;
  bytes[1] = ecLevel;
  bytes[2] = margin;
  bytes.writeUInt32LE(size, 4);
  bytes.set(dark, 8);
  bytes.set(light, 12);
  return bytes;
}

const DEFAULTS = { format: 0, ecLevel: 0, margin: 4, size: 0, dark: [0, 0, 0, 0xff], light: [0xff, 0xff, 0xff, 0xff] };

test('options record: the layout of qr_core::record, every field in place', () => {
  assert.equal(record.RECORD_LEN, 16);
  const options = { format: 'svg', size: 1000, margin: 20, ecLevel: 'H', dark: '0b3d9180', light: 'FFFFFF00' };
  const expected = layout({ format: 1, ecLevel: 3, margin: 20, size: 1000, dark: [0x0b, 0x3d, 0x91, 0x80], light: [0xff, 0xff, 0xff, 0] });
  assert.deepEqual(Buffer.from(record.encodeRecord(options)), expected);
  for (const [ecLevel, byte] of [['L', 0], ['M', 1], ['Q', 2], ['H', 3]]) {
    assert.equal(record.encodeRecord({ ecLevel })[1], byte, ecLevel);
  }
  assert.deepEqual(Buffer.from(record.encodeRecord({ size: 0x04030201 }).subarray(4, 8)), Buffer.from([1, 2, 3, 4]));
  // Written in place, the bytes around it untouched.
  const frame = Buffer.alloc(20, 0xaa);
  record.writeRecord(options, frame, 2);
  assert.deepEqual(frame.subarray(2, 18), expected);
  assert.deepEqual([...frame.subarray(0, 2), ...frame.subarray(18)], [0xaa, 0xaa, 0xaa, 0xaa]);
});

test('options record: no options, {} and every default given are the defaults\' record, made once', () => {
  const defaults = layout(DEFAULTS);
  assert.deepEqual(Buffer.from(record.DEFAULT_RECORD), defaults);
  for (const options of [undefined, null, {}, { format: 'png', margin: 4, ecLevel: 'L', dark: '000000ff', light: 'ffffffff' }]) {
    assert.deepEqual(Buffer.from(record.encodeRecord(options)), defaults, JSON.stringify(options));
  }
  for (const none of [undefined, null, {}, { size: undefined }]) assert.equal(record.hasOptions(none), false);
  for (const some of [{ size: 300 }, { margin: 0 }, { format: 'png' }]) assert.equal(record.hasOptions(some), true);
});

test('options record: a value the server never sends becomes a byte the Rust side refuses; a colour must be 8 hex digits', () => {
  const bytes = record.encodeRecord({ format: 'gif', ecLevel: 'h', margin: 300, size: -1 });
  assert.deepEqual([...bytes.subarray(0, 8)], [0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff]);
  // Never wrapped or truncated into an accepted value.
  for (const [margin, size] of [[1.5, 300.7], [Number.NaN, Number.NaN], [-1, 2 ** 32 + 300], ['4', '300']]) {
    const field = record.encodeRecord({ margin, size });
    assert.deepEqual([field[2], ...field.subarray(4, 8)], [0xff, 0xff, 0xff, 0xff, 0xff], `${margin} ${size}`);
  }
  for (const dark of ['0b3d91', '#0b3d91ff', 'zzzzzzzz', '', 42]) {
    assert.throws(() => record.encodeRecord({ dark }), TypeError, JSON.stringify(dark));
  }
});

test('sidecar frames: len, tag, the record (the defaults\' when no options), then the text', () => {
  const text = Buffer.from('héllo', 'utf8');
  const frame = encodeRequest(5, { format: 'svg', size: 300 }, text);
  assert.equal(frame.readUInt32LE(0), 4 + 16 + text.length);
  assert.equal(frame.readUInt32LE(4), 10, 'id << 1, the response bit clear');
  assert.deepEqual(frame.subarray(8, 24), Buffer.from(record.encodeRecord({ format: 'svg', size: 300 })));
  assert.deepEqual(frame.subarray(24), text);
  for (const none of [undefined, {}]) {
    assert.deepEqual(encodeRequest(0x7fff_ffff, none, text).subarray(8, 24), layout(DEFAULTS));
  }
  assert.equal(encodeRequest(0x7fff_ffff, undefined, text).readUInt32LE(4), 0xffff_fffe);
  // The longest text that fits, and one byte more.
  const longest = Buffer.alloc(MAX_REQUEST_LEN - 4 - 16);
  assert.equal(encodeRequest(1, undefined, longest).readUInt32LE(0), MAX_REQUEST_LEN);
  assert.throws(() => encodeRequest(1, undefined, Buffer.alloc(longest.length + 1)), /does not fit a request frame/);
});
