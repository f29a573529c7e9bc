"""The package's shape: the import contracts hold, and starting up stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("keras", "jax", "matplotlib", "sklearn")


def _modules_loaded_by(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``code`` in a fresh process."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    return [name for name in HEAVY if name in loaded]


def test_import_contracts_hold():
    # The contracts live in pyproject.toml; lint-imports exits non-zero if one is broken.
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_rnnkit_loads_no_heavy_library():
    assert _modules_loaded_by("import rnnkit") == []


def test_cli_help_loads_no_heavy_library():
    code = (
        "import sys\nsys.argv = ['rnnkit', '--help']\nfrom rnnkit.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert _modules_loaded_by(code) == []


def test_public_names_are_importable_from_the_package():
    for name in rnnkit.__all__:
        assert getattr(rnnkit, name) is not None
    assert rnnkit.Forecaster.__module__ == "rnnkit.forecasting.forecaster"


def test_an_unknown_attribute_of_the_package_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Forcaster'"):
        rnnkit.Forcaster  # noqa: B018


def test_version_flag_prints_the_package_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"rnnkit {rnnkit.__version__}"
