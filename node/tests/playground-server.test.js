// The playground's pass-through (web/playground-server.js) against an upstream that misbehaves, over real sockets:
// an answer cut short, a 101, a page of HTML with a status no server uses, and a browser connection that pipelines
// a flood. Each time the browser gets an answer of the playground's own, in bounded time, and the flood reaches the
// upstream over a few connections that close with the client's. Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { startProcess, send } = require('./support/server-process');

const WEB_SERVER = path.join(__dirname, '..', '..', 'web', 'playground-server.js');
/** The playground's timeout for an upstream's whole answer, in these tests. */
const TIMEOUT_MS = 1_500;
const BOUNDED = { timeout: 60_000 };

/** Raw HTTP answers of a misbehaving tier, by the text asked for. */
const UPSTREAM = {
  // Promises 100 bytes, sends 5, and holds the connection open.
  short: 'HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n\x89PNG\r',
  switch: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  html: 'HTTP/1.1 999 Whatever\r\nContent-Type: text/html\r\nContent-Length: 29\r\n\r\n<script>alert(1)</script>!!!!',
  png: 'HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 8\r\n\r\n\x89PNG\r\n\x1a\n',
  // An SVG that would run a script if it were opened as a document of the playground's origin.
  svg: 'HTTP/1.1 200 OK\r\nContent-Type: image/svg+xml\r\nContent-Length: 65\r\n\r\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>',
};

/** A fake tier answering each request by its text; counts the connections it has open, and the most at once. */
async function misbehavingUpstream() {
  const state = { open: 0, most: 0, server: null, port: 0 };
  state.server = net.createServer((socket) => {
    state.open += 1;
    state.most = Math.max(state.most, state.open);
    socket.on('close', () => (state.open -= 1));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const text = /text=(\w+)/.exec(head)?.[1] ?? 'png';
        socket.write(Buffer.from(UPSTREAM[text] ?? UPSTREAM.png, 'latin1'));
      }
    });
  });
  await new Promise((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = state.server.address().port;
  return state;
}

async function playground() {
  return startProcess(process.execPath, [WEB_SERVER, '--port', '0', '--timeout-ms', String(TIMEOUT_MS)]);
}

test('playground: what no QR tier answers becomes its own 502 or 504, in bounded time', BOUNDED, async () => {
  const upstream = await misbehavingUpstream();
  const web = await playground();
  try {
    for (const [text, status, words] of [
      ['short', 504, /did not answer within 1500 ms/],
      ['switch', 502, /answered 101, which no QR tier answers/],
      ['html', 502, /answered 999 text\/html, which no QR tier answers/],
    ]) {
      const started = Date.now();
      const res = await send(web.port, `/tier/${upstream.port}/qrcode?text=${text}`);
      const took = Date.now() - started;
      assert.equal(res.status, status, `${text}: ${res.body}`);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', text);
      assert.match(res.body.toString(), words, text);
      assert.ok(took < TIMEOUT_MS + 1_000, `${text}: answered after ${took} ms`);
    }
    const res = await send(web.port, `/tier/${upstream.port}/qrcode?text=png`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/png');
    const svg = await send(web.port, `/tier/${upstream.port}/qrcode?text=svg`);
    assert.equal(svg.status, 200);
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
    assert.match(svg.headers['content-security-policy'], /sandbox/, 'an SVG opened on its own runs no script');
    assert.equal(svg.headers['x-content-type-options'], 'nosniff');
  } finally {
    assert.equal(await web.stop('SIGTERM'), 0, web.stderr());
    upstream.server.close();
  }
});

test('playground: one connection\'s pipelined flood reaches the tier over a few connections, closed with it', BOUNDED, async () => {
  const upstream = await misbehavingUpstream();
  const web = await playground();
  try {
    const flood = 300;
    const one = `GET /tier/${upstream.port}/qrcode?text=png HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const answers = await new Promise((resolve, reject) => {
      const socket = net.connect(web.port, '127.0.0.1', () => socket.write(one.repeat(flood)));
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        const count = received.split('HTTP/1.1 200 OK').length - 1;
        if (count === flood) {
          socket.destroy();
          resolve(count);
        }
      });
      socket.on('error', reject);
      socket.setTimeout(30_000, () => reject(new Error(`only ${received.split('HTTP/1.1 ').length - 1} answers`)));
    });
    assert.equal(answers, flood);
    assert.ok(upstream.most <= 4, `${upstream.most} upstream connections at once`);
    // The kept-alive upstream connections close within their idle timeout once unused.
    const deadline = Date.now() + 10_000;
    while (upstream.open > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(upstream.open, 0, 'upstream connections outlived the client');
  } finally {
    assert.equal(await web.stop('SIGTERM'), 0, web.stderr());
    upstream.server.close();
  }
});
