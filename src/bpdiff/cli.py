"""The `bpdiff` command: options in, renderer out, errors to exit codes.

Exit codes: 0 ok, 1 a requested check failed, 2 bad input or usage, 130 interrupted.
Results go to stdout, diagnostics to stderr (one line each, user text escaped); on error
nothing is written to stdout. Output files are checked before any is written.
"""

import gc
import os
import sys

import click

from bpdiff.version import __version__
from bpdiff.errors import BpdiffError
from bpdiff.engine.ops import function_list
from bpdiff.engine.sizes import DEFAULT_MAX_ELEMENTS
from bpdiff.inputs import DEFAULT_MAX_MIB
from bpdiff.numbers import DEFAULT_PRECISION, MAX_PRECISION
from bpdiff.render.selection import DEFAULT_MAX_NODES, DEFAULT_TOP, ONLY_CHOICES
from bpdiff.render.sheets import SHEET_FORMATS

# Defaults and limits that the analyses own, as 'module:NAME': imported only when an
# option needs them (see _owned), so that `bpdiff --json` starts without the analyses.
SIG = "bpdiff.analyses.expect:DEFAULT_SIG"
SIGS = "bpdiff.analyses.expect:SIG_RANGE"
GRADCHECK_TOL = "bpdiff.analyses.gradcheck:DEFAULT_TOL"
CROSSCHECK_TOL = "bpdiff.analyses.crosscheck:DEFAULT_TOLERANCE"
SYMBOLIC_MAX = "bpdiff.analyses.symbolic:DEFAULT_MAX_CHARS"
QUIZ_COUNTS = "bpdiff.analyses.quiz:COUNTS"
QUIZ_LEVELS = "bpdiff.analyses.quiz:LEVELS"
QUIZ_LEVEL = "bpdiff.analyses.quiz:DEFAULT_LEVEL"
SHORTEST_SYMBOLIC_MAX = 10  # --symbolic-max below this would cut every expression


def _owned(constant):
    """The value of `constant` ('module:NAME') in the module that owns it, imported now
    rather than at startup."""
    import importlib

    module, _, name = constant.partition(":")
    return getattr(importlib.import_module(module), name)


class _Owned(click.Option):
    """An option whose default (`owned`) or bounds (type=_OwnedRange) are constants of
    the modules that own them, imported only when needed: the bounds when the option is
    given, the default when its feature runs (click sees None: the command applies it),
    and both to print --help."""

    def __init__(self, *args, owned=None, default_note="", **kwargs):
        self.owned, self.default_note = owned, default_note
        super().__init__(*args, **kwargs)

    @property
    def help(self):
        """The help text, ending in '[default: ...]' when the default is owned."""
        if self.owned is None:
            return self._help
        default = _owned(self.owned)
        if isinstance(default, float):  # 0.005 as 5e-3
            mantissa, exponent = f"{default:e}".split("e")
            default = f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
        return f"{self._help}  [default: {default}{self.default_note}]"

    @help.setter
    def help(self, text):
        self._help = text

    def get_help_record(self, ctx):
        """click's help line, and the bounds of an _OwnedRange as click shows its own."""
        spec, text = super().get_help_record(ctx)
        if isinstance(self.type, _OwnedRange):
            text += "  [{}<=x<={}]".format(*self.type.bounds())
        return spec, text


class _OwnedRange(click.ParamType):
    """An integer within a collection of them (a range or tuple) that the module owning
    it states (`owned`: 'module:NAME'), checked as click.IntRange checks it, the module
    imported only when the option is given."""

    name = "integer range"

    def __init__(self, owned):
        self.owned = owned

    def bounds(self):
        """(lowest, highest) allowed."""
        allowed = _owned(self.owned)
        return min(allowed), max(allowed)

    def convert(self, value, param, ctx):
        """`value` as an int within the bounds; a usage error otherwise."""
        return click.IntRange(*self.bounds()).convert(value, param, ctx)


EPILOG = """Functions: {functions}.

More: bpdiff help TOPIC (language, pasting, tensors, kinks, checking, problems, json,
html, completion) prints that part of the README; bpdiff --help-all prints them all.
"""


class _Sectioned(click.Command):
    """click's command with --help in sections (bpdiff.render.help: each option's
    section and each section's examples, imported only to print help), and the inputs
    as --NAME VALUE in the usage line."""

    def collect_usage_pieces(self, ctx):
        """The usage line's pieces: click's, then the inputs."""
        return [*super().collect_usage_pieces(ctx), "[--NAME VALUE]..."]

    def format_options(self, ctx, formatter):
        """The options, section by section, each section with its examples."""
        from bpdiff.render.help import format_sections

        format_sections(self, ctx, formatter)

    def parse_args(self, ctx, args):
        """click's parsing; while completing (resilient parsing), without the --NAME
        VALUE input pairs, which click does not know (main() splits them off itself)."""
        if ctx.resilient_parsing:
            from bpdiff.inputs import split_arguments

            args, ctx.meta["bpdiff.pairs"] = split_arguments(args, _option_arity())
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx, incomplete):
        """click's completions (options), and the program's inputs as --NAME."""
        items = super().shell_complete(ctx, incomplete)
        if incomplete.startswith("-"):
            from bpdiff.render.completion import input_items

            items += input_items(ctx, incomplete)
        return items


def _complete_files(ctx, param, incomplete):
    from bpdiff.render.completion import file_items

    return file_items(ctx, param, incomplete)


def _complete_program(ctx, param, incomplete):
    from bpdiff.render.completion import program_items

    return program_items(ctx, param, incomplete)


def _complete_kink(ctx, param, incomplete):
    from bpdiff.render.completion import kink_items

    return kink_items(ctx, param, incomplete)


def _print_help(ctx, param, value):
    """--help, written through sys.stdout (click's own echo turns an ASCII stdout into
    UTF-8; bpdiff's spells ∂, → and — in ASCII there)."""
    if value and not ctx.resilient_parsing:
        sys.stdout.write(ctx.get_help() + "\n")
        ctx.exit()


