// Test helper: a real headless Chromium driven over the DevTools protocol through a pipe (Chromium's
// --remote-debugging-pipe: JSON messages, each ended by a NUL byte, written to its fd 3 and read from its fd 4),
// with no npm package. Used by node/tests/web.test.js; not a test file itself.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The browser: env RUSTY_QR_CHROMIUM (which `cargo xtask test` sets, installing Debian's package if needed), else `chromium` on PATH. */
function findChromium() {
  if (process.env.RUSTY_QR_CHROMIUM) return process.env.RUSTY_QR_CHROMIUM;
  const found = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  throw new Error('Chromium not found: run `cargo xtask test`, which installs Debian\'s chromium package, or set RUSTY_QR_CHROMIUM');
}

/** A headless Chromium with one page; `close()` ends it and removes its profile. */
async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rusty-qr-chromium-'));
  const args = ['--headless=new', '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--no-first-run',
    '--no-default-browser-check', '--disable-gpu', '--disable-extensions', '--window-size=900,1000', 'about:blank'];
  // As root Chromium refuses to start with its sandbox (no user namespace for it here).
  if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');
  const child = spawn(findChromium(), args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  let gone = null; // why nothing can be sent any more, once Chromium has exited
  // Exited, or never started (the binary missing: an 'error' and no 'exit').
  const exited = new Promise((resolve) => {
    child.on('exit', resolve);
    child.on('error', (err) => {
      gone = new Error(`cannot run Chromium: ${err.message}`);
      resolve(null);
    });
  });
  // A write to a Chromium that has just exited fails with EPIPE: the exit handler below reports it.
  child.stdio[3]?.on('error', () => {});

  let nextId = 0;
  const waiting = new Map();
  let pending = Buffer.alloc(0);
  child.stdio[4].on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (let end = pending.indexOf(0); end >= 0; end = pending.indexOf(0)) {
      const message = JSON.parse(pending.subarray(0, end).toString('utf8'));
      pending = pending.subarray(end + 1);
      const reply = waiting.get(message.id);
      if (!reply) continue; // an event: none is needed
      waiting.delete(message.id);
      if (message.error) reply.reject(new Error(`${reply.method}: ${message.error.message}`));
      else reply.resolve(message.result);
    }
  });
  exited.then((code) => {
    gone ??= new Error(`Chromium exited (${code}):\n${stderr}`);
    for (const reply of waiting.values()) reply.reject(new Error(`${reply.method}: ${gone.message}`));
    waiting.clear();
  });
  const send = (method, params = {}, sessionId = undefined) =>
    new Promise((resolve, reject) => {
      if (gone) return reject(new Error(`${method}: ${gone.message}`));
      const id = ++nextId;
      waiting.set(id, { resolve, reject, method });
      child.stdio[3].write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  const end = async () => {
    await send('Browser.close').catch(() => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    fs.rmSync(profile, { recursive: true, force: true });
  };

  let sessionId;
  try {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    ({ sessionId } = await send('Target.attachToTarget', { targetId, flatten: true }));
  } catch (err) {
    await end();
    throw err;
  }
  const page = (method, params) => send(method, params, sessionId);

  /** The value of `expression` in the page (awaited if it is a promise); a thrown error rejects. */
  async function evaluate(expression) {
    const { result, exceptionDetails } = await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  }

  return {
    evaluate,
    /** Opens `url` and waits until the page has loaded. */
    async open(url) {
      await page('Page.navigate', { url });
      await this.waitFor('document.readyState === "complete"');
    },
    /** Polls `expression` until it is truthy (at most `ms`), returns its value. */
    async waitFor(expression, ms = 15_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await evaluate(expression);
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`never true within ${ms} ms: ${expression}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    /** Types `text` into the focused element as a keyboard would (one input event). */
    insertText: (text) => page('Input.insertText', { text }),
    /** A PNG of the page as shown. */
    async screenshot() {
      const { data } = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
      return Buffer.from(data, 'base64');
    },
    close: end,
  };
}

module.exports = { launch };
