"""Where the CLI's program text and input values come from: the argument, -f FILE or
stdin; --NAME VALUE pairs, --set NAME=VALUE (VALUE `@FILE.npy`: an array file) and
--vars FILE.json or FILE.npz.

NumPy files are read safely: never with pickle (object arrays are refused), the header
read first so that an array over the element limit is refused before it is allocated,
numbers only. NumPy is imported only when such a file is read.
"""

import math
import os
import re
import sys

from bpdiff.errors import BpdiffValueError

DEFAULT_MAX_MIB = 64  # a 1,000,000-node program is about 10 MiB
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def read_program(program, path, max_mib=DEFAULT_MAX_MIB):
    """The program text from the argument, from `path`, or from stdin for '-';
    refused (exit 2) when over `max_mib` MiB, before it can exhaust memory."""
    max_mib = max_mib if max_mib < 2**20 else 2**20  # also catches nan and inf
    limit = int(max_mib * 2**20)
    if program is not None and path is not None:
        raise BpdiffValueError("give the program either as an argument or with -f, not both")
    if path is not None:
        return _read_file(path, limit)
    if program is None:
        raise BpdiffValueError(
            "no program given",
            hint="try: bpdiff \"(a+b)*b^3\" --a 7 --b 3   (bpdiff --help for more)")
    if program == "-":
        return _decode(_read_stdin(limit + 1), "standard input", limit)
    if len(program) > limit:
        raise _too_big("the program", limit)
    try:
        program.encode("utf-8")
    except UnicodeEncodeError as error:  # undecodable bytes in the argument
        raise BpdiffValueError(f"the program is not UTF-8 text (character {error.start})") from None
    return program


def _too_big(where, limit):
    return BpdiffValueError(f"{where} is over the size limit of {limit:,} bytes",
                            hint="raise it with --max-size MIB")


def _read_file(path, limit):
    try:
        with open(path, "rb") as handle:
            data = _read_at_most(handle, limit + 1)
    except IsADirectoryError:
        raise BpdiffValueError(f"{path}: is a directory, not a program file") from None
    except FileNotFoundError:
        raise BpdiffValueError(f"{path}: no such file") from None
    except OSError as error:
        raise BpdiffValueError(f"{path}: cannot read: {error.strerror}") from None
    except ValueError:  # a NUL in the path
        raise BpdiffValueError(f"{path!r}: not a valid file name") from None
    return _decode(data, path, limit)


def _read_stdin(count):
    """Up to `count` bytes of standard input; refused when the process has none
    (`bpdiff - <&-`) or it cannot be read."""
    if sys.stdin is None:
        raise BpdiffValueError("'-' reads the program from standard input, which is closed")
    try:
        return _read_at_most(sys.stdin.buffer, count)
    except OSError as error:
        raise BpdiffValueError(f"standard input: cannot read: {error.strerror}") from None


def _read_at_most(handle, count):
    """Up to `count` bytes, read in pieces so a huge limit allocates nothing up front."""
    pieces, total = [], 0
    while total < count:
        piece = handle.read(min(count - total, 1 << 20))
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return b"".join(pieces)


def _decode(data, where, limit):
    if len(data) > limit:
        raise _too_big(where, limit)
    if b"\0" in data:
        raise BpdiffValueError(f"{where}: looks like a binary file, not a program")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BpdiffValueError(f"{where}: not UTF-8 text (byte {error.start})") from None


