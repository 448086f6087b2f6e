// The playground (web/) in a real headless Chromium: for the article's 10 texts and a non-ASCII one, with each
// engine, the PNG the page makes in the tab equals the core's (qr-cli: the same qr_core::generate) byte for byte and
// reads back in jsqr and ZXing; the running tier's answer beside it is the same bytes; the option controls give
// both sides qr-cli's SVG for the same flags; the contract's errors show on both sides as the server words them. Needs `cargo xtask build` and Chromium (`cargo xtask test` has both).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startProcess, send } = require('./support/server-process');
const chromium = require('./support/chromium');
const contract = require('./support/contract');
const { assertReadsBack } = require('./support/qr-decode');
const { CLI } = require('../tiers/tier-1');

const REPO = path.join(__dirname, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(REPO, process.env.CARGO_TARGET_DIR) : path.join(REPO, 'target');
const QR_SERVER = process.env.RUSTY_QR_SERVER || path.join(TARGET, 'release', 'qr-server');
const WEB_SERVER = path.join(REPO, 'web', 'playground-server.js');
const TEXTS = [...contract.texts('article'), 'Grüße aus 東京 🦀'];
const ENGINES = ['fast', 'article'];

/** The core's image of `text` with `engine` (and qr-cli's option `flags`), from qr-cli. */
function corePng(text, engine, flags = []) {
  const run = spawnSync(CLI, ['--engine', engine, ...flags, '-'], { input: Buffer.from(text, 'utf8'), maxBuffer: 1 << 20 });
  assert.equal(run.status, 0, run.stderr.toString());
  return run.stdout;
}

/** Replaces the text field's content with `text`, typed as a keyboard would. */
async function type(page, text) {
  await page.evaluate(`(() => { const field = document.getElementById('text'); field.value = ''; field.focus(); })()`);
  if (text === '') await page.evaluate(`document.getElementById('text').dispatchEvent(new Event('input'))`);
  else await page.insertText(text);
}

/** Picks `engine` in the page's engine menu. */
async function choose(page, engine) {
  await page.evaluate(`(() => { const menu = document.getElementById('engine'); menu.value = '${engine}'; menu.dispatchEvent(new Event('change')); })()`);
}

/** Sets the option field `id` to `value` (a checkbox to checked or not), as a user would. */
async function setOption(page, id, value) {
  await page.evaluate(`(() => {
    const field = document.getElementById('${id}');
    if (field.type === 'checkbox') field.checked = ${JSON.stringify(value)}; else field.value = ${JSON.stringify(value)};
    field.dispatchEvent(new Event(field.type === 'checkbox' || field.tagName === 'SELECT' ? 'change' : 'input'));
  })()`);
}

/** Waits until figure `id` shows `text` (and, if given, the option `query`), returns { state, png, error, size }. */
async function shown(page, id, text, query) {
  const sameQuery = query === undefined ? '' : ` && document.getElementById('${id}').dataset.query === ${JSON.stringify(query)}`;
  await page.waitFor(`document.getElementById('${id}').dataset.text === ${JSON.stringify(text)}${sameQuery}`);
  return page.evaluate(`(() => {
    const figure = document.getElementById('${id}');
    const src = figure.querySelector('img').getAttribute('src');
    return { state: figure.dataset.state, png: src.slice(src.indexOf(',') + 1),
      error: figure.querySelector('.error').textContent, size: figure.querySelector('.size').textContent };
  })()`);
}

test('web: the page makes the core\'s PNGs in Chromium, shows the tier\'s beside them, and the contract\'s errors', { timeout: 180_000 }, async () => {
  for (const file of [CLI, QR_SERVER, path.join(REPO, 'node', 'build', 'qr_wasm.wasm')]) {
    assert.ok(fs.existsSync(file), `needs ${file}: run \`cargo xtask build\``);
  }
  const tier = await startProcess(QR_SERVER, ['--addr', '127.0.0.1:0']); // tier-4, the fast engine
  const web = await startProcess(process.execPath, [WEB_SERVER, '--port', '0']);
  // The page's server answers to its own names only, passes on only /tier/PORT/qrcode, and says why it cannot.
  for (const [target, headers, status, body] of [
    ['/', { Host: 'rebound.example' }, 403, /^this server answers to 127\.0\.0\.1 and localhost only$/],
    ['/tier/99999/qrcode?text=a', {}, 400, /^99999 is not a port$/],
    ['/tier/1/qrcode?text=a', {}, 502, /^no tier answers on 127\.0\.0\.1:1 \(ECONNREFUSED\)/],
    ['/tier/1/other', {}, 404, /^not found$/],
    ['/../server.js', {}, 404, /^not found$/],
  ]) {
    const res = await send(web.port, target, { headers });
    assert.equal(res.status, status, target);
    assert.match(res.body.toString(), body, target);
  }
  const page = await chromium.launch();
  try {
    await page.open(`http://127.0.0.1:${web.port}/?port=${tier.port}`);
    for (const engine of ENGINES) {
      await choose(page, engine);
      for (const text of TEXTS) {
        await type(page, text);
        const made = await shown(page, 'tab', text);
        const what = `${engine}: ${JSON.stringify(text)}`;
        assert.equal(made.state, 'png', `${what}: ${made.error}`);
        const png = Buffer.from(made.png, 'base64');
        assert.ok(png.equals(corePng(text, engine)), `${what}: the tab's PNG differs from qr_core::generate`);
        assert.equal(made.size, `${png.length} bytes`);
        await assertReadsBack(png, text, what);
        const served = await shown(page, 'server', text);
        assert.equal(served.state, 'png', `${what}: ${served.error}`);
        assert.ok(Buffer.from(served.png, 'base64').equals(corePng(text, 'fast')), `${what}: the tier's PNG`);
      }
    }
    // The contract's errors, worded as the server words them, on both sides.
    for (const [text, key] of [['a'.repeat(513), 'tooLong'], ['', 'missing']]) {
      await type(page, text);
      const { status, body } = contract.answer(key);
      for (const [id, size] of [['tab', 'refused'], ['server', `HTTP ${status}`]]) {
        const answer = await shown(page, id, text);
        assert.deepEqual([answer.state, answer.error, answer.size], ['error', body, size], `${id}: ${key}`);
      }
    }
    // A trap (the instance's memory overwritten, so every pointer in it is wild) shows as such; the next
    // keystroke runs on a fresh instance and is right again.
    await choose(page, 'fast');
    await page.evaluate(`qrWasm.then((glue) => new Uint8Array(glue.currentInstance().exports.memory.buffer).fill(0xff))`);
    await type(page, 'trap');
    const trapped = await shown(page, 'tab', 'trap');
    assert.deepEqual([trapped.state, trapped.size], ['error', 'trapped'], trapped.error);
    assert.match(trapped.error, /^the Wasm module trapped \(.+\); the next call uses a fresh instance$/);
    await type(page, 'after the trap');
    const again = await shown(page, 'tab', 'after the trap');
    assert.ok(Buffer.from(again.png, 'base64').equals(corePng('after the trap', 'fast')), 'after the trap');

    // The option controls: both sides make the same SVG at H in brand colours, 300 px, transparent, as qr-cli's
    // flags do; a size the core cannot draw shows the contract's words on both sides; back to the defaults.
    const brand = [['format', 'svg'], ['ecLevel', 'H'], ['size', '300'], ['margin', '2'], ['dark', '#0b3d91'], ['transparent', true]];
    for (const [id, value] of brand) await setOption(page, id, value);
    await type(page, 'brand');
    const query = 'format=svg&ecLevel=H&size=300&margin=2&dark=0b3d91&light=ffffff00';
    const flags = ['--format=svg', '--ec-level=H', '--size=300', '--margin=2', '--dark=0b3d91', '--light=ffffff00'];
    const svg = corePng('brand', 'fast', flags);
    assert.ok(svg.subarray(0, 5).equals(Buffer.from('<svg ')), 'an SVG');
    for (const id of ['tab', 'server']) {
      const answer = await shown(page, id, 'brand', query);
      assert.equal(answer.state, 'png', `${id}: ${answer.error}`);
      assert.ok(Buffer.from(answer.png, 'base64').equals(svg), `${id}: the SVG differs from qr-cli's`);
    }
    assert.equal(await page.evaluate(`document.getElementById('query').textContent`), `/qrcode?text=brand&${query}`);
    await setOption(page, 'size', '20');
    for (const [id, size] of [['tab', 'refused'], ['server', 'HTTP 400']]) {
      const answer = await shown(page, id, 'brand', query.replace('size=300', 'size=20'));
      assert.deepEqual([answer.state, answer.error, answer.size], ['error', contract.answer('badSize').body, size], id);
    }
    await setOption(page, 'size', '21');
    for (const [id, size] of [['tab', 'refused'], ['server', 'HTTP 400']]) {
      const answer = await shown(page, id, 'brand', query.replace('size=300', 'size=21'));
      assert.equal(answer.size, size, id);
      assert.match(answer.error, /^"size" must be at least \d+ pixels for this text, ecLevel and margin$/, id);
    }
    const defaults = [['format', 'png'], ['ecLevel', 'L'], ['size', ''], ['margin', '4'], ['dark', '#000000'], ['transparent', false]];
    for (const [id, value] of defaults) await setOption(page, id, value);

    // With the tier's engine in the tab, the page says both sides are the same bytes; a screenshot for
    // docs/playground.md (target/web/playground.png).
    await type(page, 'https://www.rust-lang.org');
    await shown(page, 'tab', 'https://www.rust-lang.org');
    await shown(page, 'server', 'https://www.rust-lang.org');
    assert.equal(await page.evaluate(`document.getElementById('same').textContent`), 'The same bytes on both sides.');
    fs.mkdirSync(path.join(TARGET, 'web'), { recursive: true });
    fs.writeFileSync(path.join(TARGET, 'web', 'playground.png'), await page.screenshot());
  } finally {
    await page.close();
    assert.equal(await web.stop('SIGTERM'), 0, web.stderr());
    assert.equal(await tier.stop('SIGTERM'), 0, tier.stderr());
  }
});
