// Unit tests of the `text` query parser (node/http/query.js) on every case of the HTTP contract.
// Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseTextParam, rawQueryOf, formDecode, MESSAGES } = require('../http/query');
const contract = require('./support/contract');

const ok = (query, text) => assert.deepEqual(parseTextParam(query), { text }, `query ${JSON.stringify(query)}`);
const bad = (query, error) => assert.deepEqual(parseTextParam(query), { error }, `query ${JSON.stringify(query)}`);

test('a plain text param', () => {
  ok('text=hello', 'hello');
  ok('text=hello%20world', 'hello world');
  ok('text=a+b', 'a b'); // '+' is a space
  ok('text=a%2Bb', 'a+b'); // an encoded '+' is a plus
  ok('text=%41%62%63', 'Abc');
  ok('text=%e2%82%ac', '€'); // lower-case hex digits
  ok('text=a=b', 'a=b'); // the value is everything after the first '='
  ok('text=https://x.y/?t=1', 'https://x.y/?t=1');
});

test('other params, empty pieces and other names are ignored', () => {
  ok('a=1&text=x&b', 'x');
  ok('&&text=x&&', 'x');
  ok('textx=1&text=y&tex=2&xtext=3', 'y');
  ok('TEXT=1&text=y', 'y'); // names are case-sensitive
  ok('te%78t=enc', 'enc'); // the name is decoded too
  ok('text=x&text%5D=1', 'x'); // `text]` is neither text nor bracketed
});

test('missing or empty text', () => {
  bad('', MESSAGES.missing);
  bad('a=1', MESSAGES.missing);
  bad('text', MESSAGES.missing); // no '=': an empty value
  bad('text=', MESSAGES.missing);
  bad('text=&a=1', MESSAGES.missing);
  bad('&', MESSAGES.missing);
});

test('repeated text, even when one of them is empty', () => {
  bad('text=a&text=b', MESSAGES.notOnce);
  bad('text=a&text=a', MESSAGES.notOnce);
  bad('text=&text=', MESSAGES.notOnce); // check 1 comes before check 2
  bad('text&text=a', MESSAGES.notOnce);
  bad('text=a&te%78t=b', MESSAGES.notOnce);
});

test('bracketed text, raw or percent-encoded, with or without a plain one', () => {
  bad('text[]=a', MESSAGES.notOnce);
  bad('text[x]=a', MESSAGES.notOnce);
  bad('text%5Bx%5D=a', MESSAGES.notOnce);
  bad('text[=a', MESSAGES.notOnce);
  bad('text=a&text[0]=b', MESSAGES.notOnce);
  bad('text[0]=' + 'a'.repeat(600), MESSAGES.notOnce); // check 1 before check 3
});

test('malformed percent escapes stay literal', () => {
  ok('text=%', '%');
  ok('text=100%', '100%');
  ok('text=%4', '%4');
  ok('text=%zz', '%zz');
  ok('text=%%41', '%A');
  ok('text=%4g1', '%4g1');
  ok('text=%2', '%2');
});

test('invalid UTF-8 after decoding', () => {
  bad('text=%FF', MESSAGES.notUtf8);
  bad('text=%C3', MESSAGES.notUtf8); // a truncated sequence
  bad('text=%C3%28', MESSAGES.notUtf8);
  bad('text=%ED%A0%80', MESSAGES.notUtf8); // an encoded surrogate
  bad('text=%C0%80', MESSAGES.notUtf8); // an overlong NUL
  bad('text=%F4%90%80%80', MESSAGES.notUtf8); // above U+10FFFF
});

test('NUL, BOM, newline and raw high bytes', () => {
  ok('text=a%00b', 'a\u0000b');
  ok('text=%00', '\u0000');
  ok('text=%EF%BB%BFx', '\uFEFFx'); // a leading BOM is part of the text
  ok('text=a%0Ab', 'a\nb');
  // Node hands the request target over as latin1: raw bytes \xC3\xA9 are UTF-8 for 'é'.
  ok('text=\u00c3\u00a9', 'é');
  bad('text=\u00ff', MESSAGES.notUtf8);
});

