"""Is this code a reference solution? Compared as code (AST), not as text.

:func:`normalised_ast` turns source into a canonical dump that ignores what a copy
changes without changing the code: names the code binds (variables, parameters, its own
functions and classes), attribute names of local objects (``self.w`` or ``x.shape``;
attributes of modules and builtins such as ``np.exp`` are kept), the spelling of
constants (``1_000`` is ``1000``), docstrings and other bare strings, type annotations,
comments and formatting. Renaming is consistent (first appearance order), so two
definitions are equal exactly when one is the other with its names changed.

:func:`matches_reference` compares definitions, not whole cells: every function, method
and class of the student's cell against the reference's. A function matches when its
normalised dump equals the reference's; a class matches when methods holding at least
:data:`CLASS_SHARE` of the reference class's code (counted in AST nodes) appear in it,
in any order, not counting the methods the exercise's stub gives (a class whose methods
are the reference's, reordered, matches). Only the reference's top-level definitions are
compared, and by default none smaller than :data:`MIN_NODES` nodes: a few lines of code
can be written the same way independently (the grader's flag keeps that default; the
release check compares every size).
"""

from __future__ import annotations

import ast
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from instructor.grading.library import assigned_names

__all__ = ["MIN_NODES", "CLASS_SHARE", "Definition", "normalised_ast", "definitions",
           "matches_reference", "matching_definitions", "find_copies"]

MIN_NODES = 80  # 01.1's reference (69 nodes) is how anyone writes it: the demo class's honest answer
CLASS_SHARE = 0.8
_MODULE_ALIASES = {"np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot"}


