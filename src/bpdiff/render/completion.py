"""Shell completion for bash, zsh and fish, through click's own mechanism
(`eval "$(_BPDIFF_COMPLETE=bash_source bpdiff)"`; zsh_source, fish_source).

click completes the options and the choices of --format and --only; this module adds
what it cannot know: file names for the options that read or write files, --kink's
policies, function names (the primitive table's, a --lib file's defs and the program's
own) at the end of PROGRAM, and the
program's own inputs as --NAME once the program is on the line (PROGRAM or -f FILE).
Imported only while completing: `bpdiff` itself never loads it.
"""

import re

from bpdiff.errors import BpdiffError

_TRAILING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DEF = re.compile(r"\bdef[ \t]+([A-Za-z_][A-Za-z0-9_]*)")
MAX_READ = 1 << 20  # bytes of a file read to find its inputs or defs


def file_items(ctx, param, incomplete):
    """A file name: the shell completes it."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


def program_items(ctx, param, incomplete):
    """PROGRAM with its last name completed to a function: 'sigmoid(w*x) + ta' ->
    'sigmoid(w*x) + tan', '... + tanh'."""
    from click.shell_completion import CompletionItem

    match = _TRAILING_NAME.search(incomplete)
    if match is None:
        return []
    stem, start = match.group(), incomplete[:match.start()]
    return [CompletionItem(start + name) for name in function_names(ctx, start)
            if name.startswith(stem)]


def function_names(ctx, program=""):
    """The functions a program may call: the primitive table's names and aliases, the
    defs of the --lib files on the line and those of `program` itself."""
    from bpdiff.engine.ops import FUNCTIONS

    names = set(FUNCTIONS)
    names.update(alias for p in FUNCTIONS.values() for alias in p.aliases)
    for path in ctx.params.get("libs") or ():
        names.update(_DEF.findall(_read(path)))
    names.update(_DEF.findall(program))
    return sorted(names)


def kink_items(ctx, param, incomplete):
    """--kink's policies (per op: relu=one, ... is left to the user)."""
    from click.shell_completion import CompletionItem

    from bpdiff.engine.ops import KINK_POLICIES

    return [CompletionItem(policy) for policy in KINK_POLICIES if policy.startswith(incomplete)]


def input_items(ctx, incomplete):
    """--NAME for each input of the program on the line (PROGRAM, or -f FILE) that is
    not yet given and starts like `incomplete`."""
    from click.shell_completion import CompletionItem

    text = ctx.params.get("program")
    if ctx.params.get("file"):
        text = _read(ctx.params["file"])
    if not text or text == "-":
        return []
    given = {pair.split("=")[0] for pair in ctx.params.get("assignments") or ()}
    given.update(arg[2:].split("=")[0] for arg in ctx.meta.get("bpdiff.pairs", ())
                 if arg.startswith("--"))
    return [CompletionItem(f"--{name}", help="an input of the program")
            for name in program_inputs(text, ctx.params.get("libs") or ())
            if f"--{name}".startswith(incomplete) and name not in given]


def program_inputs(text, libs=()):
    """The input names of a program's text, in order; [] when it does not parse."""
    from bpdiff.language.parse import parse

    definitions = "\n".join(_read(path) for path in libs)
    try:
        graph = parse(f"{definitions}\n{text}" if definitions else text)
    except (BpdiffError, RecursionError, ValueError):
        return []
    return list(graph.declared)


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_READ)
    except (OSError, ValueError):
        return ""
