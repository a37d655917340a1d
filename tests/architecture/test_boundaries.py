"""The house's walls: the import contracts hold with nothing ignored, no module grows past 800 lines, and every
import inside a function says why it is there (they hide cycles and slow first calls)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("bot", "db")
MAX_LINES = 800


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


def test_the_import_contracts_hold_and_ignore_nothing() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = config["contracts"]
    assert len(contracts) >= 6
    assert [c["name"] for c in contracts if c.get("ignore_imports")] == []
    assert lint_imports(ROOT, ROOT / "pyproject.toml").returncode == 0


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """The contracts checked in a process of their own (import-linter configures logging for its run)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(config)], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_a_kernel_that_imports_a_feature_breaks_the_contract(tmp_path: Path) -> None:
    """The contract check can fail: the same kind of contract on a small tree whose kernel imports a feature."""
    pkg = tmp_path / "house"
    for part in ("core", "feature"):
        (pkg / part).mkdir(parents=True)
        (pkg / part / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "kernel.py").write_text("from house.feature import thing\n")
    (pkg / "feature" / "thing.py").write_text("X = 1\n")
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["house"]\n\n[[tool.importlinter.contracts]]\n'
        'name = "kernel"\ntype = "forbidden"\nsource_modules = ["house.core"]\nforbidden_modules = ["house.feature"]\n'
    )
    result = lint_imports(tmp_path, config)
    assert result.returncode == 1 and "house.core.kernel -> house.feature.thing" in result.stdout


def test_no_module_is_longer_than_800_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def function_level_imports(source: str) -> list[tuple[int, str, str]]:
    """(line, module, the line's text) of each project import inside a function."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    module = sub.module if isinstance(sub, ast.ImportFrom) else sub.names[0].name
                    if module and module.split(".")[0] in PACKAGES:
                        found.add((sub.lineno, module, lines[sub.lineno - 1]))
    return sorted(found)


def test_every_import_inside_a_function_gives_its_reason() -> None:
    unexplained = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sources()
        for line, module, text in function_level_imports(path.read_text(encoding="utf-8"))
        if "#" not in text
    ]
    assert unexplained == []


def test_the_import_check_sees_imports_in_nested_functions() -> None:
    source = "def f():\n    def g():\n        from bot.core import text\n    import db.models  # a reason\n"
    assert [(n, m) for n, m, _t in function_level_imports(source)] == [(3, "bot.core"), (4, "db.models")]


# Loaded when a file is read or made (a roster, an export, a certificate, a report, a poster), not at start: they
# cost the idle bot about 60 MB, which every open page connection of a live round sits on top of.
FILE_LIBRARIES = ("openpyxl", "numpy", "fpdf", "fontTools", "docx", "matplotlib", "segno", "redis")


def test_the_bot_starts_without_the_file_libraries() -> None:
    code = (
        "import sys, bot.app, bot.web.server, bot.web.page_server, bot.__main__\n"
        f"print(' '.join(m for m in {FILE_LIBRARIES!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == []
