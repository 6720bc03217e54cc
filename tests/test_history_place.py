"""A history place shown without its secrets (issue 33, item 1): a
PostgreSQL URL read by libpq's rules, by libpq itself (psycopg) and by the
pure-Python reader where psycopg is absent, and every message that repeats
a password cleaned of it, however it is spelt."""

from __future__ import annotations

import sys
from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dojobber import DoJobber, Job
from dojobber.errors import ConfigurationError, JobTypeError
from dojobber.history.conninfo import UnreadableURL, parse, read
from dojobber.history.place import check_place, redacted, scrub

# (URL, how it is shown, the spellings of its secrets that must never show)
FORMS = [
    ("postgresql://dj:s3cr#t?pw@host/db", "postgresql://dj:***@host/db", ["s3cr#t?pw"]),
    ("postgresql://dj:s3cr%2Ft@host/db", "postgresql://dj:***@host/db", ["s3cr/t", "s3cr%2Ft"]),
    ("postgresql://dj:pct%40word7@host:5432/db", "postgresql://dj:***@host:5432/db",
     ["pct%40word7", "pct@word7"]),
    ("postgresql://dj@host:5432/db?pass%77ord=qu3ry", "postgresql://dj:***@host:5432/db",
     ["qu3ry"]),
    ("postgresql://dj@host/db?password=pl%41in&sslmode=require", "postgresql://dj:***@host/db",
     ["pl%41in", "plAin"]),
    ("postgresql://dj:s3cret@host/db?sslpassword=k3yp4ss", "postgresql://dj:***@host/db",
     ["s3cret", "k3yp4ss"]),
    ("postgresql://dj:pw?x!@[::1]:5432,other:5433/db",
     "postgresql://dj:***@[::1]:5432,other:5433/db", ["pw?x!"]),
    ("postgresql://dj:s3cret@%2Fvar%2Frun%2Fpg/db", "postgresql://dj:***@%2Fvar%2Frun%2Fpg/db",
     ["s3cret"]),
    ("postgres://dj:s3cret@host", "postgres://dj:***@host", ["s3cret"]),
    ("postgresql:///db?host=/tmp/pg&user=dj&password=s3cret",
     "postgresql://dj:***@%2Ftmp%2Fpg/db", ["s3cret"]),
    ("postgresql://dj@host/db", "postgresql://dj@host/db", []),
    # Refused: libpq would read part of the password as a host, a port or a
    # database name, or cannot read it at all. Nothing after the scheme shows.
    ("postgresql://dj:s3/cr@host/db", "postgresql://***", ["s3/cr"]),
    ("postgresql://dj:12/34@host/db", "postgresql://***", ["12/34"]),
    ("postgresql://dj:p@ss@host/db", "postgresql://***", ["p@ss"]),
    ("postgresql://dj:s3cret/db", "postgresql://***", ["s3cret"]),
    ("postgresql://dj:s3cret@host/db?s3cr3t", "postgresql://***", ["s3cret", "s3cr3t"]),
    ("postgresql://dj:s3cret@host/%zz", "postgresql://***", ["s3cret"]),
    ("postgresql://dj:s3cret@host/db?password=x7=y7", "postgresql://***", ["s3cret", "x7=y7"]),
    ("Postgresql://dj:s3cret@host/db", "Postgresql://***", ["s3cret"]),
    ("mysql://dj:s3cret@host/db", "mysql://***", ["s3cret"]),
]


