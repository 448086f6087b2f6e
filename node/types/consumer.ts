// node/types/consumer.ts: a TypeScript consumer of rusty-qr's Rust-backed Node modules, never run, only
// type-checked (node/tests/types.test.js runs `tsc -p types/tsconfig.json`). It calls every export of the
// napi addon (crates/qr-napi/index.d.ts), of both Wasm glues (node/tiers/tier-2.d.ts for the hand-written
// one, node/build/bindgen/qr_wasm_bindgen.d.ts as generated), of the options record's encoder
// (node/tiers/options-record.d.ts) and of tiers 1-sidecar, 2, 2-bindgen, 3, 3-async and the Node ceiling, with
// the declared types, image options included. Each deliberately wrong use sits under `// @ts-expect-error`: tsc fails if it stops
// being an error (a declaration got looser), and any other error fails it too.

import type * as QrNapi from '../../crates/qr-napi/index';
import type { ImageOptions } from '../tiers/options-record';
import optionsRecord = require('../tiers/options-record');
import bindgenGlue = require('../build/bindgen/qr_wasm_bindgen');
import tier2 = require('../tiers/tier-2');
import tier2Bindgen = require('../tiers/tier-2-bindgen');
import tier1Sidecar = require('../tiers/tier-1-sidecar');
import tier3 = require('../tiers/tier-3');
import tier3Async = require('../tiers/tier-3-async');
import nodeCeiling = require('../tiers/node-ceiling');

// The addon is a .node file: require it and give it its declared type.
const addon: typeof QrNapi = require('../build/qr_napi.node');

async function napiAddon(): Promise<Buffer[]> {
  const sync: Buffer = addon.generate('https://tourofrust.com');
  const withEngine: Buffer = addon.generate('hello', 'fast');
  const defaults: Buffer[] = [addon.generate('a', undefined), addon.generate('a', null)];
  const later: Promise<Buffer> = addon.generateAsync('hello', 'article');
  const awaited: Buffer = await addon.generateAsync('hello');
  const options: QrNapi.QrOptions = { format: 'svg', size: 300, ecLevel: 'H', dark: '0b3d91' };
  const svg: Buffer = addon.generate('hello', undefined, options);
  await addon.generateAsync('hello', 'fast', { margin: 0 });
  // @ts-expect-error size is a number of pixels
  addon.generate('hello', undefined, { size: '300' });
  // @ts-expect-error the text is a string
  addon.generate(42);
  // @ts-expect-error generateAsync returns a Promise, not a Buffer
  const notYet: Buffer = addon.generateAsync('hello');
  return [sync, withEngine, ...defaults, await later, awaited, svg, notYet];
}

function handWrittenWasmGlue(): Buffer {
  const png: Buffer = tier2.generateQrCode('hello', 'fast');
  tier2.generateQrCode('hello', null);
  const instance = tier2.__testing.currentInstance();
  if (instance !== null) {
    const { alloc, dealloc, generate, free_result, memory } = instance.exports;
    const ptr: number = alloc(5);
    const result: number = generate(ptr, 5, 0, 0, 0);
    const bytes = new Uint8Array(memory.buffer, result, 12);
    free_result(result);
    dealloc(ptr, bytes.length);
    // @ts-expect-error generate takes five numbers: text and engine as pointer and length, the options pointer
    generate(ptr, 5, 0, 0);
  }
  // @ts-expect-error the engine is a name, not an index
  tier2.generateQrCode('hello', 1);
  const record: Uint8Array = optionsRecord.encodeRecord({ format: 'svg', ecLevel: 'Q' });
  optionsRecord.writeRecord(undefined, record, 0);
  record.set(optionsRecord.DEFAULT_RECORD.subarray(0, optionsRecord.RECORD_LEN));
  const svg: Buffer = tier2.generateQrCode('hello', 'fast', { format: 'svg', size: 300 });
  // @ts-expect-error the format is png or svg
  tier2.generateQrCode('hello', 'fast', { format: 'gif' });
  return optionsRecord.hasOptions({}) ? svg : png;
}

function wasmBindgenGlue(): Uint8Array {
  const png: Uint8Array = bindgenGlue.generate('hello', 'article');
  bindgenGlue.generate('hello', null);
  bindgenGlue.generate('hello', undefined, { format: 'svg', ecLevel: 'H', margin: 2 });
  // @ts-expect-error margin is a number of modules
  bindgenGlue.generate('hello', undefined, { margin: '2' });
  const options: ImageOptions = { dark: '0b3d91ff', light: 'ffffff00' };
  tier2Bindgen.generateQrCode('hello', 'fast', options);
  const glue: string = tier2Bindgen.__testing.GLUE;
  const viaTier: Buffer = tier2Bindgen.generateQrCode(glue);
  // @ts-expect-error the glue returns a Uint8Array, not a Buffer (the tier wraps it)
  const notABuffer: Buffer = bindgenGlue.generate('hello');
  // @ts-expect-error the text is required
  tier2Bindgen.generateQrCode();
  return viaTier.length > 0 ? png : notABuffer;
}

function nativeTier(): Buffer {
  const png: Buffer = tier3.generateQrCode('hello');
  tier3.generateQrCode('hello', 'article');
  tier3.generateQrCode('hello', 'article', { ecLevel: 'M' });
  const forAddon: QrNapi.QrOptions | undefined = tier3.addonOptions({ size: 300 });
  const mapped: Error = tier3.tierError(new Error('bad input'));
  tier3.addon.generate('hello', undefined, forAddon);
  // @ts-expect-error the tier takes normalised options: an upper-case level
  tier3.generateQrCode('hello', 'article', { ecLevel: 'm' });
  // @ts-expect-error the tier has no generateAsync: only the addon does
  tier3.generateAsync('hello');
  return mapped.message === 'bad input' ? png : tier3.generateQrCode(mapped.message);
}

async function sidecarTier(): Promise<Buffer> {
  const own = tier1Sidecar.createGenerator({ timeoutMs: 1000, maxInFlight: 8 });
  const pids: number[] = own.pids();
  const png: Buffer = await tier1Sidecar.generateQrCode('hello', 'fast');
  await own('hello', undefined, { size: 1000, margin: 20 });
  // @ts-expect-error the in-flight bound is a number
  tier1Sidecar.createGenerator({ maxInFlight: 'many' });
  // @ts-expect-error the generator returns a Promise, not a Buffer
  const notYet: Buffer = own('hello');
  return pids.length + tier1Sidecar.MAX_IN_FLIGHT > 0 ? png : notYet;
}

async function nativeTierOnThePool(): Promise<Buffer> {
  const later: Promise<Buffer> = tier3Async.generateQrCode('hello', 'fast', { format: 'png' });
  // @ts-expect-error the async tier returns a Promise, not a Buffer
  const notYet: Buffer = tier3Async.generateQrCode('hello');
  return notYet.length > 0 ? notYet : await later;
}

function ceiling(): Buffer {
  const text: string = nodeCeiling.CEILING_TEXT;
  // @ts-expect-error the ceiling's text is a constant
  nodeCeiling.CEILING_TEXT = 'other';
  return nodeCeiling.generateQrCode(text, null);
}

export const uses = [napiAddon, handWrittenWasmGlue, wasmBindgenGlue, sidecarTier, nativeTier, nativeTierOnThePool, ceiling];
