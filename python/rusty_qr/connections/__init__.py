"""The Python host's connection handling: gunicorn's gthread worker, changed to handle
connections as the contract wants (what node/http/serve-tier.js and crates/qr-server/src/drain.rs do
for the other hosts). Tested over real sockets by python/tests/test_connections.py.

gthread as shipped (gunicorn 27.0.1) hands every new connection to a pool thread that reads the
request head with blocking reads: a client that sends its head slowly holds one of the pool's few
threads (one per worker in cluster mode) for as long as it likes. So ContractWorker changes who
reads what, and keeps the rest of gthread (its thread pool, its `handle_request`, gunicorn's
HTTP/1.1 parser and WSGI layer, the master's heartbeat). One module per job:

- main_loop.py: ContractWorker, its main loop and gunicorn's hooks (SIGINT is the master's to
  handle; a tier failing its self-check is one line and exit status 3, which stops the master).
- accepting.py: past `worker_connections` (--max-connections) open connections a new one is
  answered 503 `server is busy` at once, before anything is read, and closed.
- heads.py: the main thread reads every request head itself, non-blocking, and a pool thread gets
  a connection only once a whole head is in memory; 431 past 64 KiB; the header timeout (10 s).
- answering.py: a pool thread answers one request; a request with a body is answered and its
  connection closed, the body never read.
- refusals.py: the HTTP layer's own answers (a target with raw UTF-8 gets the contract's line;
  every other refusal of the parser is a bodiless 400, or 431, 501, 417 where it says).
- lingering.py: closing after an answer never resets the client.
- drain.py: SIGTERM: /healthz says `draining`, the requests already sent are answered, then every
  connection closes, and the worker exits 0 (1 if some were still running at 9.5 s).
"""
