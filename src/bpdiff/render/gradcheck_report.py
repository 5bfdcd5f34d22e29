"""`--gradcheck` in words: the table of analytic against numeric gradients, the notes
under it (kinks, unstable differences) and its JSON.

It formats the rows computed by bpdiff.analyses.gradcheck; nothing is computed here.
"""

from bpdiff.language.labels import label
from bpdiff.numbers import format_number, json_number
from bpdiff.render.table import plain_rows

GRADCHECK_COLUMNS = ("input", "analytic", "numeric", "rel. error", "step", "status")


def gradcheck_rows(rows, precision):
    """The gradcheck table's rows."""
    return [(row.name, format_number(row.analytic, precision),
             format_number(row.numeric, precision), _error(row.error),
             f"{row.step:.0e}".replace("e-0", "e-"), _status(row)) for row in rows]


def _error(error):
    return format_number(error) if error != error or error == 0 else f"{error:.1e}"


def _status(row):
    return {"ok": "ok", "fail": "FAIL", "kink": "kink (not checked)",
            "unstable": "unstable (not checked)", "n/a": "n/a (not finite)",
            "index": "index (not checked)"}[row.status]


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
        elif row.status == "index":
            lines.append(f"{row.name}: an index (a class, a length): a step off the integers"
                         " is not a value it can take, so it is not checked (gradient 0)")
        elif row.status == "unstable":
            lines.append(f"{row.name}: finite differences with steps h and 2h disagree by more"
                         " than the tolerance here, so they cannot check it")
    sampled = {}
    for row in rows:
        if row.sampled is not None:
            sampled.setdefault(row.name.split("[")[0], row.sampled)
    for name, (checked, size) in sampled.items():
        lines.append(f"{name}: {checked:,} of its {size:,} elements sampled at random"
                     " (--gradcheck-sample; --seed picks others)")
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
                        "status": r.status, "kinks": list(r.kinks),
                        **({} if r.sampled is None else {"sampled": list(r.sampled)})}
                       for r in rows]}
