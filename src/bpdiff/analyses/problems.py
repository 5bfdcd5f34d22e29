"""Problem sets for `--problems FILE.toml`: load, validate and grade them.

    sig = 3                       # optional, for every problem (else --sig)
    rtol = 0.005                  # optional: a tolerance instead (else --rtol)
    atol = 1e-9                   # optional (else --atol)

    [[problem]]
    name = "dag"                  # optional; "problem N" otherwise
    program = "(a+b)*b^3"         # required: an expression or statements
    output = "e"                  # optional: a named statement as the output
    exact = false                 # optional: rational arithmetic (--exact)
    sig = 3                       # optional, this problem only (or rtol/atol)
    [problem.values]              # the inputs (defaults in the program count too)
    a = 7
    b = "3"                       # numbers, or text such as "-1/4"
    [problem.expect]              # the answers to check: keys as for --expect
    value = 270
    a = 27
    b = 297
    "c.value" = 10                # or c.value = 10 (a dotted key)

A problem on arrays gives values and answers as nested lists (W = [[1, 2], [3, 4]]),
as "@FILE.npy", or all at once with `vars = "inputs.npz"` (its arrays by name, as
--vars) and `expect_file = "answers.npz"` (as --expect-file); file paths are relative
to the TOML file's folder. Array answers are checked element by element.

Answers are graded by the rule of bpdiff.analyses.expect (a Rule): a problem's own sig
or rtol/atol, else the file's, else the command line's. TOML floats keep their text
(-0.20 has two significant digits, not one).

A malformed file raises BpdiffValueError (exit 2) naming the problem and the field;
grading returns data (Graded), which bpdiff.render.problems_report words.
"""

import math
from typing import NamedTuple

import os

from bpdiff.analyses.expect import (MAX_SIG, Rule, array_expectation, check, expectation_of,
                                    file_expectations)
from bpdiff.errors import BpdiffError, BpdiffValueError, did_you_mean

RULE_FIELDS = ("sig", "rtol", "atol")
PROBLEM_FIELDS = ("name", "program", "output", "exact", *RULE_FIELDS, "values", "expect",
                  "vars", "expect_file")
TOP_FIELDS = ("problem", *RULE_FIELDS)


class Problem(NamedTuple):
    """One problem of a set, validated."""

    name: str
    program: str
    values: dict  # input name -> number or text
    expect: tuple  # Expectation, in file order
    output: str | None = None
    exact: bool = False
    rule: dict | None = None  # its own sig, rtol, atol (as given)


class Graded(NamedTuple):
    """A problem, its Result and its checks."""

    problem: Problem
    result: object
    checks: list

    @property
    def passed(self):
        """Whether every check passed."""
        return all(c.passed for c in self.checks)


def read(path, max_elements=None):
    """The problems of the TOML file at `path` (a list of Problem, plus the file's own
    sig/rtol/atol as a dict); raises BpdiffValueError naming what is wrong. Array files it
    names are read relative to its folder, each at most `max_elements` elements."""
    import tomllib

    from bpdiff.inputs import read_program  # the same size limit and messages as -f

    text = read_program(None, path)
    try:
        data = tomllib.loads(text, parse_float=_WrittenFloat)
    except tomllib.TOMLDecodeError as error:
        raise BpdiffValueError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise BpdiffValueError(f"{path}: not usable TOML: its tables or arrays are nested"
                               " too deeply") from None
    return parse(data, path, os.path.dirname(path), max_elements)


