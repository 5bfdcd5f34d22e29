"""`--crosscheck` as text, a rich table and JSON: bpdiff against PyTorch or JAX, per input.
"""

from bpdiff.numbers import MAX_PRECISION, format_number, json_number
from bpdiff.render.table import plain_rows

NUMERIC = {"bpdiff", "rel. error"}


def _error(error):
    return format_number(error) if error != error or error in (0, float("inf")) \
        else f"{error:.1e}"


def columns(check):
    """The table's header: the framework's column is named after it."""
    return ("quantity", "bpdiff", check.backend, "rel. error", "status")


def rows(result, check):
    """One row for the value and one per input, numbers with every digit."""
    out = result.graph.name_of.get(result.graph.output, "out")
    return [(out if row.name == "value" else f"∂{out}/∂{row.name}",
             format_number(row.bpdiff, MAX_PRECISION), format_number(row.other, MAX_PRECISION),
             _error(row.error), "ok" if row.passed else "FAIL") for row in check.rows]


def notes(check):
    """Sentences under the table, the verdict last."""
    failed = [row.name for row in check.rows if not row.passed]
    verdict = f"FAILED for {', '.join(failed)}" if failed else "agree"
    return [*check.notes,
            f"crosscheck with {check.backend} {check.version} (float64): worst relative"
            f" error {_error(check.max_error)} (tolerance {check.tolerance:g}): {verdict}"]


def crosscheck_plain(result, check):
    """The table and notes as plain text."""
    text = plain_rows(columns(check), rows(result, check), NUMERIC | {check.backend})
    return text + "".join(line + "\n" for line in notes(check))


def crosscheck_rich(result, check):
    """The same as rich renderables."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"cross-check with {check.backend}", header_style="bold")
    numeric = NUMERIC | {check.backend}
    for column in columns(check):
        table.add_column(column, justify="right" if column in numeric else "left")
    for cells in rows(result, check):
        table.add_row(*cells[:-1], Text(cells[-1], style="green" if cells[-1] == "ok"
                                        else "bold red"))
    *lines, verdict = notes(check)
    verdict = Text(verdict, style="bold green" if check.passed else "bold red")
    return [table] + ([Text("\n".join(lines))] if lines else []) + [verdict]


def crosscheck_json(check):
    """The "crosscheck" section of the JSON result."""
    return {"backend": check.backend, "version": check.version, "kink_policy": check.policy,
            "tolerance": check.tolerance, "passed": check.passed,
            "max_relative_error": json_number(check.max_error), "notes": list(check.notes),
            "rows": [{"name": row.name, "bpdiff": json_number(row.bpdiff),
                      "other": json_number(row.other),
                      "relative_error": json_number(row.error), "passed": row.passed}
                     for row in check.rows]}
