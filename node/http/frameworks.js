// The `--http` choice: the contract's app on express (node/http/express-app.js, the default) or on fastify
// (node/http/fastify-app.js), served by the node:http server its caller builds, so that both share every connection
// rule of node/http/serve-tier.js and differ only in routing and answering.
// Used by node/server.js (the flag's values), node/http/serve-tier.js and node/tests/app.test.js (`npm test`).
'use strict';

/**
 * Each framework: `(makeServer, generate, log, draining) -> Promise<http.Server>`, its app on makeServer's server.
 * Each loads its framework when called, so a process holds only the one it serves (its memory is measured).
 */
const SERVERS = Object.freeze({
  express: async (makeServer, generate, log, draining) => {
    const { createExpressApp } = require('./express-app');
    return makeServer(createExpressApp(generate, log, draining));
  },
  fastify: async (makeServer, generate, log, draining) => {
    const { createFastifyApp } = require('./fastify-app');
    const app = createFastifyApp(generate, log, draining, makeServer);
    await app.ready();
    return app.server;
  },
});

/** The names `--http` takes, the default first. */
const HTTP_FRAMEWORKS = Object.freeze(Object.keys(SERVERS));

/**
 * The server of `framework`'s app around `generate(text, options)`, `log(line)` and `draining()` (see
 * node/http/answers.js's contractRoutes): `makeServer(handler)` builds a node:http server (not listening yet) that
 * calls `handler(req, res)` for each request it lets through to the app.
 */
function appServer(framework, makeServer, generate, log, draining) {
  return SERVERS[framework](makeServer, generate, log, draining);
}

module.exports = { HTTP_FRAMEWORKS, appServer };
