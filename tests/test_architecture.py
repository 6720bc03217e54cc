"""Guard rails for the package's architecture.

These tests read every ``.py`` file under ``dojobber/`` (subpackages
included) with ``ast`` and fail on:

* an import cycle between modules of ours, whatever the kind of import:
  top level, inside a function, under ``if TYPE_CHECKING:``, relative or
  absolute;
* a private name (one leading underscore, not a dunder) defined in one module
  of ours and used in another, except the few in ``ALLOWED_PRIVATE_NAMES``;
* a function longer than 60 lines that ``ALLOWED_LONG_FUNCTIONS`` does not
  name with its reason (and on a name there that is no longer long);
* ``locals()``, ``vars()`` without an argument, or ``co_varnames``: code that
  reads its own frame or bytecode to find names it could write out.

They also check that the wheel ``python -m build`` makes from the source tree
(conftest.py's ``release``, built once per session) ships every module
(subpackages too) and ``py.typed``, and hold ``DoJobber.configure``'s
signature and its docstring to ``Settings``, the one list of its options.

The checker is a handful of functions below; the tests of the checker run it on
small packages written under ``tmp_path``, so that it cannot pass vacuously.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import zipfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import dojobber
from dojobber.dojobber import DoJobber
from dojobber.settings import OPTIONS, Settings
from conftest import SOURCE_ROOT, Release

PACKAGE_DIR = Path(dojobber.__file__).resolve().parent

#: Private names that may cross modules, each with the reason.
ALLOWED_PRIVATE_NAMES: dict[str, str] = {
    name: "DoJobber 0.6.2's contract on a job instance: a class attribute of Job "
    "(dojobber/jobs.py) that the engine sets on each instance and old user code reads"
    for name in (
        "_check_phase",
        "_check_results",
        "_run_results",
        "_recheck_results",
        "_check_exception",
        "_run_exception",
        "_recheck_exception",
    )
}

LONG_FUNCTION_LINES = 60

#: Functions allowed over LONG_FUNCTION_LINES lines, each with the reason.
#: Issue 34 wants at most one in the package: each entry goes when the
#: slice that owns its file splits it (a test fails on an entry that is no
#: longer long, so that the list only shrinks).
ALLOWED_LONG_FUNCTIONS: dict[str, str] = {}


# --- Reading the package ------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One ``.py`` file of the package, parsed."""

    name: str  # dotted: "dojobber.engine" for dojobber/engine/__init__.py
    file: str  # "dojobber/engine/__init__.py"
    tree: ast.Module
    is_package: bool  # an __init__.py


def read_package(package_dir: Path) -> dict[str, Module]:
    """Every module under ``package_dir`` (recursively), by dotted name."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        file = path.relative_to(package_dir.parent).as_posix()
        modules[name] = Module(name, file, tree, is_package)
    return modules


def where(module: Module, line: int) -> str:
    """``dojobber/report.py:310``: a module's line, for messages."""
    return f"{module.file}:{line}"


# --- The import graph ---------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    """A module of ours that an import statement loads."""

    module: str
    line: int
    name: str | None  # the name taken by `from module import name`; None for a module
    bound_as: str  # the name it gets in the importing module
    bound_to: str  # the module that name is: "a" for `import a.b`, "a.b" for `import a.b as c`


def absolute_base(module: Module, node: ast.ImportFrom) -> str:
    """The dotted module a ``from ... import`` reads from (relative ones resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".")
    keep = len(parts) - node.level + 1
    if keep < 1:  # more dots than packages: not ours
        return ""
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def known_prefix(dotted: str, modules: Mapping[str, Module]) -> str | None:
    """The longest leading part of ``dotted`` that is a module of ours."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return None


