"""Conventions: one-way imports (ingest -> kb -> bot -> cli/ui), documented settings, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kb.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def python_files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


def imported_top_names(path: Path) -> set[str]:
    """Top-level package names imported by a module (relative imports are within its own package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package, forbidden", [
    ("kb", {"bot", "ingest", "cli", "ui"}),
    ("ingest", {"bot", "cli", "ui"}),
    ("bot", {"ingest", "cli", "ui"}),
    ("cli", {"ui"}),
])
def test_imports_flow_one_way(package, forbidden):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_top_names(path) & forbidden)
        for path in python_files(package)
        if imported_top_names(path) & forbidden
    }
    assert offenders == {}


def test_import_checker_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import bot.answer\nfrom ingest import x\nfrom . import y\ndef f():\n    import ui\n", encoding="utf-8")
    assert imported_top_names(probe) == {"bot", "ingest", "ui"}


def test_every_setting_is_in_the_readme():
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md does not exist yet; this test checks its settings table once it does")
    text = readme.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if s.name not in text or s.env not in text]
    assert missing == []


def test_modules_stay_small():
    files = [*python_files("kb"), *python_files("ingest"), *python_files("bot"), *python_files("cli")]
    too_long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}
