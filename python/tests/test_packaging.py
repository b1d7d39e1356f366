"""`pip install ./python` ships everything a site needs (migrations, commands, type marker)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy: setuptools writes build/ and *.egg-info next to the sources
    shutil.copytree(PYTHON_DIR / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PYTHON_DIR / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         "-w", str(out), str(source)],
        check=True,
        cwd=out,
    )
    [path] = out.glob("instant_django-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_contents(wheel):
    names = set(wheel.namelist())
    for expected in (
        "instant/__init__.py",
        "instant/py.typed",
        "instant/producers.py",
        "instant/urls.py",
        "instant/migrations/0001_initial.py",
        "instant/migrations/0002_alter_channel_level.py",
        "instant/migrations/0003_channel_name_rules.py",
        "instant/management/commands/installws.py",
        "instant/management/commands/runws.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith("tests/") for name in names)


def test_wheel_metadata(wheel):
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(metadata).decode()
    requires = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if "extra ==" not in r]
    assert sorted(runtime) == ["Django>=4.2", "PyJWT>=2.4", "httpx>=0.24"]
    assert "Requires-Python: >=3.10" in text
    for version in ("4.2", "5.2", "6.0"):
        assert f"Classifier: Framework :: Django :: {version}" in text
