// In-process tests of tier-0 (npm qrcode, pure JS): without options, the article's call and bytes (every contract
// text reads back as itself at 200 x 200 px); with them, npm qrcode's own options: exact sizes, margins, colours,
// EC levels and its SVG, read back by jsqr and ZXing; a size too small for the text is the contract's 400.
// Run with `npm test` (in node/).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const QRCode = require('qrcode');
const { PNG } = require('pngjs');
const npmRendererUtils = require('qrcode/lib/renderer/utils');
const { assertReadsBack, decodeQrPng, scanQrPng, pngSize } = require('./support/qr-decode');
const contract = require('./support/contract');
const { parseQuery, rawQueryOf } = require('../http/query');
const tier0 = require('../tiers/tier-0');

const generate = (text, options) => tier0.generateQrCode(text, undefined, options);

/** npm qrcode's symbol of `text` at `ecLevel`: `{ size, dark(row, col) }`, the modules the image must show. */
function symbol(text, ecLevel = 'L') {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: ecLevel });
  return { size: modules.size, dark: (row, col) => modules.get(row, col) === 1 };
}

/** `rrggbbaa` as [r, g, b, a]. */
const rgba = (hex) => [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));

/**
 * Asserts that a PNG shows the symbol by the contract's rule (docs/api.md, "Options"): `size` px square, and with
 * W = modules + 2 * margin across, pixel i of a row (and of a column) shows module floor(i * W / size), exactly in the
 * light colour in the quiet zone and in the dark or light colour of its module inside.
 */
function assertShows(png, sym, { size, margin, dark, light }, what) {
  const image = PNG.sync.read(png);
  assert.deepEqual([image.width, image.height], [size, size], `${what}: size`);
  const across = sym.size + 2 * margin;
  const moduleOf = (i) => Math.floor((i * across) / size) - margin;
  const [darkRgba, lightRgba] = [rgba(dark), rgba(light)];
  for (let y = 0; y < size; y++) {
    const row = moduleOf(y);
    for (let x = 0; x < size; x++) {
      const col = moduleOf(x);
      const inside = row >= 0 && row < sym.size && col >= 0 && col < sym.size;
      const expected = inside && sym.dark(row, col) ? darkRgba : lightRgba;
      const at = (y * size + x) * 4;
      const seen = [...image.data.subarray(at, at + 4)];
      if (seen.some((v, i) => v !== expected[i])) {
        assert.fail(`${what}: pixel (${x}, ${y}) of module (${col}, ${row}) is ${seen}, expected ${expected}`);
      }
    }
  }
}

/** Asserts that every pixel of a PNG is exactly the `dark` or the `light` colour (`rrggbbaa`), and both are there. */
function assertTwoColours(png, dark, light, what) {
  const { data } = PNG.sync.read(png);
  const seen = new Set();
  for (let at = 0; at < data.length; at += 4) seen.add(data.subarray(at, at + 4).toString('hex'));
  assert.deepEqual([...seen].sort(), [dark, light].sort(), `${what}: colours`);
}

/** Reads an SVG that npm qrcode wrote back into its module grid: `{ attributes, across, dark(row, col) }`. */
function readNpmSvg(svg) {
  const attributes = Object.fromEntries([...svg.matchAll(/ ([a-z-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const across = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)[1]);
  const dark = new Set();
  const path = /<path stroke="[^"]*"(?: stroke-opacity="[^"]*")? d="([^"]*)"/.exec(svg)[1];
  let x = 0;
  let y = 0;
  for (const [, command, a, b] of path.matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (command === 'M') [x, y] = [Number(a), Number(b) - 0.5];
    else if (command === 'm') x += Number(a);
    else for (const end = x + Number(a); x < end; x++) dark.add(`${y},${x}`);
  }
  return { attributes, across, dark: (row, col) => dark.has(`${row},${col}`) };
}

