"""Checks in words: the --expect table and its explanations, the --gradcheck table, the
--problems report, the --quiz sheet and its answer key (TOML), and their JSON.

Everything here formats data computed by bpdiff.analyses.expect, bpdiff.analyses.gradcheck,
bpdiff.analyses.problems and bpdiff.analyses.quiz; nothing is differentiated here.
"""

import json
import re
from fractions import Fraction

from bpdiff.engine.exact import to_float
from bpdiff.render.explain import edge_formula, references
from bpdiff.language.labels import label
from bpdiff.numbers import format_fraction, format_number, json_number
from bpdiff.render.table import plain_rows

CHECK_COLUMNS = ("ok", "check", "expected", "got", "difference")
GRADCHECK_COLUMNS = ("input", "analytic", "numeric", "rel. error", "step", "status")
PASS, FAIL = "✓", "✗"


# ---- numbers -------------------------------------------------------------------------

def _number(x, precision, fractions=False):
    """A Fraction as an integer, a decimal when it ends within `precision` digits (or as
    a fraction when `fractions`, or when it never ends and is short), else rounded."""
    if x is None:
        return "—"
    if not isinstance(x, Fraction):
        return format_number(x, precision)
    if x.denominator == 1:
        return str(x.numerator) if abs(x.numerator) < 10**15 else format_number(
            to_float(x), precision)
    text = format_fraction(x)
    decimal = format_number(to_float(x), precision)
    if fractions and len(text) <= 24:
        return text
    if _plain_decimal(decimal) and Fraction(decimal) == x:
        return decimal
    return text if len(text) <= 12 else decimal


def _plain_decimal(text):
    return re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", text) is not None


def _json(x):
    return json_number(None if x is None else to_float(x))


# ---- --expect ------------------------------------------------------------------------

def quantity(graph, check):
    """What a check is about, in ∂ notation: 'out', '∂out/∂b', 'c'."""
    ref = references(graph)
    out = ref(graph.output)
    if check.node is None:  # an input the output does not use
        return f"∂{out}/∂{check.key.split('.')[0]}"
    if check.kind == "value":
        return ref(check.node)
    return f"∂{out}/∂{ref(check.node)}"


def check_rows(result, checks, precision):
    """The check table's rows: mark, quantity, expected, got, expected − got."""
    fractions = result.exact is not None
    return [(PASS if c.passed else FAIL, quantity(result.graph, c),
             _number(c.expected, precision, fractions), _number(c.got, precision, fractions),
             _number(c.difference, precision, fractions)) for c in checks]


def explanations(result, check, precision):
    """Sentences on one check: how bpdiff's number is made up and what mistake would
    give the expected one (failed), or the convention at a kink (passed)."""
    graph = result.graph
    ref = references(graph)
    out = ref(graph.output)
    fmt = lambda x: _number(x, precision)  # noqa: E731
    lines = []
    if check.convention:
        steps = ", ".join(_locals_text(graph, ref, node, locals_)
                          for node, locals_ in check.convention)
        kinks = "; ".join(_convention(result, node) for node, _ in check.convention)
        lines.append(f"at a kink: your answer follows the convention {steps}"
                     f" (bpdiff uses {kinks})")
    elif check.others and check.passed:
        kinks = "; ".join(dict.fromkeys(_convention(result, n) for n in result.kinks))
        lines.append(f"at a kink ({kinks}); other valid conventions give "
                     + ", ".join(fmt(v) for v in check.others))
    if check.passed:
        return lines
    what = quantity(graph, check)
    head = f"expected {what} = {fmt(check.expected)}; bpdiff gets {fmt(check.got)}"
    terms = check.terms
    if len(terms) > 1:
        head += " = " + " + ".join(f"{fmt(e.contribution)} (via {_via(graph, e.node)})"
                                   for e in terms)
    elif len(terms) == 1 and terms[0].node != graph.output:
        e = terms[0]
        head += (f" = {fmt(e.upstream)} × {fmt(e.local)}"
                 f" (∂{out}/∂{ref(e.node)} × ∂{ref(e.node)}/∂{ref(e.source)})")
    lines.append(head)
    if check.others:
        lines.append("at a kink: other valid conventions give "
                     + ", ".join(fmt(v) for v in check.others))
    if check.diagnosis is not None:
        lines.append(_diagnosis_text(result, check, ref, fmt))
    return lines


def _convention(result, node):
    op = result.graph.ops[node]
    policy = result.kink_policy
    if policy.of(op.name) == "pytorch":
        return policy.text(op)
    return f"{policy.text(op)}, --kink {policy.of(op.name)}"


