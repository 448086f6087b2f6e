// The cluster primary: forks N workers that share one listening port, replaces dead ones with backoff
// (node/restart-backoff.js), prints the ready line once all N listen, and stops them all on SIGINT/SIGTERM.
// Started by node/server.js.
'use strict';

const cluster = require('node:cluster');
const { RestartBackoff } = require('./restart-backoff');

/** The env var that tells a worker which port to listen on (see portForNextWorker). */
const PORT_ENV = 'RUSTY_QR_WORKER_PORT';

/** Runs the primary; the workers run server.js again and see `cluster.isWorker`. */
function runPrimary({ workers: count, port: requestedPort, log, onReady }) {
  // The workers accept from the shared socket themselves (SCHED_NONE) instead of the primary accepting
  // and handing each connection over (Node's default on Linux, round-robin): a worker killed while a
  // connection is on its way to it leaves that connection open in the primary, unanswered until the
  // primary exits (nodejs/node-v0.x-archive#7928; round_robin_handle.js waits for a reply that never
  // comes). Measured side by side on this project's box: the same req/s, tier-0 and tier-3, and the CPU
  // evenly split between two workers under the benchmark's 100 keep-alive connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const alive = new Map(); // worker.id -> { worker, startedAt, listening }
  const timers = new Set(); // pending replacements
  let ready = false;
  let shuttingDown = false;
  let cleanStop = true; // every worker stopped with exit code 0 during shutdown
  const backoff = new RestartBackoff(); // every replacement waits, 100 ms or more
  let realPort = null; // known once the first worker listens
  let sharedPortArg = requestedPort; // the port argument every live worker passed to listen()

  // Workers that listen(0) share one random port only while the primary keeps that handle, i.e. while
  // one of them is alive. A replacement passes what the live workers passed; if none is alive, the
  // real port, so the address in the ready line stays valid.
  const portForNextWorker = () => {
    if (alive.size === 0) sharedPortArg = realPort ?? requestedPort;
    return sharedPortArg;
  };

  const fork = () => {
    const worker = cluster.fork({ [PORT_ENV]: String(portForNextWorker()) });
    alive.set(worker.id, { worker, startedAt: Date.now(), listening: false });
  };

  cluster.on('listening', (worker, address) => {
    log(`worker ${worker.id} (pid ${worker.process.pid}) listening on port ${address.port}`);
    const entry = alive.get(worker.id);
    if (entry) entry.listening = true;
    if (realPort === null) realPort = address.port;
    if (address.port !== realPort) {
      // Only if every worker died while this one started: the shared handle was gone, listen(0) drew a
      // new port. Kill it; its replacement (with no worker alive) listens on the real port.
      log(`worker ${worker.id} listens on port ${address.port}, not ${realPort}: killing it`);
      worker.process.kill('SIGKILL');
      return;
    }
    if (!ready && [...alive.values()].every((e) => e.listening)) {
      ready = true;
      onReady(realPort);
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const entry = alive.get(worker.id);
    alive.delete(worker.id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (shuttingDown) {
      log(`worker ${worker.id} (pid ${worker.process.pid}) stopped (${how})`);
      // A worker forked a moment before the signal may die of SIGTERM before its handler is installed.
      if (code !== 0 && signal !== 'SIGTERM') cleanStop = false;
      if (alive.size === 0) process.exit(cleanStop ? 0 : 1);
      return;
    }
    if (!ready) {
      // A worker that cannot start (missing binary, bad engine, port taken) would only crash-loop.
      log(`worker ${worker.id} (pid ${worker.process.pid}) exited during start-up (${how}); stopping`);
      for (const { worker: w } of alive.values()) w.process.kill('SIGKILL');
      process.exit(1);
    }
    const delay = backoff.delayAfterDeath(entry ? Date.now() - entry.startedAt : 0);
    log(`worker ${worker.id} (pid ${worker.process.pid}) died (${how}); replacing it in ${delay} ms`);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!shuttingDown) fork();
    }, delay);
    timers.add(timer);
  });

  const shutdown = (signal) => {
    if (shuttingDown) {
      log(`${signal} again: killing ${alive.size} worker(s)`);
      for (const { worker } of alive.values()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    shuttingDown = true;
    for (const timer of timers) clearTimeout(timer);
    log(`${signal}: stopping ${alive.size} worker(s)`);
    if (alive.size === 0) process.exit(0);
    for (const { worker } of alive.values()) worker.process.kill('SIGTERM');
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  for (let i = 0; i < count; i++) fork();
}

/** In a worker: the port the primary chose for it. */
function workerPort() {
  return Number(process.env[PORT_ENV]);
}

module.exports = { runPrimary, workerPort };
