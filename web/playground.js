// The playground: on every keystroke, the QR code of the text made in this tab by qr_wasm.wasm (through the same
// glue as Node's tier-2), and the same text with the same options fetched from a running tier's /qrcode beside it
// (through this page's own server, `tier/PORT/qrcode`, so no cross-origin request). `?port=P&engine=E` and any of
// the API's option names (`?format=svg&ecLevel=H`...) preset the fields.
'use strict';

const $ = (id) => document.getElementById(id);
const textField = $('text');
const engineField = $('engine');
const portField = $('port');
const tab = $('tab');
const server = $('server');

const OPTION_FIELDS = ['format', 'ecLevel', 'size', 'margin', 'dark', 'light'];
const transparentField = $('transparent');

const params = new URLSearchParams(location.search);
if (params.has('port')) portField.value = params.get('port');
if (params.has('engine')) engineField.value = params.get('engine');
for (const name of OPTION_FIELDS) if (params.has(name)) $(name).value = params.get(name);

/** Each field's default, as the API has it: a field at its default is left out of the request. */
const DEFAULTS = { format: 'png', ecLevel: 'L', size: '', margin: '4', dark: '#000000', light: '#ffffff' };

/**
 * The options as the query gives them to the tier (only those not at their default, so that no options is the
 * request it always was) and as the tab gives them to the Wasm glue: the normalised object a host's parser makes
 * (node/http/query.js). A size or margin that is not 1 to 4 digits goes to the core as a number out of its range, so
 * the core's own rule words the refusal, as the tier's parser does.
 */
function chosenOptions() {
  const query = new URLSearchParams();
  const options = {};
  const whole = (value) => (/^\d{1,4}$/.test(value) ? Number(value) : 0xffffffff);
  for (const name of OPTION_FIELDS) {
    const value = $(name).value;
    const transparent = name === 'light' && transparentField.checked;
    if (value === DEFAULTS[name] && !transparent) continue;
    const hex = value.slice(1).toLowerCase();
    if (name === 'size' || name === 'margin') options[name] = whole(value);
    else if (name === 'dark') options.dark = `${hex}ff`;
    else if (name === 'light') options.light = `${hex}${transparent ? '00' : 'ff'}`;
    else options[name] = value;
    query.set(name, name === 'light' ? options.light : name === 'dark' ? hex : value);
  }
  return { options, query: query.toString() };
}

const utf8 = new TextEncoder();
const qrWasm = WebAssembly.compileStreaming(fetch('qr_wasm.wasm')).then((module) => QrWasmGlue.connect(module));
// For the console (and the test): `(await qrWasm).currentInstance().exports` is the module's ABI.
window.qrWasm = qrWasm;

function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The image's type, from its first bytes: the tab has no Content-Type to go by. */
function imageType(bytes) {
  return bytes[0] === 0x89 ? 'image/png' : 'image/svg+xml';
}

/** Shows `{ png }` (an image, PNG or SVG) or `{ error }` in `figure`, with its size (or `label`) and time; records
 * the request shown (text and options). */
function show(figure, request, { png, error, label, ms }) {
  figure.classList.toggle('error', png === undefined);
  figure.querySelector('img').src = png ? `data:${imageType(png)};base64,${base64(png)}` : '';
  figure.querySelector('.error').textContent = error ?? '';
  figure.querySelector('.size').textContent = png ? `${png.length} bytes` : label;
  figure.querySelector('.time').textContent = `${ms.toFixed(2)} ms`;
  figure.dataset.text = request.text;
  figure.dataset.query = request.query;
  figure.dataset.state = png ? 'png' : 'error';
  figure.png = png;
  compare();
}

/** Says whether both sides show the same bytes for the same request. */
function compare() {
  const same = $('same');
  const sameRequest = tab.dataset.text === server.dataset.text && tab.dataset.query === server.dataset.query;
  if (!tab.png || !server.png || !sameRequest) {
    same.textContent = '';
  } else if (tab.png.length === server.png.length && tab.png.every((byte, i) => byte === server.png[i])) {
    same.textContent = 'The same bytes on both sides.';
  } else {
    same.textContent = 'Different bytes: the tier runs another engine (or is tier-0, the pure-JS one).';
  }
}

async function renderInTab(text, engine, options, request) {
  const glue = await qrWasm;
  tab.querySelector('.engine').textContent = engine;
  const started = performance.now();
  try {
    const png = glue.generate(text, engine, options);
    show(tab, request, { png, ms: performance.now() - started });
  } catch (err) {
    const ms = performance.now() - started;
    if (err instanceof QrWasmGlue.CoreError) show(tab, request, { error: err.message, label: 'refused', ms });
    else show(tab, request, { error: `the Wasm module trapped (${err.message}); the next call uses a fresh instance`, label: 'trapped', ms });
  }
}

let pending = null; // the tier request in flight, aborted by the next keystroke
async function fetchFromTier(text, query, request) {
  pending?.abort();
  const aborter = new AbortController();
  pending = aborter;
  const port = portField.value;
  server.querySelector('.where').textContent = `127.0.0.1:${port}`;
  const started = performance.now();
  try {
    const options = query ? `&${query}` : '';
    const res = await fetch(`tier/${encodeURIComponent(port)}/qrcode?text=${encodeURIComponent(text)}${options}`, { signal: aborter.signal });
    const body = new Uint8Array(await res.arrayBuffer());
    const ms = performance.now() - started;
    if (res.status === 200 && res.headers.get('content-type').startsWith('image/')) show(server, request, { png: body, ms });
    else show(server, request, { error: new TextDecoder().decode(body), label: `HTTP ${res.status}`, ms });
  } catch (err) {
    if (err.name !== 'AbortError') show(server, request, { error: err.message, label: 'no answer', ms: performance.now() - started });
  }
}

function update() {
  const text = textField.value;
  const { options, query } = chosenOptions();
  $('bytes').textContent = `${utf8.encode(text).length} bytes of UTF-8 (the contract takes 1 to 512).`;
  $('query').textContent = `/qrcode?text=${encodeURIComponent(text)}${query ? `&${query}` : ''}`;
  // What both sides were asked, to tell whether they show the same request.
  const request = { text, query };
  renderInTab(text, engineField.value, options, request);
  fetchFromTier(text, query, request);
}

textField.addEventListener('input', update);
engineField.addEventListener('change', update);
portField.addEventListener('change', update);
for (const field of [...OPTION_FIELDS.map($), transparentField]) {
  field.addEventListener(field.tagName === 'INPUT' && field.type !== 'checkbox' ? 'input' : 'change', update);
}
qrWasm.then(update, (err) => {
  tab.querySelector('.error').textContent = `cannot load qr_wasm.wasm: ${err.message}`;
});
