"""Packaging: `python -m build` makes an sdist and a wheel that pass `twine check`; the
wheel, installed in a fresh virtual environment, runs README's first example from
another directory and prints README's table. Skipped without `build` and `twine` (both
in the test extra); about a minute (a build and an install)."""

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("build", reason="build is in the test extra (pip install '.[test]')")
pytest.importorskip("twine", reason="twine is in the test extra (pip install '.[test]')")


def readme_example():
    """README's first command's arguments and the table README shows for them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```\n\$ bpdiff \"\(a\+b\)\*b\^3\" --a 7 --b 3\n(.*?)```", readme, re.S)
    return ["(a+b)*b^3", "--a", "7", "--b", "3"], shown[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(folder), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder


def test_sdist_and_wheel_pass_twine_check(dist):
    files = sorted(dist.iterdir())
    assert sorted(p.suffix for p in files) == [".gz", ".whl"]
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           *map(str, files)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_the_metadata_and_the_wheels_files(dist):
    from bpdiff.version import __version__

    wheel = next(dist.glob("*.whl"))
    assert wheel.name == f"bpdiff-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"bpdiff-{__version__}.dist-info/METADATA").decode()
    for needed in ("bpdiff/grammars/bpdiff.lark", "bpdiff/render/assets/report.js",
                   "bpdiff/schema/result.schema.json", "bpdiff/py.typed",
                   f"bpdiff-{__version__}.dist-info/licenses/LICENSE"):
        assert needed in names
    for field in ("Summary: ", "License-Expression: MIT", "Requires-Python: >=3.11",
                  "Keywords: ", "Classifier: ", "Description-Content-Type: text/markdown",
                  "Provides-Extra: watch"):
        assert field in metadata, field
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dynamic"] == ["version"]  # the version is written in version.py only
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## Unreleased" in changelog and "## 1.0.0" in changelog


def test_the_wheel_runs_readmes_example_in_a_fresh_venv(dist, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                          str(next(dist.glob("*.whl")))], capture_output=True, text=True,
                         timeout=600)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args, table = readme_example()
    done = subprocess.run([str(venv / "bin" / "bpdiff"), *args], capture_output=True,
                          text=True, cwd=elsewhere, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, table, "")
    api = subprocess.run([str(venv / "bin" / "python"), "-c", "import bpdiff; r ="
                          " bpdiff.differentiate('(a+b)*b^3', a=7, b=3);"
                          " print(r.value, r.gradient, bpdiff.__version__)"],
                         capture_output=True, text=True, cwd=elsewhere, timeout=120)
    from bpdiff.version import __version__
    assert api.stdout == f"270.0 {{'a': 27.0, 'b': 297.0}} {__version__}\n", api.stderr
