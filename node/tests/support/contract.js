// Test helper: the HTTP contract as data (contract/cases.json, the file the Rust suites read too; its format is in
// contract/README.md): its answers, its text sets, its cases as requests and expected answers, and the one check of
// an answer. Used by node/tests/*.test.js (`npm test`); not a test file itself.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..', '..');
const DOC = JSON.parse(fs.readFileSync(path.join(ROOT, 'contract', 'cases.json'), 'utf8'));

/** The Cache-Control of every image and its 304. */
const CACHE_CONTROL = 'public, max-age=86400';
/** The content type of each image format. */
const CONTENT_TYPES = { png: 'image/png', svg: 'image/svg+xml' };

/** A string written as parts: a string, or an array of strings and [string, count] repeats. */
function parts(value) {
  if (typeof value === 'string') return value;
  return value.map((part) => (Array.isArray(part) ? part[0].repeat(part[1]) : part)).join('');
}

/** Every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX: the value reaches a server as exactly these bytes. */
function percentEncode(text) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `/qrcode?text=` + the text, percent-encoded byte by byte. */
function qrPath(text) {
  return `/qrcode?text=${percentEncode(text)}`;
}

/** The ETag of an image: `"` + the first 32 hex digits of the SHA-256 of its body + `"`. */
function etagOf(body) {
  return `"${crypto.createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
}

/** The answer named `key` (`missing`, `notOnce`, `healthy`, `preflight`, ...): { status, body (null: none), headers }. */
function answer(key) {
  const reply = DOC.answers[key];
  assert.ok(reply, `contract/cases.json has no answer ${key}`);
  const headers = Object.fromEntries(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { status: reply.status, body: reply.body, headers };
}

/** The texts of one set (`article`, `edge`, `scan`). */
function texts(set) {
  const value = DOC.texts[set];
  assert.ok(value, `contract/cases.json has no text set ${set}`);
  if (value.file) return fs.readFileSync(path.join(ROOT, value.file), 'utf8').split(/\r?\n/).filter(Boolean);
  return value.map(parts);
}

/** Every text of every set: the article's, the edge cases, and the scripts a scanner must show right. */
function allTexts() {
  return Object.keys(DOC.texts).flatMap(texts);
}

/** An image answer: the QR code of `text` as `format`, and what else it must show (all optional). */
function image(format, text, { pixels = {}, sameAs, notModified = false, revalidate = false } = {}) {
  return { image: { format, text, pixels, sameAs, notModified, revalidate } };
}

/** A GET of the PNG of `text`. */
function pngCase(name, text) {
  const target = qrPath(text);
  return { name, method: 'GET', target, headers: [], head: false, absentHeaders: [], cors: true, expect: image('png', text) };
}

/** A case's `headers` (an object, or a list of [name, value] pairs and [[name, value], count] repeats) as pairs. */
function headerPairs(headers) {
  if (headers === undefined) return [];
  if (!Array.isArray(headers)) return Object.entries(headers);
  return headers.flatMap((entry) => (Array.isArray(entry[0]) ? Array(entry[1]).fill(entry[0]) : [entry]));
}

/** Whether a target's path is /qrcode or /openapi.json, whose app answers carry Access-Control-Allow-Origin: *. */
function isCorsPath(target) {
  const authority = target.indexOf('://');
  const afterAuthority = authority === -1 ? target : target.slice(target.indexOf('/', authority + 3));
  const pathOnly = afterAuthority.split(/[?#]/)[0];
  return pathOnly === '/qrcode' || pathOnly === '/openapi.json';
}

/**
 * Every case the Node host answers: the table's (those for `hosts` with "node", or for every host), then one PNG
 * case for each text of every text set. Each is { name, method, target, headers: [[name, value]], head,
 * absentHeaders, cors (the answer must carry Access-Control-Allow-Origin: *), expect }, where `expect` is one of
 * { image: { format, text, pixels: { size, margin, ecLevel, dark, light }, sameAs, notModified, revalidate } },
 * { answer: { status, body, headers } }, { file: { path, bytes } } or { status }.
 */
function cases() {
  const table = DOC.cases.filter((c) => c.hosts === undefined || c.hosts.includes('node')).map((c) => {
    let target;
    let expect;
    if (c.text !== undefined) target = qrPath(parts(c.text));
    else if (c.query !== undefined) target = `/qrcode?${parts(c.query)}`;
    else target = parts(c.target);
    const extra = { pixels: c.image ?? {}, sameAs: c.same_as, notModified: c.not_modified, revalidate: c.revalidate };
    if (c.text !== undefined || c.png !== undefined) expect = image('png', parts(c.png ?? c.text), extra);
    if (c.svg !== undefined) expect = image('svg', parts(c.svg), extra);
    if (c.answer !== undefined) expect = { answer: answer(c.answer) };
    if (c.file !== undefined) expect = { file: { path: c.file, bytes: fs.readFileSync(path.join(ROOT, c.file)) } };
    if (c.status !== undefined) expect = { status: c.status };
    assert.ok(expect, `case ${c.name} has no answer`);
    return {
      name: c.name,
      method: c.method ?? 'GET',
      target,
      headers: headerPairs(c.headers),
      head: c.head === true,
      absentHeaders: c.absent_headers ?? [],
      cors: expect.status === undefined && isCorsPath(target),
      expect,
    };
  });
  const fromSets = Object.keys(DOC.texts).flatMap((set) =>
    texts(set).map((text, i) => pngCase(`${set} text ${i + 1}: ${JSON.stringify([...text].slice(0, 24).join(''))}`, text)),
  );
  return [...table, ...fromSets];
}

/**
 * Asserts that `res` ({ status, headers (lower-case names), body: Buffer }) is what `c` expects (`head`: it answers a
 * HEAD, so no body): an image (its content judged by `await judgeImage(body, text, what, image)`, which the caller
 * provides), a 304 of one, an answer of the contract, a file, or a status. An image and its 304 carry the body's
 * ETag and Cache-Control; a case with `cors` carries Access-Control-Allow-Origin: *.
 */
async function check(c, res, judgeImage, { head = false } = {}) {
  const what = `${c.name} (${head ? 'HEAD' : c.method} ${c.target.slice(0, 60)})`;
  const { image: img, answer: reply, file, status } = c.expect;
  if (img !== undefined && img.notModified) {
    assert.equal(res.status, 304, what);
    assert.equal(res.body.length, 0, what);
    assert.match(res.headers.etag ?? '', /^"[0-9a-f]{32}"$/, what);
    assert.equal(res.headers['cache-control'], CACHE_CONTROL, what);
  } else if (img !== undefined) {
    assert.equal(res.status, 200, `${what}: ${res.body.toString().slice(0, 100)}`);
    assert.equal(res.headers['content-type'], CONTENT_TYPES[img.format], what);
    assert.equal(res.headers['cache-control'], CACHE_CONTROL, what);
    assert.match(res.headers.etag ?? '', /^"[0-9a-f]{32}"$/, what);
    if (!head) {
      assert.equal(res.headers['content-length'], String(res.body.length), what);
      assert.equal(res.headers.etag, etagOf(res.body), `${what}: the ETag is the body's`);
      await judgeImage(res.body, img.text, what, img);
    }
  } else if (reply !== undefined && reply.body === null) {
    assert.equal(res.status, reply.status, what);
    assert.equal(res.body.length, 0, what);
    assert.equal(res.headers['content-type'], undefined, what);
    assert.equal(res.headers['content-length'], undefined, what);
  } else if (reply !== undefined) {
    assert.equal(res.status, reply.status, what);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', what);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(reply.body)), what);
    assert.equal(res.body.toString('utf8'), head ? '' : reply.body, what); // one line, no trailing newline
  } else if (file !== undefined) {
    assert.equal(res.status, 200, what);
    assert.equal(res.headers['content-type'], 'application/json', what);
    assert.equal(res.headers['content-length'], String(file.bytes.length), what);
    assert.ok(res.body.equals(head ? Buffer.alloc(0) : file.bytes), `${what}: ${file.path} byte for byte`);
  } else {
    assert.equal(res.status, status, what);
  }
  for (const [name, value] of Object.entries(reply?.headers ?? {})) {
    assert.equal(res.headers[name], value, `${what}: ${name}`);
  }
  if (c.cors) assert.equal(res.headers['access-control-allow-origin'], '*', `${what}: Access-Control-Allow-Origin`);
  for (const name of c.absentHeaders ?? []) assert.equal(res.headers[name], undefined, `${what}: no ${name}`);
}

module.exports = { cases, check, answer, texts, allTexts, pngCase, qrPath, etagOf, CACHE_CONTROL };
