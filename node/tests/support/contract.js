// Test helper: the HTTP contract as data (contract/cases.json, the file the Rust suites read too): its answers,
// its text sets, its cases as requests (for the query parser's test), and the one check of an answer.
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

/** Every text of every set: the article's, the edge cases, and the scripts a scanner must show right. */
function allTexts() {
  return Object.keys(DOC.texts).flatMap(texts);
}

/** A GET of the PNG of `text`. */
function pngCase(name, text) {
  return { name, method: 'GET', target: qrPath(text), expect: { png: text } };
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
    return { name: c.name, method: c.method ?? 'GET', target, expect };
  });
  const fromSets = Object.keys(DOC.texts).flatMap((set) =>
    texts(set).map((text, i) => pngCase(`${set} text ${i + 1}: ${JSON.stringify([...text].slice(0, 24).join(''))}`, text)),
  );
  return [...table, ...fromSets];
}

/**
 * Asserts that `res` ({ status, headers (lower-case names), body: Buffer }) is what `c` expects: a PNG (judged by
 * `await checkPng(body, text, what)`, which the caller provides) or an answer of the contract.
 */
async function check(c, res, checkPng) {
  const what = `${c.name} (${c.method} ${c.target.slice(0, 60)})`;
  if (c.expect.png !== undefined) {
    assert.equal(res.status, 200, `${what}: ${res.body.toString().slice(0, 100)}`);
    assert.equal(res.headers['content-type'], 'image/png', what);
    assert.equal(res.headers['content-length'], String(res.body.length), what);
    await checkPng(res.body, c.expect.png, what);
  } else {
    const { status, body, headers } = c.expect.answer;
    assert.equal(res.status, status, what);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', what);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)), what);
    assert.equal(res.body.toString('utf8'), body, what); // one line, no trailing newline
    for (const [name, value] of Object.entries(headers)) assert.equal(res.headers[name], value, `${what}: ${name}`);
  }
}

module.exports = { cases, check, answer, texts, allTexts, pngCase, qrPath };
