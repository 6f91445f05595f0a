"""`make lint` fails on a broken layer: the import-linter contracts of pyproject.toml are run on a copy of
the tree into which a forbidden import was put on purpose. And the tree as it is keeps them."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
COPIED = ("services", "shared", "bench", "deploy", "tests", "examples")


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess:
    """`lint-imports` as `make lint` runs it, in `tree`; only the `contracts` named (their ids), if any."""
    # --no-cache: the repository's .import_linter_cache must not answer for the copy.
    only = [argument for contract in contracts for argument in ("--contract", contract)]
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *only], cwd=tree, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(tree)})


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """The packages and pyproject.toml, as they are now, in a folder of their own."""
    copy = tmp_path_factory.mktemp("layers")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".import_linter_cache")
    for name in COPIED:
        shutil.copytree(REPO / name, copy / name, ignore=skip)
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    return copy


def with_module(tree: Path, relative: str, source: str, tmp_path: Path) -> Path:
    """A copy of `tree` (the others' cases stay clean) with one module added."""
    broken = tmp_path / "tree"
    shutil.copytree(tree, broken)
    (broken / relative).write_text(source)
    return broken


def test_lint_imports_is_installed_beside_this_python():
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS}: pip install -e '.[test]' (import-linter)"


def test_a_domain_importing_sqlalchemy_breaks_the_pure_domain_contract(tree, tmp_path):
    broken = with_module(tree, "services/campaigns/domain/sneaky_storage.py",
                         '"""A domain module that reaches for SQL."""\nimport sqlalchemy  # noqa: F401\n', tmp_path)
    result = lint_imports(broken, "domains-are-pure")
    assert result.returncode != 0, result.stdout
    assert "Domains import no I/O library" in result.stdout
    assert "BROKEN" in result.stdout and "services.campaigns.domain.sneaky_storage" in result.stdout


def test_a_service_importing_the_benchmarks_breaks_the_product_contract(tree, tmp_path):
    broken = with_module(tree, "services/registrations/sneaky_tool.py",
                         '"""A product module that imports a tool."""\nimport bench.report  # noqa: F401\n', tmp_path)
    result = lint_imports(broken, "product-imports-no-tool")
    assert result.returncode != 0, result.stdout
    assert "Nothing under services/ or shared/ imports bench, deploy, tests or examples" in result.stdout
    assert "services.registrations.sneaky_tool" in result.stdout


def test_a_benchmark_importing_a_test_module_breaks_the_tools_contract(tree, tmp_path):
    broken = with_module(tree, "bench/sneaky_builder.py",
                         '"""A benchmark that borrows a test helper."""\nimport tests.support.workers  # noqa: F401\n',
                         tmp_path)
    result = lint_imports(broken, "tools-import-no-test")
    assert result.returncode != 0, result.stdout
    assert "Benchmarks, deployment and examples import no test module" in result.stdout


def test_the_tree_as_it_is_keeps_every_contract(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout[-4000:]
