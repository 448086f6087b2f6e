// The contract's app on fastify 5 (`--http fastify`): node/http/answers.js's routes as fastify routes, each answer
// sent through fastify's reply API, on the node:http server the caller builds (fastify's `serverFactory`), so the
// connection rules of node/http/serve-tier.js hold as with express. Where fastify's defaults differ from the contract
// (its 404 and error bodies, its body parsing, its HEAD routes, its percent-decoded routing), it is set or routed
// around here; node/README.md ("On fastify") lists each.
// Used by node/http/frameworks.js; tested in-process by node/tests/app.test.js (`npm test`), and over HTTP by the
// conformance suite (lab/qr-harness/tests/conformance/, a tier's `@fastify` stack).
'use strict';

const http = require('node:http');
const Fastify = require('fastify');
const { ANSWERS, contractRoutes } = require('./answers');
const { rawPathOf } = require('./query');

/** The query fastify would parse for every request: ours is parsed from the raw target by ./query.js. */
const NO_QUERY = Object.freeze({});

/** Sends a contract answer the way a fastify user does (fastify adds no header but a Content-Length it checks). */
function send(reply, { status, headers, body }) {
  return reply.code(status).headers(headers).send(body);
}

/**
 * The fastify instance around `generate(text, options)`, `log(line)` and `draining()` (see answers.js's
 * contractRoutes), serving on `serverFactory(handler)`'s server: a node:http server calling `handler(req, res)` for
 * the requests it lets through. Its routes are ready once `ready()` resolves; it listens through its `server`.
 */
function createFastifyApp(generate, log, draining, serverFactory) {
  const app = Fastify({
    serverFactory,
    logger: false,
    requestIdHeader: false, // no request id is read from a header
    clientErrorHandler: () => {}, // the server's own `clientError` listener answers (answers.js's clientErrorResponse)
    return503OnClosing: false, // app.close() is never called: serve-tier.js drains, and /healthz says so
    exposeHeadRoutes: false, // its HEAD route adds `Content-Length: 0` to a bodiless 304: HEAD is routed as GET below
    // A path with a malformed %-escape (FST_ERR_BAD_URL) is the only framework error these routes can meet (they have
    // no parameters, no constraints): express, matching the path as sent, 404s it.
    frameworkErrors: (err, request, reply) => send(reply, ANSWERS.notFound),
    routerOptions: {
      querystringParser: () => NO_QUERY,
      caseSensitive: true, // /QRCODE is 404
      ignoreTrailingSlash: false, // /qrcode/ is 404
      ignoreDuplicateSlashes: false, // //qrcode is 404
      useSemicolonDelimiter: false, // /qrcode;x is a path of its own, 404
    },
  });
  // No body is ever read: with every method bodyless, fastify runs no content-type parser (which would read the body,
  // or answer 415 or 400 with JSON), whatever the Content-Type, Content-Length or Transfer-Encoding.
  for (const method of http.METHODS) app.addHttpMethod(method, { hasBody: false, overrideExisting: true });

  for (const route of contractRoutes(generate, log, draining)) {
    // find-my-way matches the percent-decoded path (/qr%63ode would be /qrcode); express matches the path as sent.
    const asSent = (request) => rawPathOf(request.url) === route.path;
    app.route({
      method: ['GET', 'HEAD'],
      url: route.path,
      handler: async (request, reply) =>
        send(reply, asSent(request) ? await route.get(request.url, request.headers) : ANSWERS.notFound),
    });
    if (route.options !== undefined) {
      app.options(route.path, (request, reply) => send(reply, asSent(request) ? route.options : ANSWERS.notFound));
    }
    const answered = route.options === undefined ? ['GET', 'HEAD'] : ['GET', 'HEAD', 'OPTIONS'];
    app.route({
      method: http.METHODS.filter((method) => !answered.includes(method)),
      url: route.path,
      handler: (request, reply) => send(reply, asSent(request) ? route.notAllowed : ANSWERS.notFound),
    });
  }
  app.setNotFoundHandler((request, reply) => send(reply, ANSWERS.notFound));
  // Only reached by a bug (answers are made without throwing): log it, answer 500.
  app.setErrorHandler((err, request, reply) => {
    log(`unexpected error on ${request.method} ${request.url}: ${err && err.stack ? err.stack : err}`);
    return send(reply, ANSWERS.failed);
  });
  return app;
}

module.exports = { createFastifyApp };