def _parse(source: str) -> ast.Module | None:
    from tlkit.exercises.runner import _strip_magics

    try:
        return ast.parse(_strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _bound_names(node: ast.AST) -> set[str]:
    """Names ``node`` binds (defs, parameters, targets, handlers, patterns) and its global/nonlocal names."""
    bound = assigned_names(node)
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            bound.update(sub.names)
    return bound


def _import_paths(node: ast.AST) -> dict[str, str]:
    paths: dict[str, str] = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            for alias in sub.names:
                if alias.asname:
                    paths[alias.asname] = alias.name
                else:
                    paths[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(sub, ast.ImportFrom) and sub.module:
            for alias in sub.names:
                paths[alias.asname or alias.name] = f"{sub.module}.{alias.name}"
    return paths


def _strip(tree: ast.AST) -> None:
    """Drop docstrings and other bare strings, annotations and ``__future__`` imports."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
        for field_name in ("body", "orelse", "finalbody"):
            body = getattr(node, field_name, None)
            if not (isinstance(body, list) and body and isinstance(body[0], ast.stmt)):
                continue
            kept = []
            for statement in body:
                if _dropped(statement):
                    continue
                if isinstance(statement, ast.AnnAssign):
                    statement = ast.Assign(targets=[statement.target], value=statement.value)
                kept.append(statement)
            setattr(node, field_name, kept or [ast.Pass()])


class _Renamer(ast.NodeTransformer):
    """Bound names -> ``_v0, _v1...`` and local objects' attributes -> ``_a0, _a1...``
    (first appearance); imported names -> their module path."""

    def __init__(self, bound: set[str], imports: dict[str, str]) -> None:
        self.bound = bound - set(imports)
        self.imports = imports
        self.names: dict[str, str] = {}
        self.attrs: dict[str, str] = {}

    def name(self, name: str) -> str:
        if name in self.imports:
            return self.imports[name]
        if name in self.bound:
            return self.names.setdefault(name, f"_v{len(self.names)}")
        return _MODULE_ALIASES.get(name, name)

    def local(self, name: str) -> str:
        """A name a def, class or parameter binds: its own, whatever an import says."""
        return self.names.setdefault(name, f"_v{len(self.names)}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self.local(node.name)
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self.local(node.arg)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.name(node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        root = node.value
        while isinstance(root, ast.Attribute):
            root = root.value
        of_module = isinstance(root, ast.Name) and root.id not in self.bound
        self.generic_visit(node)
        if not of_module:
            node.attr = self.attrs.setdefault(node.attr, f"_a{len(self.attrs)}")
        return node

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self.defined = {d.name for d in ast.walk(node)
                        if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """A keyword names a parameter of the callee: renamed with it when the code defines
        the callee (its parameters are renamed), kept when the callee is someone else's
        (``SimpleNamespace(strategy=strategy)`` keeps ``strategy=`` however the variable is named)."""
        func = node.func
        callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        own = callee in getattr(self, "defined", ())
        node.func = self.visit(node.func)
        node.args = [self.visit(arg) for arg in node.args]
        for keyword in node.keywords:
            if own and keyword.arg in self.bound:
                keyword.arg = self.name(keyword.arg)
            keyword.value = self.visit(keyword.value)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self.name(node.name)
        return self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self.name(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global  # type: ignore[assignment]

    def visit_alias(self, node: ast.alias) -> ast.AST:
        node.asname = None
        return node


def _normalised(node: ast.AST, imports: dict[str, str]) -> tuple[str, int]:
    """The normalised dump of one node and its size in nodes (``node`` is unchanged)."""
    tree = ast.Module(body=[pickle.loads(pickle.dumps(node))], type_ignores=[])  # a fast copy
    _strip(tree)
    tree = _Renamer(_bound_names(tree), imports).visit(tree)
    return ast.dump(tree, annotate_fields=False, include_attributes=False), _size(tree) - 1


def normalised_ast(source: str) -> str:
    """A canonical dump of ``source`` (see the module notes); "" when it does not parse."""
    tree = _parse(source)
    if tree is None:
        return ""
    _strip(tree)
    tree = _Renamer(_bound_names(tree), _import_paths(tree)).visit(tree)
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


@dataclass(frozen=True)
class Definition:
    """A function, method or class of some source, normalised on its own."""

    kind: str  # "function" or "class"
    name: str
    dump: str
    nodes: int
    methods: tuple[tuple[str, int], ...] = ()  # a class's (method dump, nodes)
    top: bool = True  # not inside another function or class


def _size(node: ast.AST) -> int:
    return sum(1 for _ in ast.walk(node))


def definitions(source: str) -> list[Definition]:
    """Every function, method and class in ``source`` (nested ones too), each normalised
    with its own renaming (so pasting it among other code changes nothing)."""
    tree = _parse(source)
    if tree is None:
        return []
    try:
        return _definitions(tree)
    except (RecursionError, MemoryError):  # nested too deeply to be compared
        return []


def _definitions(tree: ast.Module) -> list[Definition]:
    imports = _import_paths(tree)
    out = []
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]  # (node, not inside a definition)
    while stack:
        node, top = stack.pop()
        inner = top
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(Definition("function", node.name, *_normalised(node, imports), top=top))
            inner = False
        elif isinstance(node, ast.ClassDef):
            methods = tuple(sorted(_normalised(m, imports) for m in node.body
                                   if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))))
            out.append(Definition("class", node.name, *_normalised(node, imports), methods,
                                  top=top))
            inner = False
        stack.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))
    return out


def matching_definitions(source: str, reference_source: str, *, given_source: str = "",
                         min_nodes: int = MIN_NODES) -> list[tuple[str, str]]:
    """(name in ``source``, name in the reference) of every definition of ``source``
    that matches one of the reference's top-level definitions (see the module notes).

    ``given_source``: code the student was given (the exercise's stub); methods of the
    reference that it holds already (a given ``__init__``) count for nobody.
    ``min_nodes``: smaller reference definitions are not compared.
    """
    found = find_copies(source, {"": reference_source}, given={"": given_source},
                        min_nodes=min_nodes)
    return [(name, ref_name) for name, _, ref_name in found]


def find_copies(source: str, references: Mapping[str, str], *,
                given: Mapping[str, str] | None = None, min_nodes: int = MIN_NODES
                ) -> list[tuple[str, str, str]]:
    """(name in ``source``, reference key, name in that reference) for every definition
    of ``source`` that matches a top-level definition of one of ``references`` (key ->
    reference source). ``given``: key -> the stub's source.

    ``source`` is parsed once, and only its definitions whose normalised size is one a
    reference function or method has are normalised (sizes are counted without copying),
    so scanning a whole library is quick.
    """
    tree = _parse(source)
    if tree is None:
        return []
    imports = _import_paths(tree)
    refs: list[tuple[str, Definition, set[str]]] = []
    for key, reference_source in references.items():
        stub = _definitions_cached((given or {}).get(key, ""))
        given_dumps = {dump for d in stub for dump, _ in d.methods} | {d.dump for d in stub}
        refs += [(key, d, given_dumps) for d in _definitions_cached(reference_source)
                 if d.top and d.nodes >= min_nodes]
    function_sizes = {d.nodes for _, d, _ in refs if d.kind == "function"}
    method_sizes = {n for _, d, _ in refs if d.kind == "class" for _, n in d.methods}
    dumps: dict[int, str] = {}

    def dump(node: ast.AST) -> str:
        if id(node) not in dumps:
            try:
                dumps[id(node)] = _normalised(node, imports)[0]
            except (RecursionError, MemoryError):  # nested too deeply to be a copy
                dumps[id(node)] = f"<not compared {id(node)}>"
        return dumps[id(node)]

    hits: list[tuple[str, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            size = _normalised_size(node)
            if size in function_sizes:
                hits += [(node.name, key, ref.name) for key, ref, _ in refs
                         if ref.kind == "function" and ref.nodes == size and ref.dump == dump(node)]
        elif isinstance(node, ast.ClassDef) and method_sizes:
            methods = [(dump(m), size) for m in node.body
                       if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and (size := _normalised_size(m)) in method_sizes]
            cand = Definition("class", node.name, "", 0, tuple(methods))
            hits += [(node.name, key, ref.name) for key, ref, given_dumps in refs
                     if ref.kind == "class" and _class_share(cand, ref, given_dumps) >= CLASS_SHARE]
    return list(dict.fromkeys(hits))


def _is_bare_string(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _dropped(statement: ast.stmt) -> bool:
    """What :func:`_strip` removes from a body."""
    return (_is_bare_string(statement)
            or isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
            or isinstance(statement, ast.AnnAssign) and statement.value is None)


def _normalised_size(node: ast.AST) -> int:
    """The node count of ``node`` once normalised, counted without copying it (equal to
    :func:`_normalised`'s, a test checks it on the whole library)."""
    count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        count += 1
        for field_name, value in ast.iter_fields(current):
            if field_name in ("annotation", "returns"):
                continue
            if isinstance(value, list):
                if field_name in ("body", "orelse", "finalbody") and value \
                        and isinstance(value[0], ast.stmt):
                    kept = [s for s in value if not _dropped(s)]
                    count += 0 if kept else 1  # an emptied body holds a Pass
                    stack += kept
                else:
                    stack += [v for v in value if isinstance(v, ast.AST)]
            elif isinstance(value, ast.AST):
                stack.append(value)
    return count


@lru_cache(maxsize=64)
def _definitions_cached(source: str) -> tuple[Definition, ...]:
    return tuple(definitions(source))


def _class_share(cand: Definition, ref: Definition, given: set[str]) -> float:
    """The share of the reference class's method code (in nodes) found in ``cand``,
    not counting methods the student was given."""
    methods = [(dump, nodes) for dump, nodes in ref.methods if dump not in given]
    total = sum(nodes for _, nodes in methods)
    if not total:
        return 0.0
    found = [dump for dump, _ in cand.methods]
    shared = 0
    for dump, nodes in methods:
        if dump in found:
            found.remove(dump)
            shared += nodes
    return shared / total


def matches_reference(cell_source: str, reference_source: str, *, given_source: str = "",
                      min_nodes: int = MIN_NODES) -> bool:
    """True when ``cell_source`` holds a copy of a definition of ``reference_source``:
    pasted, renamed, reformatted, with docstrings, comments or annotations changed."""
    return bool(matching_definitions(cell_source, reference_source, given_source=given_source,
                                     min_nodes=min_nodes))