def _via(graph, node):
    name = graph.name_of.get(node)
    return name if name is not None else label(graph, node)


def _locals_text(graph, ref, node, locals_):
    return ", ".join(f"∂{ref(node)}/∂{ref(source)} = {format_number(local)}"
                     for source, local in zip(graph.inputs[node], locals_))


def _diagnosis_text(result, check, ref, fmt):
    graph = result.graph
    d = check.diagnosis
    out = ref(graph.output)
    target = ref(check.node)
    if d.kind == "rounded":
        better = _number(Fraction(f"{to_float(check.got):.3g}"), 3)
        return (f"your answer is bpdiff's number rounded too far ({fmt(check.got)} →"
                f" {fmt(check.expected)}): give 3 significant digits ({better}), or loosen"
                " --rtol")
    if d.kind == "last_digit":
        scale = max(abs(to_float(check.expected)), abs(to_float(check.got)))
        off = abs(to_float(check.difference)) / scale
        return (f"your answer is {off:.2%} off, more than its last digit allows: to the"
                f" digits you wrote, bpdiff's number is {_number(d.number, 12)}")
    if d.kind in ("gradient_of", "value_of"):
        other = ref(d.other)
        if d.kind == "gradient_of":
            if d.other == check.node:
                return f"your answer is ∂{out}/∂{target}, the gradient, not the value of {target}"
            return f"your answer is ∂{out}/∂{other}: the gradient of {_described(graph, d.other)}"
        if d.other == check.node:
            return f"your answer is the value of {target}, not its gradient ∂{out}/∂{target}"
        return f"your answer is the value of {_described(graph, d.other)}"
    e = d.edges[0]
    parent, source = ref(e.node), ref(e.source)
    step = f"∂{parent}/∂{source}"
    formula = edge_formula(result, e, ref)
    local = fmt(e.local)
    shown = local if formula in (None, local) else f"{formula} = {local}"
    also = (f" (the same mistake at any of {d.count} steps would explain it)"
            if d.count > 1 else "")
    if d.kind == "forgot_paths" and e.source == check.node:
        kept = [_via(graph, t.node) for t in check.terms if t not in d.edges]
        dropped = [_via(graph, t.node) for t in d.edges]
        s_kept = "s" if len(kept) > 1 else ""
        s_dropped = "s" if len(dropped) > 1 else ""
        return (f"your answer matches the path{s_kept} via {' and '.join(kept)} alone:"
                f" did you forget the path{s_dropped} via {' and '.join(dropped)}?")
    if d.kind == "forgot_paths":
        return (f"your answer leaves out the path through {source} → {parent}"
                f" ({step} = {shown}): did you forget it?{also}")
    if d.kind == "sign":
        return (f"your answer matches {step} with its sign flipped: bpdiff has"
                f" {step} = {shown}; check its sign{also}")
    if d.kind == "one":
        return (f"your answer matches taking {step} as 1: did you forget to multiply by"
                f" {step} = {shown}?{also}")
    if d.kind == "twice":
        what = (f"the path via {_via(graph, e.node)}" if e.source == check.node
                else f"the path through {source} → {parent}")
        return f"your answer counts {what} twice{also}"
    return (f"your answer matches {step} = {shown} alone: did you forget to multiply by"
            f" the upstream gradient ∂{out}/∂{parent} = {fmt(e.upstream)}?")


def _described(graph, node):
    name = graph.name_of.get(node)
    return name if name is not None else f"#{node} ({label(graph, node)})"


def summary_line(checks):
    """'all 3 checks passed' or '1 of 3 checks failed: b'."""
    failed = [c.key for c in checks if not c.passed]
    count = len(checks)
    noun = "check" if count == 1 else "checks"
    if not failed:
        return f"all {count} {noun} passed" if count > 1 else f"the {noun} passed"
    return f"{len(failed)} of {count} {noun} failed: {', '.join(failed)}"


def checks_plain(result, checks, precision):
    """The check table, the explanations and a summary line, as plain text."""
    text = plain_rows(CHECK_COLUMNS, check_rows(result, checks, precision),
                      {"expected", "got", "difference"})
    for check in checks:
        lines = explanations(result, check, precision)
        if lines:
            text += f"{PASS if check.passed else FAIL} {check.key}: {lines[0]}\n"
            text += "".join(f"    {line}\n" for line in lines[1:])
    return text + summary_line(checks) + "\n"