/** A module grid drawn as a black-on-white PNG, 4 px per module, for the decoders. */
function gridPng(across, dark) {
  const scale = 4;
  const png = new PNG({ width: across * scale, height: across * scale });
  for (let y = 0; y < across * scale; y++) {
    for (let x = 0; x < across * scale; x++) {
      const value = dark(Math.floor(y / scale), Math.floor(x / scale)) ? 0 : 255;
      png.data.fill(value, (y * across * scale + x) * 4, (y * across * scale + x) * 4 + 3);
      png.data[(y * across * scale + x) * 4 + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

test('tier-0: every text decodes back, 200 x 200 px', async () => {
  for (const text of contract.allTexts()) {
    const png = await generate(text, {});
    await assertReadsBack(png, text);
    assert.deepEqual(pngSize(png), { width: 200, height: 200 });
  }
});

test("tier-0: without options, the article's call and bytes; options at their defaults change nothing", async () => {
  const rendererOpts = { deflateLevel: 9, deflateStrategy: 3 };
  const article = { type: 'png', width: 200, errorCorrectionLevel: 'L', rendererOpts };
  for (const text of ['same', 'https://www.reddit.com/r/rust/top/?t=month', 'é'.repeat(256)]) {
    const png = await generate(text, {});
    assert.ok(png.equals(await QRCode.toBuffer(text, article)), text);
    assert.ok(png.equals(await tier0.generateQrCode(text, undefined)), `${text}: no options object`);
    const defaults = { format: 'png', margin: 4, ecLevel: 'L', dark: '000000ff', light: 'ffffffff' };
    assert.ok(png.equals(await generate(text, defaults)), `${text}: every option at its default`);
  }
});

test('tier-0: the width npm qrcode is given draws exactly `size` px, for every symbol, margin and size', () => {
  // npm qrcode's own arithmetic (lib/renderer/utils.js): scale = width / across, floor(across * scale) px.
  let nudged = 0;
  for (let modules = 21; modules <= 177; modules += 4) {
    for (let margin = 0; margin <= 20; margin++) {
      const across = modules + 2 * margin;
      for (let size = across; size <= 1000; size++) {
        const width = tier0.widthFor(size, across);
        const drawn = npmRendererUtils.getImageWidth(modules, { width, margin, scale: 4 });
        if (drawn !== size) assert.fail(`${size} px of ${modules} modules with a margin of ${margin}: ${drawn} px`);
        if (width !== size) nudged += 1;
      }
    }
  }
  assert.ok(nudged > 0, 'some sizes need the nudge (else the test proves nothing)');
});

test('tier-0: exact sizes, drawn by npm qrcode (size=51 of 21 modules is 50 px without the nudge)', async () => {
  const sizes = [21, 22, 27, 29, 49, 51, 54, 59, 87, 97, 98, 102, 117, 200, 203, 234, 300, 441];
  for (const margin of [0, 3, 4]) {
    const across = symbol('hello').size + 2 * margin;
    for (const size of sizes.filter((s) => s >= across)) {
      const png = await generate('hello', { size, margin });
      assert.deepEqual(pngSize(png), { width: size, height: size }, `size ${size}, margin ${margin}`);
      // jsqr finds no symbol without a quiet zone unless its modules are 2 px or more.
      if (margin > 0 || size >= 2 * across) {
        assert.deepEqual(decodeQrPng(png), Buffer.from('hello'), `size ${size}, margin ${margin}`);
      }
    }
  }
});

test("tier-0: every PNG case of the contract with an `image`, read back and checked by the contract's rule", async () => {
  const asksPixels = (c) => c.expect.image?.format === 'png' && Object.keys(c.expect.image.pixels).length > 0;
  const imageCases = contract.cases().filter(asksPixels);
  assert.ok(imageCases.length >= 10, `${imageCases.length} cases`);
  for (const c of imageCases) {
    const { text, pixels } = c.expect.image;
    // The options as the app parses them (Node hands the target over as latin1, one char per received byte).
    const parsed = parseQuery(rawQueryOf(Buffer.from(c.target, 'utf8').toString('latin1')));
    assert.equal(parsed.error, undefined, c.name);
    const options = { margin: 4, ecLevel: 'L', dark: '000000ff', light: 'ffffffff', ...parsed.options };
    const png = await generate(parsed.text, parsed.options);
    assert.deepEqual(decodeQrPng(png), Buffer.from(text, 'utf8'), `${c.name}: jsqr`);
    assert.equal(await scanQrPng(png, pixels.ecLevel ?? 'L'), text, `${c.name}: ZXing`);
    const { width } = pngSize(png);
    if (pixels.size !== undefined) assert.equal(width, pixels.size, `${c.name}: size`);
    // As the conformance suite checks (lab/qr-decode/src/picture.rs): every module where the rule puts it with a
    // margin, else the only two colours when they are given.
    if (pixels.margin !== undefined) assertShows(png, symbol(text, options.ecLevel), { ...options, size: width }, c.name);
    else if (pixels.dark !== undefined) assertTwoColours(png, pixels.dark, pixels.light, c.name);
  }
});

test('tier-0: colours, a transparent background and half-transparent modules are the PNG\'s only two colours', async () => {
  const cases = [
    { dark: '0b3d91ff', light: 'ffeeddff' },
    { dark: '000000ff', light: 'ffffff00' },
    { dark: '00000080', light: 'ffffffff' },
    { dark: 'ffffffff', light: '000000ff' }, // light on dark: still two colours, exactly
  ];
  for (const colours of cases) {
    const png = await generate('colours', { ...colours, size: 99, margin: 2 });
    assertShows(png, symbol('colours'), { size: 99, margin: 2, ...colours }, JSON.stringify(colours));
  }
});

test('tier-0: EC levels M, Q and H, as ZXing reads them, in larger symbols', async () => {
  let previous = 0;
  for (const ecLevel of ['L', 'M', 'Q', 'H']) {
    const png = await generate('hello world, at every level', { ecLevel, size: 400 });
    assert.equal(await scanQrPng(png, ecLevel), 'hello world, at every level', ecLevel);
    const { size } = symbol('hello world, at every level', ecLevel);
    assert.ok(size >= previous, `${ecLevel}: ${size} modules`);
    previous = size;
  }
  assert.ok(previous > symbol('hello world, at every level', 'L').size, 'H needs a larger symbol than L');
});

test("tier-0: a size below the symbol's modules plus twice the margin is BAD_INPUT, the contract's message", async () => {
  const tooSmall = [
    ['hello', { size: 28 }, 'sizeTooSmall29'],
    ['hello world', { ecLevel: 'H', size: 32 }, 'sizeTooSmall33'],
    ['hello', { margin: 20, size: 60 }, 'sizeTooSmall61'],
    ['hello', { margin: 20, size: 60, format: 'svg' }, 'sizeTooSmall61'],
  ];
  for (const [text, options, key] of tooSmall) {
    await assert.rejects(generate(text, options), { code: 'BAD_INPUT', message: contract.answer(key).body }, key);
  }
  // The minimum itself is one pixel per module.
  const onePixel = { size: 29, margin: 4, dark: '000000ff', light: 'ffffffff' };
  assertShows(await generate('hello', { size: 29 }), symbol('hello'), onePixel, 'size=29');
});

test("tier-0: SVG is npm qrcode's writer: size, viewBox in modules, crispEdges, colours, the symbol's modules", async () => {
  const svgCases = [
    ['hello', {}, { size: 200, margin: 4, ecLevel: 'L' }],
    ['rusty-qr', { size: 300, margin: 2, ecLevel: 'H', dark: '0b3d91ff', light: 'ffffff00' }, {}],
    ['a'.repeat(512), { size: 1000, margin: 20, ecLevel: 'H' }, {}],
    ['alpha', { dark: '0b3d9180', light: 'ffeeddcc', margin: 0 }, { size: 200, ecLevel: 'L' }],
  ];
  for (const [text, options, defaults] of svgCases) {
    const want = { margin: 4, dark: '000000ff', light: 'ffffffff', ...defaults, ...options };
    const svg = (await generate(text, { format: 'svg', ...options })).toString('utf8');
    const what = `${JSON.stringify(text.slice(0, 20))} ${JSON.stringify(options)}`;
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" /, what);
    const read = readNpmSvg(svg);
    const sym = symbol(text, want.ecLevel);
    assert.equal(read.attributes.width, String(want.size), what);
    assert.equal(read.attributes.height, String(want.size), what);
    assert.equal(read.attributes['shape-rendering'], 'crispEdges', what);
    assert.equal(read.across, sym.size + 2 * want.margin, what);
    assert.equal(read.attributes.stroke, `#${want.dark.slice(0, 6)}`, what);
    const lightRect = want.light.endsWith('00') ? undefined : `#${want.light.slice(0, 6)}`;
    assert.equal(read.attributes.fill, lightRect, `${what}: the light background (none when transparent)`);
    for (const [colour, attribute] of [[want.dark, 'stroke-opacity'], [want.light, 'fill-opacity']]) {
      const alpha = parseInt(colour.slice(6), 16);
      // npm qrcode writes an alpha below ff with two decimals; a transparent background is no path at all.
      const absent = alpha === 255 || (attribute === 'fill-opacity' && alpha === 0);
      const expected = absent ? undefined : (alpha / 255).toFixed(2).slice(1);
      assert.equal(read.attributes[attribute], expected, `${what}: ${attribute}`);
    }
    for (let row = 0; row < read.across; row++) {
      for (let col = 0; col < read.across; col++) {
        const inside = [row, col].every((m) => m >= want.margin && m < want.margin + sym.size);
        const expected = inside && sym.dark(row - want.margin, col - want.margin);
        if (read.dark(row, col) !== expected) assert.fail(`${what}: module (${col}, ${row})`);
      }
    }
    const drawn = gridPng(read.across, read.dark);
    assert.deepEqual(decodeQrPng(drawn), Buffer.from(text, 'utf8'), `${what}: jsqr`);
    assert.equal(await scanQrPng(drawn, want.ecLevel), text, `${what}: ZXing`);
  }
});

test('tier-0: the same text and options give the same bytes', async () => {
  for (const options of [{}, { size: 300, ecLevel: 'Q', dark: '0b3d91ff' }, { format: 'svg', margin: 1 }]) {
    const [a, b] = await Promise.all([generate('same', options), generate('same', options)]);
    assert.ok(a.equals(b), JSON.stringify(options));
  }
});
