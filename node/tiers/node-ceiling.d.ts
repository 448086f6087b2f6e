// node/tiers/node-ceiling.d.ts: TypeScript declarations of node/tiers/node-ceiling.js (the Node host's
// benchmark ceiling). Checked by node/tests/types.test.js.

import type { ImageOptions } from './options-record';

/** The text every image of the ceiling shows. */
export declare const CEILING_TEXT: string;

/**
 * The image of CEILING_TEXT with the named engine, a PNG or (for `options.format` 'svg') an SVG, whatever `text`
 * and the other options are; the same Buffer every time for an engine and format.
 */
export declare function generateQrCode(text: string, engine?: string | null, options?: ImageOptions | null): Buffer;