test('the limit counts UTF-8 bytes after decoding', () => {
  ok(`text=${'a'.repeat(512)}`, 'a'.repeat(512));
  bad(`text=${'a'.repeat(513)}`, MESSAGES.tooLong);
  ok(`text=${'%C3%A9'.repeat(256)}`, 'é'.repeat(256)); // 512 bytes, 256 UTF-16 units
  bad(`text=${'%C3%A9'.repeat(256)}a`, MESSAGES.tooLong); // 513 bytes
  ok(`text=${'%F0%9F%98%80'.repeat(128)}`, '😀'.repeat(128)); // 512 bytes, 256 UTF-16 units
  bad(`text=${'%F0%9F%98%80'.repeat(128)}a`, MESSAGES.tooLong);
  bad(`text=${'%E2%82%AC'.repeat(171)}`, MESSAGES.tooLong); // 513 bytes of '€', 171 UTF-16 units
  ok(`text=${'%25'.repeat(512)}`, '%'.repeat(512)); // 1536 bytes on the wire, 512 decoded
  ok(`text=${'+'.repeat(512)}`, ' '.repeat(512));
});

test('too long comes before invalid UTF-8', () => {
  bad(`text=${'%FF'.repeat(513)}`, MESSAGES.tooLong);
  bad(`text=${'a'.repeat(512)}%FF`, MESSAGES.tooLong);
  bad(`text=${'a'.repeat(511)}%FF`, MESSAGES.notUtf8);
});

test('a 20 KB value', () => {
  bad(`text=${'a'.repeat(20_000)}`, MESSAGES.tooLong);
  bad(`a=${'b'.repeat(20_000)}`, MESSAGES.missing);
});

test('rawQueryOf takes what is after the first ? and before a #', () => {
  assert.equal(rawQueryOf('/qrcode'), '');
  assert.equal(rawQueryOf('/qrcode?'), '');
  assert.equal(rawQueryOf('/qrcode?text=a?b'), 'text=a?b');
  assert.equal(rawQueryOf('/qrcode?text=a#b&text=c'), 'text=a');
  assert.equal(rawQueryOf('/qrcode#?text=a'), '');
  assert.equal(rawQueryOf('/qrcode?text=a%23b'), 'text=a%23b');
});

test('formDecode works on bytes', () => {
  const bytes = Buffer.from('a+%41%zz%', 'latin1');
  assert.deepEqual(formDecode(bytes, 0, bytes.length), Buffer.from('a A%zz%', 'latin1'));
  // an escape is not read across the end of the range
  assert.deepEqual(formDecode(Buffer.from('%41'), 0, 2), Buffer.from('%4'));
});

test('every GET /qrcode case of contract/cases.json that the parser decides', () => {
  let decided = 0;
  for (const c of contract.cases()) {
    // Skipped: other paths and methods, and what the HTTP parser decides before the query parser runs.
    if (c.method !== 'GET' || !/^\/qrcode([?#]|$)/.test(c.target) || c.expect.status !== undefined) continue;
    if (c.expect.answer?.body === contract.answer('badTarget').body) continue;
    // Node's HTTP parser hands the target over as latin1, one char per received byte.
    const parsed = parseTextParam(rawQueryOf(Buffer.from(c.target, 'utf8').toString('latin1')));
    const expected = c.expect.png !== undefined ? { text: c.expect.png } : { error: c.expect.answer.body };
    assert.deepEqual(parsed, expected, c.name);
    decided += 1;
  }
  assert.ok(decided > 100, `${decided} cases`);
});

test('parsing is linear in the query length: bytes searched for 64 KB of `a&a&...` stay within 4x its length', () => {
  // The work is counted, not timed: every search the parser makes goes through Buffer#indexOf, whose scanned span is
  // summed here. A search for '=' that ran on past its piece (the old bug) scanned ~n^2/4 bytes: 1e9 for 64 KB.
  const length = 64 * 1024;
  const scanned = (query) => {
    const original = Buffer.prototype.indexOf;
    let total = 0;
    Buffer.prototype.indexOf = function countingIndexOf(value, from = 0) {
      const found = original.call(this, value, from);
      total += (found === -1 ? this.length : found + 1) - from;
      return found;
    };
    try {
      parseTextParam(query);
    } finally {
      Buffer.prototype.indexOf = original;
    }
    return total;
  };
  const pieces = 'a&'.repeat(length / 2);
  const plain = `text=${'a'.repeat(length - 5)}`;
  assert.ok(scanned(plain) > 0, 'the counter sees the parser');
  assert.ok(scanned(pieces) <= 4 * length, `${scanned(pieces)} bytes searched for ${length} bytes of pieces`);
  assert.ok(scanned(pieces) <= 4 * Math.max(scanned(plain), length));
  assert.deepEqual(parseTextParam(pieces), { error: MESSAGES.missing });
});
