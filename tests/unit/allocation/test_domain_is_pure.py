"""The allocation core stays plain Python: no framework, broker, cache, database, clock or I/O."""
import ast
import sys
from pathlib import Path

import services.allocation.domain as domain

DOMAIN_DIR = Path(domain.__file__).parent


def parsed_modules():
    return [(path.name, ast.parse(path.read_text())) for path in sorted(DOMAIN_DIR.glob("*.py"))]


def test_the_domain_imports_only_the_standard_library_shared_domain_and_itself():
    for name, tree in parsed_modules():
        for node in ast.walk(tree):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) else [])
            for module in modules:
                assert module.startswith(("services.allocation.domain", "shared.domain")) or (
                    module.split(".")[0] in sys.stdlib_module_names), (name, module)


def test_the_domain_does_not_read_the_clock_or_do_io():
    forbidden = {"now", "utcnow", "today", "time", "open", "print", "input", "getenv", "urlopen", "random"}
    for name, tree in parsed_modules():
        calls = {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                 for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert not calls & forbidden, (name, calls & forbidden)
