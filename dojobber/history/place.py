"""Where a run history lives: a SQLite file path or a ``postgresql://`` URL, checked and shown."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigurationError, JobTypeError

#: The URL schemes that name a PostgreSQL history (libpq accepts both).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(place: str) -> bool:
    """Whether ``place`` is a PostgreSQL URL rather than a file path."""
    return place.lower().startswith(POSTGRES_SCHEMES)


def redacted(place: str) -> str:
    """``place`` as it may be shown: a URL's password replaced by ``***``."""
    if not is_postgres(place):
        return place
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(place)
        password = parts.password
    except ValueError:  # a malformed port: show no user part at all
        scheme, _, rest = place.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else place
    shown = place
    if password is not None:
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        shown = urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    # A password can also be given as a query parameter.
    if "password=" in shown:
        import re

        shown = re.sub(r"(password=)[^&]*", r"\1***", shown)
    return shown


def check_place(value: Any, what: str = "history") -> str:
    """Validate a history place (``what`` names where it came from in the
    error) and return it as text: a path whose folder exists and is not a
    folder itself, or a ``postgresql://`` URL with psycopg installed."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise JobTypeError(
            f"{what} must be a file path or a postgresql:// URL, got {value!r}", None, value)
    if is_postgres(value):
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
