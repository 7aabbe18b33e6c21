"""The shape of the code base: which package may import which, and how big a module may grow.

Read from the source with :mod:`ast` (every ``import`` statement, function-level ones too),
so a cycle cannot hide behind an import that only runs later.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "keys", "labels", "trace", "verify_web")
DOMAINS = ("core", "keys", "labels", "trace")  # everything but the web layer
# labels' jobs, each allowed to import only those after it in its own chain.
LABELS_ORDER = {
    "issuing": set(),
    "printing": {"issuing"},
    "scanning": {"issuing"},
    "offline": {"scanning", "issuing"},
}
MAX_LINES = 450


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the packages, as its dotted name under ``gimark`` and its file."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(part for part in parts if part != "__init__"), path


def imported(path: Path) -> set[str]:
    """The ``gimark`` modules (and packages) that ``path`` imports, without the prefix."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gimark."):
            base = node.module.removeprefix("gimark.")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                alias.name.removeprefix("gimark.")
                for alias in node.names
                if alias.name.startswith("gimark.")
            )
    return names


def edges(level: int, within: str = "") -> set[tuple[str, str]]:
    """Imports between the packages ``level`` dots deep (under ``within``), as pairs."""
    found = set()
    for name, path in modules():
        if not name.startswith(within):
            continue
        source = _part(name, within, level)
        for target_name in imported(path):
            if not target_name.startswith(within):
                continue
            target = _part(target_name, within, level)
            if source and target and source != target:
                found.add((source, target))
    return found


def _part(name: str, within: str, level: int) -> str:
    parts = name.removeprefix(within).split(".")
    return parts[level] if len(parts) > level else ""


def cycle_in(pairs: set[tuple[str, str]]) -> list[str] | None:
    """A cycle of the directed graph ``pairs``, or None."""
    graph: dict[str, set[str]] = {}
    for source, target in pairs:
        graph.setdefault(source, set()).add(target)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for nxt in sorted(graph.get(node, ())):
            if found := visit(nxt):
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if found := visit(node):
            return found
    return None


def test_the_top_level_packages_form_no_cycle() -> None:
    assert cycle_in(edges(0)) is None


def test_no_domain_package_imports_the_web_layer() -> None:
    offending = {(s, t) for s, t in edges(0) if s in DOMAINS and t == "verify_web"}
    assert offending == set()


def test_labels_jobs_import_one_way() -> None:
    pairs = edges(0, within="labels.")
    assert cycle_in(pairs) is None
    for job, allowed in LABELS_ORDER.items():
        assert {t for s, t in pairs if s == job} <= allowed, job


@pytest.mark.parametrize(
    ("name", "path"), [pytest.param(name, path, id=name) for name, path in modules()]
)
def test_no_module_is_over_the_size_limit(name: str, path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by what its parts own"


def test_the_checks_see_a_cycle_when_there_is_one() -> None:
    assert cycle_in({("a", "b"), ("b", "c"), ("c", "a")}) == ["a", "b", "c", "a"]
    assert cycle_in({("a", "b"), ("a", "c"), ("b", "c")}) is None
    everything = list(itertools.chain.from_iterable(edges(0)))
    assert "labels" in everything and "keys" in everything  # the graph is really read