def imports_of(module: Module, modules: Mapping[str, Module]) -> Iterator[Imported]:
    """Every import of a module of ours in ``module``, wherever it stands."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            yield from plain_imports(node, modules)
        elif isinstance(node, ast.ImportFrom):
            yield from from_imports(module, node, modules)


def plain_imports(node: ast.Import, modules: Mapping[str, Module]) -> Iterator[Imported]:
    """``import a.b`` (binds ``a``) and ``import a.b as c`` (binds ``c`` to ``a.b``)."""
    for alias in node.names:
        target = known_prefix(alias.name, modules)
        if target is None:
            continue
        if alias.asname:
            yield Imported(target, node.lineno, None, alias.asname, target)
        else:
            top = alias.name.partition(".")[0]
            yield Imported(target, node.lineno, None, top, top)


def from_imports(
    module: Module, node: ast.ImportFrom, modules: Mapping[str, Module]
) -> Iterator[Imported]:
    """``from base import a, b``: submodule ``base.a`` if it exists, else ``base``."""
    base = absolute_base(module, node)
    if base not in modules:
        return
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in modules:
            yield Imported(submodule, node.lineno, None, alias.asname or alias.name, submodule)
        else:
            yield Imported(base, node.lineno, alias.name, alias.asname or alias.name, base)


def import_graph(modules: Mapping[str, Module]) -> dict[str, dict[str, int]]:
    """Module -> {module of ours it imports: line of the first such import}.

    A module importing itself is no edge; importing ``a.b`` is an edge to
    ``a.b`` only, not to its parent packages.
    """
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, module in modules.items():
        for imported in imports_of(module, modules):
            if imported.module != name:
                graph[name].setdefault(imported.module, imported.line)
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The graph's strongly connected components (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def shortest_path(
    graph: Mapping[str, Iterable[str]], start: str, goal: str, within: set[str]
) -> list[str]:
    """The shortest path ``start`` ... ``goal`` through nodes of ``within``."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for target in sorted(graph[node]):
            if target in within and target not in came_from:
                came_from[target] = node
                queue.append(target)
    path: list[str] = []
    step: str | None = goal
    while step is not None:
        path.append(step)
        step = came_from[step]
    return path[::-1]


def import_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Cycles ``[a, b, ..., a]`` that, together, take every import that lies on one.

    One per strongly connected component of more than one module at least;
    more where a component holds several cycles. Each starts at its smallest
    module.
    """
    cycles: list[list[str]] = []
    for component in strongly_connected(graph):
        members = set(component)
        covered: set[tuple[str, str]] = set()
        for source in component:
            for target in sorted(graph[source]):
                if target in members and target != source and (source, target) not in covered:
                    path = [source, *shortest_path(graph, target, source, members)]
                    covered.update(zip(path, path[1:]))
                    cycles.append(starting_at_smallest(path))
    return sorted(cycles)


def starting_at_smallest(cycle: list[str]) -> list[str]:
    """The same cycle (first node repeated at the end), rotated to its smallest node."""
    nodes = cycle[:-1]
    first = nodes.index(min(nodes))
    rotated = nodes[first:] + nodes[:first]
    return [*rotated, rotated[0]]


def describe_cycle(
    cycle: list[str], graph: Mapping[str, Mapping[str, int]], modules: Mapping[str, Module]
) -> str:
    """``a -> b -> a  (a.py:3, b.py:9)``: the path and where each import is."""
    lines = [where(modules[a], graph[a][b]) for a, b in zip(cycle, cycle[1:])]
    return f"{' -> '.join(cycle)}  ({', '.join(lines)})"


# --- Private names ------------------------------------------------------------

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}


def is_private(name: str) -> bool:
    """One leading underscore: ``_x``, not ``__x__`` nor ``__x`` (name-mangled)."""
    return len(name) > 1 and name.startswith("_") and not name.startswith("__")


def block_statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """A module's or class's statements, those nested in if/try/with/for/match
    blocks included, those in function or class bodies not."""
    for statement in body:
        yield statement
        if isinstance(statement, SCOPES):
            continue
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                yield from block_statements([child])
            elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                yield from block_statements(child.body)


def assignment_targets(statement: ast.stmt) -> list[ast.expr]:
    """What an ``=``, annotated or augmented assignment assigns to; [] for other statements."""
    if isinstance(statement, ast.Assign):
        return statement.targets
    if isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        return [statement.target]
    return []


def stored(targets: Iterable[ast.expr]) -> Iterator[ast.expr]:
    """The names and attributes that assignment targets store into."""
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Store):
                yield node


def bound_names(statement: ast.stmt) -> set[str]:
    """The names a module- or class-level statement defines (imports are no definition)."""
    if isinstance(statement, SCOPES):
        return {statement.name}
    return {node.id for node in stored(assignment_targets(statement)) if isinstance(node, ast.Name)}


def slot_names(statement: ast.stmt) -> set[str]:
    """The entries of a ``__slots__ = ...`` statement."""
    targets = assignment_targets(statement)
    value = getattr(statement, "value", None)
    if not any(isinstance(t, ast.Name) and t.id == "__slots__" for t in targets) or value is None:
        return set()
    if isinstance(value, ast.Dict):
        entries: list[ast.expr | None] = list(value.keys)
    elif isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        entries = list(value.elts)
    else:
        entries = [value]
    return {e.value for e in entries if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def self_attributes(tree: ast.Module) -> set[str]:
    """The attributes assigned as ``self.x = ...`` or ``cls.x = ...`` anywhere."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            for target in stored(assignment_targets(node)):
                owner = getattr(target, "value", None)
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                    names.add(getattr(target, "attr", ""))
    return names


