"""The layers are a contract: import-linter checks the contracts in pyproject.toml
(each layer imports only the layers below it; no import cycles)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        lint = shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports is missing: install the test extra, pip install '.[test]'")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " 0 broken" in done.stdout


TYPED = ["src/bpdiff/language", "src/bpdiff/engine",
         "src/bpdiff/api.py", "src/bpdiff/notebook.py"]  # checked by mypy: grows with each typed layer


def test_the_typed_layers_pass_mypy():
    mypy = pytest.importorskip("mypy.api", reason="mypy is in the test extra")
    out, err, status = mypy.run(["--config-file", str(ROOT / "pyproject.toml"),
                                 *[str(ROOT / path) for path in TYPED]])
    assert status == 0, out + err
