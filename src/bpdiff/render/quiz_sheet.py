"""`--quiz N` in words: the exercise sheet and its answer key (TOML in the --problems
format, so that `bpdiff --problems KEY.toml` grades it).

It formats the problems drawn by bpdiff.analyses.quiz.
"""

import json
import re


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