@pytest.fixture(params=["libpq", "pure-python"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test twice: libpq (psycopg) reading the URL, and the pure-Python
    reader, as on a machine without psycopg."""
    if request.param == "libpq":
        pytest.importorskip("psycopg", reason="psycopg (the test extra) is not installed")
    else:
        monkeypatch.setitem(sys.modules, "psycopg.conninfo", None)
    yield request.param


@pytest.mark.parametrize(("url", "shown", "secrets"), FORMS, ids=[f[0] for f in FORMS])
def test_a_place_is_shown_without_its_secrets(
        reader: str, url: str, shown: str, secrets: list[str]) -> None:
    assert redacted(url) == shown
    message = f"cannot connect to {url}: the server refused {' and '.join(secrets)}"
    cleaned = scrub(message, url)
    assert cleaned.startswith(f"cannot connect to {shown}: the server refused")
    for secret in secrets:
        assert secret not in redacted(url)
        assert secret not in cleaned


@pytest.mark.parametrize(("url", "shown", "secrets"), [f for f in FORMS if "***" in f[1][-4:]],
                         ids=[f[0] for f in FORMS if "***" in f[1][-4:]])
def test_a_refused_url_fails_configure_naming_why_and_showing_nothing(
        reader: str, url: str, shown: str, secrets: list[str]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check_place(url)
    message = str(raised.value)
    assert f"history {shown!r} " in message or message.endswith(f"got {shown!r}")
    assert raised.value.value == shown
    for secret in secrets:
        assert secret not in message


def test_what_is_wrong_is_said_without_quoting_the_url(reader: str) -> None:
    reasons = {}
    for url in ("postgresql://dj:s3/cr@host/db", "postgresql://dj:s3cret/db",
                "postgresql://dj:s3cret@host/db?s3cr3t", "postgresql://dj:s3cret@host/%zz",
                "Postgresql://dj:s3cret@host/db"):
        with pytest.raises(ConfigurationError) as raised:
            check_place(url)
        reasons[url] = str(raised.value).partition(" can read: ")[2]
    assert list(reasons.values()) == [
        "an '@' after the user part: write '@' and '/' in a user name or password as %40 "
        "and %2F",
        "a port is not a number (write '/' in a password as %2F)",
        "query parameter 1 has no '='",
        "a '%' is not followed by two hexadecimal digits",
        "it must start with postgresql:// or postgres:// (in lower case)",
    ]


def test_the_needs_psycopg_error_shows_the_place_redacted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "psycopg" else real(name, *a))
    monkeypatch.setitem(sys.modules, "psycopg.conninfo", None)
    with pytest.raises(ConfigurationError) as raised:
        check_place("postgresql://dj:s3cr#t?pw@host/db")
    assert str(raised.value) == (
        "history 'postgresql://dj:***@host/db' needs psycopg: pip install 'dojobber[postgres]'")


def test_configure_never_shows_a_password_given_as_bytes() -> None:
    class Leaf(Job):
        def Check(self) -> None:
            pass

    with pytest.raises(JobTypeError) as raised:
        DoJobber().configure(Leaf, history=b"postgresql://dj:s3cr#t?pw@host/db")  # type: ignore[arg-type]
    assert "s3cr#t?pw" not in str(raised.value)
    assert str(raised.value) == ("history must be a file path or a postgresql:// URL, "
                                 "got 'postgresql://dj:***@host/db'")


@pytest.mark.parametrize(("url", "shown", "secrets"), [f for f in FORMS if "***" not in f[1][-4:]],
                         ids=[f[0] for f in FORMS if "***" not in f[1][-4:]])
def test_the_shown_place_names_the_same_server_user_and_database(
        url: str, shown: str, secrets: list[str]) -> None:
    wanted = {key: value for key, value in read(url).options.items()
              if key in ("user", "host", "port", "dbname")}
    if "port" in wanted and "," in wanted.get("host", "") and "," not in wanted["port"]:
        wanted["port"] = ",".join([wanted["port"]] * len(wanted["host"].split(",")))
    shown_options = read(shown).options
    assert shown_options.pop("password", None) == ("***" if ":***@" in shown else None)
    assert shown_options == wanted


# --- the pure-Python reader answers as libpq does --------------------------

PIECES = ["@", "/", ":", "?", "#", "&", "=", "%", "%2F", "%40", "%zz", "%00", "%C3%A9", "%C3",
          ",", "[", "]", "::1", "a", "b1", "5432", "é", "user", "password", "pass%77ord",
          "host", "port", "dbname", "ssl", "true", "requiressl", "sslmode", "nope"]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["postgresql://", "postgres://", "Postgres://", "postgresql:/"]),
       st.lists(st.sampled_from(PIECES), max_size=14))
def test_the_pure_reader_reads_every_url_as_libpq_does(prefix: str, pieces: list[str]) -> None:
    conninfo = pytest.importorskip("psycopg.conninfo",
                                   reason="psycopg (the test extra) is not installed")
    url = prefix + "".join(pieces)
    try:
        by_libpq = conninfo.conninfo_to_dict(url)
    except Exception:
        by_libpq = None
    try:
        ours = parse(url).options
    except UnreadableURL:
        ours = None
    assert ours == by_libpq
