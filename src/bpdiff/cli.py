"""The `bpdiff` command: options in, renderer out, errors to exit codes.

Exit codes: 0 ok, 1 a requested check failed, 2 bad input or usage. Results go to
stdout, diagnostics to stderr; on error nothing is written to stdout.
"""

import gc
import os
import sys

import click

from bpdiff.version import __version__
from bpdiff.errors import BpdiffError
from bpdiff.engine.ops import function_list
from bpdiff.render.selection import ONLY_CHOICES
from bpdiff.render.sheets import SHEET_FORMATS

EXAMPLES = """\b
Examples:
  bpdiff "(a+b)*b^3" --a 7 --b 3
  bpdiff "c(a+2b)" --a 3 --b 1 --c -2 --json
  bpdiff "d = 2b; e = a + d; L = c*e" --set a=3 --set b=1 --set c=-2
  bpdiff -f examples/sigmoid_neuron.bp
  echo "sigmoid(w*x + b)" | bpdiff - --w 2 --x -1 --b 0.5
  bpdiff "def sq(x) = x*x; sq(a - b)" --a 3 --b 1

\b
Inputs are given as --NAME VALUE, --NAME=VALUE or --set NAME=VALUE (for names that
clash with an option), or in --vars FILE.json. A program may declare defaults: a = 7.
Functions: {functions}.
"""


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog=EXAMPLES.format(functions=function_list()))
@click.argument("program", required=False)
@click.option("-f", "--file", "file", type=str, metavar="FILE",
              help="Read the program from FILE.")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="Give an input's value (repeatable).")
@click.option("--vars", "vars_file", metavar="FILE.json",
              help="Read input values from a JSON object of name -> number.")
@click.option("--output", metavar="NAME", help="Differentiate this named statement "
              "instead of the last one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--precision", type=click.IntRange(1, 17), default=6, show_default=True,
              help="Significant digits in the table.")
@click.option("--no-share", is_flag=True, help="Keep repeated subexpressions as separate nodes.")
@click.option("--explain", is_flag=True,
              help="Narrate the forward and backward pass, edge by edge.")
@click.option("--locals", "show_locals", is_flag=True,
              help="Table of every edge: local derivative, upstream, contribution.")
@click.option("--symbolic", is_flag=True, help="Print each gradient as an expression.")
@click.option("--wrt", metavar="NAMES", help="With --symbolic: these inputs or named "
              "intermediates (comma-separated); with --hessian or --hvp: these inputs.")
@click.option("--symbolic-max", type=click.IntRange(min=10), default=2000, show_default=True,
              metavar="CHARS", help="Longest gradient expression to print.")
@click.option("--dot", "as_dot", is_flag=True, help="Print the graph as Graphviz DOT.")
@click.option("--mermaid", "as_mermaid", is_flag=True,
              help="Print the graph as a Mermaid flowchart (for Markdown pages).")
@click.option("--tree", "as_tree", is_flag=True,
              help="Draw the graph as a tree, output at the top.")
@click.option("--render", "render_path", metavar="FILE.svg|png|pdf",
              help="Draw the graph to FILE with Graphviz's dot program.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=200, show_default=True,
              metavar="N", help="Above this many nodes, summarise the table and refuse "
              "narration and pictures (but see --top and --only).")
@click.option("--all", "--force", "show_all", is_flag=True,
              help="No size limits: every table row, narration and pictures of any size.")
@click.option("--full", is_flag=True, help="Print every element of arrays (by default "
              "those over 12 elements show their shape, min, max and mean).")
@click.option("--max-size", type=click.FloatRange(min=0, min_open=True), default=64,
              show_default=True, metavar="MIB", help="Refuse programs larger than this.")
@click.option("--expect", "expectations", multiple=True, metavar="KEY=NUMBER",
              help="Check an answer (repeatable): KEY is 'value' (the output), an input or "
              "named intermediate (∂output/∂NAME) or NAME.value; NUMBER a decimal or a "
              "fraction such as -1/4. Exit 1 if a check fails.")
@click.option("--rtol", type=float, metavar="R", help="Relative tolerance of the checks, "
              "against max(|expected|, |got|); NUMBER's last written digit must be right "
              "too  [default: 5e-3: an answer rounded to 3 significant digits passes, one "
              "wrong in the 2nd digit fails]")
