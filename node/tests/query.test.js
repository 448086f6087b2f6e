// Unit tests of the query parser (node/http/query.js: `text` and the image options) on every case of the HTTP
// contract. Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseQuery, rawPathOf, rawQueryOf, formDecode, notOnceMessage, MESSAGES, OPTIONS } = require('../http/query');
const contract = require('./support/contract');

const ok = (query, text, options = {}) =>
  assert.deepEqual(parseQuery(query), { text, options }, `query ${JSON.stringify(query)}`);
const bad = (query, error) => assert.deepEqual(parseQuery(query), { error }, `query ${JSON.stringify(query)}`);
/** The 400 body of each option's rule, by name. */
const RULE = Object.fromEntries(OPTIONS.map((option) => [option.name, option.rule]));

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

test('rawPathOf takes the path of an origin-form or absolute-form target, without query and fragment', () => {
  assert.equal(rawPathOf('/qrcode'), '/qrcode');
  assert.equal(rawPathOf('/qrcode?text=a/b#c'), '/qrcode');
  assert.equal(rawPathOf('/qr%63ode#x?y'), '/qr%63ode');
  assert.equal(rawPathOf('http://example.com/qrcode?text=a'), '/qrcode');
  assert.equal(rawPathOf('http://example.com?text=a'), '/');
  assert.equal(rawPathOf('*'), '*');
});

test('formDecode works on bytes', () => {
  const bytes = Buffer.from('a+%41%zz%', 'latin1');
  assert.deepEqual(formDecode(bytes, 0, bytes.length), Buffer.from('a A%zz%', 'latin1'));
  // an escape is not read across the end of the range
  assert.deepEqual(formDecode(Buffer.from('%41'), 0, 2), Buffer.from('%4'));
});

/** What an option is when the query does not give it (docs/api.md, "Options"); no `size` is the tier's default. */
const DEFAULTS = { format: 'png', margin: 4, ecLevel: 'L', dark: '000000ff', light: 'ffffffff' };

