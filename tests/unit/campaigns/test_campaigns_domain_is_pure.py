"""The domain must stay plain Python: no web framework, broker, cache, database or I/O."""
import ast
import sys
from pathlib import Path

import services.campaigns.domain as domain

DOMAIN_DIR = Path(domain.__file__).parent
DEMO_DATA = DOMAIN_DIR.parent / "demo_data.py"
# Pure rules and vocabulary shared by several services' domains (no I/O either).
SHARED_PURE_PACKAGE = "shared.domain."


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add(node.module)
    return roots


def test_domain_imports_only_the_standard_library_and_itself():
    for path in [*DOMAIN_DIR.glob("*.py"), DEMO_DATA]:
        for module in imported_roots(path):
            top = module.split(".")[0]
            allowed = module.startswith(("services.campaigns.domain", SHARED_PURE_PACKAGE))
            assert allowed or top in sys.stdlib_module_names, (path.name, module)


def test_domain_does_not_read_the_clock_or_do_io():
    forbidden_calls = {"now", "utcnow", "today", "time", "open", "print", "input", "getenv", "urlopen"}
    for path in [*DOMAIN_DIR.glob("*.py"), DEMO_DATA]:
        calls = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
        }
        assert not calls & forbidden_calls, (path.name, calls & forbidden_calls)