@click.option("--atol", type=float, metavar="A", help="Absolute tolerance of the checks  "
              "[default: 1e-9]")
@click.option("--gradcheck", "run_gradcheck", is_flag=True, help="Compare every gradient "
              "with central finite differences (relative error as in CS231n); exit 1 "
              "above --gradcheck-tol.")
@click.option("--gradcheck-tol", type=float, metavar="T",
              help="Largest relative error --gradcheck accepts  [default: 1e-6]")
@click.option("--problems", "problems_path", metavar="FILE.toml",
              help="Grade a problem set: every [[problem]]'s program, values and expected "
              "answers (see README); with --json, a report for graders.")
@click.option("--quiz", type=click.IntRange(1, 1000), metavar="N",
              help="Print N random backprop exercises with tidy answers.")
@click.option("--level", type=click.IntRange(1, 3), metavar="1-3", help="With --quiz: 1 "
              "a couple of gates, 2 shared subexpressions and several paths, 3 sigmoid/tanh "
              "neurons and losses  [default: 1]")
@click.option("--seed", type=int, metavar="N", help="With --quiz: the random seed (the same "
              "seed gives the same quiz)  [default: random, printed]")
@click.option("--answers", "answers_path", metavar="FILE.toml",
              help="With --quiz: write the answer key, in the --problems format.")
@click.option("--exact", is_flag=True, help="Rational arithmetic: + - * / and integer "
              "powers exact (1/x^2 at x=2 gives -1/4); other functions fall back to floats "
              "(marked ≈).")
@click.option("--kink", "kink", metavar="POLICY", help="The convention where a derivative "
              "does not exist: pytorch (default), jax, zero, one or half, or per op "
              "(relu=one,max=half; see README).")
@click.option("--hessian", is_flag=True, help="Print the Hessian (second derivatives of the "
              "output) with respect to the inputs, or --wrt a,b.")
@click.option("--hvp", metavar="V1,V2,...", help="Print the Hessian times the vector V (one "
              "number per input, or per --wrt name, in that order).")
@click.option("--crosscheck", is_flag=True, help="Recompute the value and gradients with "
              "PyTorch or JAX (if installed) and compare; exit 1 if they disagree.")
@click.option("--crosscheck-tol", type=float, metavar="T", help="Largest relative error "
              "--crosscheck accepts  [default: 1e-9]")
@click.option("--parse", "parse_echo", is_flag=True, help="Print how the program was read, "
              "fully parenthesised, and its node list, without evaluating it (no values "
              "needed).")
@click.option("--format", "sheet_format", type=click.Choice(SHEET_FORMATS), default="text",
              show_default=True, help="The table, --explain, --locals or --symbolic as a "
              "Markdown (GitHub) table, LaTeX (amsmath, booktabs) or CSV (full precision).")
@click.option("--top", type=click.IntRange(min=0), metavar="K", help="A summary of a big "
              "graph keeps the K unnamed nodes with the largest |gradient|  [default: 10]")
@click.option("--only", type=click.Choice(ONLY_CHOICES), help="Table and pictures at any "
              "size: just the output, inputs and named intermediates (pictures collapse the "
              "rest into '… N nodes').")
@click.option("--html", "html_path", metavar="FILE.html", help="Write an interactive "
              "report: one self-contained page (graph, step-by-step passes, node table).")
@click.option("--html-practice", "practice_path", metavar="FILE.html", help="Write the "
              "report as an exercise: gradients hidden, the page checks each typed answer.")
@click.option("--lib", "libs", multiple=True, metavar="FILE", help="Load function "
              "definitions (def f(x) = ...) from FILE (repeatable).")