test('every GET /qrcode case of contract/cases.json that the parser decides, and the parse of every image case', () => {
  // The size a text needs is known once its symbol is built: the tier answers it, after a successful parse.
  const tooSmall = /^"size" must be at least \d+ pixels for this text, ecLevel and margin$/;
  // Node's HTTP parser hands the target over as latin1, one char per received byte.
  const parseTarget = (target) => parseQuery(rawQueryOf(Buffer.from(target, 'utf8').toString('latin1')));
  let decided = 0;
  let images = 0;
  for (const c of contract.cases()) {
    // Skipped: other paths and methods, and what the HTTP parser decides before the query parser runs.
    if (c.method !== 'GET' || !/^\/qrcode([?#]|$)/.test(c.target) || c.expect.status !== undefined) continue;
    const { image, answer } = c.expect;
    if (answer?.body === contract.answer('badTarget').body) continue;
    const parsed = parseTarget(c.target);
    if (answer !== undefined && !tooSmall.test(answer.body)) {
      assert.deepEqual(parsed, { error: answer.body }, c.name);
      decided += 1;
      continue;
    }
    assert.equal(parsed.error, undefined, c.name);
    if (image === undefined) continue;
    images += 1;
    assert.equal(parsed.text, image.text, c.name);
    const options = { ...DEFAULTS, ...parsed.options };
    assert.equal(options.format, image.format, c.name);
    for (const [key, value] of Object.entries(image.pixels)) assert.equal(options[key], value, `${c.name}: ${key}`);
    if (image.sameAs !== undefined) {
      const other = parseQuery(image.sameAs);
      assert.deepEqual({ ...DEFAULTS, ...other.options }, options, `${c.name}: same options as ${image.sameAs}`);
      assert.equal(other.text, parsed.text, c.name);
    }
  }
  assert.ok(decided > 70, `${decided} answers decided`);
  assert.ok(images > 100, `${images} images parsed`);
});

test('without options the parse shares one empty, frozen options object', () => {
  const { options } = parseQuery('text=a&other=1');
  assert.deepEqual(options, {});
  assert.ok(Object.isFrozen(options));
  assert.equal(parseQuery('text=b').options, options);
});

test('each option, normalised: only the ones given', () => {
  ok('text=a&format=svg', 'a', { format: 'svg' });
  ok('text=a&format=PnG', 'a', { format: 'png' });
  ok('text=a&format=%73vg', 'a', { format: 'svg' }); // the value is form-decoded
  ok('text=a&size=21', 'a', { size: 21 });
  ok('text=a&size=0300', 'a', { size: 300 }); // at most 4 digits, leading zeros allowed
  ok('text=a&size=1000', 'a', { size: 1000 });
  ok('text=a&margin=0', 'a', { margin: 0 });
  ok('text=a&margin=0020', 'a', { margin: 20 });
  ok('text=a&ecLevel=h', 'a', { ecLevel: 'H' });
  ok('text=a&ecLevel=M', 'a', { ecLevel: 'M' });
  ok('text=a&dark=0B3D91', 'a', { dark: '0b3d91ff' });
  ok('text=a&dark=%230b3d9180', 'a', { dark: '0b3d9180' });
  ok('text=a&light=ffFFff00', 'a', { light: 'ffffff00' });
  ok('text=a&light=#123456', 'a', { light: '123456ff' }); // a raw '#' reaches the parser only in-process
  ok('light=000000&dark=ffffff&ecLevel=q&margin=1&size=50&format=svg&text=x', 'x', {
    format: 'svg',
    size: 50,
    margin: 1,
    ecLevel: 'Q',
    dark: 'ffffffff',
    light: '000000ff',
  });
});

test("each option's rule, with its message", () => {
  const breaks = {
    format: ['', 'gif', 'svg ', 'sv', 'svgz', '%C5%BFvg' /* ſvg: ASCII case only */, 'png%00'],
    size: ['', '20', '1001', '01000', '+300', '-1', '3e2', '300.0', '%20300', '300px', '%D9%A3' /* ٣ */, '0x10', '9999'],
    margin: ['', '21', '-0', '4.0', '99999', '+1', '1e1'],
    ecLevel: ['', 'X', 'HH', '0', 'high', 'L%20', '%E2%84%AA'],
    dark: ['', '%23', 'fff', 'ffff', '%23%23000000', '0000000', '00000g', '%2B12345', '%C3%A90000', '000000000'],
    light: ['1234567', '%FF%FF%FF%FF%FF%FF', 'red', '%23fff'],
  };
  for (const [name, values] of Object.entries(breaks)) {
    for (const value of values) bad(`text=a&${name}=${value}`, RULE[name]);
    bad(`text=a&${name}`, RULE[name]); // no '=': an empty value, which is a value
  }
  assert.equal(RULE.size, '"size" must be a whole number of pixels from 21 to 1000');
  assert.equal(RULE.dark, '"dark" must be a hex colour RRGGBB or RRGGBBAA, with or without a leading #');
});

test('each option at most once, as a plain string', () => {
  for (const { name } of OPTIONS) {
    const once = notOnceMessage(name);
    bad(`text=a&${name}=x&${name}=x`, once);
    bad(`text=a&${name}&${name}`, once);
    bad(`text=a&${name}[]=x`, once);
    bad(`text=a&${name}%5B0%5D=x`, once);
    bad(`text=a&${name}[=x`, once);
    bad(`text=a&${name}[]=x&${name}=x`, once);
  }
  assert.equal(notOnceMessage('ecLevel'), '"ecLevel" query param must be given once, as a plain string');
});

test('option names are exact and decoded; other names are ignored', () => {
  ok('text=a&eclevel=X&Size=1&FORMAT=gif&formats=x&%20size=1&size%20=1', 'a');
  ok('text=a&si%7Ae=30', 'a', { size: 30 });
  ok('text=a&size]=1&format=svg', 'a', { format: 'svg' });
});

test('the checks run in order: text, format, size, margin, ecLevel, dark, light', () => {
  bad('format=gif&text=', MESSAGES.missing);
  bad('size=1&text=a&text=b', MESSAGES.notOnce);
  bad(`format=gif&text=${'a'.repeat(513)}`, MESSAGES.tooLong);
  bad('light=no&dark=no&ecLevel=no&margin=no&size=no&format=no&text=a', RULE.format);
  bad('light=no&dark=no&ecLevel=no&margin=no&size=no&text=a', RULE.size);
  bad('light=no&dark=no&ecLevel=no&margin=no&text=a', RULE.margin);
  bad('light=no&dark=no&ecLevel=no&text=a', RULE.ecLevel);
  bad('light=no&dark=no&text=a', RULE.dark);
  bad('light=no&text=a', RULE.light);
  // An option's own two checks come together: once, then its rule, before the next option's.
  bad('text=a&size=1&size=2&format=gif', RULE.format);
  bad('text=a&size=1&format=svg&format=svg', notOnceMessage('format'));
  bad('text=a&size=1&margin=1&margin=1', RULE.size);
  bad('text=a&size=300&margin[]=1&ecLevel=X', notOnceMessage('margin'));
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
      parseQuery(query);
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
  assert.deepEqual(parseQuery(pieces), { error: MESSAGES.missing });
});
