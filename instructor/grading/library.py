"""Does a student's exercise code use tlkit's own implementation? (static, no code runs)

The "possible library answer" flag must fire on real use of tlkit's implementations and
never on a name a student chose. So names are *resolved*, not matched as words:

* imports bind names to dotted paths (``import tlkit.manager as m`` binds ``m`` to
  ``tlkit.manager``; ``from tlkit.strategies import FineTuner`` binds ``FineTuner``);
* an expression's path follows attributes, ``getattr(x, "name")``, calls (an instance
  of a class has the class's path), ``importlib.import_module("...")`` and simple
  assignments (``base = tlkit.PretrainedModel("simple")``);
* names the student's own code binds otherwise (a ``def``, a ``class``, a parameter, an
  assignment of anything else) are theirs: a local ``losses`` or ``extract_features``
  resolves to nothing, and a class the student writes shadows the notebook's import of
  tlkit's class of the same name.

A path is a library answer when it, or one of its prefixes, is one of the exercise's
``library_names`` (:attr:`tlkit.exercises.registry.Exercise.library_names`): by name, or
by identity of the object it names in tlkit (``tlkit.FineTuner`` is
``tlkit.strategies.fine_tuning.FineTuner``); a function or class defined in a listed
module counts too. Anything in ``tlkit.exercises`` or ``instructor`` always counts.
Names built at run time from strings are not seen (the sandbox does not mount the
answers, see the grader's module notes).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["lookup", "library_use_in", "MACHINERY"]

MACHINERY = ("tlkit.exercises", "instructor")  # always a library answer when used
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_MISSING = object()
_MAX_PARTS = 8  # a library answer is named in fewer parts (tlkit.pkg.module.Class.method)
_HARMLESS = frozenset(("tlkit.exercises.check", "tlkit.exercises.run_checks",
                       "tlkit.exercises.checking.check", "tlkit.exercises.checking.run_checks"))


@lru_cache(maxsize=4096)
def lookup(path: str) -> Any:
    """The tlkit object a dotted path names (importing tlkit's own modules as needed),
    or a sentinel that is never a library object. Paths outside tlkit are not looked up."""
    if not _PATH.match(path) or path.split(".", 1)[0] != "tlkit" or len(path) > 300:
        return _MISSING
    parts = path.split(".")
    if "__main__" in parts:  # never import a module's command-line entry point
        return _MISSING
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        module = sys.modules.get(name)
        if module is None:
            try:
                if importlib.util.find_spec(name) is None:
                    continue
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - not a module: try the shorter prefix
                continue
        obj: Any = module
        for attr in parts[cut:]:
            try:
                obj = getattr(obj, attr)
            except Exception:  # noqa: BLE001 - no such attribute
                return _MISSING
        return obj
    return _MISSING


def _identifiable(obj: Any) -> bool:
    return inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj)


class _Library:
    """An exercise's library names, as paths and as the objects they name."""

    def __init__(self, names: Iterable[str]) -> None:
        self.paths = tuple(dict.fromkeys(names))
        self.objects: dict[int, str] = {}
        self.modules: list[str] = []
        for name in self.paths:
            obj = lookup(name)
            if obj is not _MISSING and _identifiable(obj):
                self.objects[id(obj)] = name
                if inspect.ismodule(obj):
                    self.modules.append(obj.__name__)

    def match(self, path: str) -> str | None:
        """The shortest prefix of ``path`` that is a library answer (None: none is)."""
        parts = path.split(".", _MAX_PARTS)[:_MAX_PARTS]
        path = ".".join(parts)
        if any(path == h or path.startswith(h + ".") for h in _HARMLESS):
            return None
        if any(path == m or path.startswith(m + ".") for m in MACHINERY):
            return path
        for cut in range(1, len(parts) + 1):
            prefix = ".".join(parts[:cut])
            if prefix in self.paths:
                return prefix
            if parts[0] != "tlkit" or cut == 1:
                continue
            obj = lookup(prefix)
            if obj is _MISSING or not _identifiable(obj):
                continue
            if id(obj) in self.objects:
                return prefix
            home = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", None)
            if isinstance(home, str) and any(home == m or home.startswith(m + ".")
                                             for m in self.modules):
                return prefix
        return None


# --------------------------------------------------------------------------------------
# Bindings
# --------------------------------------------------------------------------------------


def _import_bindings(tree: ast.AST) -> tuple[dict[str, str], list[str], list[str]]:
    """(name -> dotted path, modules star-imported, every full path imported)."""
    names: dict[str, str] = {}
    stars: list[str] = []
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported.append(alias.name)
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                if alias.name == "*":
                    stars.append(node.module)
                    imported.append(node.module)
                    continue
                imported.append(f"{node.module}.{alias.name}")
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names, stars, imported


def assigned_names(tree: ast.AST) -> set[str]:
    """Names the code binds other than by import: defs, classes, parameters, targets."""
    local: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            local.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            local.add(node.rest)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            local.update(node.names)
    return local


class _Scope:
    """Flow-insensitive name resolution over the student's code and the notebook's
    imports (the student's own imports win, then their own bindings, then the
    notebook's imports)."""

    def __init__(self, own: list[ast.AST], context: list[ast.AST]) -> None:
        self.own_imports: dict[str, str] = {}
        self.stars: list[str] = []
        self.imported: list[str] = []
        self.local: set[str] = set()
        for tree in own:
            names, stars, imported = _import_bindings(tree)
            self.own_imports.update(names)
            self.stars += stars
            self.imported += imported
            self.local |= assigned_names(tree)
        self.context_imports: dict[str, str] = {}
        for tree in context:
            names, stars, _ = _import_bindings(tree)
            self.context_imports.update(names)
            self.stars += stars
        self.aliases: dict[str, str] = {}
        for _ in range(3):  # aliases of aliases
            for tree in own:
                for node in ast.walk(tree):
                    value = getattr(node, "value", None)
                    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and value:
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        path = self.path(value)
                        for target in targets:
                            if path and isinstance(target, ast.Name):
                                self.aliases[target.id] = path

    def resolve(self, name: str) -> str | None:
        if name in self.own_imports:
            return self.own_imports[name]
        if name in self.aliases:
            return self.aliases[name]
        if name in self.local:
            return None
        if name in self.context_imports:
            return self.context_imports[name]
        for module in self.stars:
            if lookup(f"{module}.{name}") is not _MISSING:
                return f"{module}.{name}"
        return None

    def _imports(self, func: ast.AST) -> bool:
        """``__import__`` or ``importlib.import_module`` (however importlib is named)."""
        if isinstance(func, ast.Name):
            return (func.id == "__import__" and self.resolve(func.id) is None
                    or self.resolve(func.id) == "importlib.import_module")
        return (isinstance(func, ast.Attribute) and func.attr == "import_module"
                and isinstance(func.value, ast.Name) and self.resolve(func.value.id) == "importlib")

    def path(self, node: ast.AST) -> str | None:
        """The dotted path an expression resolves to (None: a local or unknown object)."""
        attrs: list[str] = []
        while True:
            if isinstance(node, ast.Attribute):
                attrs.append(node.attr)
                node = node.value
            elif isinstance(node, ast.Call):
                text = _const_str(node.args[1]) if len(node.args) >= 2 else None
                func = node.func
                if isinstance(func, ast.Name) and func.id == "getattr" and text is not None \
                        and self.resolve("getattr") is None:
                    attrs.append(text)
                    node = node.args[0]
                    continue
                module = _const_str(node.args[0]) if node.args else None
                if module is not None and _PATH.match(module) and self._imports(func):
                    base = module
                    break
                node = func  # a call's result: an instance of the class, say
            elif isinstance(node, ast.Name):
                resolved = self.resolve(node.id)
                if resolved is None:
                    return None
                base = resolved
                break
            else:
                return None
        return ".".join([base, *reversed(attrs)])


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


# --------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------


def library_use_in(own: list[ast.AST], context: list[ast.AST], exercise_name: str,
                   library_names: Iterable[str]) -> list[str]:
    """Reasons to think the answer comes from tlkit (empty: none seen).

    ``own``: the parsed exercise cell and its helper definitions (what the student wrote
    for this exercise); ``context``: the parsed notebook imports they rely on.
    """
    library = _Library(library_names)
    scope = _Scope(own, context)
    reasons: list[str] = []

    def note(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    for path in scope.imported:
        hit = library.match(path)
        if hit:
            note(f"uses {hit}")
    for tree in own:
        inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        inner |= {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        inner |= {id(b) for n in ast.walk(tree) if isinstance(n, ast.ClassDef) for b in n.bases}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    path = scope.path(base)
                    if isinstance(base, ast.Name) and base.id == node.name:
                        # class FineTuner(FineTuner): the base is the import, not the class
                        path = scope.own_imports.get(base.id) or scope.context_imports.get(base.id)
                    hit = library.match(path) if path else None
                    if hit:
                        note(f"class {node.name} subclasses {hit}")
            elif isinstance(node, (ast.Name, ast.Attribute, ast.Call)) and id(node) not in inner \
                    and not (isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)):
                path = scope.path(node)
                hit = library.match(path) if path else None
                if hit:
                    note(f"uses {hit}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if "solutions" in text or ".ipynb" in text:
                    note(f"the path {_short(text)!r}")
                elif _PATH.match(text) and "." in text and library.match(text):
                    note(f"names {library.match(text)} in a string")
    defined = exercise_name in scope.local and exercise_name not in scope.aliases
    provider = scope.own_imports.get(exercise_name) or scope.context_imports.get(exercise_name)
    if provider and not defined:
        note(f"imports {exercise_name} ({_short(provider)}) instead of writing it")
    return reasons


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."
