// node/tiers/tier-1-sidecar.d.ts: TypeScript declarations of node/tiers/tier-1-sidecar.js (tier 1 with one
// long-lived `qr-cli --serve` per engine and process, spoken to in frames; see crates/qr-cli/README.md).

import type { ImageOptions } from './options-record';

/** A `(text, engine, options) -> Promise<Buffer>` with its own sidecars. */
export interface Generator {
  /**
   * The image of `text` with the named engine (`undefined` or `null` = the core's default) and the options given
   * (carried as the frame's options record). Rejects with an Error carrying the core's message (`code:
   * 'BAD_INPUT'` for bad input, the contract's 400 body), or the sidecar's failure (a timeout, a death, a
   * malformed frame); with `code: 'BUSY'` past the in-flight bound.
   */
  (text: string, engine?: string | null, options?: ImageOptions | null): Promise<Buffer>;
  /** The pids of the live sidecars, one per engine asked for. */
  pids(): number[];
}

export interface GeneratorOptions {
  /** The qr-cli binary (default: env RUSTY_QR_CLI, else target/release/qr-cli). */
  cli?: string;
  /** How long a request may wait for its answer (default 5000 ms, as tier-1). */
  timeoutMs?: number;
  /** Requests one sidecar may have in flight before the next is BUSY (default MAX_IN_FLIGHT). */
  maxInFlight?: number;
}

/** A generator with its own sidecars and options (tests use a fake binary and small limits). */
export declare function createGenerator(options?: GeneratorOptions): Generator;

/** The generator of this tier: the configured binary, the default timeout and bound. */
export declare const generateQrCode: Generator;

/** The default in-flight bound per sidecar. */
export declare const MAX_IN_FLIGHT: number;