def _print_help_all(ctx, param, value):
    """--help-all: --help, then every help topic's text."""
    if value and not ctx.resilient_parsing:
        from bpdiff.render.help import all_topics_text

        sys.stdout.write(ctx.get_help() + "\n\n" + all_topics_text())
        ctx.exit()


@click.command(cls=_Sectioned, context_settings={"help_option_names": []},
               epilog=EPILOG.format(functions=function_list()))
@click.argument("program", required=False, shell_complete=_complete_program)
@click.option("-f", "--file", "file", type=str, metavar="FILE",
              shell_complete=_complete_files,
              help="Read the program from FILE.")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="Give an input's value (repeatable).")
@click.option("--vars", "vars_file", metavar="FILE.json|FILE.npz",
              shell_complete=_complete_files,
              help="Read input values from a JSON object of name -> number or array, or "
              "every array of a NumPy .npz by its name (a single array: --set W=@W.npy).")
@click.option("--output", metavar="NAME", help="Differentiate this named statement "
              "instead of the last one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--precision", type=click.IntRange(1, MAX_PRECISION), default=DEFAULT_PRECISION,
              show_default=True, help="Significant digits in the table.")
@click.option("--no-share", is_flag=True, help="Keep repeated subexpressions as separate nodes.")
@click.option("--no-split", is_flag=True, help="Never read a name with no value as the "
              "product of its letters (bc as b*c).")
@click.option("--explain", is_flag=True,
              help="Narrate the forward and backward pass, edge by edge.")
@click.option("--locals", "show_locals", is_flag=True,
              help="Table of every edge: local derivative, upstream, contribution.")
@click.option("--symbolic", is_flag=True, help="Print each gradient as an expression.")
@click.option("--wrt", metavar="NAMES", help="With --symbolic or --jacobian: these inputs or "
              "named intermediates (comma-separated); with --hessian or --hvp: these inputs.")
@click.option("--symbolic-max", type=click.IntRange(min=SHORTEST_SYMBOLIC_MAX),
              cls=_Owned, owned=SYMBOLIC_MAX, metavar="CHARS",
              help="Longest gradient expression to print.")
@click.option("--dot", "as_dot", is_flag=True, help="Print the graph as Graphviz DOT.")
@click.option("--mermaid", "as_mermaid", is_flag=True,
              help="Print the graph as a Mermaid flowchart (for Markdown pages).")
@click.option("--tree", "as_tree", is_flag=True,
              help="Draw the graph as a tree, output at the top.")
@click.option("--render", "render_path", metavar="FILE.svg|png|pdf",
              shell_complete=_complete_files,
              help="Draw the graph to FILE with Graphviz's dot program.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=DEFAULT_MAX_NODES,
              show_default=True, metavar="N", help="Above this many nodes, summarise the "
              "table and refuse narration and pictures (but see --top and --only).")
@click.option("--all", "--force", "show_all", is_flag=True,
              help="No size limits: every table row, narration and pictures of any size.")
@click.option("--full", is_flag=True, help="Print every element of arrays (by default "
              "those over 12 elements show their shape, min, max and mean).")
@click.option("--max-size", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_MAX_MIB, show_default=True, metavar="MIB",
              help="Refuse programs larger than this.")
@click.option("--max-elements", type=click.IntRange(min=1), default=DEFAULT_MAX_ELEMENTS,
              show_default=True, metavar="N", help="Refuse an array operation whose result "
              "would hold more numbers than this (before it allocates them).")
@click.option("--grad-output", metavar="ARRAY", help="The upstream gradient ∂L/∂output of an "
              "array output, shaped like it (PyTorch's backward(gradient=...)): a nested "
              "list such as '[[1,0],[0,1]]', or @FILE.npy.")
@click.option("--sum-output", is_flag=True, help="Seed an array output with ones: the "
              "gradients of sum(output).")
@click.option("--jacobian", "show_jacobian", is_flag=True, help="Print the Jacobian of the "
              "output (or --of NODE) with respect to each input (or --wrt NAMES), one table "
              "each, rows and columns labelled by element.")
@click.option("--of", metavar="NODE", help="With --jacobian: the named node (or "
              "#ID) whose Jacobian to print, instead of the output.")
@click.option("--expect", "expectations", multiple=True, metavar="KEY=NUMBER",
              help="Check an answer (repeatable): KEY is 'value' (the output), an input or "
              "named intermediate (∂output/∂NAME) or NAME.value; NUMBER a decimal or a "
              "fraction such as -1/4, or an array: W=[[1,2],[3,4]] or dW=@dW.npy (dNAME is "
              "∂output/∂NAME). Exit 1 if a check fails.")
@click.option("--expect-file", "expect_file", metavar="FILE.npz",
              shell_complete=_complete_files, help="Check every array "
              "of a NumPy .npz as an answer, named for what it answers: dNAME or grad_NAME "
              "for ∂output/∂NAME, NAME or 'value' for a value (element by element).")
@click.option("--sig", type=_OwnedRange(SIGS), metavar="N", cls=_Owned, owned=SIG,
              help="An answer passes when it is the true value rounded at the precision "
              "written (-0.20 for -0.19661) with at least N significant digits; fewer "
              "(0.2, an integer such as 3) must be exact.")
@click.option("--rtol", type=float, metavar="R", help="Grade by a tolerance instead: "
              "|expected − got| <= atol + R·max(|expected|, |got|)  [default: 0; arrays "
              "5e-3]")
@click.option("--atol", type=float, metavar="A", help="With the tolerance rule: the "
              "absolute part  [default: 1e-9]")
@click.option("--gradcheck", "run_gradcheck", is_flag=True, help="Compare every gradient "
              "with central finite differences (relative error as in CS231n); exit 1 "
              "above --gradcheck-tol.")
@click.option("--gradcheck-sample", "gradcheck_sample", type=click.IntRange(min=1),
              metavar="K", help="With --gradcheck: only K random elements of each array "
              "input (seeded by --seed, default 0), for big arrays.")
