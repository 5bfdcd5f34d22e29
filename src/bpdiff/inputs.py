"""Where the CLI's program text and input values come from: the argument, -f FILE or
stdin; --NAME VALUE pairs, --set NAME=VALUE and --vars FILE.json.
"""

import json
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


def collect_values(extra_args, assignments, vars_path):
    """Input values by name, from --vars, then --NAME VALUE pairs and --set (later wins).
    Values stay text here; the API turns them into numbers."""
    values = _read_vars(vars_path) if vars_path else {}
    values.update(_option_pairs(extra_args))
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not _NAME.match(name.strip()):
            raise BpdiffValueError(f"--set {item}: expected NAME=VALUE, e.g. --set a=7")
        values[name.strip()] = value
    return values


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


def array_argument(option, text):
    """An option's array (--grad-output, --expect W=...): '@FILE.npy' is that NumPy file's
    array (NumPy imported only then); anything else, a number or a JSON nested list such
    as '[[1, 0], [0, 1]]', is returned as text for bpdiff.api.to_value to read."""
    if not isinstance(text, str) or not text.startswith("@"):
        return text
    path = text[1:]
    import numpy as np

    try:
        with open(path, "rb") as handle:
            array = np.load(handle, allow_pickle=False)
    except FileNotFoundError:
        raise BpdiffValueError(f"{option}: {path}: no such file") from None
    except IsADirectoryError:
        raise BpdiffValueError(f"{option}: {path}: is a directory, not a .npy file") from None
    except OSError as error:
        raise BpdiffValueError(f"{option}: {path}: cannot read: {error.strerror}") from None
    except ValueError as error:  # not a .npy file, or one holding Python objects
        raise BpdiffValueError(f"{option}: {path} is not a NumPy .npy file of numbers"
                               f" ({error})") from None
    if not isinstance(array, np.ndarray):  # np.load gives an NpzFile for a .npz
        array.close()
        raise BpdiffValueError(f"{option}: {path} is a .npz archive; give one array as a"
                               " .npy file")
    return array