@dataclass(frozen=True)
class Definitions:
    """The private names a module defines."""

    top_level: frozenset[str]  # defs, classes and assignments
    members: frozenset[str]  # of its classes: methods, attributes, __slots__, self._x, cls._x

    @property
    def every(self) -> frozenset[str]:
        return self.top_level | self.members


def private_definitions(module: Module) -> Definitions:
    """The private names ``module`` defines, at top level and on its objects."""
    top_level = set().union(*map(bound_names, block_statements(module.tree.body)))
    members = self_attributes(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ClassDef):
            for statement in block_statements(node.body):
                members |= bound_names(statement) | slot_names(statement)
    return Definitions(
        frozenset(filter(is_private, top_level)), frozenset(filter(is_private, members))
    )


@dataclass(frozen=True, order=True)
class Crossing:
    """A private name of ``owners`` used in module ``user``."""

    user: str
    line: int
    name: str
    owners: tuple[str, ...]

    def __str__(self) -> str:
        owners = " or ".join(f"{owner}'s" for owner in self.owners)
        return f"{self.user} uses {owners} {self.name} (line {self.line})"


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for an expression made only of names and attributes."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def module_named(
    expression: ast.expr, bound: Mapping[str, str], modules: Mapping[str, Module]
) -> str | None:
    """The module of ours that ``expression`` (``render``, ``dojobber.render``) names."""
    name = dotted(expression)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head not in bound:
        return None
    full = f"{bound[head]}.{rest}" if rest else bound[head]
    return full if full in modules else None


def attribute_reads(tree: ast.Module) -> Iterator[tuple[ast.expr, str, int]]:
    """(object, attribute, line) for each ``obj.attr`` and each
    ``getattr(obj, "attr")`` (setattr, hasattr, delattr too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            yield node.value, node.attr, node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            yield node.args[0], node.args[1].value, node.lineno


def owners_of(name: str, definitions: Mapping[str, Definitions]) -> tuple[str, ...]:
    """The modules defining ``name`` as an attribute of their objects; failing
    that, those defining it at top level."""
    members = [module for module, defined in definitions.items() if name in defined.members]
    top_level = [module for module, defined in definitions.items() if name in defined.top_level]
    return tuple(sorted(members or top_level))


def private_uses(
    module: Module, modules: Mapping[str, Module], definitions: Mapping[str, Definitions]
) -> Iterator[Crossing]:
    """The private names of other modules of ours that ``module`` uses: imported
    from one, read on one, or read on an object (``x._name``) when another
    module defines ``_name`` and this one does not."""
    imported = list(imports_of(module, modules))
    for item in imported:
        if item.name is not None and is_private(item.name) and item.module != module.name:
            yield Crossing(module.name, item.line, item.name, (item.module,))
    bound = {item.bound_as: item.bound_to for item in imported if item.name is None}
    own = definitions[module.name].every
    for obj, name, line in attribute_reads(module.tree):
        if not is_private(name):
            continue
        named = module_named(obj, bound, modules)
        if named is not None:
            if named != module.name:
                yield Crossing(module.name, line, name, (named,))
        elif name not in own:
            owners = owners_of(name, definitions)
            if owners:
                yield Crossing(module.name, line, name, owners)


def private_crossings(modules: Mapping[str, Module]) -> list[Crossing]:
    """Every use of a module's private name in another module of ours."""
    definitions = {name: private_definitions(module) for name, module in modules.items()}
    found: set[Crossing] = set()
    for module in modules.values():
        found.update(private_uses(module, modules, definitions))
    return sorted(found)


# --- Long functions -----------------------------------------------------------