@click.option("--gradcheck-tol", type=float, metavar="T", cls=_Owned,
              owned=GRADCHECK_TOL, help="Largest relative error --gradcheck accepts")
@click.option("--problems", "problems_path", metavar="FILE.toml",
              shell_complete=_complete_files,
              help="Grade a problem set: every [[problem]]'s program, values and expected "
              "answers (see README); with --json, a report for graders.")
@click.option("--quiz", type=_OwnedRange(QUIZ_COUNTS), metavar="N", cls=_Owned,
              help="Print N random backprop exercises with tidy answers.")
@click.option("--level", type=_OwnedRange(QUIZ_LEVELS), metavar="1-3", cls=_Owned,
              owned=QUIZ_LEVEL, help="With --quiz: 1 a couple of gates, 2 shared "
              "subexpressions and several paths, 3 sigmoid/tanh neurons and losses")
@click.option("--seed", type=int, metavar="N", help="With --quiz: the random seed (the same "
              "seed gives the same quiz)  [default: random, printed]; with --gradcheck-sample:"
              " which elements are drawn  [default: 0]")
@click.option("--answers", "answers_path", metavar="FILE.toml",
              shell_complete=_complete_files,
              help="With --quiz: write the answer key, in the --problems format.")
@click.option("--exact", is_flag=True, help="Rational arithmetic: + - * / and integer "
              "powers exact (1/x^2 at x=2 gives -1/4); other functions fall back to floats "
              "(marked ≈).")
@click.option("--kink", "kink", metavar="POLICY", shell_complete=_complete_kink,
              help="The convention where a derivative "
              "does not exist: pytorch (default), jax, zero, one or half, or per op "
              "(relu=one,max=half; see README).")
@click.option("--hessian", is_flag=True, help="Print the Hessian (second derivatives of the "
              "output) with respect to the inputs, or --wrt a,b.")
@click.option("--hvp", metavar="V1,V2,...", help="Print the Hessian times the vector V (one "
              "number per input, or per --wrt name, in that order).")
@click.option("--crosscheck", is_flag=True, help="Recompute the value and gradients with "
              "PyTorch or JAX (if installed) and compare; exit 1 if they disagree.")
@click.option("--crosscheck-tol", type=float, metavar="T", cls=_Owned,
              owned=CROSSCHECK_TOL, help="Largest relative error --crosscheck accepts")
@click.option("--parse", "parse_echo", is_flag=True, help="Print how the program was read, "
              "fully parenthesised, and its node list, without evaluating it (no values "
              "needed).")
@click.option("--format", "sheet_format", type=click.Choice(SHEET_FORMATS), default="text",
              show_default=True, help="The table, --explain, --locals or --symbolic as a "
              "Markdown (GitHub) table, LaTeX (amsmath, booktabs) or CSV (full precision).")
@click.option("--top", type=click.IntRange(min=0), metavar="K", help="A summary of a big "
              "graph keeps the K unnamed nodes with the largest |gradient|"
              f"  [default: {DEFAULT_TOP}]")
@click.option("--only", type=click.Choice(ONLY_CHOICES), help="Table and pictures at any "
              "size: just the output, inputs and named intermediates (pictures collapse the "
              "rest into '… N nodes').")
@click.option("--html", "html_path", metavar="FILE.html", shell_complete=_complete_files,
              help="Write an interactive "
              "report: one self-contained page (graph, step-by-step passes, node table).")
@click.option("--html-practice", "practice_path", metavar="FILE.html",
              shell_complete=_complete_files, help="Write the "
              "report as an exercise: gradients hidden, the page checks each typed answer.")
@click.option("--open", "open_pages", is_flag=True, help="Open the --html or --html-practice "
              "page in the system's web browser once written.")
@click.option("--table", "show_table", is_flag=True, help="Print the node table too when "
              "another output replaces it (--html, --render, --explain, pictures, ...).")
@click.option("--lib", "libs", multiple=True, metavar="FILE",
              shell_complete=_complete_files, help="Load function "
              "definitions (def f(x) = ...) from FILE (repeatable).")
# ---- issue 19: watch mode and progress (bpdiff.watch, bpdiff.progress) ----
@click.option("--watch", is_flag=True, help="With -f FILE: run again whenever FILE (or a "
              "--lib or --vars file) changes, until Ctrl-C.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display, notes or warnings "
              "on stderr (errors are still shown).")
# ----
@click.option("-h", "--help", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_help, help="Show this message and exit.")
@click.option("--help-all", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_help_all, help="Show this message and every help topic "
              "(bpdiff help TOPIC shows one).")