def split_arguments(argv, options):
    """Separate --NAME VALUE input pairs from the command's own arguments.

    `options` maps each option string of the command to whether it takes a value.
    Returns (arguments for the command, with positionals after '--', input pairs).
    A positional may start with '-' (a program such as "-x^2")."""
    own, positionals, pairs = [], [], []
    position = 0
    while position < len(argv):
        arg = argv[position]
        name = arg.split("=", 1)[0]
        if arg == "--":
            positionals.extend(argv[position + 1:])
            break
        if name in options:
            own.append(arg)
            if options[name] and "=" not in arg and position + 1 < len(argv):
                position += 1
                own.append(argv[position])
        elif arg.startswith("--") and _NAME.match(name[2:]):
            pairs.append(arg)
            if "=" not in arg and position + 1 < len(argv):
                position += 1
                pairs.append(argv[position])
        elif arg.startswith("--"):
            own.append(arg)  # the command reports it as an unknown option
        else:
            positionals.append(arg)
        position += 1
    return own + ["--"] + positionals, pairs


def collect_values(extra_args, assignments, vars_path, max_elements=None):
    """Input values by name, from --vars, then --NAME VALUE pairs and --set (later wins).
    Values stay text here (the API turns them into numbers), except arrays read from
    files: a value `@FILE.npy` and every array of --vars FILE.npz, each refused over
    `max_elements` elements (None: no limit)."""
    values = read_values_file(vars_path, max_elements) if vars_path else {}
    values.update(_option_pairs(extra_args))
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not _NAME.match(name.strip()):
            raise BpdiffValueError(f"--set {item}: expected NAME=VALUE, e.g. --set a=7")
        values[name.strip()] = value
    for name, value in values.items():
        if isinstance(value, str) and value.startswith("@"):
            values[name] = read_npy(value[1:], max_elements,
                                    what=f"the value for '{name}' ({value[1:]})")
    return values


def read_values_file(path, max_elements=None, base=None):
    """Values by name from a JSON object (FILE.json) or a NumPy archive (FILE.npz: every
    array by its name); `path` relative to the folder `base` (None: the working one)."""
    if str(path).lower().endswith(".npz"):
        return read_npz(path, max_elements, base)
    if str(path).lower().endswith(".npy"):
        raise BpdiffValueError(f"{path}: a .npy file holds one array, with no name",
                               hint=f"give it to one input: --set NAME=@{path}")
    return _read_vars(_located(path, base))


# ---- NumPy files ---------------------------------------------------------------------

MAX_ARRAYS = 10_000  # arrays in one .npz


def read_npy(path, max_elements=None, base=None, what=None):
    """The array in the .npy file at `path` (relative to the folder `base`, None: the
    working one), as a NumPy array of numbers; refused (exit 2) when it is missing, not
    a .npy file, holds objects or non-numbers, or has more than `max_elements`
    elements. `what` names it in messages (default: the path)."""
    where = what or path
    if not str(path).strip():
        raise BpdiffValueError(f"{where}: '@' must be followed by a file name, e.g. @dW.npy")
    located = _located(path, base)
    try:
        with open(located, "rb") as handle:
            return _npy_array(handle, where, max_elements)
    except IsADirectoryError:
        raise BpdiffValueError(f"{where}: is a directory, not a .npy file") from None
    except FileNotFoundError:
        raise BpdiffValueError(f"{where}: no such file",
                               hint=f"(paths are relative to {_folder(base)})") from None
    except OSError as error:
        raise BpdiffValueError(f"{where}: cannot read: {error.strerror}") from None
    except ValueError:  # a NUL in the path
        raise BpdiffValueError(f"{where}: not a valid file name") from None


