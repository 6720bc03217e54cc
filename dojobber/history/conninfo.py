"""Reading a ``postgresql://`` URL by libpq's rules, so that we hide what libpq takes for a secret.

``urllib.parse`` reads a URL by RFC 3986: it stops a password at ``#``, ``?``
or ``/``. libpq does not (``dj:s3cr#t?pw@host`` is user ``dj`` with password
``s3cr#t?pw``), so a place shown by urllib's reading can show a password.
:func:`read` asks libpq itself (psycopg's ``conninfo_to_dict``) where psycopg
is installed, and :func:`parse` follows the same steps in Python where it is
not; a test holds the two to the same answers.

No message here repeats any part of the URL: a reason says what is wrong and
where, never with what.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The keywords libpq 18 takes in a URL's query (psycopg-binary ships it);
#: libpq refuses any other.
KEYWORDS = frozenset((
    "application_name", "channel_binding", "client_encoding", "connect_timeout", "dbname",
    "fallback_application_name", "gssdelegation", "gssencmode", "gsslib", "host", "hostaddr",
    "keepalives", "keepalives_count", "keepalives_idle", "keepalives_interval", "krbsrvname",
    "load_balance_hosts", "max_protocol_version", "min_protocol_version", "oauth_client_id",
    "oauth_client_secret", "oauth_issuer", "oauth_scope", "options", "passfile", "password",
    "port", "replication", "require_auth", "requirepeer", "scram_client_key",
    "scram_server_key", "service", "ssl_max_protocol_version", "ssl_min_protocol_version",
    "sslcert", "sslcertmode", "sslcompression", "sslcrl", "sslcrldir", "sslkey",
    "sslkeylogfile", "sslmode", "sslnegotiation", "sslpassword", "sslrootcert", "sslsni",
    "target_session_attrs", "tcp_user_timeout", "user",
))
#: The options whose values are secrets: never shown, never stored.
SECRETS = ("password", "sslpassword", "oauth_client_secret", "scram_client_key",
           "scram_server_key")
#: The prefixes libpq reads as a URL; it compares them case-sensitively.
PREFIXES = ("postgresql://", "postgres://")


class UnreadableURL(ValueError):
    """libpq cannot read the URL; the message says why without quoting it."""


@dataclass(frozen=True)
class Reading:
    """A URL as libpq reads it: ``options`` by keyword, decoded, and
    ``raw_secrets``, the secret values as the URL's text spells them
    (``pct%40word7`` for ``pct@word7``), for finding them in messages."""

    options: dict[str, str]
    raw_secrets: tuple[str, ...] = ()

    def secrets(self) -> tuple[str, ...]:
        """Every spelling of every secret, the longest first (so that a
        secret inside another is replaced after it)."""
        found = {self.options[key] for key in SECRETS if self.options.get(key)}
        found.update(raw for raw in self.raw_secrets if raw)
        return tuple(sorted(found, key=len, reverse=True))


def read(url: str) -> Reading:
    """``url`` as libpq reads it: by libpq itself where psycopg is
    installed, else by :func:`parse`. Raises UnreadableURL."""
    try:
        ours: Reading | None = parse(url)
        reason = None
    except UnreadableURL as error:
        ours, reason = None, str(error)
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        if ours is None:
            raise UnreadableURL(reason) from None
        return ours
    try:
        options = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    except Exception:  # libpq's own message quotes the URL: never passed on
        raise UnreadableURL(reason or "libpq cannot read it") from None
    if ours is None:  # libpq reads what parse() refuses: keep libpq's answer
        return Reading(options)
    return Reading(options, ours.raw_secrets)


def parse(url: str) -> Reading:
    """``url`` read by libpq's URI rules (``conninfo_uri_parse_options`` in
    libpq's fe-connect.c), in Python. Raises UnreadableURL."""
    prefix = next((p for p in PREFIXES if url.startswith(p)), None)
    if prefix is None:
        raise UnreadableURL("it must start with postgresql:// or postgres:// (in lower case)")
    text = url[len(prefix):]
    options: dict[str, str] = {}
    raw_secrets: list[str] = []
    at = _first(text, "@/", 0)
    p = 0
    if at < len(text) and text[at] == "@":
        userinfo = text[:at]
        user, colon, password = userinfo.partition(":")
        _store(options, "user", user)
        if colon:
            _store(options, "password", password)
            raw_secrets.append(password)
        p = at + 1
    hosts, ports, p, stop = _netlocs(text, p)
    _store(options, "host", ",".join(hosts))
    _store(options, "port", ",".join(ports))
    if stop == "/":
        end = _first(text, "?", p + 1)
        _store(options, "dbname", text[p + 1:end])
        p, stop = end, text[end:end + 1]
    if stop:
        raw_secrets += _query(text[p + 1:], options)
    return Reading(options, tuple(raw_secrets))