@click.version_option(__version__, "-V", "--version", prog_name="bpdiff")
@click.pass_context
def command(ctx, program, file, assignments, vars_file, output, as_json, precision,
            no_share, no_split, explain, show_locals, symbolic, wrt, symbolic_max, as_dot, as_mermaid,
            as_tree, render_path, max_nodes, show_all, full, max_size, max_elements,
            expectations, expect_file, sig, rtol, atol,
            run_gradcheck, gradcheck_sample, gradcheck_tol, problems_path, quiz, level, seed,
            answers_path, exact, kink, hessian, hvp, crosscheck, crosscheck_tol, parse_echo,
            sheet_format, top, only, html_path, practice_path, open_pages, show_table, libs,
            grad_output, sum_output, show_jacobian, of, watch, quiet):
    """Differentiate PROGRAM and show every node's value and gradient, its inputs
    given as --NAME VALUE:

    \b
      bpdiff "(a+b)*b^3" --a 7 --b 3
    """
    from bpdiff.inputs import collect_values, read_program

    ctx.obj["quiet"] = quiet
    if watch:
        return _watch(ctx, file, (vars_file, *libs), quiet)
    checks_given = bool(expectations or expect_file or problems_path is not None
                        or practice_path)
    rtol, atol, gradcheck_tol, crosscheck_tol = (
        _tolerance(name, value, default if used else None) for name, value, default, used in (
            ("--rtol", rtol, None, False), ("--atol", atol, None, False),
            ("--gradcheck-tol", gradcheck_tol, GRADCHECK_TOL, run_gradcheck),
            ("--crosscheck-tol", crosscheck_tol, CROSSCHECK_TOL, crosscheck)))
    if sig is not None and (rtol is not None or atol is not None):
        raise BpdiffError("--sig grades by the digits written; --rtol and --atol by a"
                          " tolerance: give one or the other")
    rule = _rule(sig, rtol, atol) if checks_given else None
    if symbolic and symbolic_max is None:
        symbolic_max = _owned(SYMBOLIC_MAX)
    pictures = as_dot or as_mermaid or as_tree or render_path
    _check_extras(parse_echo, sheet_format, (top, only, show_all), {
        "--json": as_json, "--explain": explain, "--locals": show_locals,
        "--symbolic": symbolic, "--expect": bool(expectations or expect_file),
        "--gradcheck": run_gradcheck,
        "pictures": pictures, "--exact": exact, "--quiz": quiz is not None,
        "--problems": problems_path is not None, "--hessian": hessian,
        "--hvp": hvp is not None, "--crosscheck": crosscheck, "--jacobian": show_jacobian})
    _check_modifiers(ctx, {
        "--wrt": (symbolic or hessian or hvp is not None or show_jacobian,
                  "--symbolic, --hessian, --hvp or --jacobian"),
        "--of": (show_jacobian, "--jacobian"),
        "--symbolic-max": (symbolic, "--symbolic"),
        "--sig": (checks_given, "--expect, --problems or --html-practice"),
        "--rtol": (checks_given, "--expect, --problems or --html-practice"),
        "--atol": (checks_given, "--expect, --problems or --html-practice"),
        "--gradcheck-tol": (run_gradcheck, "--gradcheck"),
        "--gradcheck-sample": (run_gradcheck, "--gradcheck"),
        "--crosscheck-tol": (crosscheck, "--crosscheck"),
        "--open": (html_path is not None or practice_path is not None,
                   "--html or --html-practice"),
        "--table": (not (as_json or quiz is not None or problems_path is not None
                         or parse_echo), "a run that prints a table (not --json, --quiz,"
                    " --problems or --parse)")})
    if as_json:  # stdout holds one JSON object: nothing else may print there
        _refuse_with("--json", {
            "--dot, --mermaid or --tree": bool(as_dot or as_mermaid or as_tree),
            "--top or --only (without --render)":
                (top is not None or only is not None) and not render_path},
            "--json lists every node; --render FILE draws a picture beside it")
    if quiz is None and (level is not None or answers_path is not None or
                         seed is not None and not gradcheck_sample):
        raise BpdiffError("--level, --seed and --answers go with --quiz N (--seed also"
                          " with --gradcheck-sample K)")
    if quiz is not None or problems_path is not None:
        mode = "--quiz" if quiz is not None else "--problems"
        _refuse_with(mode, {
            "PROGRAM": program is not None or file is not None,
            "input values": bool(ctx.obj["pairs"] or assignments or vars_file),
            "--problems": quiz is not None and problems_path is not None,
            "--output": output is not None,
            "--expect or --expect-file": bool(expectations or expect_file),
            "--gradcheck": run_gradcheck, "--no-share": no_share, "--kink": kink is not None,
            "--hessian, --hvp or --crosscheck": bool(hessian or hvp is not None or crosscheck),
            "--explain, --locals, --symbolic or pictures": bool(
                explain or show_locals or symbolic or as_dot or as_mermaid or as_tree
                or render_path),
            "--json or --exact": quiz is not None and (as_json or exact), "--lib": bool(libs),
            "--grad-output, --sum-output or --jacobian": bool(
                grad_output is not None or sum_output or show_jacobian)})
    _check_outputs({"--html": html_path, "--html-practice": practice_path,
                    "--render": render_path, "--answers": answers_path},
                   {"-f": [file], "--vars": [vars_file], "--lib": libs,
                    "--problems": [problems_path],
                    "--expect": _answer_files(expectations),
                    "--expect-file": [expect_file]})
    if quiz is not None:
        return _run_quiz(quiz, level, seed, answers_path)
    if problems_path is not None:
        return _run_problems(ctx, problems_path, rule, exact, as_json, precision,
                             max_elements)
    progress = ctx.obj["progress"]
    progress("reading", None)
    text = read_program(program, file, max_size)
    if parse_echo:  # values are not read: their names only decide whether e is an input
        given = collect_values(ctx.obj["pairs"], assignments, None, max_elements)
        return _parse_echo(text, output, not no_share, as_json, None if show_all else max_nodes,
                           given, not no_split)
    values = collect_values(ctx.obj["pairs"], assignments, vars_file, max_elements)
    checks = None
    if expectations or expect_file:
        from bpdiff.analyses.expect import file_expectations, parse_expectation
        expectations = [parse_expectation(item, max_elements) for item in expectations]
        if expect_file:
            expectations += file_expectations(expect_file, max_elements)
    from bpdiff.api import differentiate
    from bpdiff.inputs import array_argument

    grad_output = array_argument("--grad-output", grad_output, max_elements)
    needs_edges = bool(explain or show_locals or as_dot or as_mermaid or render_path
                       or html_path or practice_path or expectations)  # result.edges' readers
    try:
        result = differentiate(text, values, output=output, share=not no_share, kink=kink,
                               lib=libs, exact=exact, edges=needs_edges,
                               max_elements=max_elements, split=not no_split,
                               progress=progress, grad_output=grad_output,
                               sum_output=sum_output)
    except BpdiffError as error:
        raise _with_option_clashes(ctx, error) from None
    progress("writing", len(result.graph))
    if result.tensor:
        _tensor_checks(result, {"--symbolic": symbolic,
                                "--hessian": hessian, "--hvp": hvp is not None,
                                "--crosscheck": crosscheck,
                                "--format latex": sheet_format == "latex"})
    _require_gradients(result, {"--locals": show_locals, "--html": html_path,
                                "--html-practice": practice_path})
    jacobians = None
    if show_jacobian:
        from bpdiff.analyses.jacobian import jacobians as jacobians_of
        jacobians = jacobians_of(result, of, _names(wrt),
                                 None if show_all else max_nodes)
    if expectations:
        from bpdiff.analyses.expect import check
        checks = check(result, expectations, rule)
    grad_rows = None
    if run_gradcheck:
        from bpdiff.analyses.gradcheck import gradcheck
        grad_rows = gradcheck(result, gradcheck_tol, force=show_all,
                              sample=gradcheck_sample, seed=seed or 0)
    for note in result.graph.notes:
        _warn(note)
    if not result.output_is_scalar:
        from bpdiff.api import seed_note
        note = seed_note(result, jacobian=show_jacobian)
        if note:
            _warn(note)
    if result.nonfinite or result.kinks:
        from bpdiff.render.nonfinite import describe_kink, describe_nonfinite
        for finding in result.nonfinite:
            _warn(describe_nonfinite(result, finding))
        for node in result.kinks:
            _warn(describe_kink(result, node))
    if (explain or show_locals) and len(result.graph) > max_nodes and not show_all:
        raise BpdiffError(f"the graph has {len(result.graph):,} nodes, more than --max-nodes"
                          f" {max_nodes}: narration would flood the terminal",
                          hint="add --force to make it anyway")
    if (html_path or practice_path) and not show_all:
        _check_report_size(result)
    if practice_path and result.tensor:
        _check_practice_arrays(result)
    for path, practice in ((html_path, False), (practice_path, True)):
        if path is not None:
            from bpdiff.outputs import write_text
            from bpdiff.render.html import report
            write_text(path, report(result, practice, precision, None if show_all
                                     else max_nodes, rule))
            _wrote(path)
            if open_pages:
                _open_page(path)
    view = None
    if pictures:
        from bpdiff.render.collapse import picture_view
        view = picture_view(result, None if show_all else max_nodes, top, only)
    if render_path:
        from bpdiff.render.pictures import dot, render_file
        render_file(dot(result, precision, view), render_path)
        _wrote(render_path)
    curvature = cross = None
    if hessian or hvp is not None:
        from bpdiff.analyses.hessian import curvature_of
        curvature = curvature_of(result, hessian, hvp, _names(wrt), force=show_all)
    if crosscheck:
        from bpdiff.analyses.crosscheck import crosscheck as crosscheck_of
        cross = crosscheck_of(result, crosscheck_tol)
    gradients = None
    if symbolic:
        from bpdiff.render.gradients import symbolic_gradients
        gradients = symbolic_gradients(result, _names(wrt), symbolic_max)
    if sheet_format != "text":
        from bpdiff.render.sheets import sheet
        text, note = sheet(result, sheet_format, precision, (None if show_all else max_nodes,
                           top, only), explain, show_locals, gradients, symbolic_max)
        _write(text)
        if note:  # CSV has no room for it
            _warn(note)
        return None
    if as_json:
        from bpdiff.render.json import pieces
        for piece in pieces(result, explain=explain, locals_=show_locals, symbolic=gradients,
                            checks=checks, gradcheck=None if grad_rows is None
                            else (grad_rows, gradcheck_tol), curvature=curvature,
                            crosscheck=cross, jacobians=jacobians):
            sys.stdout.write(piece)
        sys.stdout.flush()
        return _verdict(ctx, checks, grad_rows, cross)
    if show_table or not (explain or show_locals or symbolic or pictures or hessian
                          or hvp is not None or html_path or practice_path or show_jacobian):
        _print_table(result, precision, None if show_all else max_nodes, top, only, full)
    if jacobians is not None:
        from bpdiff.render.jacobian import jacobian_text
        _write(jacobian_text(result, jacobians, precision))
    if explain:
        from bpdiff.render.explain import explain_text
        _write(explain_text(result, precision))
    if show_locals:
        _print_locals(result, precision)
    if symbolic:
        from bpdiff.render.gradients import symbolic_text
        _write(symbolic_text(result, gradients, symbolic_max))
    if as_dot:
        from bpdiff.render.pictures import dot
        _write(dot(result, precision, view))
    if as_mermaid:
        from bpdiff.render.pictures import mermaid
        _write(mermaid(result, precision, view))
    if as_tree:
        _print_tree(result, precision, view)
    if checks is not None:
        from bpdiff.render import expect_report
        _print(expect_report.checks_rich(result, checks, precision) if _use_rich()
               else expect_report.checks_plain(result, checks, precision))
    if grad_rows is not None:
        from bpdiff.render import gradcheck_report
        _print(gradcheck_report.gradcheck_rich(result, grad_rows, gradcheck_tol, precision)
               if _use_rich() else
               gradcheck_report.gradcheck_plain(result, grad_rows, gradcheck_tol, precision))
    if curvature is not None:
        from bpdiff.render import hessian as render_hessian
        _print(render_hessian.rich(result, curvature, precision) if _use_rich()
               else render_hessian.plain(result, curvature, precision))
    if cross is not None:
        from bpdiff.render import crosscheck as render_cross
        _print(render_cross.crosscheck_rich(result, cross) if _use_rich()
               else render_cross.crosscheck_plain(result, cross))
    return _verdict(ctx, checks, grad_rows, cross)


