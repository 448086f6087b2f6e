// TypeScript declarations, checked: node/types/consumer.ts type-checks (tsc, strict) against the napi
// addon's, both Wasm glues' and the tiers' .d.ts files; crates/qr-napi/index.d.ts is exactly what
// napi-derive emitted for the Rust exports in the last build, and the loaded addon exports just those; the
// ABI declared in node/tiers/tier-2.d.ts is exactly the built qr_wasm.wasm's. Run with `npm test` (in
// node/); needs node/build/ (`cargo xtask build`).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const NODE_DIR = path.join(__dirname, '..');
const BUILD = path.join(NODE_DIR, 'build');
const TSC = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const ADDON_DTS = path.join(NODE_DIR, '..', 'crates', 'qr-napi', 'index.d.ts');
const ADDON_TYPE_DEFS = path.join(BUILD, 'qr_napi.type-defs.jsonl');

test('types: node/types/consumer.ts type-checks against every declaration (tsc -p types/tsconfig.json)', () => {
  const result = spawnSync(process.execPath, [TSC, '--pretty', 'false', '-p', path.join(NODE_DIR, 'types')], {
    encoding: 'utf8',
  });
  assert.equal(result.error, undefined);
  assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
});

/** What napi-derive wrote while compiling crates/qr-napi: one object per `#[napi]` item. */
function emittedTypeDefs() {
  return fs
    .readFileSync(ADDON_TYPE_DEFS, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** The items that declare something: the exported functions (not the `impl Task`, whose def is empty). */
function emittedDeclarations() {
  return emittedTypeDefs().filter((typeDef) => typeDef.def !== '');
}

/**
 * The declarations as @napi-rs/cli writes them: the doc comment, then `export declare <def>` for a function, or
 * `export interface <name> { <def>, indented }` for a `#[napi(object)]` struct.
 */
function render(typeDefs) {
  const declaration = ({ kind, name, def }) =>
    kind === 'interface'
      ? `export interface ${name} {\n${def.split('\n').map((line) => `  ${line}`).join('\n')}\n}`
      : `export declare ${def}`;
  return typeDefs.map((typeDef) => `${typeDef.js_doc}${declaration(typeDef)}\n`).join('\n');
}

/** The committed file without its leading `//` header and the blank lines after it. */
function withoutHeader(text) {
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && (lines[start].startsWith('//') || lines[start].trim() === '')) start += 1;
  return lines.slice(start).join('\n');
}

test('types: crates/qr-napi/index.d.ts is what napi-derive emits for the Rust exports', () => {
  const expected = render(emittedDeclarations());
  assert.equal(
    withoutHeader(fs.readFileSync(ADDON_DTS, 'utf8')),
    expected,
    `the addon's exports changed: put this under the header of crates/qr-napi/index.d.ts:\n${expected}`,
  );
});

test('types: the loaded addon exports exactly the functions napi-derive declared (and the Task it registers)', () => {
  const addon = require(path.join(BUILD, 'qr_napi.node'));
  const functions = emittedDeclarations()
    .filter(({ kind }) => kind === 'fn')
    .map(({ name }) => name);
  // `#[napi] impl Task for GenerateTask` (which types generateAsync's Promise) also registers an empty,
  // constructor-less class under the struct's name: exported, but of no use to a caller, so undeclared.
  const tasks = emittedTypeDefs()
    .filter(({ kind, def }) => kind === 'impl' && def === '')
    .map(({ name }) => name);
  assert.deepEqual(Object.keys(addon).sort(), [...functions, ...tasks].sort());
  for (const name of functions) assert.equal(typeof addon[name], 'function', name);
  for (const name of tasks) assert.throws(() => new addon[name](), /constructor/, name);
});

test("types: QrWasmExports in tier-2.d.ts is qr_wasm.wasm's ABI: every function with its arity, and memory", () => {
  const file = path.join(NODE_DIR, 'tiers', 'tier-2.d.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const declaration = source.statements.find(
    (statement) => ts.isInterfaceDeclaration(statement) && statement.name.text === 'QrWasmExports',
  );
  assert.ok(declaration, 'tier-2.d.ts declares interface QrWasmExports');
  const declared = {};
  for (const member of declaration.members) {
    declared[member.name.getText(source)] = ts.isMethodSignature(member) ? member.parameters.length : 'not a function';
  }

  const module = new WebAssembly.Module(fs.readFileSync(path.join(BUILD, 'qr_wasm.wasm')));
  const { exports } = new WebAssembly.Instance(module, {});
  const actual = {};
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    // The globals (__data_end, __heap_base) are the linker's, not part of the ABI.
    if (kind === 'function') actual[name] = exports[name].length;
    else if (kind === 'memory') actual[name] = 'not a function';
  }
  assert.deepEqual(actual, declared);
});
