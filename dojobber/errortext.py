"""Text for people that never raises: exceptions, whatever they do, and durations."""

from __future__ import annotations

import traceback
from typing import Any

from .errors import TryExpired

_NAME = type.__dict__["__name__"]


def type_name(kind: type) -> str:
    """A class as a traceback names it: bare for builtins, else ``module.QualName``."""
    try:
        module, name = kind.__module__, kind.__qualname__
        if isinstance(module, str) and isinstance(name, str):
            return name if module in ("builtins", "__main__") else f"{module}.{name}"
    except KeyboardInterrupt:
        raise
    except BaseException:
        pass
    return short_name(kind)


def short_name(kind: type) -> str:
    """The class's ``__name__``, even for a class that hides it."""
    return str(_NAME.__get__(kind))


def describe(error: BaseException) -> str:
    """``str(error)``; if its ``__str__`` raises (even SystemExit) or returns
    no string, ``<TypeName: str() failed>``. Only KeyboardInterrupt passes."""
    return text_of(error, str)


def text_of(value: Any, convert: Any = str) -> str:
    """``convert(value)`` (``str`` or ``repr``) as a plain str, or a stand-in
    naming the value's type when that raises anything but KeyboardInterrupt."""
    try:
        text = convert(value)
        # A str subclass could override what formatting does with it.
        return text if type(text) is str else str.__str__(text)
    except KeyboardInterrupt:
        raise
    except TryExpired:
        # The alarm of a try's TIMEOUT, which may interrupt this (see
        # DESCRIBERS): the __str__ of the job's exception did not return.
        return f"<{short_name(type(value))}: {convert.__name__}() {TOO_LONG}>"
    except BaseException:
        return f"<{short_name(type(value))}: {convert.__name__}() failed>"


#: What the text of an exception says when its __str__ ran past the TIMEOUT.
TOO_LONG = "did not return before the job's TIMEOUT"


def traceback_lines(error: BaseException) -> list[str]:
    """The formatted traceback of ``error``, as lines; one line naming it
    when the traceback cannot be formatted."""
    try:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    except KeyboardInterrupt:
        raise
    except TryExpired:
        # Not describe(): the same __str__ would be called again.
        text = f"{short_name(type(error))}: <str() {TOO_LONG}>"
    except BaseException:
        text = one_line(error)
    return text.splitlines()


def one_line(error: BaseException) -> str:
    """``TypeName: message`` on one line (just the type name when the
    message is empty), for the command's one-line errors."""
    text = " ".join(describe(error).split())
    kind = short_name(type(error))
    return f"{kind}: {text}" if text else kind


#: The functions in which a try's TIMEOUT alarm may interrupt what they
#: call, and which then give a stand-in text: describing the job's
#: exception is the job's code running, and must not hold the run up.
DESCRIBERS = frozenset({text_of.__code__, traceback_lines.__code__})


def duration(seconds: float) -> str:
    """Seconds as a person reads them: ``2.41s``, ``12.3ms``."""
    return f"{seconds:.2f}s" if seconds >= 0.1 else f"{seconds * 1000:.1f}ms"
