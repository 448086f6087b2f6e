// node/http/one-at-a-time.js over a real socket: a connection's pipelined requests run one at a time and are answered
// in order, other connections are not held up, and a connection with more than MAX_WAITING requests waiting is
// closed. Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { oneAtATime, MAX_WAITING } = require('../http/one-at-a-time');

/** A server whose every request takes `ms`, one at a time per connection; counts how many ran at once. */
async function slowServer(ms) {
  const state = { running: 0, most: 0 };
  const server = http.createServer((req, res) => {
    oneAtATime(req.socket, res, () => {
      state.running += 1;
      state.most = Math.max(state.most, state.running);
      setTimeout(() => {
        state.running -= 1;
        res.end(req.url);
      }, ms);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, state };
}

/** Writes `targets` pipelined on one connection; resolves with the bodies of the answers, in the order they came. */
function pipelined(port, targets) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(targets.map((t) => `GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`).join('')),
    );
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
      const bodies = [...received.matchAll(/\r\n\r\n([^H]*)/g)].map((m) => m[1]);
      if (bodies.length === targets.length && bodies.every((b, i) => b === targets[i])) {
        socket.destroy();
        resolve(bodies);
      }
    });
    socket.on('close', () => resolve([...received.matchAll(/\r\n\r\n([^H]*)/g)].map((m) => m[1])));
    socket.on('error', reject);
  });
}

test('one at a time: a pipelined connection runs one request at a time, answered in order; others are not held up', async () => {
  const { server, port, state } = await slowServer(5);
  try {
    const targets = Array.from({ length: 40 }, (_, i) => `/${i}`);
    const other = pipelined(port, ['/other']);
    const [answers, otherAnswers] = await Promise.all([pipelined(port, targets), other]);
    assert.deepEqual(answers, targets);
    assert.deepEqual(otherAnswers, ['/other']);
    assert.equal(state.most, 2, 'one request of each connection at a time');
  } finally {
    server.close();
  }
});

test('one at a time: a connection with more than MAX_WAITING requests waiting is closed, and what waited is dropped', async () => {
  const { server, port, state } = await slowServer(20);
  try {
    const targets = Array.from({ length: MAX_WAITING + 10 }, (_, i) => `/${i}`);
    const answers = await pipelined(port, targets);
    assert.ok(answers.length < targets.length, `${answers.length} answers`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(state.running, 0, 'nothing runs for a connection that is gone');
  } finally {
    server.close();
  }
});
