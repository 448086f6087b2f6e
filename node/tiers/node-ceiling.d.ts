// node/tiers/node-ceiling.d.ts: TypeScript declarations of node/tiers/node-ceiling.js (the Node host's
// benchmark ceiling). Checked by node/tests/types.test.js.

/** The text every image of the ceiling shows. */
export declare const CEILING_TEXT: string;

/** The PNG of CEILING_TEXT with the named engine, whatever `text` is; the same Buffer every time. */
export declare function generateQrCode(text: string, engine?: string | null): Buffer;
