"""`python -m rusty_qr`: the Python host's command line. The Flask app (rusty_qr.app) on gunicorn
(rusty_qr.host) or granian (rusty_qr.granian_host, `--server granian`), backed by one tier.

Run with `PYTHONPATH=python target/venv/bin/python -m rusty_qr --tier TIER
         [--mode single|cluster] [--workers N] [--port P] [--engine E] [--max-connections N]
         [--server gunicorn|granian]`
(port 42069 by default, 0 = an ephemeral port; binds 127.0.0.1 only). TIER is a key of
rusty_qr.tiers.TIERS. `single`: one worker process with one thread per CPU; `cluster`: one worker
process per CPU (or --workers), one thread each.

Ready: exactly one line `listening on http://127.0.0.1:PORT` on stdout once every worker has
passed its self-check and listens; logs on stderr. Usage errors: one line, exit 2; a tier that
fails its self-check: one line, exit 1. SIGTERM/SIGINT: drain (rusty_qr.connections), exit 0
within 10 s; a second signal: exit 1 at once.
"""

from __future__ import annotations

import argparse
import sys

from . import tiers
from .host import Host, cpu_count, raise_open_file_limit
from .logs import set_prefix

DEFAULT_PORT = 42069
#: Open connections per worker process past which a new one gets 503 (node/server.js, qr-server).
DEFAULT_MAX_CONNECTIONS = 1024
MODES = ("single", "cluster")
#: The HTTP servers the host runs on; the first is the default.
SERVERS = ("gunicorn", "granian")
USAGE = (
    f"usage: python -m rusty_qr --tier {'|'.join(tiers.TIERS)} [--mode single|cluster] "
    "[--workers N] [--port P] [--engine E] [--max-connections N] [--server gunicorn|granian]"
)


class UsageError(Exception):
    """A bad command line: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage and the message on two lines
        raise UsageError(message)


def parse_command_line(argv: list[str]) -> dict:
    """argv -> options; raises UsageError with a one-line message."""
    parser = _Parser(prog="rusty_qr", add_help=False, allow_abbrev=False)
    parser.add_argument("--tier")
    parser.add_argument("--mode", default="single")
    parser.add_argument("--workers")
    parser.add_argument("--port", default=str(DEFAULT_PORT))
    parser.add_argument("--engine")
    parser.add_argument("--max-connections", default=str(DEFAULT_MAX_CONNECTIONS))
    parser.add_argument("--server", default=SERVERS[0])
    parser.add_argument("-h", "--help", action="store_true")
    args = parser.parse_args(argv)
    if args.help:
        return {"help": True}

    def integer(name: str, value: str, low: int, high: int) -> int:
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise UsageError(f"--{name} must be an integer from {low} to {high}, got '{value}'")
        return int(value)

    if args.tier is None:
        raise UsageError("--tier is required")
    if args.tier not in tiers.TIERS:
        raise UsageError(f"--tier must be one of {', '.join(tiers.TIERS)}, got '{args.tier}'")
    if args.mode not in MODES:
        raise UsageError(f"--mode must be single or cluster, got '{args.mode}'")
    if args.server not in SERVERS:
        raise UsageError(f"--server must be gunicorn or granian, got '{args.server}'")
    if args.workers is not None and args.mode != "cluster":
        raise UsageError("--workers needs --mode cluster")
    if args.engine is not None and args.tier in tiers.WITHOUT_ENGINE:
        raise UsageError(f"{args.tier} is pure Python: it takes no --engine")
    if args.engine == "":
        raise UsageError("--engine must not be empty")
    return {
        "help": False,
        "tier": args.tier,
        "mode": args.mode,
        "workers": cpu_count() if args.workers is None else integer("workers", args.workers, 1, 1024),
        "port": integer("port", args.port, 0, 65535),
        "engine": args.engine,
        "max_connections": integer("max-connections", args.max_connections, 1, 1_000_000),
        "server": args.server,
    }


def main(argv: list[str] | None = None) -> None:
    try:
        options = parse_command_line(sys.argv[1:] if argv is None else argv)
    except UsageError as err:
        print(f"rusty_qr: {err} ({USAGE})", file=sys.stderr)
        sys.exit(2)
    if options["help"]:
        print(USAGE)
        return
    set_prefix(f"[{options['tier']} master]")
    raise_open_file_limit()
    if options["server"] == "granian":
        from . import granian_host  # imports granian only when it is asked for

        granian_host.run(options)
    else:
        Host(options).run()


if __name__ == "__main__":
    main()