def checks_rich(result, checks, precision):
    """The same as rich renderables for a terminal."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="checks", header_style="bold")
    for column in CHECK_COLUMNS:
        table.add_column(column, justify="right" if column in ("expected", "got",
                                                               "difference") else "left")
    for row, check in zip(check_rows(result, checks, precision), checks):
        style = "green" if check.passed else "bold red"
        table.add_row(Text(row[0], style=style), *row[1:])
    notes = Text()
    for check in checks:
        lines = explanations(result, check, precision)
        if lines:
            notes.append(f"{PASS if check.passed else FAIL} {check.key}: ",
                         style="green" if check.passed else "bold red")
            notes.append("\n    ".join(lines) + "\n")
    notes.rstrip()
    line = Text(summary_line(checks), style="bold green" if all(c.passed for c in checks)
                else "bold red")
    return [table, notes, line] if notes else [table, line]


def checks_json(result, checks, precision=6):
    """The checks as JSON-ready dicts (the "checks" array of the schemas)."""
    entries = []
    for check in checks:
        lines = explanations(result, check, precision)
        note = lines[0] if check.passed and lines else None
        hint = "\n".join(lines) if not check.passed else None
        entries.append({"key": check.key, "quantity": quantity(result.graph, check),
                        "node": check.node, "expected": _json(check.expected),
                        "got": _json(check.got), "difference": _json(check.difference),
                        "passed": check.passed, "note": note, "hint": hint})
    return entries


# ---- --gradcheck ---------------------------------------------------------------------

def gradcheck_rows(rows, precision):
    """The gradcheck table's rows."""
    return [(row.name, format_number(row.analytic, precision),
             format_number(row.numeric, precision), _error(row.error),
             f"{row.step:.0e}".replace("e-0", "e-"), _status(row)) for row in rows]


def _error(error):
    return format_number(error) if error != error or error == 0 else f"{error:.1e}"


def _status(row):
    return {"ok": "ok", "fail": "FAIL", "kink": "kink (not checked)",
            "unstable": "unstable (not checked)", "n/a": "n/a (not finite)"}[row.status]


def gradcheck_notes(result, rows, tol):
    """Sentences under the gradcheck table: kinks, and the verdict."""
    graph = result.graph
    lines = []
    for row in rows:
        if row.kinks:
            where = ", ".join(f"{label(graph, n)} (#{n})" for n in row.kinks)
            lines.append(f"{row.name}: within a step of the kink of {where}: finite"
                         " differences are unreliable there, so it is not counted")
        elif row.status == "n/a":
            lines.append(f"{row.name}: a gradient is not finite here, so finite"
                         " differences cannot check it")
        elif row.status == "unstable":
            lines.append(f"{row.name}: finite differences with steps h and 2h disagree by more"
                         " than the tolerance here, so they cannot check it")
    failed = [row.name for row in rows if row.status == "fail"]
    errors = [row.error for row in rows if row.status in ("ok", "fail")]
    worst = f"worst relative error {_error(max(errors))}" if errors else "nothing to compare"
    verdict = (f"FAILED for {', '.join(failed)}" if failed else "passed")
    lines.append(f"gradcheck: {len(rows)} input{'s' if len(rows) != 1 else ''}, {worst}"
                 f" (tolerance {tol:g}): {verdict}")
    return lines


def gradcheck_plain(result, rows, tol, precision):
    """The gradcheck table and notes as plain text."""
    text = plain_rows(GRADCHECK_COLUMNS, gradcheck_rows(rows, precision),
                      {"analytic", "numeric", "rel. error", "step"}) if rows else ""
    return text + "".join(line + "\n" for line in gradcheck_notes(result, rows, tol))