@click.version_option(__version__, "-V", "--version", prog_name="bpdiff")
@click.pass_context
def command(ctx, program, file, assignments, vars_file, output, as_json, precision,
            no_share, explain, show_locals, symbolic, wrt, symbolic_max, as_dot, as_mermaid,
            as_tree, render_path, max_nodes, show_all, full, max_size, expectations, rtol, atol,
            run_gradcheck, gradcheck_tol, problems_path, quiz, level, seed, answers_path,
            exact, kink, hessian, hvp, crosscheck, crosscheck_tol, parse_echo, sheet_format,
            top, only, html_path, practice_path, libs):
    """Differentiate PROGRAM and show every node's value and gradient.

    PROGRAM is an expression such as "(a+b)*b^3" or statements separated by ';' or
    new lines ("d = 2b; e = a + d; L = c*e"); '-' reads it from standard input.
    """
    from bpdiff.inputs import collect_values, read_program

    rtol, atol, gradcheck_tol, crosscheck_tol = (
        _tolerance(name, value, default) for name, value, default in (
            ("--rtol", rtol, 5e-3), ("--atol", atol, 1e-9),
            ("--gradcheck-tol", gradcheck_tol, 1e-6), ("--crosscheck-tol", crosscheck_tol, 1e-9)))
    pictures = as_dot or as_mermaid or as_tree or render_path
    _check_extras(parse_echo, sheet_format, (top, only, show_all), {
        "--json": as_json, "--explain": explain, "--locals": show_locals,
        "--symbolic": symbolic, "--expect": bool(expectations), "--gradcheck": run_gradcheck,
        "pictures": pictures, "--exact": exact, "--quiz": quiz is not None,
        "--problems": problems_path is not None, "--hessian": hessian,
        "--hvp": hvp is not None, "--crosscheck": crosscheck})
    checks_given = bool(expectations or problems_path is not None or practice_path)
    _check_modifiers(ctx, {
        "--wrt": (symbolic or hessian or hvp is not None, "--symbolic, --hessian or --hvp"),
        "--symbolic-max": (symbolic, "--symbolic"),
        "--rtol": (checks_given, "--expect, --problems or --html-practice"),
        "--atol": (checks_given, "--expect, --problems or --html-practice"),
        "--gradcheck-tol": (run_gradcheck, "--gradcheck"),
        "--crosscheck-tol": (crosscheck, "--crosscheck")})
    if as_json:  # stdout holds one JSON object: nothing else may print there
        _refuse_with("--json", {
            "--dot, --mermaid or --tree": bool(as_dot or as_mermaid or as_tree),
            "--top or --only (without --render)":
                (top is not None or only is not None) and not render_path},
            "--json lists every node; --render FILE draws a picture beside it")
    if quiz is None and (level is not None or seed is not None or answers_path is not None):
        raise BpdiffError("--level, --seed and --answers go with --quiz N")
    if quiz is not None or problems_path is not None:
        mode = "--quiz" if quiz is not None else "--problems"
        _refuse_with(mode, {
            "PROGRAM": program is not None or file is not None,
            "input values": bool(ctx.obj["pairs"] or assignments or vars_file),
            "--problems": quiz is not None and problems_path is not None,
            "--output": output is not None, "--expect": bool(expectations),
            "--gradcheck": run_gradcheck, "--no-share": no_share, "--kink": kink is not None,
            "--hessian, --hvp or --crosscheck": bool(hessian or hvp is not None or crosscheck),
            "--explain, --locals, --symbolic or pictures": bool(
                explain or show_locals or symbolic or as_dot or as_mermaid or as_tree
                or render_path),
            "--json or --exact": quiz is not None and (as_json or exact), "--lib": bool(libs)})
        if quiz is not None:
            return _run_quiz(quiz, level or 1, seed, answers_path)
        return _run_problems(ctx, problems_path, rtol, atol, exact, as_json, precision)
    text = read_program(program, file, max_size)
    if parse_echo:
        return _parse_echo(text, output, not no_share, as_json, None if show_all else max_nodes)
    values = collect_values(ctx.obj["pairs"], assignments, vars_file)
    checks = None
    if expectations:
        from bpdiff.analyses.expect import parse_expectation
        expectations = [parse_expectation(item) for item in expectations]
    from bpdiff.api import differentiate

    result = differentiate(text, values, output=output, share=not no_share, kink=kink,
                           lib=libs, exact=exact)
    if result.tensor:
        _tensor_checks(result, {"--symbolic": symbolic, "--expect": expectations,
                                "--hessian": hessian, "--hvp": hvp is not None,
                                "--crosscheck": crosscheck,
                                "--format latex": sheet_format == "latex"})
    if expectations:
        from bpdiff.analyses.expect import check
        checks = check(result, expectations, rtol, atol)
    grad_rows = None
    if run_gradcheck:
        from bpdiff.analyses.gradcheck import gradcheck
        grad_rows = gradcheck(result, gradcheck_tol, force=show_all)
    if exact and result.exact.oversized:
        _warn(f"exact arithmetic gave up on {result.exact.oversized:,} operation(s) whose"
              f" result would exceed {result.exact.limit:,} bits; those numbers, and what is"
              " computed from them, are floats (marked ≈)")
    if result.nonfinite or result.kinks:
        from bpdiff.render.problems import describe, describe_kink
        for problem in result.nonfinite:
            _warn(describe(result, problem))
        for node in result.kinks:
            _warn(describe_kink(result, node))
    if (explain or show_locals) and len(result.graph) > max_nodes and not show_all:
        raise BpdiffError(f"the graph has {len(result.graph):,} nodes, more than --max-nodes"
                          f" {max_nodes}: narration would flood the terminal",
                          hint="add --force to make it anyway")
    for path, practice in ((html_path, False), (practice_path, True)):
        if path is not None:
            from bpdiff.render.html import report
            _write_file(path, report(result, practice, precision, None if show_all
                                     else max_nodes, rtol, atol))
    view = None
    if pictures:
        from bpdiff.render.collapse import picture_view
        view = picture_view(result, None if show_all else max_nodes, top, only)
    if render_path:
        from bpdiff.render.pictures import dot, render_file
        render_file(dot(result, precision, view), render_path)
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
                            crosscheck=cross):
            sys.stdout.write(piece)
        sys.stdout.flush()
        return _verdict(ctx, checks, grad_rows, cross)
    if not (explain or show_locals or symbolic or pictures or hessian or hvp is not None):
        _print_table(result, precision, None if show_all else max_nodes, top, only, full)
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
        from bpdiff.render import checks as render_checks
        _print(render_checks.checks_rich(result, checks, precision) if _use_rich()
               else render_checks.checks_plain(result, checks, precision))
    if grad_rows is not None:
        from bpdiff.render import checks as render_checks
        _print(render_checks.gradcheck_rich(result, grad_rows, gradcheck_tol, precision)
               if _use_rich() else
               render_checks.gradcheck_plain(result, grad_rows, gradcheck_tol, precision))
    if curvature is not None:
        from bpdiff.render import hessian as render_hessian
        _print(render_hessian.rich(result, curvature, precision) if _use_rich()
               else render_hessian.plain(result, curvature, precision))
    if cross is not None:
        from bpdiff.render import crosscheck as render_cross
        _print(render_cross.crosscheck_rich(result, cross) if _use_rich()
               else render_cross.crosscheck_plain(result, cross))
    return _verdict(ctx, checks, grad_rows, cross)


