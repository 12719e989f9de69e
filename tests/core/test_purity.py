"""The core decides, the shell acts (design §1): no core module may import I/O, event loops or UI libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import fwbatch_async._core

FORBIDDEN = {"aiohttp", "anyio", "asyncio", "trio", "yarl", "click", "rich", "socket", "threading"}
CORE = Path(fwbatch_async._core.__file__).parent


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _clock_reads(path: Path) -> list[str]:
    """Calls that read the clock or sleep: the core must be handed time, never take it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name in {
                "time.time",
                "time.time_ns",
                "time.monotonic",
                "time.sleep",
                "datetime.now",
                "datetime.utcnow",
            }:
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


def test_core_modules_exist() -> None:
    assert len(list(CORE.glob("*.py"))) >= 8


def test_no_core_module_imports_io_or_event_loops() -> None:
    offenders = {path.name: _imported_roots(path) & FORBIDDEN for path in CORE.glob("*.py")}
    assert {name: roots for name, roots in offenders.items() if roots} == {}


def test_no_core_module_reads_the_clock() -> None:
    assert [read for path in CORE.glob("*.py") for read in _clock_reads(path)] == []
