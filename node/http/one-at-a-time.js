// One request at a time per connection, as hyper answers them (tier-4): Node calls the handler for every request a
// connection has pipelined as soon as it parses it, so a client that wrote a thousand GETs at once had a thousand
// running at once (a thousand qr-cli processes in tier-1, or the sidecar's whole in-flight bound, which then turned
// other clients away). Here a request's handler starts once the one before it on the same connection has been
// answered; answers go out in order, as Node writes them in request order anyway.
//
// Node parses a connection's pipelined requests whatever the handler does (its parser reads the socket directly;
// pausing the socket does not stop it), so the requests waiting are bounded instead: a connection with more than
// MAX_WAITING of them is cut off. Used by node/http/serve-tier.js and web/playground-server.js; tested by
// node/tests/one-at-a-time.test.js.
'use strict';

/** How many requests may wait on one connection for the one being answered; past it the connection is closed. */
const MAX_WAITING = 4096;

/** Per socket: the handlers waiting, and whether one is running. */
const queues = new WeakMap();

/**
 * Runs `handle()` for the request whose response is `res` once every earlier request on `socket` has been
 * answered (its response finished, or its connection closed).
 */
function oneAtATime(socket, res, handle) {
  let queue = queues.get(socket);
  if (queue === undefined) {
    queue = { running: false, waiting: [] };
    queues.set(socket, queue);
  }
  const run = (next) => {
    queue.running = true;
    next.res.once('close', () => {
      // A connection that is gone answers nothing more: what waited is dropped, not worked on.
      const following = socket.destroyed ? undefined : queue.waiting.shift();
      if (following === undefined) {
        queue.running = false;
        queue.waiting.length = 0;
      } else {
        run(following);
      }
    });
    next.handle();
  };
  if (!queue.running) {
    run({ res, handle });
  } else if (queue.waiting.length < MAX_WAITING) {
    queue.waiting.push({ res, handle });
  } else {
    socket.destroy();
  }
}

module.exports = { oneAtATime, MAX_WAITING };