def _require_gradients(result, options):
    """Refuse the options given (option -> given) that read gradients, on a result with
    none (an array output given neither --grad-output nor --sum-output)."""
    from bpdiff.api import require_gradients

    for option, given in options.items():
        if given:
            require_gradients(result, option)


def _tensor_checks(result, options):
    """Refuse what tensor programs do not support yet."""
    refused = [option for option, given in options.items() if given]
    if refused:
        verb = "works" if len(refused) == 1 else "work"
        raise BpdiffError(f"{', '.join(refused)} {verb} on scalar programs, not on arrays")


def _check_extras(parse_echo, sheet_format, summary, given):
    """Usage errors of --parse, --format, --top and --only (`given`: option -> present)."""
    top, only, show_all = summary
    if show_all and (top is not None or only is not None):
        raise BpdiffError("--all shows every node; it does not go with --top or --only")
    if parse_echo:
        _refuse_with("--parse", {**given, "--json": False, "--format": sheet_format != "text",
                                 "--top or --only": top is not None or only is not None},
                     "--parse reads the program without evaluating it")
    if sheet_format != "text":
        clashes = {k: v for k, v in given.items() if k not in ("--explain", "--locals",
                                                                "--symbolic", "--exact")}
        if sheet_format == "csv":
            clashes["--explain"] = given["--explain"]
            clashes["--locals with --symbolic"] = given["--locals"] and given["--symbolic"]
        _refuse_with(f"--format {sheet_format}", clashes, "--format shapes the table,"
                     " --explain, --locals and --symbolic (CSV: one of them at a time)")


