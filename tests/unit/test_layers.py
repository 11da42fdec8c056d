"""The house's layering, read from the code's own imports (ast; nothing is imported or run): no
import cycle; the pure core imports nothing outside itself and explorer.errors; the faces (tui,
cli) never import each other (one door: the CLI's entry opens the app), never reach a backend or
Dapr past the session; nothing below the session calls it back; only the CLI's stack and demo
commands touch the local dev stack; screens, dialogs and widgets import the session's protocol,
the core and the tui's own parts only. Imports under `if TYPE_CHECKING:` are left out of the cycle
rule alone (they never run). A planted violation fails each rule (the last tests)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "explorer"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(source: str, name: str, is_package: bool, typing_too: bool = True) -> set[str]:
    """The explorer modules `name` imports (`from x import y` counts x.y when x.y is a module)."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    if not typing_too:
        for node in ast.walk(tree):
            if _type_checking_block(node):
                skipped.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == "explorer" or m.startswith("explorer.")}


def read_house(root: Path = PACKAGE, typing_too: bool = True) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    house: dict[str, set[str]] = {}
    for name, path in files.items():
        wanted = imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", typing_too)
        house[name] = {m for m in wanted if m in files and m != name}
    return house


def cycles(house: dict[str, set[str]], root: Path = PACKAGE) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan); packages' faces are left out, as
    importing a submodule runs its package's __init__ without a real dependency on it."""
    faces = {n for n in house if (root.parent / n.replace(".", "/") / "__init__.py").exists()}
    graph = {n: {m for m in deps if m not in faces} for n, deps in house.items() if n not in faces}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop(); on.discard(w); group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def breaches(house: dict[str, set[str]]) -> list[str]:
    """Every import that breaks a rule, as 'importer -> imported: rule'."""
    out: list[str] = []

    def check(importers: Iterable[str], allowed, rule: str) -> None:
        for name in importers:
            for dep in sorted(house[name]):
                if not allowed(name, dep):
                    out.append(f"{name} -> {dep}: {rule}")

    names = sorted(house)
    check([n for n in names if under(n, "explorer.core")],
          lambda n, d: under(d, "explorer.core", "explorer.errors") or d == "explorer",
          "the core imports only itself and errors")
    check([n for n in names if under(n, "explorer.tui")],
          lambda n, d: not under(d, "explorer.cli", "explorer.backends", "explorer.dapr", "explorer.localstack"),
          "the TUI reaches stores only through the session and never imports the CLI")
    check([n for n in names if under(n, "explorer.cli")],
          lambda n, d: not under(d, "explorer.backends", "explorer.dapr")
          and (not under(d, "explorer.tui") or (n == "explorer.cli.main" and d == "explorer.tui.app")),
          "the CLI reaches stores only through the session; its one door to the TUI is cli.main -> tui.app")
    check([n for n in names if not under(n, "explorer.session", "explorer.tui", "explorer.cli", "explorer.localstack")],
          lambda n, d: not under(d, "explorer.session"),
          "nothing below the session calls it back")
    check([n for n in names if not under(n, "explorer.tui", "explorer.cli") and n != "explorer.__main__"],
          lambda n, d: not under(d, "explorer.tui", "explorer.cli"),
          "nothing below the faces imports a face")
    check([n for n in names if not under(n, "explorer.localstack")],
          lambda n, d: not under(d, "explorer.localstack") or n == "explorer.cli.commands.stack",
          "only the CLI's stack and demo commands (cli.commands.stack) touch the local dev stack")
    check([n for n in names if under(n, "explorer.tui.screens", "explorer.tui.dialogs", "explorer.tui.widgets")],
          lambda n, d: under(d, "explorer.core", "explorer.errors", "explorer.resources", "explorer.tui",
                             "explorer.session.protocol") and not under(d, "explorer.tui.app") or d == "explorer",
          "screens, dialogs and widgets import the session's protocol, the core and the tui's own parts only")
    return out


def test_the_house_has_no_import_cycle():
    assert cycles(read_house(typing_too=False)) == []


