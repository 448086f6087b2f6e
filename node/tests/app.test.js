// The app in-process, on each framework of node/http/frameworks.js (express-app.js and fastify-app.js around
// answers.js), every test run once per framework: the contract's table through it around tier-0, and around a
// generator the test controls: the options it is handed, BAD_INPUT/503/500 mapping, caching (ETag, 304), CORS,
// the preflight, /openapi.json, /healthz while draining, and what a framework may do on its own (read a body, route
// a method, a %-escaped or odd path). Run with `npm test` (in node/).
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { clientErrorResponse } = require('../http/answers');
const { HTTP_FRAMEWORKS, appServer } = require('../http/frameworks');
const { request, send: sendRaw } = require('./support/server-process');
const { decodeQrPng } = require('./support/qr-decode');
const contract = require('./support/contract');
const tier0 = require('../tiers/tier-0');

const OPENAPI = fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'openapi.json'));
const tier0Generate = (text, options) => tier0.generateQrCode(text, undefined, options);

/**
 * Serves `framework`'s app around `generate` on an ephemeral port during `body(port)`: heads up to 64 KiB and the
 * parser's refusals answered, as in node/http/serve-tier.js; `log` gets its lines, `draining()` says whether it drains.
 */
async function withApp(framework, generate, body, { log = () => {}, draining = () => false } = {}) {
  const makeServer = (app) => http.createServer({ maxHeaderSize: 64 * 1024 }, app);
  const server = await appServer(framework, makeServer, generate, log, draining);
  server.on('clientError', (err, socket) => socket.end(clientErrorResponse(err)));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(server.address().port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** One request of a case: `headers` as [name, value] pairs (names may repeat), after a `Host` as a suite sends. */
function send(port, method, target, headers) {
  return request(port, target, { method, headers: ['Host', '127.0.0.1', ...headers.flat()] });
}

/** The headers HEAD must answer as GET does. */
const HEAD_AS_GET = ['content-type', 'content-length', 'etag', 'cache-control', 'access-control-allow-origin'];

/** The image's content: jsqr reads the PNG's text (ZXing, pixels and SVG content are node/tests/tier-0.test.js's). */
async function judge(body, text, what, image) {
  if (image.format === 'png') assert.deepEqual(decodeQrPng(body), Buffer.from(text, 'utf8'), what);
  else assert.match(body.toString('utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /, what);
}

/**
 * Sends a case and checks every answer it asks for, as the conformance suite does (lab/qr-harness/src/contract/check.rs,
 * `run`): the request; as HEAD (same headers, no body); for an image, the same request without its headers when it is
 * a 304, the `sameAs` query's bytes, and its ETag sent back alone, weak, in a list and on HEAD.
 */
async function runCase(port, c) {
  const res = await send(port, c.method, c.target, c.headers);
  await contract.check(c, res, judge);
  if (c.head) {
    const head = await send(port, 'HEAD', c.target, c.headers);
    await contract.check(c, head, judge, { head: true });
    for (const name of HEAD_AS_GET) assert.equal(head.headers[name], res.headers[name], `${c.name}: HEAD's ${name}`);
  }
  const image = c.expect.image;
  if (image === undefined) return;
  const plainCase = { ...c, headers: [], expect: { image: { ...image, notModified: false } } };
  let imageAnswer = res;
  if (image.notModified) {
    imageAnswer = await send(port, 'GET', c.target, []);
    await contract.check(plainCase, imageAnswer, judge);
    assert.equal(res.headers.etag, imageAnswer.headers.etag, `${c.name}: the 304's ETag is the image's`);
  }
  if (image.sameAs !== undefined) {
    const other = await send(port, 'GET', `/qrcode?${image.sameAs}`, []);
    assert.ok(other.body.equals(imageAnswer.body), `${c.name}: the bytes of ${image.sameAs}`);
  }
  if (image.revalidate) {
    const tag = imageAnswer.headers.etag;
    const otherTag = '"00000000000000000000000000000000"';
    const conditions = [['GET', tag], ['GET', `W/${tag}`], ['GET', `${otherTag}, ${tag}`], ['HEAD', tag]];
    for (const [method, condition] of conditions) {
      const headers = [...c.headers, ['If-None-Match', condition]];
      const revalidation = { ...c, headers, expect: { image: { ...image, notModified: true } } };
      const answer = await send(port, method, c.target, revalidation.headers);
      await contract.check(revalidation, answer, judge, { head: method === 'HEAD' });
      assert.equal(answer.headers.etag, tag, `${c.name}: ${method} with If-None-Match: ${condition}`);
    }
  }
}

/** Every test, for the app on `framework`. */
function appTests(framework) {
  test('every case of contract/cases.json that reaches the app, through it around tier-0', async () => {
    const badTarget = contract.answer('badTarget').body;
    // Not the app's: the HTTP layer's statuses, and raw UTF-8 in the target, which Node's parser refuses first
    // (node/tests/server.test.js and the conformance suite send those to a whole server).
    const cases = contract.cases().filter((c) => c.expect.status === undefined && c.expect.answer?.body !== badTarget);
    assert.ok(cases.length > 200, `${cases.length} cases`);
    await withApp(framework, tier0Generate, async (port) => {
      for (const c of cases) await runCase(port, c);
    });
  });

  test("raw UTF-8 in the target, which Node's parser refuses: clientErrorResponse's line, CORS on /qrcode", async () => {
    const badTarget = contract.answer('badTarget').body;
    const cases = contract.cases().filter((c) => c.expect.answer?.body === badTarget);
    cases.push({ ...cases[0], name: 'absolute-form', target: 'http://x/qrcode?text=é', cors: true });
    assert.ok(cases.some((c) => c.cors) && cases.some((c) => !c.cors), 'on /qrcode and elsewhere');
    await withApp(framework, tier0Generate, async (port) => {
      for (const c of cases) {
        const res = await sendRaw(port, c.target);
        await contract.check(c, res, undefined);
        if (!c.cors) assert.equal(res.headers['access-control-allow-origin'], undefined, c.name);
      }
    });
  });

  test('the generator is handed only valid text and options, exactly once per valid request', async () => {
    const seen = [];
    const generate = (text, options) => {
      seen.push([text, options]);
      return tier0Generate(text, options);
    };
    await withApp(framework, generate, async (port) => {
      const refused = ['/qrcode', '/qrcode?text=', '/qrcode?text=a&text=b', '/qrcode?text[]=a', '/qrcode?text=%FF'];
      refused.push('/qrcode?text=a&size=20', '/qrcode?text=a&format=gif', '/qrcode?text=a&dark=red&dark=blue');
      for (const p of refused) assert.equal((await request(port, p)).status, 400, p);
      assert.equal((await request(port, `/qrcode?text=${'a'.repeat(513)}`)).status, 400);
      assert.equal((await request(port, '/qrcode?text=a', { method: 'POST' })).status, 405);
      assert.equal((await request(port, '/qrcode?text=a', { method: 'OPTIONS' })).status, 204);
      assert.equal((await request(port, '/other?text=a')).status, 404);
      assert.deepEqual(seen, []);
      assert.equal((await request(port, '/qrcode?text=a%00%F0%9F%A6%80+b')).status, 200);
      assert.equal((await request(port, '/qrcode?text=x&ecLevel=h&light=%23FFFFFF00&size=0300&other=1')).status, 200);
      assert.deepEqual(seen, [
        ['a\u0000🦀 b', {}],
        ['x', { size: 300, ecLevel: 'H', light: 'ffffff00' }],
      ]);
    });
  });

  test('a BAD_INPUT error is 400 with its message; BUSY is 503 "server is busy"; any other 500; each with CORS', async () => {
    const failures = {
      small: () => Object.assign(new Error(contract.answer('sizeTooSmall29').body), { code: 'BAD_INPUT' }),
      busy: () => Object.assign(new Error('no processes left'), { code: 'BUSY' }),
      plain: () => new Error('the core said no'),
      string: () => 'not even an Error',
    };
    const generate = async (text) => {
      throw failures[text]();
    };
    const logged = [];
    const log = (line) => logged.push(line);
    await withApp(framework, generate, async (port) => {
      const expect = async (text, key) => {
        const target = `/qrcode?text=${text}`;
        const c = { name: key, method: 'GET', target, cors: true, expect: { answer: contract.answer(key) } };
        await contract.check(c, await request(port, c.target), undefined);
        await contract.check(c, await request(port, c.target, { method: 'HEAD' }), undefined, { head: true });
      };
      await expect('small', 'sizeTooSmall29');
      await expect('busy', 'busy');
      await expect('plain', 'failed');
      await expect('string', 'failed');
      assert.equal(logged.length, 4, 'each 500 is logged (GET and HEAD), a 400 or 503 is not');
      assert.match(logged[0], /the core said no/);
    }, { log });
  });

  test('a generator that throws synchronously is a 500 too, and the app keeps serving', async () => {
    let calls = 0;
    const generate = (text, options) => {
      calls += 1;
      if (calls === 1) throw new Error('sync failure');
      return tier0Generate(text, options);
    };
    await withApp(framework, generate, async (port) => {
      assert.equal((await request(port, '/qrcode?text=x')).status, 500);
      assert.equal((await request(port, '/qrcode?text=x')).status, 200);
    });
  });

  test("an image: its format's type, its bytes' strong ETag, a day of caching, CORS; HEAD the same, no body", async () => {
    const images = { png: Buffer.from('\x89PNG fake bytes'), svg: Buffer.from('<svg/>') };
    await withApp(framework, (text, options) => images[options.format ?? 'png'], async (port) => {
      for (const [format, type] of [['png', 'image/png'], ['svg', 'image/svg+xml']]) {
        const target = `/qrcode?text=x&format=${format}`;
        const get = await request(port, target);
        assert.equal(get.status, 200);
        assert.ok(get.body.equals(images[format]));
        const headers = {
          'content-type': type,
          'content-length': String(images[format].length),
          etag: contract.etagOf(images[format]),
          'cache-control': 'public, max-age=86400',
          'access-control-allow-origin': '*',
        };
        for (const [name, value] of Object.entries(headers)) assert.equal(get.headers[name], value, name);
        const head = await request(port, target, { method: 'HEAD' });
        assert.equal(head.body.length, 0);
        for (const [name, value] of Object.entries(headers)) assert.equal(head.headers[name], value, `HEAD: ${name}`);
        for (const res of [get, head]) assert.equal(res.headers['x-powered-by'], undefined);
      }
      assert.equal(contract.etagOf(Buffer.from('abc')), '"ba7816bf8f01cfea414140de5dae2223"');
    });
  });

  test('If-None-Match: *, the tag, a weak tag or a list holding it is a 304 with no body; another tag is a 200', async () => {
    const body = Buffer.from('the image');
    const tag = contract.etagOf(body);
    await withApp(framework, () => body, async (port) => {
      const notModified = ['*', ' * ', tag, `W/${tag}`, `"x", ${tag}`, `W/"x",W/${tag}`, `${tag}, "y"`];
      for (const condition of notModified) {
        for (const method of ['GET', 'HEAD']) {
          const res = await request(port, '/qrcode?text=x', { method, headers: { 'If-None-Match': condition } });
          const what = `${method} If-None-Match: ${condition}`;
          assert.equal(res.status, 304, what);
          assert.equal(res.body.length, 0, what);
          assert.equal(res.headers.etag, tag, what);
          assert.equal(res.headers['cache-control'], 'public, max-age=86400', what);
          assert.equal(res.headers['access-control-allow-origin'], '*', what);
          assert.equal(res.headers['content-type'], undefined, what);
        }
      }
      // Two If-None-Match headers are one list (Node joins them with ", ").
      const headers = ['Host', 'x', 'If-None-Match', '"x"', 'If-None-Match', tag];
      const twoHeaders = await request(port, '/qrcode?text=x', { headers });
      assert.equal(twoHeaders.status, 304);
      // The list ends at what is not a quoted tag (as in qr-server and the Python host); `*` only as the whole value.
      const modified = ['"x"', tag.slice(1, -1), `W/"${tag}"`, `${tag.slice(0, -2)}"`, '', '**', `"*"`,
        tag.toUpperCase(),
        `junk, ${tag}`, `*, ${tag.replace(/./g, 'x')}`];
      for (const condition of modified) {
        const res = await request(port, '/qrcode?text=x', { headers: { 'If-None-Match': condition } });
        assert.equal(res.status, 200, `If-None-Match: ${condition}`);
        assert.ok(res.body.equals(body));
      }
      // An error is never a 304: If-None-Match applies to an image only.
      assert.equal((await request(port, '/qrcode?text=', { headers: { 'If-None-Match': '*' } })).status, 400);
    });
  });

  test("OPTIONS /qrcode is the CORS preflight: 204, no body, the contract's headers, whatever the query", async () => {
    const preflight = contract.answer('preflight');
    let called = false;
    await withApp(framework, () => (called = true), async (port) => {
      const requests = [
        ['/qrcode', {}],
        ['/qrcode?text=', {}],
        ['/qrcode?text=a&size=1', { Origin: 'https://example.com', 'Access-Control-Request-Method': 'GET' }],
      ];
      for (const [target, headers] of requests) {
        const res = await request(port, target, { method: 'OPTIONS', headers });
        assert.equal(res.status, 204, target);
        assert.equal(res.body.length, 0);
        for (const [name, value] of Object.entries(preflight.headers)) {
          assert.equal(res.headers[name], value, `${target}: ${name}`);
        }
        for (const name of ['content-type', 'content-length', 'etag', 'x-powered-by']) {
          assert.equal(res.headers[name], undefined, name);
        }
      }
    });
    assert.equal(called, false, 'a preflight makes no image');
  });

  test('other methods: 405 with the Allow of the path; CORS on /qrcode and /openapi.json, not on /healthz', async () => {
    await withApp(framework, () => Buffer.from('x'), async (port) => {
      const expected = [
        ['/qrcode?text=a', 'GET, HEAD, OPTIONS', '*'],
        ['/openapi.json', 'GET, HEAD', '*'],
        ['/healthz', 'GET, HEAD', undefined],
      ];
      for (const [target, allow, cors] of expected) {
        for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', ...(target === '/qrcode?text=a' ? [] : ['OPTIONS'])]) {
          const res = await request(port, target, { method });
          assert.equal(res.status, 405, `${method} ${target}`);
          assert.equal(res.body.toString(), 'method not allowed');
          assert.equal(res.headers.allow, allow, `${method} ${target}`);
          assert.equal(res.headers['access-control-allow-origin'], cors, `${method} ${target}`);
        }
      }
      const notFound = await request(port, '/nope');
      assert.equal(notFound.status, 404);
      assert.equal(notFound.headers['access-control-allow-origin'], undefined);
    });
  });

  test('GET and HEAD /openapi.json serve contract/openapi.json byte for byte, as application/json, with CORS', async () => {
    await withApp(framework, () => Buffer.from('x'), async (port) => {
      for (const target of ['/openapi.json', '/openapi.json?x=1']) {
        const get = await request(port, target);
        assert.equal(get.status, 200);
        assert.ok(get.body.equals(OPENAPI), 'byte for byte');
        assert.equal(get.headers['content-type'], 'application/json');
        assert.equal(get.headers['content-length'], String(OPENAPI.length));
        assert.equal(get.headers['access-control-allow-origin'], '*');
        const head = await request(port, target, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        assert.equal(head.headers['content-length'], String(OPENAPI.length));
      }
      assert.equal(JSON.parse(OPENAPI).openapi, '3.1.0');
    });
  });
  test('/healthz: 200 `ok` while the server takes work, 503 `draining` once it drains; no CORS', async () => {
    let draining = false;
    await withApp(framework, () => Buffer.from('x'), async (port) => {
      for (const [state, key] of [[false, 'healthy'], [true, 'draining']]) {
        draining = state;
        for (const target of ['/healthz', '/healthz?verbose=1']) {
          const c = { name: key, method: 'GET', target, expect: { answer: contract.answer(key) } };
          await contract.check(c, await request(port, target), undefined);
          await contract.check(c, await request(port, target, { method: 'HEAD' }), undefined, { head: true });
        }
      }
    }, { draining: () => draining });
  });
}

for (const framework of HTTP_FRAMEWORKS) describe(`the app on ${framework}`, () => appTests(framework));

/** A request's raw bytes: the request line, `headers` (raw lines, each ending in CRLF) and `body`. */
const raw = (line, headers = '', body = '') => `${line} HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`;

/**
 * Requests a framework might answer on its own, before or instead of the routes: a body of any type, or chunked, or
 * over fastify's 1 MiB bodyLimit (none is read), methods it has no route for, paths it might decode or bend, HEAD and
 * 304 (no Content-Length of its own), the absolute form, a fragment, pipelining.
 */
const ODD_REQUESTS = [
  raw('POST /qrcode?text=a', 'Content-Type: application/json\r\nContent-Length: 5\r\n', '{"a":'),
  raw('POST /qrcode', 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
  raw('POST /qrcode', 'Content-Length: 3\r\n', 'abc'),
  raw('PUT /qrcode', 'Content-Type: not a type\r\nContent-Length: 1\r\n', 'x'),
  raw('PATCH /qrcode', `Content-Type: text/plain\r\nContent-Length: ${2 ** 21}\r\n`, 'x'.repeat(2 ** 21)),
  raw('DELETE /openapi.json', 'Content-Type: text/plain\r\nContent-Length: 1\r\n', 'x'),
  raw('POST /nope', 'Content-Type: application/json\r\nContent-Length: 2\r\n', '{}'),
  raw('GET /qrcode?text=a', 'Content-Type: application/json\r\nContent-Length: 1\r\n', '{'),
  ...['QUERY /qrcode', 'PURGE /qrcode', 'TRACE /qrcode', 'M-SEARCH /healthz', 'OPTIONS /healthz'].map((l) => raw(l)),
  raw('OPTIONS /qrcode?text='),
  ...['/qrcode/?text=a', '//qrcode?text=a', '/QRCODE?text=a', '/qr%63ode?text=a', '/%71rcode?text=a', '/openapi%2Ejson']
    .map((target) => raw(`GET ${target}`)),
  ...['/qrcode%ZZ?text=a', '/qrcode;x?text=a', '/qrcode#x?text=a', '/qrcode?text=a#x', 'http://x/qr%63ode?text=a', '*']
    .map((target) => raw(`GET ${target}`)),
  raw('GET http://x/qrcode?text=a'),
  raw('OPTIONS *'),
  raw('GET /qrcode?text=a&text=b'),
  raw('HEAD /qrcode?text=hello'),
  raw('HEAD /qrcode?text=hello', 'If-None-Match: *\r\n'),
  raw('GET /qrcode?text=hello', 'If-None-Match: W/"x", "y"\r\n'),
  raw('HEAD /openapi.json'),
  raw('GET /qrcode?text=a', 'Upgrade: websocket\r\nConnection: Upgrade\r\n'),
  raw('GET /qrcode?text=é'),
  Array.from({ length: 100 }, (_, i) => raw(`GET /qrcode?text=${i}`)).join(''),
];

/** Writes `bytes` and a last request that closes the connection; resolves everything the server sent, as latin1. */
function exchange(port, bytes) {
  const closer = raw('GET /last', 'Connection: close\r\n');
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.from(bytes + closer, 'utf8')));
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no end within 30 s: ${bytes.slice(0, 60)}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

/** What may differ: the Date, and the case of header names (fastify writes them in lower case). */
function sameness(answers) {
  const undated = answers.replace(/\r\nDate: [^\r]*/g, '');
  return undated.replace(/\r\n([A-Za-z-]+):/g, (_, name) => `\r\n${name.toLowerCase()}:`);
}

test('fastify answers odd requests as express does, byte for byte but for header names and the Date', async () => {
  await withApp('express', tier0Generate, async (expressPort) => {
    await withApp('fastify', tier0Generate, async (fastifyPort) => {
      for (const bytes of ODD_REQUESTS) {
        const [expressSaid, fastifySaid] = await Promise.all([expressPort, fastifyPort].map((p) => exchange(p, bytes)));
        assert.match(expressSaid, /^HTTP\/1\.1 \d{3} /, bytes.slice(0, 60));
        assert.equal(sameness(fastifySaid), sameness(expressSaid), bytes.slice(0, 60));
      }
    });
  });
});
