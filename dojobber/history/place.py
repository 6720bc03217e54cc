"""Where a run history lives: a SQLite file path or a ``postgresql://`` URL, checked and shown."""

from __future__ import annotations

import os
from itertools import zip_longest
from typing import Any
from urllib.parse import quote

from ..errors import ConfigurationError, JobTypeError
from .conninfo import Reading, UnreadableURL, read

#: The URL schemes that name a PostgreSQL history (libpq accepts both).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(place: str) -> bool:
    """Whether ``place`` is a PostgreSQL URL rather than a file path."""
    return place.lower().startswith(POSTGRES_SCHEMES)


def redacted(place: str) -> str:
    """``place`` as it may be shown: the one function through which every
    message, exception, report, page, log and event shows a history place.

    A PostgreSQL URL is read by libpq's rules (:mod:`.conninfo`) and shown
    as ``postgresql://USER:***@HOST[:PORT]/DB``: its password hidden, its
    query left out (it may hold other secrets). A URL that libpq cannot
    read, or that :func:`checked` refuses, shows nothing after its scheme,
    and so does a URL of any other scheme (never a history); a file path
    is shown as it is.
    """
    scheme, separator, _ = place.partition("://")
    if not separator:
        return place
    if not is_postgres(place):  # a URL of another kind, refused: its parts unread
        return f"{scheme}://***"
    try:
        options = checked(place).options
    except UnreadableURL:
        return f"{scheme}://***"
    return f"{scheme}://{_credentials(options)}{_netloc(options)}{_database(options)}"


def checked(place: str) -> Reading:
    """A PostgreSQL URL as libpq reads it, refused (UnreadableURL, whose
    message quotes nothing of it) where libpq cannot read it or where its
    reading would show what was meant as a password.

    libpq ends the user part at the first ``@`` or ``/``, so an unencoded
    ``@`` or ``/`` in a password moves the rest of it into the host, port
    or database name, where it would be shown: an ``@`` after the user
    part, or a port that is not a number, is refused with how to write it.
    """
    reading = read(place)
    rest = place.partition("://")[2]
    ends = [i for i in (rest.find("@"), rest.find("/")) if i >= 0]
    if ends and rest[min(ends)] == "@":  # libpq's user part ends there
        rest = rest[min(ends) + 1:]
    if "@" in rest.partition("?")[0]:
        raise UnreadableURL("an '@' after the user part: write '@' and '/' in a user "
                            "name or password as %40 and %2F")
    if _odd_ports(place, reading):
        raise UnreadableURL("a port is not a number (write '/' in a password as %2F)")
    return reading


def scrub(text: str, place: str) -> str:
    """``text`` (a message about ``place``) with ``place`` shown as
    :func:`redacted` shows it and every spelling of its secrets, decoded
    (``pct@word7``) or as written (``pct%40word7``), replaced by ``***``."""
    if "://" not in place:
        return text
    text = text.replace(place, redacted(place))
    for secret in _secrets(place):
        text = text.replace(secret, "***")
    return text


def _secrets(place: str) -> list[str]:
    """What libpq takes for secrets in ``place``, the longest first; for a
    URL :func:`checked` refuses (it is never used), all of it after the
    scheme and what its writer may have meant as a password: the text
    before the last ``@``, its part after the first ``:``, a port that is
    not a number (``dj:s3cret/db`` has libpq read ``s3cret`` as one) and
    the query's parameters, whole and split at ``=``."""
    try:
        found = set(checked(place).secrets())
    except UnreadableURL:
        rest = place.partition("://")[2]
        userinfo = rest.rpartition("@")[0]
        found = {rest, userinfo, userinfo.partition(":")[2], *_odd_ports(place)}
        for parameter in rest.partition("?")[2].split("&"):
            found.update((parameter, *parameter.split("=")))
    return sorted((one for one in found if one), key=len, reverse=True)


def _odd_ports(place: str, reading: Reading | None = None) -> list[str]:
    """The ports libpq reads in ``place`` that are not numbers."""
    if reading is None:
        try:
            reading = read(place)
        except UnreadableURL:
            return []
    ports = reading.options.get("port", "").split(",")
    return [port for port in ports if port and not (port.isascii() and port.isdigit())]


def _credentials(options: dict[str, str]) -> str:
    user = quote(options.get("user", ""), safe="")
    hidden = ":***" if options.get("password") else ""
    return f"{user}{hidden}@" if user or hidden else ""


def _netloc(options: dict[str, str]) -> str:
    hosts = options.get("host", "").split(",")
    ports = options.get("port", "").split(",")
    if len(ports) == 1:  # libpq gives one port to every host
        ports = ports * len(hosts)
    shown = []
    for host, port in zip_longest(hosts, ports, fillvalue=""):
        host = f"[{host}]" if ":" in host else quote(host, safe="")
        shown.append(f"{host}:{port}" if port else host)
    return ",".join(shown)


def _database(options: dict[str, str]) -> str:
    name = options.get("dbname", "")
    return "/" + quote(name, safe="") if name else ""


def check_place(value: Any, what: str = "history") -> str:
    """Validate a history place (``what`` names where it came from in the
    error) and return it as text: a path whose folder exists and is not a
    folder itself, or a ``postgresql://`` URL with psycopg installed."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        # bytes may spell a URL with its password: shown as the text would be.
        shown = repr(redacted(os.fsdecode(value))) if isinstance(value, bytes) else repr(value)
        raise JobTypeError(
            f"{what} must be a file path or a postgresql:// URL, got {shown}", None,
            shown if isinstance(value, bytes) else value)
    if is_postgres(value):
        try:
            checked(value)
        except UnreadableURL as error:
            raise ConfigurationError(
                f"{what} {redacted(value)!r} is not a PostgreSQL URL libpq can read: {error}",
                None, redacted(value)) from None
        import importlib.util

        if importlib.util.find_spec("psycopg") is None:
            raise ConfigurationError(
                f"{what} {redacted(value)!r} needs psycopg: pip install 'dojobber[postgres]'",
                None, redacted(value))
        return value
    if "://" in value:
        raise ConfigurationError(
            f"{what} must be a file path or a postgresql:// URL, got {redacted(value)!r}",
            None, redacted(value))
    if not value:
        raise ConfigurationError(f"{what} must not be empty", None, value)
    if os.path.isdir(value):
        raise ConfigurationError(f"{what} {value!r} is a directory, not a file", None, value)
    folder = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(folder):
        raise ConfigurationError(
            f"{what} {value!r}: no such directory {folder!r}", None, value)
    return value
