"""The target: finding and importing the job graph named on the command line."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from types import ModuleType
from typing import Any, Iterable

from ..errors import RunDuringImportError
from ..errortext import one_line
from ..hints import did_you_mean
from ..importguard import importing
from ..jobs import Job
from .exits import UsageError

#: The help of the TARGET argument of ``run``, ``graph`` and ``list``.
TARGET_HELP = "the root job: package.module:RootJob or path/to/file.py:RootJob"


def load_target(target: str, needs: Iterable[str] = ()) -> type[Job]:
    """Import ``module:Name`` or ``file.py:Name`` and return that Job class.

    A file is imported as a module named after it (never as ``__main__``, so
    its ``if __name__ == '__main__'`` block does not run), with its directory
    first on ``sys.path`` as when it is run as a script. For a module name,
    the current directory comes first on ``sys.path``, as with ``python -m``.
    ``needs`` names the modules the command will use after the import: they
    are imported before that folder goes on ``sys.path``, so that no file
    there stands in for one. A file named like a standard module is refused.
    Raises UsageError with a one-line message when anything is wrong (an
    exception or ``sys.exit()`` in the module included); a misspelt job
    name gets a "did you mean" suggestion.
    """
    where, colon, attribute = target.rpartition(":")
    if not colon or not where or not attribute:
        raise UsageError(
            f"target {target!r} must be MODULE:JOB or FILE.py:JOB "
            f"('dojobber list {target.rstrip(':')}' lists the Job classes it defines)"
        )
    module = load_module(where, needs)
    try:
        return _job_class(target, where, module, attribute)
    except (UsageError, KeyboardInterrupt):
        raise
    except BaseException as error:
        # A module's __getattr__ (or a class's __subclasscheck__) is the
        # target's code: what it raises is said like an import's failure.
        raise UsageError(
            f"looking up {attribute!r} in {where} failed: {_what_went_wrong(error)}"
        ) from error


def _job_class(target: str, where: str, module: ModuleType, attribute: str) -> type[Job]:
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            hint = did_you_mean(part, job_classes(value) or _public_names(value))
            raise UsageError(f"{where} has no attribute {attribute!r}{hint}") from None
    if not (isinstance(value, type) and issubclass(value, Job)):
        raise UsageError(f"{target} is {value!r}, not a Job class")
    return value


def load_module(where: str, needs: Iterable[str] = ()) -> ModuleType:
    """Import a module name or a ``.py`` file, as ``load_target`` does."""
    try:
        with importing(where):
            if _is_file(where):
                return _import_file(where, needs)
            return _import_module(where, needs)
    except RunDuringImportError as error:
        # Before any job ran: the guard refused the module's own checknrun().
        raise UsageError(f"{error}; no job was run") from None


def preload(needs: Iterable[str]) -> None:
    """Import ``needs`` now, before a target's folder is on ``sys.path``: a
    file there named like one (``json.py`` beside the jobs) cannot replace
    it then. An optional module that is not installed is skipped: what
    needs it says so when it does."""
    for name in needs:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _what_went_wrong(error: BaseException) -> str:
    """An exception raised, or an exit asked for, by the target's code."""
    if isinstance(error, SystemExit):
        code = "" if error.code is None else repr(error.code)
        return f"it called sys.exit({code})"
    return one_line(error)


def script_of(target: str) -> ModuleType | None:
    """The module ``load_target`` imported from a file for ``target`` (None
    when the target names a module): a script the workers may not import."""
    where = target.rpartition(":")[0]
    return sys.modules.get(_module_name(where)) if _is_file(where) else None


def _is_file(where: str) -> bool:
    return where.endswith(".py") or os.sep in where or bool(os.altsep and os.altsep in where)


def job_classes(namespace: Any, defined_in: str | None = None) -> list[str]:
    """The names of the Job classes in ``namespace``, in definition order;
    with ``defined_in``, only those whose module is that one."""
    names = []
    for name, value in list(vars(namespace).items()):
        if isinstance(value, type) and issubclass(value, Job) and not name.startswith("_"):
            if defined_in is None or value.__module__ == defined_in:
                names.append(name)
    return names


def _public_names(namespace: Any) -> list[str]:
    return [name for name in dir(namespace) if not name.startswith("_")]


def _import_module(name: str, needs: Iterable[str]) -> ModuleType:
    preload(needs)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if name == missing or name.startswith(missing + "."):
            raise UsageError(f"no module named {missing!r}") from error
        raise UsageError(f"importing {name} failed: {one_line(error)}") from error
    except (RunDuringImportError, KeyboardInterrupt):
        raise
    except BaseException as error:
        raise UsageError(f"importing {name} failed: {_what_went_wrong(error)}") from error


def _import_file(path: str, needs: Iterable[str]) -> ModuleType:
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    name = _module_name(path)
    full = os.path.abspath(path)
    if name in sys.stdlib_module_names:
        # Its folder first on sys.path would put it in the place of the
        # standard module for everything imported after it.
        raise UsageError(
            f"cannot import {path} as module {name!r}: that is the name of a "
            "standard module; rename it"
        )
    loaded = sys.modules.get(name)
    if loaded is not None:
        if os.path.abspath(getattr(loaded, "__file__", "") or "") == full:
            return loaded
        raise UsageError(
            f"cannot import {path} as module {name!r}: a module of that name is "
            "already loaded; rename it"
        )
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    preload(needs)
    sys.path.insert(0, os.path.dirname(full))
    # Registered before it runs, as an import would: dataclasses, pickling
    # and the file's own `import name` need to find it there.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        del sys.modules[name]
        if isinstance(error, (RunDuringImportError, KeyboardInterrupt)):
            raise
        raise UsageError(f"importing {path} failed: {_what_went_wrong(error)}") from error
    return module


def _module_name(path: str) -> str:
    """The module name a file is imported as: its name, with what Python does
    not allow in a name made ``_`` (``deploy-web.py`` is ``deploy_web``)."""
    name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    return "_" + name if not name or name[0].isdigit() else name
