// The playground: on every keystroke, the QR code of the text made in this tab by qr_wasm.wasm (through the same
// glue as Node's tier-2), and the same text fetched from a running tier's /qrcode beside it (through this page's
// own server, `tier/PORT/qrcode`, so no cross-origin request). `?port=P&engine=E` preset the fields.
'use strict';

const $ = (id) => document.getElementById(id);
const textField = $('text');
const engineField = $('engine');
const portField = $('port');
const tab = $('tab');
const server = $('server');

const params = new URLSearchParams(location.search);
if (params.has('port')) portField.value = params.get('port');
if (params.has('engine')) engineField.value = params.get('engine');

const utf8 = new TextEncoder();
const qrWasm = WebAssembly.compileStreaming(fetch('qr_wasm.wasm')).then((module) => QrWasmGlue.connect(module));
// For the console (and the test): `(await qrWasm).currentInstance().exports` is the module's ABI.
window.qrWasm = qrWasm;

function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Shows `{ png }` or `{ error }` in `figure`, with its size (or `label`) and time; records the text shown. */
function show(figure, text, { png, error, label, ms }) {
  figure.classList.toggle('error', png === undefined);
  figure.querySelector('img').src = png ? `data:image/png;base64,${base64(png)}` : '';
  figure.querySelector('.error').textContent = error ?? '';
  figure.querySelector('.size').textContent = png ? `${png.length} bytes` : label;
  figure.querySelector('.time').textContent = `${ms.toFixed(2)} ms`;
  figure.dataset.text = text;
  figure.dataset.state = png ? 'png' : 'error';
  figure.png = png;
  compare();
}

/** Says whether both sides show the same bytes for the same text. */
function compare() {
  const same = $('same');
  if (!tab.png || !server.png || tab.dataset.text !== server.dataset.text) {
    same.textContent = '';
  } else if (tab.png.length === server.png.length && tab.png.every((byte, i) => byte === server.png[i])) {
    same.textContent = 'The same bytes on both sides.';
  } else {
    same.textContent = 'Different bytes: the tier runs another engine (or is tier-0, the pure-JS one).';
  }
}

async function renderInTab(text, engine) {
  const glue = await qrWasm;
  tab.querySelector('.engine').textContent = engine;
  const started = performance.now();
  try {
    const png = glue.generate(text, engine);
    show(tab, text, { png, ms: performance.now() - started });
  } catch (err) {
    const ms = performance.now() - started;
    if (err instanceof QrWasmGlue.CoreError) show(tab, text, { error: err.message, label: 'refused', ms });
    else show(tab, text, { error: `the Wasm module trapped (${err.message}); the next call uses a fresh instance`, label: 'trapped', ms });
  }
}

let pending = null; // the tier request in flight, aborted by the next keystroke
async function fetchFromTier(text) {
  pending?.abort();
  const request = new AbortController();
  pending = request;
  const port = portField.value;
  server.querySelector('.where').textContent = `127.0.0.1:${port}`;
  const started = performance.now();
  try {
    const res = await fetch(`tier/${encodeURIComponent(port)}/qrcode?text=${encodeURIComponent(text)}`, { signal: request.signal });
    const body = new Uint8Array(await res.arrayBuffer());
    const ms = performance.now() - started;
    if (res.status === 200 && res.headers.get('content-type') === 'image/png') show(server, text, { png: body, ms });
    else show(server, text, { error: new TextDecoder().decode(body), label: `HTTP ${res.status}`, ms });
  } catch (err) {
    if (err.name !== 'AbortError') show(server, text, { error: err.message, label: 'no answer', ms: performance.now() - started });
  }
}

function update() {
  const text = textField.value;
  $('bytes').textContent = `${utf8.encode(text).length} bytes of UTF-8 (the contract takes 1 to 512).`;
  renderInTab(text, engineField.value);
  fetchFromTier(text);
}

textField.addEventListener('input', update);
engineField.addEventListener('change', update);
portField.addEventListener('change', update);
qrWasm.then(update, (err) => {
  tab.querySelector('.error').textContent = `cannot load qr_wasm.wasm: ${err.message}`;
});