def test_every_import_keeps_the_layering():
    assert breaches(read_house()) == []


# -- the rules fail on planted violations (a house written into tmp_path) -----------------------

def plant(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    root = tmp_path / "explorer"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    files_ = {module_name(p, root): p for p in root.rglob("*.py")}
    return {n: {m for m in imports_of(p.read_text(), n, p.name == "__init__.py") if m in files_ and m != n}
            for n, p in files_.items()}


@pytest.mark.parametrize("files, rule", [
    ({"core/doctor.py": "from explorer.components.files import load\n", "components/files.py": "load = 1\n"},
     "the core imports only itself and errors"),
    ({"tui/screens/browser.py": "from explorer.session.audit_log import AuditLog\n", "session/audit_log.py": ""},
     "screens, dialogs and widgets import"),
    ({"tui/screens/x.py": "def f():\n    from explorer.backends.cosmos import lister\n", "backends/cosmos/lister.py": ""},
     "the TUI reaches stores only through the session"),
    ({"cli/commands/keys.py": "import explorer.tui.screens.browser\n", "tui/screens/browser.py": ""},
     "its one door to the TUI"),
    ({"backends/cosmos/agents.py": "from explorer.session import explorer_session\n", "session/explorer_session.py": ""},
     "nothing below the session calls it back"),
    ({"dapr/sidecar.py": "from explorer.cli.parser import address_from_env\n", "cli/parser.py": ""},
     "nothing below the faces imports a face"),
    ({"dapr/own_sidecar.py": "from explorer.localstack.daprd import build\n", "localstack/daprd.py": ""},
     "only the CLI's stack and demo commands"),
])
def test_a_planted_breach_is_caught(tmp_path, files, rule):
    found = breaches(plant(tmp_path, files))
    assert any(rule in line for line in found), found


def test_a_planted_cycle_is_caught(tmp_path):
    house = plant(tmp_path, {"tui/screens/a.py": "from explorer.tui.screens.b import B\nA = 1\n",
                             "tui/screens/b.py": "def f():\n    from explorer.tui.screens.a import A\nB = 1\n"})
    assert cycles(house, tmp_path / "explorer") == [["explorer.tui.screens.a", "explorer.tui.screens.b"]]


# -- the house's other two rules: no module past 700 lines, no import made twice --------------------

MAX_MODULE_LINES = 700


def long_modules(root: Path = PACKAGE) -> list[str]:
    return [f"{p.relative_to(root.parent)}: {n} lines" for p in sorted(root.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]


def imports_made_twice(source: str) -> list[int]:
    """Lines of function-level imports of a module the file already imports at its top."""
    tree = ast.parse(source)
    top: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            top.add(node.module)
    lines = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module in top \
                        or isinstance(node, ast.Import) and any(a.name in top for a in node.names):
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_no_module_is_longer_than_700_lines():
    assert long_modules() == []


def test_no_function_imports_a_module_its_file_already_imports():
    found = [f"{p.relative_to(PACKAGE.parent)}:{line}" for p in sorted(PACKAGE.rglob("*.py"))
             for line in imports_made_twice(p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_two_rules_catch_what_they_are_for(tmp_path):
    source = "import json\nfrom explorer.core import display\n\ndef f():\n    import json\n    from explorer.core import display\n"
    assert imports_made_twice(source) == [5, 6]
    root = tmp_path / "explorer"
    root.mkdir()
    (root / "big.py").write_text("x = 1\n" * 701)
    assert long_modules(root) == ["explorer/big.py: 701 lines"]


def test_screens_never_reach_up_with_getattr_fallbacks():
    """Attributes down: a screen is handed its context (explorer.tui.context) and its session's protocol;
    no getattr/hasattr on the app or the session for what a test double might lack."""
    import re

    reach = re.compile(r"\b(getattr|hasattr)\(self\.(app|session)\b")
    found = [f"{p.relative_to(PACKAGE.parent)}:{n}" for p in sorted((PACKAGE / "tui").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if reach.search(line)]
    assert found == []
