"""The files the command writes (--html, --html-practice, --answers, --render).

All of them are checked before any is written: none may be an input file or another
output (compared by resolved path and by device and inode), and each must be a file
name in a directory that exists. Each is then written whole to a new file beside it and
renamed over it (`replacing`), so an existing file stays intact until the new one is
complete, whatever stops the write. Imports only bpdiff.errors.
"""

import contextlib
import os
import stat

from bpdiff.errors import BpdiffError


def check_paths(outputs, inputs=()):
    """Refuse (BpdiffError, exit 2) an output that is an input file or another output,
    or that cannot be a file. `outputs` and `inputs` are (option, path) pairs."""
    seen = [(option, path, _identity(path)) for option, path in inputs]
    for option, path in outputs:
        check_target(option, path)
        identity = _identity(path)
        for other, other_path, other_identity in seen:
            if identity & other_identity:
                kind = "input" if (other, other_path) in inputs else "output"
                spelled = "" if other_path == path else f" ({other_path})"
                raise BpdiffError(f"{option} {path}: that is the {kind} file of {other}"
                                  f"{spelled}: writing it would replace it")
        seen.append((option, path, identity))


def check_target(option, path):
    """Refuse a path that cannot become the file written: empty, with a NUL, a
    directory, or in a directory that does not exist."""
    if not path or "\0" in path:
        raise BpdiffError(f"{option} {path!r}: not a valid file name")
    if os.path.isdir(path):
        raise BpdiffError(f"{option} {path}: is a directory")
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        raise BpdiffError(f"{option} {path}: cannot write: no such directory {directory}")


def _identity(path):
    """What makes two paths the same file: the resolved path, and (device, inode)
    when it exists."""
    keys = {("path", os.path.realpath(path))}
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return keys
    return keys | {("inode", info.st_dev, info.st_ino)}


def write_text(path, text):
    """Write `text` as UTF-8 to `path` through `replacing`; BpdiffError if it cannot."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)


@contextlib.contextmanager
def replacing(path):
    """The path of a new, empty file beside `path` (the target of a symlink), for the
    block to fill; renamed over `path` when the block ends, removed if it raises or is
    interrupted. An existing `path` that is not a regular file (/dev/null, a FIFO) is
    yielded itself, to be written in place. OSError becomes BpdiffError."""
    try:
        target = os.path.realpath(path)
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory", path)
            yield path
            return
        temporary = _new_file_beside(target, mode)
        try:
            yield temporary
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except IsADirectoryError:
        raise BpdiffError(f"{path}: is a directory") from None
    except OSError as error:
        raise BpdiffError(f"{path}: cannot write: {error.strerror or error}") from None
    except ValueError:  # a NUL in the path
        raise BpdiffError(f"{path!r}: not a valid file name") from None


def _new_file_beside(target, mode):
    """A new empty file in `target`'s directory, a hidden name of its own; with the
    mode of the file it replaces, else the usual 0666 less the umask."""
    directory, name = os.path.split(target)
    for _ in range(100):
        temporary = os.path.join(directory, f".{name[:200]}.{os.urandom(4).hex()}.tmp")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            if mode is not None:
                os.fchmod(handle, stat.S_IMODE(mode))
        finally:
            os.close(handle)
        return temporary
    raise FileExistsError(17, "cannot make a temporary file", directory)


def size_text(size):
    """A file size as people read it: '512 bytes', '34 KB', '2.5 MB' (1 KB = 1024
    bytes; KB rounded up, so a non-empty file is never '0 KB')."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def wrote_note(path):
    """'wrote report.html (34 KB)': the line the command says on stderr for a file it
    wrote (the path as given, control characters escaped by the caller)."""
    try:
        size = os.stat(path).st_size
    except (OSError, ValueError):
        return f"wrote {path}"
    return f"wrote {path} ({size_text(size)})"
