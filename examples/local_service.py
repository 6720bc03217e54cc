#!/usr/bin/env python3
"""Publish a small static site, serve it locally and verify it over HTTP.

What it teaches:

* starting a real service (a stdlib HTTP server in its own process, on
  127.0.0.1 and a port the OS chooses) and stopping it in ``Cleanup``, which
  runs after the graph whether the run passed or failed;
* waiting without ``sleep``: a job whose Run does nothing and whose Check
  asks "does it answer yet?", with ``TRIES`` and ``RETRY_DELAY`` doing the
  waiting;
* jobs run dependencies first, so a helper job (the server) is always
  checked; its Check passes at once when the result it exists for
  (a verified site) already holds, and the service is not started for nothing.

The verified state is ``verified.json``: the SHA-256 of every page and the
port it was served on. Run it twice: the first run starts the server, checks
every page and stops the server; the second finds the site unchanged and
verified, and every job passes at its first Check::

    python examples/local_service.py /tmp/site -v
    python examples/local_service.py /tmp/site -v

``python examples/local_service.py --serve DIR PORTFILE`` is the server
itself: it binds 127.0.0.1 on a free port, writes the port to PORTFILE, and
serves DIR until it is terminated.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Sequence

from dojobber import DoJobber, Job

PAGES = {
    "index.html": "<!doctype html>\n<title>Home</title>\n<h1>It works</h1>\n",
    "about.html": "<!doctype html>\n<title>About</title>\n<p>Served by DoJobber.</p>\n",
    "health": "ok\n",
}
VERIFIED = "verified.json"
PORT_FILE = "server.port"


def site_digests(site: Path) -> dict[str, str]:
    """SHA-256 of each page as it is on disk now."""
    return {
        page: hashlib.sha256((site / page).read_bytes()).hexdigest() for page in PAGES
    }


def verified(target: Path) -> bool:
    """True when verified.json vouches for the site exactly as it is now."""
    try:
        record = json.loads((target / VERIFIED).read_text(encoding="utf-8"))
        return bool(record["pages"] == site_digests(target / "site"))
    except (OSError, ValueError, KeyError):
        return False


def fetch(port: int, page: str) -> bytes:
    """GET a page from the local server (loopback only, short timeout)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{page}", timeout=2) as answer:
        body: bytes = answer.read()
        return body


class SiteFiles(Job):
    """The site's pages, with exactly the content in PAGES."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"] = Path(kwargs["target"]).resolve()
        for page, text in PAGES.items():
            path = target / "site" / page
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                raise ValueError(f"{path} is missing or out of date")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        site = self.global_storage["target"] / "site"
        site.mkdir(parents=True, exist_ok=True)
        for page, text in PAGES.items():
            (site / page).write_text(text, encoding="utf-8")


class ServerStarted(Job):
    """A server process for this run, serving the site (only when needed).

    The instance whose Run started the process stops it in Cleanup.
    """

    DEPS = (SiteFiles,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        if verified(self.global_storage["target"]):
            return
        process = self.global_storage.get("server")
        if process is None or process.poll() is not None:
            raise RuntimeError("no server is running")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        (target / PORT_FILE).unlink(missing_ok=True)
        process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve",
             str(target / "site"), str(target / PORT_FILE)],
            stdin=subprocess.DEVNULL,
        )
        self.storage["process"] = self.global_storage["server"] = process

    def Cleanup(self) -> None:
        process = self.storage.get("process")
        if process is None:
            return
        process.terminate()
        process.wait(timeout=10)
        (self.global_storage["target"] / PORT_FILE).unlink(missing_ok=True)


class ServerAnswers(Job):
    """The server answers its health page. Until it does, try again later.

    Starting takes a moment; rather than sleeping for a guessed time, this
    job fails fast and DoJobber retries it every RETRY_DELAY seconds, up to
    TRIES times (here: up to 10 seconds).
    """

    DEPS = (ServerStarted,)
    TRIES = 100
    RETRY_DELAY = 0.1

    def Check(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        if verified(target):
            return
        # The server writes its port file once it is listening.
        port = int((target / PORT_FILE).read_text(encoding="utf-8"))
        if fetch(port, "health") != b"ok\n":
            raise RuntimeError(f"port {port} answers, but not with our health page")
        self.global_storage["port"] = port

    def Run(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to do but wait: the retry does it."""


class SiteVerified(Job):
    """Every page, fetched over HTTP, is byte for byte the file on disk.

    Check reads verified.json; Run fetches the pages and writes it.
    """

    DEPS = (ServerAnswers,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        if not verified(target):
            raise ValueError(f"{target / VERIFIED} does not vouch for the current site")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        port = self.global_storage["port"]
        digests = site_digests(target / "site")
        for page, digest in digests.items():
            served = hashlib.sha256(fetch(port, page)).hexdigest()
            if served != digest:
                raise ValueError(f"{page} served differs from the file")
        record = {"port": port, "pages": digests}
        (target / VERIFIED).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: str, port_file: str) -> None:
    """Serve ``directory`` on 127.0.0.1, on a port the OS picks, until killed."""
    handler = functools.partial(QuietHandler, directory=directory)
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        # Written atomically, so a reader never sees half a number.
        temporary = port_file + ".tmp"
        Path(temporary).write_text(str(server.server_address[1]), encoding="utf-8")
        os.replace(temporary, port_file)
        server.serve_forever()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="service-demo",
                        help="where the site lives (default: ./service-demo)")
    parser.add_argument("-n", "--no-act", action="store_true", help="only check")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-d", "--debug", action="store_true")
    parser.add_argument("--serve", nargs=2, metavar=("DIR", "PORTFILE"),
                        help="be the HTTP server (used by the ServerStarted job)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    dojob = DoJobber()
    dojob.configure(SiteVerified, no_act=args.no_act, verbose=args.verbose,
                    debug=args.debug)
    dojob.set_args(target=args.target)
    dojob.checknrun()  # Cleanups (stopping the server) run at its end
    if dojob.success():
        print(f"{args.target}: site verified over HTTP")
        return 0
    for name, error in dojob.nodeexceptions.items():
        print(f"{name}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
