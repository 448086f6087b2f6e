// The express app (node/http/app.js) in-process around a generator the test controls: 500 and 503 mapping,
// and validation that runs before the generator is ever called. Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { createApp } = require('../http/app');
const { request } = require('./support/server-process');
const contract = require('./support/contract');
const tier0 = require('../tiers/tier-0');

/** Serves createApp(generate) on an ephemeral port for the duration of `body(port)`. */
async function withApp(generate, body) {
  const server = http.createServer(createApp(generate));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(server.address().port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('the generator sees only valid text, exactly once per valid request', async () => {
  const seen = [];
  const generate = (text) => {
    seen.push(text);
    return tier0.generateQrCode(text);
  };
  await withApp(generate, async (port) => {
    for (const p of ['/qrcode', '/qrcode?text=', '/qrcode?text=a&text=b', '/qrcode?text[]=a', '/qrcode?text=%FF']) {
      assert.equal((await request(port, p)).status, 400, p);
    }
    assert.equal((await request(port, `/qrcode?text=${'a'.repeat(513)}`)).status, 400);
    assert.equal((await request(port, '/qrcode?text=a', { method: 'POST' })).status, 405);
    assert.equal((await request(port, '/other?text=a')).status, 404);
    assert.deepEqual(seen, []);
    assert.equal((await request(port, '/qrcode?text=a%00%F0%9F%A6%80+b')).status, 200);
    assert.deepEqual(seen, ['a\u0000🦀 b']);
  });
});

test('a BUSY error is 503 "server is busy"; any other failure is 500 "failed to generate qr code"', async () => {
  const failures = {
    busy: () => Object.assign(new Error('no processes left'), { code: 'BUSY' }),
    plain: () => new Error('the core said no'),
    string: () => 'not even an Error',
  };
  const generate = async (text) => {
    throw failures[text]();
  };
  await withApp(generate, async (port) => {
    const busy = await request(port, '/qrcode?text=busy');
    assert.equal(busy.status, 503);
    assert.equal(busy.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(busy.body.toString(), contract.answer('busy').body);
    for (const text of ['plain', 'string']) {
      const res = await request(port, `/qrcode?text=${text}`);
      assert.equal(res.status, 500);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.body.toString(), contract.answer('failed').body);
    }
  });
});

test('a generator that throws synchronously is a 500 too, and the app keeps serving', async () => {
  let calls = 0;
  const generate = (text) => {
    calls += 1;
    if (calls === 1) throw new Error('sync failure');
    return tier0.generateQrCode(text);
  };
  await withApp(generate, async (port) => {
    assert.equal((await request(port, '/qrcode?text=x')).status, 500);
    assert.equal((await request(port, '/qrcode?text=x')).status, 200);
  });
});
