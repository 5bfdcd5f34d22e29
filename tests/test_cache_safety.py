"""The caches cannot be used against whoever runs bpdiff (issue 15, point 1): Lark's
pickle cache in the shared temporary directory is never read or written, and bpdiff's
own table cache is read only from a directory of the user's, only from a regular file
of the user's, never through a symlink, and rebuilt when damaged. Each test runs the
installed `bpdiff` command with its own cache and temporary directories."""

import marshal
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import bpdiff
from bpdiff.language import lalr

TABLES = f"tables-{bpdiff.__version__}-{lalr.FORMAT}.marshal"


def _bpdiff():
    script = Path(sys.executable).with_name("bpdiff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bpdiff"]


def run(tmp_path, *args):
    """`bpdiff ARGS` with XDG_CACHE_HOME and TMPDIR under `tmp_path`."""
    cache, temp = tmp_path / "cache", tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), TMPDIR=str(temp))
    return subprocess.run([*_bpdiff(), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def ok(done):
    assert done.returncode == 0, done.stderr
    assert "∂out/∂a = 27" in done.stdout


def test_lark_keeps_no_cache_in_the_temporary_directory(tmp_path):
    first = run(tmp_path, "a + * b")  # a cold table cache and a syntax error: Lark twice
    assert first.returncode == 2 and "expected" in first.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_pickle_planted_in_the_temporary_directory_is_never_loaded(tmp_path):
    """Every file a run leaves in TMPDIR (Lark's cache did) is replaced by a pickle
    whose loading makes a directory; the next run loads none of them."""
    marker = tmp_path / "ran"
    payload = ("import pickle, os\n"
               "class P:\n"
               f"    def __reduce__(self): return (os.mkdir, ({str(marker)!r},))\n"
               "print(pickle.dumps(P()).hex())\n")
    data = bytes.fromhex(subprocess.check_output([sys.executable, "-c", payload], text=True))
    assert run(tmp_path, "a + * b").returncode == 2
    planted = list((tmp_path / "tmp").iterdir()) or [tmp_path / "tmp" / ".lark_cache.tmp"]
    for path in planted:
        path.write_bytes(b"0" * 64 + b"\n" + data)  # Lark reads a hash line, then unpickles
    assert run(tmp_path, "a + * b").returncode == 2
    assert not marker.exists()


def test_the_cache_directory_is_made_for_the_user_only(tmp_path):
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    directory = tmp_path / "cache" / "bpdiff"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [path.name for path in directory.iterdir()] == [TABLES]


def test_a_fifo_planted_as_the_table_cache_does_not_hang_a_run(tmp_path):
    directory = tmp_path / "cache" / "bpdiff"
    directory.mkdir(parents=True, mode=0o700)
    os.mkfifo(directory / TABLES)
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))


def test_a_symlink_planted_as_the_table_cache_is_neither_followed_nor_written_through(
        tmp_path):
    directory = tmp_path / "cache" / "bpdiff"
    directory.mkdir(parents=True, mode=0o700)
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (directory / TABLES).symlink_to(target)
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    assert target.read_text() == "keep me"
    assert not (directory / TABLES).is_symlink()  # replaced by the real cache


def test_a_symlinked_cache_directory_is_not_used(tmp_path):
    (tmp_path / "cache").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / "cache" / "bpdiff").symlink_to(elsewhere)
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    assert list(elsewhere.iterdir()) == []


def test_a_cache_directory_others_can_write_to_is_not_used(tmp_path):
    directory = tmp_path / "cache" / "bpdiff"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    assert list(directory.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_cache_of_another_user_is_not_read(tmp_path):
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    path = tmp_path / "cache" / "bpdiff" / TABLES
    data = marshal.loads(path.read_bytes()[4:])  # behind its checksum
    data["start"] = -12345  # a table that would break every parse
    path.write_bytes(lalr.sealed(marshal.dumps(data)))
    os.chown(path, 65534, 65534)
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))


@pytest.mark.parametrize("damage", [
    lambda data: data.pop("actions"),
    lambda data: data.pop("scanner"),
    lambda data: data.update(rules="not a list"),
    lambda data: data.update(actions={0: "not a row"}),
    lambda data: data.update(rules=[("x", 1)]),
    lambda data: data.update(scanner={"lex": "(", "every_token": "(", "literal_kinds": {},
                                      "open_kinds": []}),
    lambda data: data["scanner"].update(literal_kinds={"*": 3}),
    lambda data: data.update(terminals=[("NAME", 3)]),
])
def test_a_damaged_cache_with_the_right_header_is_rebuilt(tmp_path, damage):
    """Damage that passes the checksum (made by hand): each kind is found and rebuilt."""
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    path = tmp_path / "cache" / "bpdiff" / TABLES
    data = marshal.loads(path.read_bytes()[4:])  # behind its checksum
    damage(data)
    path.write_bytes(lalr.sealed(marshal.dumps(data)))  # damage a checksum would not see
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    syntax = run(tmp_path, "(a+b*b^3", "--a", "7", "--b", "3")
    assert syntax.returncode == 2 and "Traceback" not in syntax.stderr


@pytest.mark.parametrize("flip", [10, 500, -3])
def test_a_cache_damaged_on_disk_fails_its_checksum_and_is_rebuilt(tmp_path, flip):
    """One byte changed anywhere (a lazily compiled regex of the scanner, say): the
    checksum fails, and the tables are rebuilt rather than read."""
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    path = tmp_path / "cache" / "bpdiff" / TABLES
    content = bytearray(path.read_bytes())
    content[flip] ^= 0x01
    path.write_bytes(bytes(content))
    assert lalr._read(str(path)) is None
    ok(run(tmp_path, "(a+b)*b^3", "--a", "7", "--b", "3"))
    assert lalr._read(str(path)) is not None
    assert run(tmp_path, "def f(x) = x^2\nf(a)*b + a*b^3 - a^2 + a", "--a", "7", "--b",
               "3").returncode == 0  # the lex path's regex compiles from the rebuilt file
