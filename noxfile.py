"""Sessions for tests, lint, types and docs; `nox -s ci` runs everything CI needs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["ci"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
SUPPORTED = ("3.11", "3.12", "3.13")
# uv must use the interpreters on this machine, never fetch one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def _expose_pyenv_versions() -> None:
    """Make every installed pyenv CPython reachable as pythonX.Y (pyenv shims hide non-global ones)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return
    # pyenv's shim exports PYENV_VERSION (just the running version) to nox itself, so extend it, keeping its order.
    current = [name for name in os.environ.get("PYENV_VERSION", "").split(":") if name]
    extra = sorted(p.name for p in root.iterdir() if p.name.startswith(SUPPORTED) and p.name not in current)
    if extra:
        os.environ["PYENV_VERSION"] = ":".join(current + extra)


def _available_pythons() -> list[str]:
    _expose_pyenv_versions()
    found = []
    for version in SUPPORTED:
        exe = shutil.which(f"python{version}")
        if exe and subprocess.run([exe, "-c", ""], capture_output=True, check=False).returncode == 0:  # noqa: S603
            found.append(version)
    return found or [SUPPORTED[0]]


PYTHONS = _available_pythons()


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Core, emulator, integration and command-line tests on the newest aiohttp."""
    session.install(".[cli]", *_group("tests"), *_group("sdk"))
    # Two workers: most tests wait on subprocesses and sockets, so CI's two cores halve the session's time.
    session.run("pytest", "-n", "2", "--ignore=tests/shell", *session.posargs)
    # The docstring examples, run against the installed package.
    session.run("pytest", "--doctest-modules", "--pyargs", "fwbatch_async", "-p", "no:cacheprovider")


@nox.session(python=PYTHONS)
def shell(session: nox.Session) -> None:
    """Exact-request tests with aioresponses, which needs aiohttp<3.14 (design §5)."""
    session.install(".", *_group("tests"), "aiohttp<3.14")
    session.run("pytest", "tests/shell", *session.posargs)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """Ruff, lint and formatting."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and its tests."""
    session.install(".[cli]", *_group("typecheck"))
    session.run("mypy", "--strict")


@nox.session(python=PYTHONS[0])
def docs(session: nox.Session) -> None:
    """Build the Sphinx site with warnings as errors."""
    session.install(".", *_group("docs"))
    out = ROOT / "docs" / "_build" / "html"
    shutil.rmtree(out, ignore_errors=True)
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", str(out))


@nox.session(python=False)
def ci(session: nox.Session) -> None:
    """Everything CI checks: tests on every CPython 3.11-3.13 present, shell tests, lint, types, docs."""
    for version in PYTHONS:
        session.notify(f"tests-{version}")
        session.notify(f"shell-{version}")
    for name in ("lint", "typecheck", "docs"):
        session.notify(name)


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Every design §4 target against its reference, side by side, as one table of ratios; not part of CI.

    Writes ``benchmarks/results/latest.json``. Options after ``--``: ``--rounds N`` (default 5, medians kept),
    ``--parts read,follow,fanout,import`` (the fan-out part follows 1,000 jobs of 60 s per run: about 2.5 minutes a
    round), ``--smoke`` (tiny sizes, one round), ``--json PATH``.
    """
    session.install(".", *_group("sdk"))
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def soak(session: nox.Session) -> None:
    """The long chaos soak: 200 jobs, over 1,000,000 lines, every fault kind on (issue 8); not part of CI.

    The short version of the same test runs in ``tests``. Figures go to ``benchmarks/results/soak.json``.
    """
    session.install(".", *_group("tests"))
    session.env.update(
        FWBATCH_SOAK_JOBS="200",
        FWBATCH_SOAK_SECONDS="80",
        FWBATCH_SOAK_LINES_PER_SECOND="100",
        FWBATCH_SOAK_RESULTS=str(ROOT / "benchmarks/results/soak.json"),
    )
    session.run("pytest", "tests/soak", "-s", "-p", "no:randomly", "-o", "timeout=3600", *session.posargs)