def parse(data, where="problems", base=None, max_elements=None):
    """Problems from TOML data already read (see read()); array files relative to the
    folder `base` (None: the working one)."""
    for key in data:
        if key not in TOP_FIELDS:
            raise BpdiffValueError(f"{where}: unknown top-level field '{key}'"
                                   f"{did_you_mean(key, TOP_FIELDS)}",
                                   hint="problems are [[problem]] tables")
    tolerances = _rule_fields(data, where + ":")
    tables = data.get("problem")
    if not isinstance(tables, list) or not tables:
        raise BpdiffValueError(f"{where}: no problems: expected [[problem]] tables",
                               hint='e.g. [[problem]]  program = "(a+b)*b^3" ...')
    problems = []
    names = set()
    for index, table in enumerate(tables, 1):
        problem = _problem(table, index, where, base, max_elements)
        if problem.name in names:
            raise BpdiffValueError(f"{where}: problem {index}: the name {problem.name!r}"
                                   " is used twice")
        names.add(problem.name)
        problems.append(problem)
    return problems, tolerances


def _problem(table, index, where, base=None, max_elements=None):
    label = f"{where}: problem {index}"
    if not isinstance(table, dict):
        raise BpdiffValueError(f"{label}: expected a table")
    name = table.get("name", f"problem {index}")
    if not isinstance(name, str) or not name.strip():
        raise BpdiffValueError(f"{label}, field 'name': expected a non-empty string")
    label = f"{where}: problem {index} ({name!r})"
    for key in table:
        if key not in PROBLEM_FIELDS:
            raise BpdiffValueError(f"{label}: unknown field '{key}'"
                                   f"{did_you_mean(key, PROBLEM_FIELDS)}")
    program = table.get("program")
    if not isinstance(program, str) or not program.strip():
        raise BpdiffValueError(f"{label}, field 'program': "
                               + ("missing" if program is None else "expected a string"))
    output = table.get("output")
    if output is not None and not isinstance(output, str):
        raise BpdiffValueError(f"{label}, field 'output': expected a name")
    exact = table.get("exact", False)
    if not isinstance(exact, bool):
        raise BpdiffValueError(f"{label}, field 'exact': expected true or false")
    values = table.get("values", {})
    if not isinstance(values, dict):
        raise BpdiffValueError(f"{label}, field 'values': expected a table of name = number")
    values = _array_values(table, values, label, base, max_elements)
    expect = table.get("expect", {})
    if not isinstance(expect, dict) or not expect and "expect_file" not in table:
        raise BpdiffValueError(f"{label}, field 'expect': "
                               + ("missing" if expect == {} else
                                  "expected a table of key = number"))
    expectations = []
    for _, path in _file_field(table, "expect_file", label):
        expectations += [e._replace(text=f"{path}: {e.key}") for e in
                         _in_field(label, "expect_file", file_expectations,
                                   os.path.join(base or "", path), max_elements)]
    for key, value in _flatten(expect):
        if isinstance(value, list) or isinstance(value, str) and value.startswith("@"):
            expectations.append(_in_field(label, f"expect.{key}", array_expectation, key,
                                          value, max_elements, base))
            continue
        found = expectation_of(key, value) if isinstance(value, (int, float, str)) else None
        if found is None:
            raise BpdiffValueError(f"{label}, field 'expect.{key}': {_shown(value)} is not"
                                   " a number")
        expectations.append(found)
    return Problem(name, program, values, tuple(expectations), output, exact,
                   _rule_fields(table, label + ","))


class _WrittenFloat(float):
    """A TOML float that remembers how it was written ('-0.20')."""

    def __new__(cls, text):
        number = super().__new__(cls, text)
        number.text = text.replace("_", "")
        return number


def _rule_fields(table, label):
    """The sig, rtol and atol a table gives, checked: a dict (empty: none)."""
    fields = {k: _tolerance(table[k], f"{label} field '{k}'") for k in ("rtol", "atol")
              if k in table}
    if "sig" in table:
        sig = table["sig"]
        if isinstance(sig, bool) or not isinstance(sig, int) or not 1 <= sig <= MAX_SIG:
            raise BpdiffValueError(f"{label} field 'sig': expected an integer from 1 to"
                                   f" {MAX_SIG}")
        if fields:
            raise BpdiffValueError(f"{label} field 'sig': give sig or rtol/atol, not both")
        fields["sig"] = sig
    return fields


