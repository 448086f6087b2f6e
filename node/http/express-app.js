// The contract's app on express 5 (`--http express`, the default): node/http/answers.js's routes as express routes,
// each answer written with plain node:http calls; any other path 404.
// Used by node/http/frameworks.js; tested in-process by node/tests/app.test.js (`npm test`), and over HTTP, with every
// tier, by the conformance suite (lab/qr-harness/tests/conformance/).
'use strict';

const express = require('express');
const { ANSWERS, contractRoutes, writeAnswer } = require('./answers');

/**
 * The express app, a `(req, res)` request listener, around `generate(text, options)`, `log(line)` and `draining()`
 * (see answers.js's contractRoutes).
 */
function createExpressApp(generate, log, draining) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false); // ours is in ./query.js; express's would turn `text=a&text=b` into an array
  app.set('etag', false); // ours is the body's digest, the same on every tier; answers bypass res.send
  app.set('case sensitive routing', true); // /QRCODE is 404
  app.set('strict routing', true); // /qrcode/ is 404

  for (const route of contractRoutes(generate, log, draining)) {
    // GET also answers HEAD: Node sends the same headers without the body.
    app.get(route.path, async (req, res) => writeAnswer(res, await route.get(req.url, req.headers)));
    if (route.options !== undefined) app.options(route.path, (req, res) => writeAnswer(res, route.options));
    // Any other method (OPTIONS too where the route has none, which express would otherwise answer itself).
    app.all(route.path, (req, res) => writeAnswer(res, route.notAllowed));
  }
  app.use((req, res) => writeAnswer(res, ANSWERS.notFound));

  // Only reached by a bug (express's own errors are not expected here): log it, answer 500.
  app.use((err, req, res, _next) => {
    log(`unexpected error on ${req.method} ${req.url}: ${err && err.stack ? err.stack : err}`);
    if (res.headersSent) {
      res.destroy();
    } else {
      writeAnswer(res, ANSWERS.failed);
    }
  });

  return app;
}

module.exports = { createExpressApp };