def _check_modifiers(ctx, modes):
    """Refuse an option that changes what another does, given without it (it would do
    nothing). `modes`: option -> (whether one of the options it serves is given, their
    names)."""
    params = {opt: param.name for param in ctx.command.params for opt in param.opts}
    for option, (served, names) in modes.items():
        source = ctx.get_parameter_source(params[option])
        if not served and source is not click.core.ParameterSource.DEFAULT:
            raise BpdiffError(f"{option} goes with {names}")


def _with_option_clashes(ctx, error):
    """`error` with its hint for missing values worded so that it works: an input named
    like one of bpdiff's own options (top, precision, output, ...) is given with --set."""
    missing = getattr(error, "missing", None)
    if not missing:
        return error
    options = {name for param in ctx.command.params for name in param.opts}
    clashing = [name for name in missing if f"--{name}" in options]
    if not clashing:
        return error
    given = [f"--set {name}=1" if name in clashing else f"--{name} 1" for name in missing]
    error.hint = (f"give one, e.g. {' '.join(given)} (--{clashing[0]} is one of bpdiff's"
                  " own options, so the value goes with --set)")
    return error


def _parse_echo(text, output, share, as_json, max_rows, given, split):
    from bpdiff.api import split_names
    from bpdiff.language.parse import parse
    from bpdiff.render import echo

    reading = parse(text, share=False, output=output, prune=False, given=given)
    splits = split_names(reading, given) if split else None
    if splits:
        reading = parse(text, share=False, output=output, prune=False, given=given,
                        splits=splits)
    graph = parse(text, share=share, output=output, given=given, splits=splits)
    for note in graph.notes:
        _warn(note)
    if as_json:
        _write(echo.echo_json(text, reading, graph), raw=True)
    else:
        _write(echo.echo_text(reading, graph, max_rows))


def _rule(sig, rtol, atol):
    """The grading rule of --expect, --problems and --html-practice."""
    from bpdiff.analyses.expect import Rule

    return Rule(rtol=rtol, atol=atol) if sig is None else Rule(sig=sig)


def _tolerance(name, value, owned_default):
    """A tolerance option's value, checked; when not given, the default its owner
    states ('module:NAME'; None: the option's feature does not run, so None)."""
    import math

    if value is None:
        return None if owned_default is None else _owned(owned_default)
    if not (math.isfinite(value) and value >= 0):
        raise BpdiffError(f"{name} must be a finite number >= 0, not {value}")
    return value


def _refuse_with(mode, clashes, hint="--problems FILE.toml holds its own programs and"
                 " values; --quiz N makes its own"):
    given = [name for name, present in clashes.items() if present]
    if given:
        raise BpdiffError(f"{mode} does not take {', '.join(given)}", hint=hint)


def _names(wrt):
    return [n.strip() for n in wrt.split(",") if n.strip()] if wrt else None


def _verdict(ctx, checks, grad_rows, cross=None):
    """Exit 1, with a line on stderr, when a check, the gradient check or the
    cross-check failed."""
    failures = []
    if checks is not None and not all(c.passed for c in checks):
        from bpdiff.render.expect_report import summary_line
        failures.append(summary_line(checks))
    if grad_rows is not None and any(row.status == "fail" for row in grad_rows):
        failed = [row.name for row in grad_rows if row.status == "fail"]
        failures.append(f"gradcheck failed for {', '.join(failed)}")
    if cross is not None and not cross.passed:
        failed = [row.name for row in cross.rows if not row.passed]
        failures.append(f"crosscheck failed for {', '.join(failed)}")
    if failures:
        from bpdiff.terminal import say

        say(f"bpdiff: {'; '.join(failures)}")
        ctx.exit(1)


def _run_problems(ctx, path, rule, exact, as_json, precision, max_elements):
    from bpdiff.analyses.problems import grade, read
    from bpdiff.render import problems_report

    problems, tolerances = read(path, max_elements)
    graded = grade(problems, tolerances, rule, exact, where=path)
    if as_json:
        _write(problems_report.problems_json(graded, path, precision), raw=True)
    elif _use_rich():
        from rich.console import Console
        from rich.text import Text

        text = problems_report.problems_plain(_shown_names(graded), precision)
        Console(highlight=False).print(Text(text.rstrip("\n")))
    else:
        _write(problems_report.problems_plain(_shown_names(graded), precision))
    if not all(g.passed for g in graded):
        from bpdiff.terminal import say

        failed = [g.problem.name for g in _shown_names(graded) if not g.passed]
        say(f"bpdiff: {len(failed)} of {len(graded)} problems failed: {', '.join(failed)}")
        ctx.exit(1)


def _shown_names(graded, limit=80):
    """`graded` with each problem's name as a terminal may show it: control characters
    escaped, a long name cut in the middle."""
    from bpdiff.errors import printable

    return [g._replace(problem=g.problem._replace(name=printable(g.problem.name, limit)))
            for g in graded]


def _run_quiz(count, level, seed, answers_path):
    import random

    from bpdiff.analyses.quiz import DEFAULT_LEVEL, generate
    from bpdiff.render.quiz_sheet import answers_toml, quiz_text

    level = DEFAULT_LEVEL if level is None else level
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    quiz = generate(count, seed, level)
    if answers_path is not None:
        from bpdiff.outputs import write_text
        write_text(answers_path, answers_toml(quiz, level, seed))
        _wrote(answers_path)
    _write(quiz_text(quiz, level, seed))


