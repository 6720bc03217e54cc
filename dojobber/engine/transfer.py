"""What travels between the calling process and a worker: values and job classes, as bytes.

Everything is pickled with cloudpickle: a function or class that a worker
can import by its module and qualified name travels by reference, the rest
by value (classes made at run time with ``type()``, defined in
``__main__``, in the script the command loaded, or in a function). A job
class sent by value travels without its dependencies: in its worker copy,
DEPS lists each dependency that goes by value as a ``Dependency``, a name
only. The worker needs no DEPS, and with them the task of the last job of a
chain would carry every class of the chain.

Coming back from the worker, the class of the try is named by the token the
caller gave it, so the instance (for Cleanup) and any value that holds the
class are of the caller's own class again, never a copy; in a worker that
is the caller itself (a thread pool), the class is not copied at all.
"""

from __future__ import annotations

import io
import pickle
import uuid
import weakref
from types import ModuleType
from typing import Any, BinaryIO, Iterable

import cloudpickle

from ..jobs import Job

#: Both sides run the same Python, so the newest protocol is understood.
PROTOCOL = pickle.HIGHEST_PROTOCOL

#: The job classes this process sent by value, by token: what a token names
#: when it comes back here (or when the worker is this very process).
_SENT: weakref.WeakValueDictionary[str, type] = weakref.WeakValueDictionary()

#: The containers DEPS may be, sent with the dependencies named (others as they are).
_CONTAINERS = (list, tuple, set, frozenset)


class Dependency:
    """A dependency of a job class sent by value, as the worker's copy of the
    class lists it in its DEPS: by name, since workers never read DEPS."""

    def __init__(self, token: str, name: str):
        self.token = token
        self.__name__ = name

    def __repr__(self) -> str:
        return f"<dependency {self.__name__!r}, sent by name>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (dependency, (self.token, self.__name__))


def dependency(token: str, name: str) -> Any:
    """What a dependency sent by name is where it is unpickled: the class
    itself in the process that sent it, a ``Dependency`` elsewhere."""
    known = _SENT.get(token)
    return Dependency(token, name) if known is None else known


def sent_class(token: str | None, data: bytes) -> type:
    """The job class ``data`` holds: the caller's own when this process sent
    it (``token``, None when it travels by reference), else unpickled."""
    if token is not None:
        known = _SENT.get(token)
        if known is not None:
            return known
    cls = unpack(data)
    if not isinstance(cls, type):
        raise TypeError(f"expected a class, got {cls!r}")
    return cls


def forget(tokens: Iterable[str]) -> None:
    """The run that gave these tokens ended: nothing they name comes back."""
    for token in tokens:
        _SENT.pop(token, None)


def send_by_value(module: ModuleType) -> None:
    """Have the classes and functions of ``module`` travel by value, though
    they can be imported here: workers elsewhere may not be able to (the
    script the ``dojobber`` command loaded from a file)."""
    cloudpickle.register_pickle_by_value(module)


def pack(value: Any, home: tuple[type, str, bytes] | None = None) -> bytes:
    """``value`` pickled to travel. ``home`` is the try's class as a worker
    received it, with its token and bytes: the class is sent back by token."""
    out = io.BytesIO()
    _Packer(out, home).dump(value)
    return out.getvalue()


def pack_class(cls: type[Job], tokens: dict[type, str]) -> tuple[str | None, bytes]:
    """Job class ``cls`` pickled for a worker, and its token when it travels
    by value (None: by reference). ``tokens`` holds the run's tokens, one per
    class sent by value, shared by the classes it packs."""
    out = io.BytesIO()
    packer = _ClassPacker(out, cls, tokens)
    packer.dump(cls)
    return packer.token, out.getvalue()


def unpack(data: bytes) -> Any:
    """What ``pack`` or ``pack_class`` pickled."""
    return _Unpacker(io.BytesIO(data)).load()


# Named where the docs name it: the public module that offers it.
Dependency.__module__ = "dojobber.executor"


class _Packer(cloudpickle.Pickler):  # type: ignore[misc]  # cloudpickle has no types
    def __init__(self, out: BinaryIO, home: tuple[type, str, bytes] | None):
        super().__init__(out, PROTOCOL)
        self.home = home

    def reducer_override(self, obj: Any) -> Any:
        home = self.home
        if home is not None and obj is home[0]:
            return sent_class, (home[1], home[2])
        return super().reducer_override(obj)


class _ClassPacker(cloudpickle.Pickler):  # type: ignore[misc]
    """Pickles one job class; each job class it sends by value (the class,
    its bases) has its DEPS sent with the dependencies named."""

    def __init__(self, out: BinaryIO, cls: type, tokens: dict[type, str]):
        super().__init__(out, PROTOCOL)
        self.cls = cls
        self.tokens = tokens
        self.token: str | None = None
        #: id() of each DEPS met, to what is sent instead (they stay alive:
        #: their classes hold them).
        self.deps: dict[int, Any] = {}

    def reducer_override(self, obj: Any) -> Any:
        reduced = super().reducer_override(obj)
        if reduced is NotImplemented or not (isinstance(obj, type) and issubclass(obj, Job)):
            return reduced
        if obj is self.cls:
            self.token = self._token(obj)
        deps: Any = obj.__dict__.get("DEPS")
        if type(deps) in _CONTAINERS:
            self.deps[id(deps)] = type(deps)(self._named(dep) for dep in deps)
        return reduced

    def persistent_id(self, obj: Any) -> Any:
        # Called for every object, before reducer_override: DEPS are lists
        # and tuples, which never reach reducer_override.
        return self.deps.get(id(obj))

    def _named(self, dep: Any) -> Any:
        if isinstance(dep, type) and issubclass(dep, Job):
            if super().reducer_override(dep) is not NotImplemented:  # it goes by value
                return Dependency(self._token(dep), dep.__name__)
        return dep

    def _token(self, cls: type) -> str:
        token = self.tokens.get(cls)
        if token is None:
            token = self.tokens[cls] = uuid.uuid4().hex
            _SENT[token] = cls
        return token


class _Unpacker(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        return pid  # DEPS as _ClassPacker sent them, dependencies named