def gradcheck_rich(result, rows, tol, precision):
    """The same as rich renderables."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="gradient check (central differences)", header_style="bold")
    for column in GRADCHECK_COLUMNS:
        table.add_column(column, justify="left" if column in ("input", "status") else "right")
    for cells, row in zip(gradcheck_rows(rows, precision), rows):
        style = {"ok": "green", "fail": "bold red"}.get(row.status, "yellow")
        table.add_row(*cells[:-1], Text(cells[-1], style=style))
    *notes, verdict = gradcheck_notes(result, rows, tol)
    failed = any(row.status == "fail" for row in rows)
    verdict = Text(verdict, style="bold red" if failed else "bold green")
    return ([table] if rows else []) + ([Text("\n".join(notes))] if notes else []) + [verdict]


def gradcheck_json(rows, tol):
    """The gradcheck as a JSON-ready dict."""
    return {"tolerance": tol, "passed": all(r.status != "fail" for r in rows),
            "inputs": [{"name": r.name, "analytic": json_number(r.analytic),
                        "numeric": json_number(r.numeric),
                        "relative_error": json_number(r.error), "step": json_number(r.step),
                        "status": r.status, "kinks": list(r.kinks)} for r in rows]}


# ---- --problems ----------------------------------------------------------------------

def problems_plain(graded, precision):
    """One line per problem (✓/✗, failing keys), the explanations of what failed, and
    a summary line."""
    width = max(len(g.problem.name) for g in graded)
    lines = []
    for g in graded:
        failed = [c.key for c in g.checks if not c.passed]
        count = len(g.checks)
        status = (f"{count} check{'s' if count != 1 else ''}" if not failed else
                  f"{len(failed)} of {count} failed: {', '.join(failed)}")
        lines.append(f"{PASS if not failed else FAIL} {g.problem.name.ljust(width)}  {status}")
        for check in g.checks:
            notes = explanations(g.result, check, precision)
            if notes:
                lines.append(f"    {check.key}: {notes[0]}")
                lines.extend(f"        {line}" for line in notes[1:])
    lines.append(problems_summary(graded))
    return "\n".join(lines) + "\n"


def problems_summary(graded):
    """'14 of 15 problems passed (45 of 46 checks); failed: dag'."""
    passed = sum(g.passed for g in graded)
    checks = sum(len(g.checks) for g in graded)
    checks_passed = sum(c.passed for g in graded for c in g.checks)
    text = (f"{passed} of {len(graded)} problem{'s' if len(graded) != 1 else ''} passed"
            f" ({checks_passed} of {checks} checks)")
    failed = [g.problem.name for g in graded if not g.passed]
    return text + (f"; failed: {', '.join(failed)}" if failed else "")


def problems_json(graded, path, precision=6):
    """The report as one JSON object (schema: bpdiff/schema/problems.schema.json)."""
    problems = []
    for g in graded:
        problems.append({"name": g.problem.name, "program": g.problem.program,
                         "passed": g.passed, "value": json_number(g.result.value),
                         "failed": [c.key for c in g.checks if not c.passed],
                         "checks": checks_json(g.result, g.checks, precision)})
    data = {"file": path, "passed": all(g.passed for g in graded), "total": len(graded),
            "failed": sum(not g.passed for g in graded), "problems": problems}
    return json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n"


# ---- --quiz --------------------------------------------------------------------------

def quiz_text(quiz, level, seed):
    """The exercises as a numbered plain-text sheet."""
    count = len(quiz)
    lines = [f"bpdiff quiz: {count} exercise{'s' if count != 1 else ''}, level {level}"
             f" (seed {seed})"]
    if level == 3:
        lines.append("Give answers to 3 significant digits.")
    for number, problem in enumerate(quiz, 1):
        statements = problem.program.split("\n")
        out = statements[-1].split("=")[0].strip()
        given = ", ".join(f"{name} = {value}" for name, value in problem.values.items())
        lines.append("")
        if len(statements) == 1:
            lines.append(f"{number}. {problem.program}   at {given}")
        else:
            lines.append(f"{number}. At {given}:")
            lines.extend(f"       {statement}" for statement in statements)
        asked = [f"∂{out}/∂{e.key}" for e in problem.expect if e.key != "value"]
        lines.append(f"   Find {out}, {', '.join(asked[:-1])} and {asked[-1]}."
                     if len(asked) > 1 else f"   Find {out} and {asked[0]}.")
    lines.append("")
    lines.append(f"Answer key: bpdiff --quiz {count} --level {level} --seed {seed}"
                 " --answers KEY.toml (grade it with bpdiff --problems KEY.toml)")
    return "\n".join(lines) + "\n"


_TOML_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?\Z")


def _toml_value(text):
    return text if _TOML_NUMBER.match(text) else json.dumps(text, ensure_ascii=False)


def _toml_string(text):
    if "\n" in text and "'''" not in text:
        return "'''\n" + text + "'''"
    return json.dumps(text, ensure_ascii=False)


def answers_toml(quiz, level, seed):
    """The answer key in the --problems format (TOML)."""
    lines = [f"# bpdiff quiz answer key: bpdiff --quiz {len(quiz)} --level {level}"
             f" --seed {seed}",
             "# Grade it, or a copy holding a student's answers, with:"
             " bpdiff --problems FILE.toml", ""]
    for problem in quiz:
        lines += ["[[problem]]", f"name = {_toml_string(problem.name)}",
                  f"program = {_toml_string(problem.program)}", "", "[problem.values]"]
        lines += [f"{name} = {_toml_value(str(value))}" for name, value in problem.values.items()]
        lines += ["", "[problem.expect]"]
        lines += [f"{e.key} = {_toml_value(e.text)}" for e in problem.expect]
        lines.append("")
    return "\n".join(lines)