def _tensor_checks(result, options):
    """Refuse what tensor programs do not support yet; warn about an array output."""
    refused = [option for option, given in options.items() if given]
    if refused:
        verb = "works" if len(refused) == 1 else "work"
        raise BpdiffError(f"{', '.join(refused)} {verb} on scalar programs, not on arrays")
    graph = result.graph
    for node in sorted(graph.implicit):
        a, b = (result.values[i] for i in graph.inputs[node])
        if a.ndim == 2 and 1 <= b.ndim <= 2 and a.shape[1] == b.shape[0]:
            from bpdiff.language.labels import expression

            _warn(f"{expression(graph, node)} is an elementwise product (as * in NumPy) of"
                  f" shapes {a.shape} and {b.shape}; for the matrix product write @")
    if not result.output_is_scalar:
        shape = result.values[result.graph.output].shape
        _warn(f"the output is an array of shape {shape}, not a number: the gradients are"
              " those of sum(output), the usual seed of ones")


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
    for option, (served, names) in modes.items():
        source = ctx.get_parameter_source(option[2:].replace("-", "_"))
        if not served and source is not click.core.ParameterSource.DEFAULT:
            raise BpdiffError(f"{option} goes with {names}")


def _parse_echo(text, output, share, as_json, max_rows):
    from bpdiff.language.parse import parse
    from bpdiff.render import echo

    reading = parse(text, share=False, output=output, prune=False)
    graph = parse(text, share=share, output=output)
    _write(echo.echo_json(text, reading, graph) if as_json
           else echo.echo_text(reading, graph, max_rows))


