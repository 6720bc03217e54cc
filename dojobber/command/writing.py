"""The command's output: files checked before a run, text and pictures written whole."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from typing import TYPE_CHECKING, Any, TextIO

from ..errortext import one_line
from .exits import OutputError, UsageError

if TYPE_CHECKING:
    from ..dojobber import DoJobber


def emit(stream: TextIO | None, text: str, where: str) -> None:
    """Write ``text`` whole to ``stream`` and flush it, or raise OutputError.

    ``where`` names the output in the error (``stdout``, a file name).
    """
    if stream is None:  # the program was started with that descriptor closed
        raise OutputError(f"cannot write to {where}: it is closed")
    try:
        _write_whole(stream, text)
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write to {where}: {one_line(error)}") from error


def _write_whole(stream: TextIO, text: str) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()
    encoding = stream.encoding or "utf-8"
    try:
        # The stream's own way first (surrogateescape gives back the bytes
        # of a file name that was not UTF-8)...
        data = text.encode(encoding, stream.errors or "strict")
    except UnicodeEncodeError:
        # ... else what it cannot hold (a lone surrogate) written out.
        data = text.encode(encoding, "backslashreplace")
    _write_bytes(buffer, data)


def emit_bytes(data: bytes, where: str) -> None:
    """Write ``data`` (a picture) whole to stdout's binary layer, or raise OutputError."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None) if stream is not None else None
    if buffer is None:
        raise OutputError(f"cannot write to {where}: it is closed or not a binary stream")
    try:
        stream.flush()
        _write_bytes(buffer, data)
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write to {where}: {one_line(error)}") from error


def _write_bytes(buffer: Any, whole: bytes) -> None:
    data = memoryview(whole)
    # A pipe whose reader goes away during a big write takes part of it and
    # reports success, and the text layer drops the rest without a word; so
    # write the bytes until all are taken: the next write is the one that fails.
    while data:
        taken = buffer.write(data)
        if not isinstance(taken, int) or taken <= 0:
            raise OSError(f"the stream took no data ({taken!r})")
        data = data[taken:]
    buffer.flush()


def write_file(path: str, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to the file ``path``, or raise OutputError.

    A regular file (or a new one) is written whole or not at all: the data
    goes to a temporary file beside it, which then takes its name, so a
    signal, a crash or a full disk never leaves a truncated report where
    the last one was. The file gets the mode a plain write would give it
    (an existing file's own, else 0o666 less the umask). Anything else (a
    device, a pipe) is written directly.
    """
    # A lone surrogate (in a job's message) is written out, as on stderr.
    whole = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(f"cannot write to {path}: {one_line(error)}") from error
    try:
        if mode is not None and not stat.S_ISREG(mode):
            with open(path, "wb") as out:
                _write_bytes(out, whole)
            return
        _write_beside(path, whole, stat.S_IMODE(mode) if mode is not None else _new_file_mode())
    except OSError as error:
        raise OutputError(f"cannot write to {path}: {one_line(error)}") from error


def _write_beside(path: str, whole: bytes, mode: int) -> None:
    folder, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            _write_bytes(out, whole)
            os.fchmod(out.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        # Ctrl-C included: the old file stays as it was, and nothing is left beside it.
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _new_file_mode() -> int:
    umask = os.umask(0)  # read it the only way there is, and put it back
    os.umask(umask)
    return 0o666 & ~umask


def say(line: str) -> None:
    """A line on stderr that nothing may stop: the command's last word."""
    try:
        emit(sys.stderr, line + "\n", "stderr")
    except OutputError:
        pass  # stderr itself is gone; the exit status still tells


def format_of(path: str, other_way: str = "") -> str:
    """The picture format of ``path``, from its extension as ``write_graph``
    reads it (render.format_for_path); ``other_way`` ends the error's
    advice when it has none. An extension that names no format is an error."""
    from .. import render

    fmt = render.format_for_path(path)
    if fmt is not None:
        return fmt
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if not extension:
        raise UsageError(
            f"cannot tell the picture format of {path!r}: give it an extension{other_way}"
        )
    return render.picture_format(extension)  # a renderer variant, or the unknown-format error


def check_can_write(path: str, fmt: str | None = None) -> None:
    """Fail before the run, not after it, for a file that cannot be produced."""
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: no such directory {folder}")
    writable = (
        os.access(path, os.W_OK) if os.path.exists(path)
        else os.access(folder, os.W_OK | os.X_OK)
    )
    if not writable:
        raise UsageError(f"cannot write {path}: permission denied")
    if fmt is not None:
        from .. import render

        render.check_renderable(fmt)


def write_graph(dojob: DoJobber, path: str, fmt: str) -> None:
    """Write the picture to ``path``, or to stdout for ``-``.

    Strict: where the picture cannot be drawn, the command fails with what
    to install (``write_graph`` on its own only warns, as 0.6.2 scripts expect).
    """
    picture = io.BytesIO()
    dojob.write_graph(picture, fmt, strict=True)
    if path == "-":
        emit_bytes(picture.getvalue(), "stdout")
    else:
        write_file(path, picture.getvalue())
