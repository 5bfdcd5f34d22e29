"""`--expect` in words: the check table, what each failed answer is made of and the
mistake that would explain it, the convention at a kink, and the JSON "checks" array.

It formats the Checks computed by bpdiff.analyses.expect; nothing is differentiated here.
"""

import re
from fractions import Fraction

from bpdiff.engine.exact import to_float
from bpdiff.language.labels import label
from bpdiff.numbers import format_fraction, format_number, json_number, rounded_text
from bpdiff.render.explain import edge_formula, references
from bpdiff.render.table import plain_rows

CHECK_COLUMNS = ("ok", "check", "expected", "got", "difference")
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
    """The check table's rows: mark, quantity, expected (as typed), got, expected − got."""
    fractions = result.exact is not None
    return [(PASS if c.passed else FAIL, quantity(result.graph, c),
             c.text or _number(c.expected, precision, fractions),
             _number(c.got, precision, fractions),
             _number(c.difference, precision, fractions)) for c in checks]


def explanations(result, check, precision):
    """Sentences on one check: how bpdiff's number is made up and what mistake would
    give the expected one (failed), or the convention at a kink (passed)."""
    if _is_array(check):
        from bpdiff.render import array_report
        return [] if check.passed else [array_report.headline(result, check, precision),
                                        *array_report.explanations(result, check, precision)]
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
    head = f"expected {what} = {check.text or fmt(check.expected)}; bpdiff gets {fmt(check.got)}"
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
    if d.kind == "too_few_digits":
        sig = check.rule.sig
        better = rounded_text(to_float(check.got), sig)
        s_have, s_need = "s" if d.digits != 1 else "", "s" if sig != 1 else ""
        return (f"{check.text} has {d.digits} significant digit{s_have}: an answer with fewer"
                f" than {sig} must be exact; give {sig} digit{s_need} ({better}) or more")
    if d.kind == "last_digit":
        scale = max(abs(to_float(check.expected)), abs(to_float(check.got)))
        off = abs(to_float(check.difference)) / scale
        return (f"your answer is {off:.2%} off, more than its last digit allows: to the"
                f" digits you wrote, bpdiff's number is {_last_digit(d.number, check.text)}")
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


def _last_digit(number, text):
    """`number` (bpdiff's, rounded to the last digit of `text`) with as many decimals as
    `text` writes: 0.197 for 0.196."""
    from bpdiff.numbers import written

    shown = written(text)
    if shown is None or shown[1] is None or "e" in text.lower():
        return _number(number, 12)
    return f"{to_float(number):.{max(0, -shown[1])}f}"


def _described(graph, node):
    name = graph.name_of.get(node)
    return name if name is not None else f"#{node} ({label(graph, node)})"


def _is_array(check):
    return hasattr(check, "shape")  # an analyses.array_check.ArrayCheck


def summary_line(checks):
    """'all 3 checks passed' or '1 of 3 checks failed: b'."""
    failed = [c.key for c in checks if not c.passed]
    count = len(checks)
    noun = "check" if count == 1 else "checks"
    if not failed:
        return f"all {count} {noun} passed" if count > 1 else f"the {noun} passed"
    return f"{len(failed)} of {count} {noun} failed: {', '.join(failed)}"


def checks_plain(result, checks, precision):
    """The check table, the explanations and a summary line, as plain text (array
    answers: a paragraph each, see bpdiff.render.array_report)."""
    if any(_is_array(c) for c in checks):
        from bpdiff.render.array_report import lines_plain
        return "".join(lines_plain(result, c, precision) for c in checks) \
            + summary_line(checks) + "\n"
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

    if any(_is_array(c) for c in checks):
        from bpdiff.render.array_report import explanations as array_lines, headline
        notes = Text()
        for check in checks:
            notes.append(f"{PASS if check.passed else FAIL} {check.key}: ",
                         style="green" if check.passed else "bold red")
            notes.append("\n    ".join([headline(result, check, precision),
                                        *array_lines(result, check, precision)]) + "\n")
        notes.rstrip()
        return [notes, Text(summary_line(checks), style="bold green" if all(
            c.passed for c in checks) else "bold red")]
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
        if _is_array(check):
            from bpdiff.render.array_report import check_json
            entries.append(check_json(result, check, precision))
            continue
        lines = explanations(result, check, precision)
        note = lines[0] if check.passed and lines else None
        hint = "\n".join(lines) if not check.passed else None
        entries.append({"key": check.key, "quantity": quantity(result.graph, check),
                        "node": check.node, "answer": check.text,
                        "expected": _json(check.expected),
                        "got": _json(check.got), "difference": _json(check.difference),
                        "passed": check.passed, "note": note, "hint": hint})
    return entries
