"""The word a try sends from its worker when it starts there, and the caller's ear for it.

``concurrent.futures`` cannot say when a task starts: a process pool marks
a future running while it still waits in the pool's call queue, and Dask
says nothing at all. Yet the caller's backstop for a try with a TIMEOUT
(pool.py) must count from the try's start, never from when it was handed
to the executor, or a try queued behind others fails for waiting. So the
worker says it: one UDP datagram, a token the caller made for that try,
sent to the caller's socket just before the try is made. A datagram needs
no connection, so it costs the worker one system call, and it travels the
same from a thread, a process of any start method, loky or Dask.

A try whose word never arrives (a firewall between a remote cluster and
the caller) only loses the backstop: the worker enforces TIMEOUT itself.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
from concurrent.futures import Executor
from typing import Callable, NamedTuple

log = logging.getLogger("DoJobber")


class Word(NamedTuple):
    """What a worker is given to say that its try started: where to, and what."""

    #: The caller's address, where its ``Starts`` listens.
    host: str
    port: int
    #: The try's token: the datagram the worker sends.
    token: bytes


#: The bytes of a token: random, so that no other sender can guess one.
TOKEN_BYTES = 16


class Start:
    """One try sent with a TIMEOUT: whether its worker said it started, and when."""

    def __init__(self, word: Word):
        self.word = word
        #: Set when the try's start is heard, or when its future is done.
        self.heard = threading.Event()
        #: The caller's clock when the start was heard (None: not yet).
        self.at: float | None = None


class Starts:
    """The caller's ear: a UDP socket and a thread that reads it, for one run.

    ``expect()`` before a try is sent, ``forget()`` once its answer came.
    ``clock`` stamps each start heard (tests give a fake one).
    """

    def __init__(self, host: str, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.expected: dict[bytes, Start] = {}
        self.closing = False
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.socket.bind((host, 0))
        except OSError:
            self.socket.close()
            raise
        self.address: tuple[str, int] = self.socket.getsockname()[:2]
        self.thread = threading.Thread(target=self._listen, name="dojobber-starts", daemon=True)
        self.thread.start()

    def expect(self) -> Start:
        """A new try's Start, its token unique to it."""
        host, port = self.address
        start = Start(Word(host=host, port=port, token=os.urandom(TOKEN_BYTES)))
        with self.lock:
            self.expected[start.word.token] = start
        return start

    def forget(self, start: Start) -> None:
        with self.lock:
            self.expected.pop(start.word.token, None)

    def close(self) -> None:
        """Stop listening: the thread wakes to an empty datagram of our own."""
        self.closing = True
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as wake:
                wake.sendto(b"", self.address)
            self.thread.join(5)
        finally:
            self.socket.close()

    def _listen(self) -> None:
        while not self.closing:
            try:
                token = self.socket.recv(64)
            except OSError:
                return  # closed under us
            with self.lock:
                start = self.expected.get(token)
            if start is not None and start.at is None:
                start.at = self.clock()
                start.heard.set()


def announce(word: Word | None) -> None:
    """In the worker: tell the caller the try starts now (``word`` None: no one listens).

    Never fails the try: a word that cannot be sent only leaves the caller
    without its backstop.
    """
    if word is None:
        return
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(word.token, (word.host, word.port))
    except OSError as error:
        log.debug("Could not tell the caller that a try started: %s", error)


def listening_host(executor: Executor) -> str:
    """The address of this host that the workers of ``executor`` can reach.

    Pools of this host (threads, processes, loky) and a Dask cluster of
    this host: the loopback. A Dask cluster elsewhere: the address this
    host uses to reach its scheduler.
    """
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    address = getattr(getattr(client, "scheduler", None), "address", None)
    if not isinstance(address, str):
        return LOOPBACK
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    try:
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            return LOOPBACK
    except ValueError:
        pass  # a host name
    try:
        # Connecting a datagram socket sends nothing: it only picks the route.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))
            here: str = probe.getsockname()[0]
            return here
    except OSError as error:
        log.debug("No route to the Dask scheduler %s: %s", address, error)
        return LOOPBACK


LOOPBACK = "127.0.0.1"
