"""Text for exceptions that never raises, whatever the exception does."""

from __future__ import annotations

from typing import Any

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
    except BaseException:
        return f"<{short_name(type(value))}: {convert.__name__}() failed>"


def one_line(error: BaseException) -> str:
    """``TypeName: message`` on one line (just the type name when the
    message is empty), for the command's one-line errors."""
    text = " ".join(describe(error).split())
    kind = short_name(type(error))
    return f"{kind}: {text}" if text else kind