def _check_report_size(result):
    """Refuse an --html page that would hold too many numbers (big arrays)."""
    from bpdiff.engine.sizes import total_elements
    from bpdiff.render.html import MAX_NUMBERS

    numbers = total_elements(result.values)
    if numbers > MAX_NUMBERS:
        raise BpdiffError(f"the report would hold {numbers:,} values and as many gradients,"
                          f" more than {MAX_NUMBERS:,}: too big a page to open",
                          hint="add --force to write it anyway")


def _answer_files(expectations):
    """The files that --expect items name: KEY=@FILE.npy (and a bare @FILE)."""
    texts = [e if e.startswith("@") else e.partition("=")[2].strip() for e in expectations]
    return [text[1:] for text in texts if text.startswith("@")]


def _check_practice_arrays(result):
    """Refuse a practice page whose answers would be arrays too big to type."""
    from bpdiff.language.labels import label
    from bpdiff.numbers import SMALL_ARRAY, shape_text

    for node, value in enumerate(result.values):
        if value.size > SMALL_ARRAY:
            raise BpdiffError(f"--html-practice asks for every node's gradient, and"
                              f" {label(result.graph, node)} has {value.size} elements"
                              f" (shape {shape_text(value.shape)}), more than"
                              f" {SMALL_ARRAY} to type",
                              hint=f"give the inputs smaller arrays (at most {SMALL_ARRAY}"
                              " elements in every node), or write the report without the"
                              " exercise: --html FILE.html")
    return None


def _check_outputs(outputs, inputs):
    """Refuse, before anything is written, an output file that is an input or another
    output, cannot be written, or (--render) has no picture format or no Graphviz.
    `outputs`: option -> path or None; `inputs`: option -> paths (None: not given)."""
    given = [(option, path) for option, path in outputs.items() if path is not None]
    if not given:
        return
    from bpdiff.outputs import check_paths

    check_paths(given, [(option, path) for option, paths in inputs.items()
                        for path in paths if path is not None])
    if outputs["--render"] is not None:
        from bpdiff.render.pictures import check_render_path
        check_render_path(outputs["--render"])


def _print(renderables):
    """Text, or rich renderables on a terminal."""
    if isinstance(renderables, str):
        _write(renderables)
        return
    from rich.console import Console

    console = Console(highlight=False)
    for renderable in renderables:
        console.print(renderable)


def _print_tree(result, precision, view=None):
    from rich.console import Console

    from bpdiff.render.pictures import tree

    try:
        drawing = tree(result, precision, view=view)
    except ValueError as error:
        raise BpdiffError(str(error)) from None
    plain = not _use_rich()
    Console(no_color=plain, highlight=False, soft_wrap=plain,  # piped: no 80-column crop
            width=100_000 if plain else None).print(drawing)


def _print_locals(result, precision):
    from bpdiff.render.explain import LOCALS_COLUMNS, locals_rows
    from bpdiff.render.table import plain_rows

    rows = locals_rows(result, precision)
    if _use_rich():
        from rich.console import Console
        from rich.table import Table

        table = Table(title="local gradients (one row per edge, backward order)")
        for column in LOCALS_COLUMNS:
            table.add_column(column, justify="right" if column in ("local", "upstream",
                                                                   "contribution") else "left")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    else:
        _write(plain_rows(LOCALS_COLUMNS, rows, numeric={"local", "upstream", "contribution"}))


def _use_rich():
    """Colours and boxes: on a terminal wide enough for them, without NO_COLOR."""
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return False
    from bpdiff.terminal import rich_fits

    return rich_fits()


def _print_table(result, precision, max_rows, top=None, only=None, full=False):
    from bpdiff.render import table

    if _use_rich():
        from rich.console import Console

        console = Console()
        for renderable in table.rich_table(result, precision, max_rows, top, only, full):
            console.print(renderable)
    else:
        _write(table.plain(result, precision, max_rows, top, only, full))


def _write(text, raw=False):
    """Text for stdout, control characters in it escaped (see errors.printable);
    `raw` (JSON, whose strings escape their own) as it is."""
    from bpdiff.errors import printable

    sys.stdout.write(text if raw else printable(text))
    sys.stdout.flush()


def _wrote(path):
    """Say on stderr which file was written and how big it is, unless --quiet."""
    from bpdiff.outputs import wrote_note
    from bpdiff.terminal import say

    ctx = click.get_current_context(silent=True)
    if ctx is None or not (ctx.obj or {}).get("quiet"):
        say(f"bpdiff: {wrote_note(path)}")


def _open_page(path):
    """Open a written page in the system's web browser (webbrowser: $BROWSER, else the
    platform's opener); a warning when there is none."""
    import pathlib
    import webbrowser

    try:
        opened = webbrowser.open(pathlib.Path(path).resolve().as_uri())
    except webbrowser.Error:
        opened = False
    if not opened:
        _warn(f"no web browser could be started: open {path} yourself")


def _warn(message):
    """A note or warning on stderr, unless --quiet."""
    from bpdiff.terminal import say

    ctx = click.get_current_context(silent=True)
    if ctx is None or not (ctx.obj or {}).get("quiet"):
        say(f"bpdiff: warning: {message}")


# ---- issue 19: --watch, --quiet and the progress display ------------------------------


def _watch(ctx, file, other_files, quiet):
    """--watch: this command without --watch, run now and whenever -f FILE, --vars or
    a --lib file changes (bpdiff.watch), each run's errors said as usual; 0 at Ctrl-C."""
    if file is None or file == "-":
        raise BpdiffError("--watch goes with -f FILE: it runs again when the file changes")
    from bpdiff.watch import watch

    argv = [arg for arg in ctx.obj["argv"] if arg != "--watch"]
    return watch([file, *other_files], lambda: run(argv, watching=True), quiet)