def _first(text: str, stops: str, start: int) -> int:
    """The index of the first character of ``stops`` from ``start`` on, or
    the text's length."""
    for i in range(start, len(text)):
        if text[i] in stops:
            return i
    return len(text)


def _netlocs(text: str, p: int) -> tuple[list[str], list[str], int, str]:
    """The comma-separated ``host[:port]`` list from ``p``: the hosts, the
    ports, where it ended and the character it ended at ('' at the end)."""
    hosts: list[str] = []
    ports: list[str] = []
    while True:
        if text[p:p + 1] == "[":
            close = text.find("]", p + 1)
            if close < 0:
                raise UnreadableURL("an IPv6 host's '[' has no ']'")
            if close == p + 1:
                raise UnreadableURL("an IPv6 host is empty")
            host, p = text[p + 1:close], close + 1
            if p < len(text) and text[p] not in ":/?,":
                raise UnreadableURL("an IPv6 host's ']' is followed by an unexpected "
                                    "character (expected ':' or '/')")
        else:
            end = _first(text, ":/?,", p)
            host, p = text[p:end], end
        hosts.append(host)
        port = ""
        if text[p:p + 1] == ":":
            end = _first(text, "/?,", p + 1)
            port, p = text[p + 1:end], end
        ports.append(port)
        stop = text[p:p + 1]
        if stop != ",":
            return hosts, ports, p, stop
        p += 1


def _query(query: str, options: dict[str, str]) -> list[str]:
    """Store the ``key=value&...`` parameters; return the raw secret values."""
    raw_secrets = []
    number = start = 0
    # Not query.split("&"): libpq takes a trailing '&' but refuses an empty
    # parameter anywhere else.
    while start < len(query):
        end = _first(query, "&", start)
        parameter, start, number = query[start:end], end + 1, number + 1
        key, equals, value = parameter.partition("=")
        if not equals:
            raise UnreadableURL(f"query parameter {number} has no '='")
        if "=" in value:
            raise UnreadableURL(f"query parameter {number} has a second '='")
        key, decoded = _decode(key), _decode(value)
        if key == "ssl" and decoded == "true":  # libpq's nod to JDBC
            key, decoded = "sslmode", "require"
        elif key == "requiressl":  # an old spelling libpq still reads
            key, decoded = "sslmode", "require" if decoded[:1] == "1" else "prefer"
        if key not in KEYWORDS:
            raise UnreadableURL(f"query parameter {number} is not one libpq knows")
        options[key] = decoded
        if key in SECRETS:
            raw_secrets.append(value)
    return raw_secrets


def _store(options: dict[str, str], key: str, value: str) -> None:
    """Keep a non-empty part of the URL, percent-decoded, as libpq does."""
    if value:
        options[key] = _decode(value)


def _decode(text: str) -> str:
    """Percent-decode ``text`` as libpq does: ``%`` needs two hex digits,
    ``%00`` is refused, and the bytes must be UTF-8 (psycopg's reading)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    encoded = text.encode("utf-8", "surrogateescape")
    while i < len(encoded):
        byte = encoded[i]
        if byte != 0x25:  # '%'
            out.append(byte)
            i += 1
            continue
        digits = encoded[i + 1:i + 3]
        if len(digits) < 2 or not all(chr(d) in "0123456789abcdefABCDEF" for d in digits):
            raise UnreadableURL("a '%' is not followed by two hexadecimal digits")
        value = int(digits, 16)
        if value == 0:
            raise UnreadableURL("%00 is not allowed")
        out.append(value)
        i += 3
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableURL("a percent-encoded part is not UTF-8") from None
