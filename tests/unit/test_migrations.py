"""Migrations are history: they must do tomorrow what they did today, so none imports the
studio's own code (whose SQL and models change); each carries the SQL it runs."""

import ast

from tests.helpers import ROOT

MIGRATIONS = ROOT / "gallery" / "migrations"


def test_no_migration_imports_the_studios_code():
    offenders = []
    for path in sorted(MIGRATIONS.glob("[0-9]*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in ("gallery", "studio")
            ]
    assert not offenders, offenders
    assert list(MIGRATIONS.glob("[0-9]*.py")), "no migrations found: is the path right?"