def _progress(ctx):
    """The run's progress callback and display (bpdiff.progress, imported only then):
    shown for a long run when stderr is a terminal, not with --quiet, nor around a
    whole --watch (each of its runs has its own)."""
    import contextlib

    params = ctx.params
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or closed
        terminal = False
    if params.get("quiet") or params.get("watch") or not terminal:
        return contextlib.nullcontext(_no_progress)
    from bpdiff.progress import Progress

    return Progress()


def _no_progress(phase, count=None, unit="nodes"):
    """The progress callback of a run that shows none."""


def _option_arity():
    """Each option string of the command -> whether it takes a value."""
    arity = {"-h": False, "--help": False}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                arity[name] = not (param.is_flag or param.count)
    return arity


def main(argv=None):
    """Entry point of the `bpdiff` script and `python -m bpdiff` (argv None: the process
    is bpdiff's own), and of tests (argv a list). Ends the process (SystemExit, or
    os._exit in its own) with the exit code; every error as one message on stderr."""
    from bpdiff.terminal import prepare_streams

    own_process = argv is None
    if own_process:  # the graph's lists and tuples hold no cycles, so the cyclic
        gc.disable()  # collector would only rescan the growing heap
        prepare_streams()
    if COMPLETE_VAR in os.environ:  # the shell asks for completions
        code = _complete(os.environ[COMPLETE_VAR])
        if own_process:
            _exit_now(code)
        sys.exit(code)
    argv = sys.argv[1:] if argv is None else list(argv)
    code = run(argv, own_process)
    if own_process:
        _exit_now(code)
    sys.exit(code)


def run(argv, own_process=False, watching=False):
    """Run the command on `argv` and return its exit code, every error said on stderr;
    `watching` (a run of --watch): Ctrl-C is raised, for the watch to end."""
    from bpdiff.inputs import split_arguments
    from bpdiff.terminal import say

    try:
        if _asks_for_help(argv):
            code = _help_topic(argv[1] if len(argv) == 2 else None)
            if own_process:
                _exit_now(code)
            sys.exit(code)
        own, pairs = split_arguments(argv, _option_arity())
        with command.make_context("bpdiff", own, obj={"pairs": pairs, "argv": argv}) as ctx:
            with _progress(ctx) as progress:
                ctx.obj["progress"] = progress
                code = command.invoke(ctx)  # not command.main(): its EPIPE handling exits 1
        code = code if type(code) is int else 0
    except BpdiffError as error:
        say(f"bpdiff: error: {error}")
        code = error.exit_code
    except click.exceptions.Exit as done:  # --help, --version; ctx.exit(1): a check failed
        code = done.exit_code
    except click.ClickException as error:
        say(_usage_error(error))
        code = error.exit_code
    except click.Abort:
        say("bpdiff: aborted")
        code = 2
    except KeyboardInterrupt:
        if watching:
            raise
        code = interrupted(own_process)
    except BrokenPipeError:
        _quiet_stdout()
        code = 0
    except OSError as error:  # stdout on a full disk, an I/O error
        say(f"bpdiff: error: {_os_error(error)}")
        _quiet_stdout()  # what is still buffered would fail again at the end
        code = 2
    return code


COMPLETE_VAR = "_BPDIFF_COMPLETE"


def _complete(instruction):
    """click's shell completion: `bash_source` (zsh_source, fish_source) prints the
    script a shell evaluates; `bash_complete` (...) the completions of COMP_WORDS and
    COMP_CWORD. See bpdiff.render.completion."""
    from click.shell_completion import shell_complete

    try:
        return shell_complete(command, {}, "bpdiff", COMPLETE_VAR, instruction)
    except Exception:  # noqa: BLE001 - a half-typed line must never print a traceback
        return 1


def _asks_for_help(argv):
    """`bpdiff help` or `bpdiff help TOPIC`: `help` as the first argument, alone or with
    one more argument that is not an option. No program is lost: `help` alone would be
    an input without a value, and a program takes no second argument; `bpdiff help
    --set help=1` (any option after it) is still the program `help`."""
    return bool(argv) and argv[0] == "help" and (
        len(argv) == 1 or len(argv) == 2 and not argv[1].startswith("-"))


def _help_topic(topic):
    """Print the topics (None) or one topic's text; exit code 2 for an unknown one."""
    from bpdiff.errors import did_you_mean
    from bpdiff.render.help import TOPICS, topic_text, topics_text
    from bpdiff.terminal import say

    if topic is None:
        sys.stdout.write(topics_text())
        return 0
    if topic not in TOPICS:
        say(f"bpdiff: error: no help topic {topic!r}{did_you_mean(topic, list(TOPICS))}"
            f"; topics: {', '.join(TOPICS)}")
        return 2
    sys.stdout.write(topic_text(topic))
    return 0


def interrupted(own_process=True):
    """Ctrl-C: one line on stderr and exit code 130 (a second Ctrl-C is ignored in
    bpdiff's own process while it ends)."""
    import signal

    from bpdiff.terminal import say

    if own_process:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    say("bpdiff: interrupted")
    return 130


def _usage_error(error):
    """click's usage message (usage line, hint, error) as text."""
    import io

    buffer = io.StringIO()
    error.show(file=buffer)
    return buffer.getvalue().rstrip("\n")


def _os_error(error):
    reason = error.strerror or str(error)
    if error.filename is not None:
        return f"{error.filename}: {reason}"
    return f"cannot write the output: {reason}"


def _quiet_stdout():
    """The reader went away (`bpdiff ... | head`): stop quietly, as other tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's stream), or closed
        pass


def _exit_now(code):
    """Flush the output and end the process without freeing every object one by one
    (as mypy's hard_exit does): a big graph's teardown is pure waste. Nothing here
    registers atexit handlers or needs finalizers; files are closed where written."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except OSError as error:  # a full disk: the output is incomplete
        from bpdiff.terminal import say

        say(f"bpdiff: error: {_os_error(error)}")
        code = code or 2
    except ValueError:  # stdout closed
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)
