// Test helper: the HTTP contract as data (../../contract/cases.json, the file the Rust suites read too), its
// cases expanded into requests, and the one check of a response against a case.
// Used by node/tests/*.test.js (`npm test`); not a test file itself.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..', '..');
const DOC = JSON.parse(fs.readFileSync(path.join(ROOT, 'contract', 'cases.json'), 'utf8'));

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

/** The answer named `key` (`missing`, `notOnce`, `healthy`, ...): { status, body, headers }. */
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

/** A GET of the PNG of `text`. */
function pngCase(name, text) {
  return { name, method: 'GET', target: qrPath(text), headers: {}, absentHeaders: [], head: false, expect: { png: text } };
}

/** Every case the Node host answers: the table's (those for `hosts` with "node", or for every host), then one PNG
 * case for each text of every text set. */
function cases() {
  const table = DOC.cases.filter((c) => c.hosts === undefined || c.hosts.includes('node')).map((c) => {
    let target;
    let expect;
    if (c.text !== undefined) {
      target = qrPath(parts(c.text));
      expect = { png: parts(c.text) };
    } else if (c.query !== undefined) {
      target = `/qrcode?${parts(c.query)}`;
    } else {
      target = parts(c.target);
    }
    if (c.png !== undefined) expect = { png: parts(c.png) };
    if (c.answer !== undefined) expect = { answer: answer(c.answer) };
    if (c.status !== undefined) expect = { status: c.status };
    return {
      name: c.name,
      method: c.method ?? 'GET',
      target,
      headers: c.headers ?? {},
      absentHeaders: (c.absent_headers ?? []).map((h) => h.toLowerCase()),
      head: c.head === true,
      expect,
    };
  });
  const fromSets = Object.keys(DOC.texts).flatMap((set) =>
    texts(set).map((text, i) => pngCase(`${set} text ${i + 1}: ${JSON.stringify([...text].slice(0, 24).join(''))}`, text)),
  );
  return [...table, ...fromSets];
}

/**
 * Asserts that `res` ({ status, headers (lower-case names), body: Buffer }) answers `c`; `head`: it answers a HEAD.
 * A PNG's content is judged by `await checkPng(body, text)`, which the caller provides.
 */
async function check(c, res, head, checkPng) {
  const what = `${c.name} (${head ? 'HEAD' : c.method} ${c.target.slice(0, 60)})`;
  if (c.expect.png !== undefined) {
    assert.equal(res.status, 200, `${what}: ${res.body.toString().slice(0, 100)}`);
    assert.equal(res.headers['content-type'], 'image/png', what);
    if (!head) {
      assert.equal(res.headers['content-length'], String(res.body.length), what);
      await checkPng(res.body, c.expect.png, what);
    }
  } else if (c.expect.answer !== undefined) {
    const { status, body, headers } = c.expect.answer;
    assert.equal(res.status, status, what);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', what);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)), what);
    assert.equal(res.body.toString('utf8'), head ? '' : body, what); // one line, no trailing newline
    for (const [name, value] of Object.entries(headers)) assert.equal(res.headers[name], value, `${what}: ${name}`);
  } else {
    assert.equal(res.status, c.expect.status, what);
  }
  for (const name of c.absentHeaders) assert.equal(res.headers[name], undefined, `${what}: no ${name}`);
}

module.exports = { cases, check, answer, texts, pngCase, qrPath, percentEncode };
