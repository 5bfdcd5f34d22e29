"""`--problems FILE.toml` in words: one line per graded problem with the explanations of
what failed, a summary line, and the JSON report for graders.

It formats the Graded problems of bpdiff.analyses.problems, each check worded by
bpdiff.render.expect_report.
"""

import json

from bpdiff.numbers import json_number
from bpdiff.render.expect_report import FAIL, PASS, checks_json, explanations


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
