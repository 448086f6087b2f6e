// How long to wait before restarting a process that died, written once for the two the Node host restarts:
// cluster workers (node/primary.js) and tier-1-sidecar's `qr-cli --serve` child (node/tiers/tier-1-sidecar.js).
// Pure: the caller says how long the process lived and does the waiting. Tested by
// node/tests/restart-backoff.test.js.
'use strict';

/** The first delay; it doubles per death counted, up to MAX_DELAY_MS. */
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 10_000;
/** A process that lived this long was stable: its death starts the count over. Sooner, it died quickly. */
const STABLE_AFTER_MS = 10_000;

/**
 * Counts deaths in a row and gives each its restart delay: 100 ms, doubling per death counted, up to 10 s.
 * - Without `firstRestartAtOnce` (cluster workers), every death counts and waits: a stable death starts the
 *   count over as its first death (100 ms), and each quick death after it doubles the delay.
 * - With it (the sidecar), only quick deaths count, and the first of them restarts at once: a stable death
 *   and the first quick death after it restart at once, the second quick death in a row waits 100 ms, and
 *   each one after doubles the delay.
 */
class RestartBackoff {
  constructor({ firstRestartAtOnce = false } = {}) {
    this.firstRestartAtOnce = firstRestartAtOnce;
    /** The deaths counted since the start or the last stable life. */
    this.deaths = 0;
  }

  /** Counts the death of a process that lived `livedMs`; returns how many ms to wait before restarting it. */
  delayAfterDeath(livedMs) {
    const stable = livedMs >= STABLE_AFTER_MS;
    if (stable) this.deaths = 0;
    if (!(stable && this.firstRestartAtOnce)) this.deaths += 1;
    const atOnce = this.firstRestartAtOnce ? 1 : 0;
    if (this.deaths <= atOnce) return 0;
    return Math.min(BASE_DELAY_MS * 2 ** (this.deaths - 1 - atOnce), MAX_DELAY_MS);
  }
}

module.exports = { RestartBackoff, STABLE_AFTER_MS };