def _array_values(table, values, label, base, max_elements):
    """The problem's values with its `vars` file's arrays first and "@FILE.npy" values
    read; numbers, their text and nested lists stay as they are."""
    from bpdiff.inputs import read_npy, read_npz

    merged = {}
    for _, path in _file_field(table, "vars", label):
        merged.update(_in_field(label, "vars", read_npz, path, max_elements, base))
    for key, value in values.items():
        if isinstance(value, str) and value.startswith("@"):
            value = _in_field(label, f"values.{key}", read_npy, value[1:], max_elements,
                              base)
        elif isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
            raise BpdiffValueError(f"{label}, field 'values.{key}': {_shown(value)} is not"
                                   " a number or an array")
        merged[key] = value
    return merged


def _file_field(table, field, label):
    """[(field, path)] for a file field given as a string, [] when absent."""
    if field not in table:
        return []
    path = table[field]
    if not isinstance(path, str) or not path.strip():
        raise BpdiffValueError(f"{label}, field '{field}': expected a file name (.npz)")
    return [(field, path)]


def _in_field(label, field, function, *args):
    """function(*args), its error worded as about `field` of the problem `label`."""
    try:
        return function(*args)
    except BpdiffError as error:
        raise BpdiffValueError(f"{label}, field '{field}': {error.message}",
                               hint=error.hint) from None


def _shown(value):
    """A TOML value as the file wrote it (true, "x", [1, 2])."""
    import json

    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return str(value)


def _flatten(table):
    """(key, value) pairs of a table whose dotted keys (c.value = 10) made subtables."""
    pairs = []
    stack = [("", table)]
    while stack:
        prefix, current = stack.pop(0)
        for key, value in current.items():
            if isinstance(value, dict):
                stack.append((f"{prefix}{key}.", value))
            else:
                pairs.append((prefix + key, value))
    return pairs


def _tolerance(value, label):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value >= 0):
        raise BpdiffValueError(f"{label}: expected a number >= 0")
    return float(value)


def grade(problems, tolerances=None, rule=Rule(), exact=False, where="problems"):
    """Run and check every problem: a list of Graded. `tolerances` (the file's own
    sig/rtol/atol) and each problem's own override `rule` (the command line's). A problem
    that cannot run (a syntax error, an unknown key) raises BpdiffValueError naming it
    and the field."""
    from bpdiff import api

    tolerances = tolerances or {}
    graded = []
    for index, problem in enumerate(problems, 1):
        label = f"{where}: problem {index} ({problem.name!r})"
        try:
            result = api.differentiate(problem.program, problem.values, output=problem.output,
                                       exact=exact or problem.exact, edges=True)
        except BpdiffError as error:
            field = _field(error)
            hint = "add it to [problem.values]" if field == "values" else None
            plain = BpdiffError(error.message, error.source, error.line, error.column, hint)
            raise BpdiffValueError(f"{label}, field '{field}': {plain}") from None
        try:
            checks = check(result, problem.expect, _rule(problem.rule, tolerances, rule))
        except BpdiffError as error:
            key, _, message = error.message.removeprefix("--expect ").partition(": ")
            raise BpdiffValueError(f"{label}, field 'expect.{key}': {message}",
                                   hint=error.hint) from None
        graded.append(Graded(problem, result, checks))
    return graded


def _field(error):
    """Which field of a problem an error from running it is about."""
    from bpdiff.errors import BpdiffNameError

    if error.message.startswith("--output"):
        return "output"
    if isinstance(error, BpdiffValueError) or (
            isinstance(error, BpdiffNameError) and error.message.startswith("no value")):
        return "values"
    return "program"


def _rule(own, file_fields, rule):
    """The Rule of a problem: its own fields, else the file's, else `rule`."""
    fields = own or file_fields
    return Rule(**fields) if fields else rule