def functions(
    body: Iterable[ast.stmt], prefix: str
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of every function and method, nested ones included."""
    for node in block_statements(body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}.{node.name}", node
        if isinstance(node, SCOPES):
            yield from functions(node.body, f"{prefix}.{node.name}")


def long_functions(modules: Mapping[str, Module], limit: int) -> list[str]:
    """``name (file:line, N lines)`` for each function of more than ``limit`` lines,
    docstring included (decorators not), longest first."""
    found = []
    for module in modules.values():
        for name, node in functions(module.tree.body, module.name):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((-length, f"{name} ({where(module, node.lineno)}, {length} lines)"))
    return [text for _, text in sorted(found)]


def long_function_names(modules: Mapping[str, Module], limit: int) -> list[str]:
    """The qualified names of the functions of more than ``limit`` lines."""
    return [text.partition(" (")[0] for text in long_functions(modules, limit)]


# --- Code that reads its own frame --------------------------------------------

FRAME_CALLS = {"locals"}  # and vars() without an argument
BYTECODE_ATTRIBUTES = {"co_varnames"}


def frame_tricks(modules: Mapping[str, Module]) -> list[str]:
    """``file:line what`` for each ``locals()``, argument-less ``vars()`` and
    ``.co_varnames`` in the package."""
    found = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                name = node.func.id
                if name in FRAME_CALLS or (name == "vars" and not node.args):
                    found.append(f"{where(module, node.lineno)} {name}()")
            elif isinstance(node, ast.Attribute) and node.attr in BYTECODE_ATTRIBUTES:
                found.append(f"{where(module, node.lineno)} .{node.attr}")
    return sorted(found)


# --- The checker, tried on small packages -------------------------------------


def write_package(root: Path, files: Mapping[str, str]) -> dict[str, Module]:
    """Write ``pkg/...`` files under ``root`` and read the package back."""
    for relative, text in files.items():
        path = root / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return read_package(root / "pkg")


def cycles_of(modules: Mapping[str, Module]) -> list[str]:
    return [" -> ".join(cycle) for cycle in import_cycles(import_graph(modules))]


def crossings_of(modules: Mapping[str, Module]) -> list[str]:
    return [str(crossing) for crossing in private_crossings(modules)]


def test_checker_finds_a_top_level_cycle(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "import pkg.c\n",
        "c.py": "from pkg.a import thing\n",
        "d.py": "from . import a\n",  # leads into the cycle, is not on it
    })
    assert cycles_of(modules) == ["pkg.a -> pkg.b -> pkg.c -> pkg.a"]
    graph = import_graph(modules)
    message = describe_cycle(import_cycles(graph)[0], graph, modules)
    assert message == "pkg.a -> pkg.b -> pkg.c -> pkg.a  (pkg/a.py:1, pkg/b.py:1, pkg/c.py:1)"


def test_checker_finds_a_cycle_made_by_a_function_level_import(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "from .b import B\n",
        "b.py": """\
            class B:
                def method(self):
                    from .a import A
                    return A
        """,
    })
    assert cycles_of(modules) == ["pkg.a -> pkg.b -> pkg.a"]


def test_checker_finds_a_cycle_made_by_a_type_checking_import(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "from .b import B\nA = 1\n",
        "b.py": """\
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from .a import A
            B = 2
        """,
    })
    assert cycles_of(modules) == ["pkg.a -> pkg.b -> pkg.a"]


def test_checker_lists_each_cycle_of_a_tangle(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "from . import b, c\n",
        "b.py": "from . import a\n",
        "c.py": "from . import a\n",
        "x.py": "from . import y\n",
        "y.py": "from . import x\n",
    })
    assert cycles_of(modules) == [
        "pkg.a -> pkg.b -> pkg.a",
        "pkg.a -> pkg.c -> pkg.a",
        "pkg.x -> pkg.y -> pkg.x",
    ]


def test_checker_resolves_relative_and_absolute_imports(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "__version__ = '1'\n",
        "x.py": "y = 1\n",
        "render.py": "",
        "engine/__init__.py": "",
        "engine/sibling.py": "",
        "engine/trying.py": """\
            from ..x import y
            from .. import render
            from . import sibling
            from .sibling import thing
            from . import trying  # itself: no edge
            import pkg.engine.sibling
            import os.path
        """,
        "runner.py": """\
            from .engine.trying import T
            from .engine import sibling as s
            from . import __version__
        """,
    })
    graph = import_graph(modules)
    assert sorted(graph["pkg.engine.trying"]) == ["pkg.engine.sibling", "pkg.render", "pkg.x"]
    assert sorted(graph["pkg.runner"]) == ["pkg", "pkg.engine.sibling", "pkg.engine.trying"]
    assert cycles_of(modules) == []


def test_checker_counts_an_import_of_the_package_itself(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "from .html import page\n__version__ = '1'\n",
        "html.py": "from . import __version__\npage = 1\n",
    })
    assert cycles_of(modules) == ["pkg -> pkg.html -> pkg"]


def test_checker_finds_a_private_function_imported_across_modules(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": "def _helper():\n    return 1\n",
        "b.py": "\nfrom .a import _helper as helper\n",
        "c.py": "import pkg.a\nfrom . import a as alias\nX = pkg.a._helper, alias._other, pkg._x\n",
    })
    assert crossings_of(modules) == [
        "pkg.b uses pkg.a's _helper (line 2)",
        "pkg.c uses pkg.a's _helper (line 3)",
        "pkg.c uses pkg.a's _other (line 3)",
        "pkg.c uses pkg's _x (line 3)",
    ]


def test_checker_finds_a_private_method_of_another_module(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": """\
            class A:
                __slots__ = ("_slot",)
                _flag = True

                def _secret(self):
                    self._state = 1
        """,
        "b.py": """\
            def use(a):
                a._secret()
                a._slot = a._state
                return getattr(a, "_flag")
        """,
        "c.py": "def _secret():\n    pass\n",  # a function, not what a._secret() reads
    })
    assert crossings_of(modules) == [
        "pkg.b uses pkg.a's _secret (line 2)",
        "pkg.b uses pkg.a's _slot (line 3)",
        "pkg.b uses pkg.a's _state (line 3)",
        "pkg.b uses pkg.a's _flag (line 4)",
    ]


def test_checker_leaves_own_and_foreign_private_names_alone(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": """\
            import sys

            _TABLE = {}

            class A:
                def _secret(self):
                    return self._secret, _TABLE, sys._current_frames()
        """,
        "b.py": """\
            import sys

            def _secret():
                pass

            class B:
                def run(self, other):
                    other._secret()  # b defines a _secret of its own
                    return sys._current_frames(), self.__dict__, other.__private
        """,
    })
    assert crossings_of(modules) == []


def test_checker_finds_long_functions(tmp_path: Path) -> None:
    sixty = "def sixty():\n" + "    x = 1\n" * 59  # lines 1-60
    sixty_one = "class C:\n    def sixty_one(self):\n" + "        x = 1\n" * 60  # 61-122
    nested = "try:\n    pass\nexcept ImportError:\n    def outer():\n        def inner():\n"
    nested += "            x = 1\n" * 61  # 123-188
    modules = write_package(tmp_path, {"__init__.py": "", "a.py": sixty + sixty_one + nested})
    assert long_functions(modules, 60) == [
        "pkg.a.outer (pkg/a.py:126, 63 lines)",
        "pkg.a.outer.inner (pkg/a.py:127, 62 lines)",
        "pkg.a.C.sixty_one (pkg/a.py:62, 61 lines)",
    ]


def test_checker_finds_frame_and_bytecode_tricks(tmp_path: Path) -> None:
    modules = write_package(tmp_path, {
        "__init__.py": "",
        "a.py": """\
            def configure(a, b=1):
                options = locals()
                return options, vars(), vars(a)

            NAMES = configure.__code__.co_varnames
            def locals_(): pass
            x = locals_()
        """,
    })
    assert frame_tricks(modules) == [
        "pkg/a.py:2 locals()",
        "pkg/a.py:3 vars()",
        "pkg/a.py:5 .co_varnames",
    ]


# --- The real package ---------------------------------------------------------


def test_the_package_has_no_import_cycle() -> None:
    modules = read_package(PACKAGE_DIR)
    graph = import_graph(modules)
    cycles = [describe_cycle(cycle, graph, modules) for cycle in import_cycles(graph)]
    assert not cycles, (
        "import cycles (every import counts, lazy and TYPE_CHECKING ones too; "
        "each cycle is followed by where its imports are):\n" + "\n".join(cycles)
    )


def test_no_private_name_crosses_modules() -> None:
    crossings = [
        str(crossing)
        for crossing in private_crossings(read_package(PACKAGE_DIR))
        if crossing.name not in ALLOWED_PRIVATE_NAMES
    ]
    assert not crossings, (
        "private names used outside their module (make the name public, or allow it in "
        "ALLOWED_PRIVATE_NAMES with the reason):\n" + "\n".join(crossings)
    )


def test_the_allowed_private_names_are_still_defined() -> None:
    modules = read_package(PACKAGE_DIR)
    defined = set().union(*(private_definitions(module).every for module in modules.values()))
    stale = sorted(set(ALLOWED_PRIVATE_NAMES) - defined)
    assert stale == [], f"ALLOWED_PRIVATE_NAMES lists names no module defines: {stale}"


def test_no_function_over_60_lines_but_the_allowed_ones() -> None:
    found = long_functions(read_package(PACKAGE_DIR), LONG_FUNCTION_LINES)
    unexpected = [text for text in found if text.partition(" (")[0] not in ALLOWED_LONG_FUNCTIONS]
    assert unexpected == [], (
        f"functions over {LONG_FUNCTION_LINES} lines, docstring included (split them; "
        "issue 34 allows at most one in the package):\n" + "\n".join(unexpected)
    )


def test_the_allowed_long_functions_are_still_long() -> None:
    found = set(long_function_names(read_package(PACKAGE_DIR), LONG_FUNCTION_LINES))
    stale = sorted(set(ALLOWED_LONG_FUNCTIONS) - found)
    assert stale == [], (
        f"ALLOWED_LONG_FUNCTIONS names functions no longer over {LONG_FUNCTION_LINES} "
        f"lines (or gone): take them out: {stale}"
    )


def test_no_module_reads_its_own_frame_or_bytecode() -> None:
    found = frame_tricks(read_package(PACKAGE_DIR))
    assert found == [], (
        "locals(), vars() or co_varnames: write the names out (issue 34):\n" + "\n".join(found)
    )


# --- The wheel ----------------------------------------------------------------


def test_the_wheel_holds_every_module_and_py_typed(release: Release) -> None:
    wheel = release.wheel
    package = SOURCE_ROOT / "dojobber"
    wanted = {path.relative_to(SOURCE_ROOT).as_posix() for path in package.rglob("*.py")}
    wanted.add("dojobber/py.typed")
    with zipfile.ZipFile(wheel) as opened:
        names = set(opened.namelist())
    missing = sorted(wanted - names)
    assert missing == [], f"{wheel.name} lacks (a package left out of pyproject.toml?): {missing}"
    tops = {name.split("/")[0] for name in names}
    stray = sorted(top for top in tops if top != "dojobber" and not top.endswith(".dist-info"))
    assert stray == [], f"{wheel.name} ships more than the package: {stray}"


# --- configure and Settings ---------------------------------------------------


def options_of(function: Callable[..., Any], skip: int) -> list[tuple[str, str, object]]:
    """(name, kind, default) of each parameter of ``function`` after the first ``skip``."""
    parameters = list(inspect.signature(function).parameters.values())[skip:]
    return [(p.name, p.kind.description, p.default) for p in parameters]


def test_configure_takes_exactly_the_settings_options() -> None:
    configure = options_of(DoJobber.configure, skip=2)  # self, root
    settings = options_of(Settings.__init__, skip=1)  # self
    assert configure == settings, (
        "configure's parameters after (self, root) must be Settings.__init__'s after self: "
        "the same names, order, kinds and defaults"
    )
    assert OPTIONS == tuple(name for name, _, _ in settings), (
        "settings.OPTIONS must list Settings.__init__'s parameters after self, in order"
    )


def test_configure_documents_every_option_in_order() -> None:
    # The API reference is configure's docstring (autodoc): each option is
    # named there as ``name``, first met in the order of the signature.
    doc = inspect.getdoc(DoJobber.configure) or ""
    named = re.findall(r"``(\w+)``", doc)
    first_met = list(dict.fromkeys(name for name in named if name in OPTIONS))
    assert first_met == list(OPTIONS), (
        "configure's docstring must name every option as ``name``, first in the "
        f"order of its signature; it names {first_met}"
    )


def test_the_engines_are_siblings_over_one_run_loop() -> None:
    # Issue 34: each engine says only where a try runs (make_tries), over the
    # run loop they share (Engine.run); none is a subclass of another.
    from concurrent.futures import ThreadPoolExecutor

    from dojobber import Job
    from dojobber.dojobber import make_engine
    from dojobber.engine.sending import Sending
    from dojobber.engine.sequential import Engine, Sequential
    from dojobber.engine.threads import Threads
    from dojobber.graph import build_plan

    class Root(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

    plan = build_plan(Root)
    with ThreadPoolExecutor(1) as executor:
        picked = [
            type(make_engine(plan, Settings(**options), observers=(), clock=float,
                             sleep=print, instances=[]))
            for options in ({}, {"workers": 2}, {"executor": executor})
        ]
    assert picked == [Sequential, Threads, Sending]
    for engine in picked:
        assert engine.__bases__ == (Engine,), engine
        assert "make_tries" in vars(engine) and "run" not in vars(engine), engine
    assert Engine.__abstractmethods__ == frozenset({"make_tries"})