def _tolerance(name, value, default):
    import math

    if value is None:
        return default
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
        from bpdiff.render.checks import summary_line
        failures.append(summary_line(checks))
    if grad_rows is not None and any(row.status == "fail" for row in grad_rows):
        failed = [row.name for row in grad_rows if row.status == "fail"]
        failures.append(f"gradcheck failed for {', '.join(failed)}")
    if cross is not None and not cross.passed:
        failed = [row.name for row in cross.rows if not row.passed]
        failures.append(f"crosscheck failed for {', '.join(failed)}")
    if failures:
        click.echo(f"bpdiff: {'; '.join(failures)}", err=True)
        ctx.exit(1)


def _run_problems(ctx, path, rtol, atol, exact, as_json, precision):
    from bpdiff.analyses.problems import grade, read
    from bpdiff.render import checks as render_checks

    problems, tolerances = read(path)
    graded = grade(problems, tolerances, rtol, atol, exact, where=path)
    if as_json:
        _write(render_checks.problems_json(graded, path, precision))
    elif _use_rich():
        from rich.console import Console
        from rich.text import Text

        text = render_checks.problems_plain(graded, precision)
        Console(highlight=False).print(Text(text.rstrip("\n")))
    else:
        _write(render_checks.problems_plain(graded, precision))
    if not all(g.passed for g in graded):
        failed = [g.problem.name for g in graded if not g.passed]
        click.echo(f"bpdiff: {len(failed)} of {len(graded)} problems failed:"
                   f" {', '.join(failed)}", err=True)
        ctx.exit(1)


def _run_quiz(count, level, seed, answers_path):
    import random

    from bpdiff.analyses.quiz import generate
    from bpdiff.render.checks import answers_toml, quiz_text

    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    quiz = generate(count, seed, level)
    if answers_path is not None:
        _write_file(answers_path, answers_toml(quiz, level, seed))
    _write(quiz_text(quiz, level, seed))


def _write_file(path, text):
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except IsADirectoryError:
        raise BpdiffError(f"{path}: is a directory") from None
    except OSError as error:
        raise BpdiffError(f"{path}: cannot write: {error.strerror}") from None
    except ValueError:  # a NUL in the path
        raise BpdiffError(f"{path!r}: not a valid file name") from None


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
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _print_table(result, precision, max_rows, top=None, only=None, full=False):
    from bpdiff.render import table

    if _use_rich():
        from rich.console import Console

        console = Console()
        for renderable in table.rich_table(result, precision, max_rows, top, only, full):
            console.print(renderable)
    else:
        _write(table.plain(result, precision, max_rows, top, only, full))


def _write(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def _warn(message):
    click.echo(f"bpdiff: warning: {message}", err=True)


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
    is bpdiff's own), and of tests (argv a list)."""
    from bpdiff.inputs import split_arguments

    own_process = argv is None
    if own_process:  # the graph's lists and tuples hold no cycles, so the cyclic
        gc.disable()  # collector would only rescan the growing heap
        for stream in ("stdout", "stderr"):
            if getattr(sys, stream) is None:  # started with it closed (`>&-`): discard
                setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        own, pairs = split_arguments(argv, _option_arity())
        code = command.main(args=own, prog_name="bpdiff", standalone_mode=False,
                            obj={"pairs": pairs})  # ctx.exit(1): a check failed
        code = code if type(code) is int else 0
    except BpdiffError as error:
        click.echo(f"bpdiff: error: {error}", err=True)
        code = error.exit_code
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    except click.Abort:
        click.echo("bpdiff: aborted", err=True)
        code = 2
    except BrokenPipeError:
        _quiet_stdout()
        code = 0
    if own_process:
        _exit_now(code)
    sys.exit(code)


def _quiet_stdout():
    """The reader went away (`bpdiff ... | head`): stop quietly, as other tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _exit_now(code):
    """Flush the output and end the process without freeing every object one by one
    (as mypy's hard_exit does): a big graph's teardown is pure waste. Nothing here
    registers atexit handlers or needs finalizers; files are closed where written."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except ValueError:  # stdout closed
        pass
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)