def read_npz(path, max_elements=None, base=None):
    """Every array of the .npz archive at `path` by name (see read_npy); the elements
    of all of them together at most `max_elements`."""
    import zipfile

    located = _located(path, base)
    arrays = {}
    total = 0
    try:
        with zipfile.ZipFile(located) as archive:
            members = [entry for entry in archive.infolist() if not entry.is_dir()]
            if len(members) > MAX_ARRAYS:
                raise BpdiffValueError(f"{path}: holds {len(members):,} files, more than"
                                       f" {MAX_ARRAYS:,} arrays")
            for member in members:
                if not member.filename.endswith(".npy"):
                    raise BpdiffValueError(f"{path}: {member.filename!r} is not a .npy"
                                           " array: not a NumPy .npz archive")
                name = member.filename[:-4]
                left = None if max_elements is None else max_elements - total
                with archive.open(member) as handle:
                    array = _npy_array(handle, f"{path}: array '{name}'", left)
                total += array.size
                arrays[name] = array
    except FileNotFoundError:
        raise BpdiffValueError(f"{path}: no such file",
                               hint=f"(paths are relative to {_folder(base)})") from None
    except IsADirectoryError:
        raise BpdiffValueError(f"{path}: is a directory, not a .npz file") from None
    except (zipfile.BadZipFile, EOFError):
        raise BpdiffValueError(f"{path}: not a NumPy .npz archive (not a zip file)") from None
    except OSError as error:
        raise BpdiffValueError(f"{path}: cannot read: {error.strerror}") from None
    except ValueError:  # a NUL in the path
        raise BpdiffValueError(f"{path!r}: not a valid file name") from None
    if not arrays:
        raise BpdiffValueError(f"{path}: holds no arrays")
    return arrays


def _npy_array(handle, where, max_elements):
    """The array of an open .npy stream: header first (shape, type), then exactly the
    bytes it announces; never pickle."""
    import numpy as np
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(handle)
        else:
            raise ValueError(version)
    except (ValueError, OSError, EOFError):
        raise BpdiffValueError(f"{where}: not a NumPy .npy array") from None
    if dtype.hasobject:
        raise BpdiffValueError(f"{where}: holds Python objects, which are never loaded"
                               " (they would need pickle)",
                               hint="save an array of numbers: np.save(path, a.astype(float))")
    if dtype.kind not in "iuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise BpdiffValueError(f"{where}: holds {dtype} values, not numbers",
                               hint="save an array of numbers: np.save(path, a.astype(float))")
    count = math.prod(shape)
    if max_elements is not None and count > max_elements:
        raise BpdiffValueError(f"{where}: has {count:,} elements (shape"
                               f" {tuple(shape)}), more than the limit of {max_elements:,}",
                               hint="raise it with --max-elements N")
    size = count * dtype.itemsize
    data = _read_at_most(handle, size)
    if len(data) < size:
        raise BpdiffValueError(f"{where}: the file ends before its data does (truncated?)")
    flat = np.frombuffer(data, dtype=dtype, count=count)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), dtype=np.float64)


def _located(path, base):
    path = os.fspath(path)
    return path if base is None else os.path.join(base, path)


def _folder(base):
    return "the working folder" if base is None else f"the folder {base or '.'}"


def _option_pairs(args):
    values = {}
    position = 0
    while position < len(args):
        arg = args[position]
        name, sep, value = arg[2:].partition("=")
        if not sep:
            if position + 1 >= len(args):
                raise BpdiffValueError(f"--{name} needs a value, e.g. --{name} 1")
            position += 1
            value = args[position]
        values[name] = value
        position += 1
    return values


def _read_vars(path):
    import json  # only for a --vars file (not at start-up)

    text = _read_file(path, DEFAULT_MAX_MIB * 2**20)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BpdiffValueError(f"{path}: not valid JSON: {error.msg} at line {error.lineno},"
                               f" column {error.colno}") from None
    except (ValueError, RecursionError) as error:  # huge integers, deep nesting
        raise BpdiffValueError(f"{path}: not usable JSON: {error}"[:300]) from None
    if not isinstance(data, dict):
        raise BpdiffValueError(f"{path}: expected a JSON object of name -> number")
    return data


def array_argument(option, text, max_elements=None):
    """An option's array (--grad-output): '@FILE.npy' is that NumPy file's array, read as
    read_npy reads one (at most `max_elements` elements); anything else, a number or a
    JSON nested list such as '[[1, 0], [0, 1]]', is returned as text for
    bpdiff.api.to_value to read."""
    if not isinstance(text, str) or not text.startswith("@"):
        return text
    return read_npy(text[1:], max_elements, what=f"{option}: {text[1:]}")
