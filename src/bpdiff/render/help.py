"""bpdiff's help: `--help` in sections, `--help-all` and `bpdiff help TOPIC`.

`--help` groups the options by OPTION_SECTIONS (an option's first long name -> its
section; an option added to the command needs one entry there, and a test fails
without it) and ends each section with its EXAMPLES. The long texts of `bpdiff help
TOPIC` are the README's own sections (TOPICS: topic -> heading), read from the source
tree's README.md when bpdiff runs from one, else from the installed package's metadata,
whose description is that README: one text, no copies. Imported only to print help.
"""

import importlib.metadata
from pathlib import Path

SECTION_ORDER = ("Input", "Output", "Show the work", "Check answers", "Teaching",
                 "Tensors", "Limits", "Help")

OPTION_SECTIONS = {
    "PROGRAM": "Input", "--file": "Input", "--set": "Input", "--vars": "Input",
    "--lib": "Input", "--watch": "Input", "--output": "Input", "--no-share": "Input", "--no-split": "Input",
    "--json": "Output", "--precision": "Output", "--format": "Output", "--html": "Output",
    "--open": "Output", "--table": "Output", "--dot": "Output", "--mermaid": "Output",
    "--tree": "Output", "--render": "Output", "--quiet": "Output",
    "--explain": "Show the work", "--locals": "Show the work", "--symbolic": "Show the work",
    "--wrt": "Show the work", "--symbolic-max": "Show the work", "--parse": "Show the work",
    "--exact": "Show the work", "--kink": "Show the work", "--hessian": "Show the work",
    "--hvp": "Show the work",
    "--expect": "Check answers", "--expect-file": "Check answers", "--sig": "Check answers", "--rtol": "Check answers",
    "--atol": "Check answers", "--problems": "Check answers", "--gradcheck": "Check answers",
    "--gradcheck-tol": "Check answers", "--gradcheck-sample": "Check answers",
    "--crosscheck": "Check answers",
    "--crosscheck-tol": "Check answers",
    "--quiz": "Teaching", "--level": "Teaching", "--seed": "Teaching", "--answers": "Teaching",
    "--html-practice": "Teaching",
    "--full": "Tensors", "--max-elements": "Tensors", "--grad-output": "Tensors",
    "--sum-output": "Tensors", "--jacobian": "Tensors", "--of": "Tensors",
    "--max-nodes": "Limits", "--all": "Limits", "--top": "Limits", "--only": "Limits",
    "--max-size": "Limits",
    "--help": "Help", "--help-all": "Help", "--version": "Help",
}

EXAMPLES = {
    "Input": ['bpdiff "(a+b)*b^3" --a 7 --b 3',
              'bpdiff "d = 2b; e = a + d; L = c*e" --set a=3 --set b=1 --set c=-2',
              "bpdiff -f examples/sigmoid_neuron.bp",
              'echo "sigmoid(w*x + b)" | bpdiff - --w 2 --x -1 --b 0.5',
              'bpdiff "def sq(x) = x*x; sq(a - b)" --a 3 --b 1'],
    "Output": ['bpdiff "c(a+2b)" --a 3 --b 1 --c -2 --json',
               'bpdiff "(a+b)*b^3" --a 7 --b 3 --html report.html --open',
               'bpdiff "(a+b)*b^3" --a 7 --b 3 --format markdown'],
    "Show the work": ['bpdiff "(a+b)*b^3" --a 7 --b 3 --explain',
                      'bpdiff "sigmoid(w*x)" --w 2 --x -1 --symbolic',
                      'bpdiff "1/x^2" --x 2 --exact'],
    "Check answers": ["bpdiff -f examples/sigmoid_neuron.bp --expect w0=-0.20 --expect"
                      " x0=0.39",
                      "bpdiff --problems examples/problems/seeds.toml",
                      'bpdiff "x^3 + sin(x)" --x 2 --gradcheck'],
    "Teaching": ["bpdiff --quiz 3 --level 2 --seed 7 --answers key.toml",
                 "bpdiff -f examples/sigmoid_neuron.bp --html-practice exercise.html"],
    "Tensors": ["bpdiff \"h = tanh(W @ x + b); L = sum(h)\" --W '[[1,2],[3,4]]'"
                " --x '[1,-1]' --b '[0,1]'",
                'bpdiff "y = W @ x" --W "[[1,2],[3,4]]" --x "[1,-1]" --jacobian',
                "bpdiff -f examples/homework/softmax_loss.bp --vars examples/homework/inputs.npz"],
    "Limits": ['bpdiff "sum(x)" --x "[1,2,3]" --max-elements 100',
               "bpdiff -f examples/advanced_u1_u4.bp --only named"],
}

# topic -> (README heading, what it is about)
TOPICS = {
    "language": ("## The language", "what a program may say: numbers, operators, functions"),
    "pasting": ("### Pasting from notes and notebooks", "formulas pasted from notes, LaTeX"),
    "tensors": ("### Tensor mode", "arrays as inputs, @, sum, broadcasting"),
    "kinks": ("### Conventions at kinks", "relu(0), abs(0), max ties: --kink"),
    "checking": ("### Checking answers", "--expect and the grading rule (--sig, --rtol)"),
    "problems": ("#### Problem sets", "--problems FILE.toml"),
    "json": ("### JSON", "what --json prints"),
    "html": ("### HTML report", "--html and --html-practice pages"),
    "completion": ("### Shell completion", "completion for bash, zsh and fish"),
}


def section_of(param):
    """The help section an option (or the PROGRAM argument) belongs to; None when the
    table has no entry for it."""
    longs = [opt for opt in param.opts if opt.startswith("--")]
    key = longs[0] if longs else param.name.upper() if not param.opts[0].startswith("-") \
        else param.opts[0]
    return OPTION_SECTIONS.get(key)


def format_sections(command, ctx, formatter):
    """click's option list, in SECTION_ORDER, each section with its examples."""
    rows = {section: [] for section in SECTION_ORDER}
    rows["Input"].append(("PROGRAM", "An expression such as \"(a+b)*b^3\" or statements"
                          " separated by ';' or new lines (d = 2b; L = a*d), which may declare"
                          " defaults (a = 7); -f FILE reads it from a file, '-' from"
                          " standard input."))
    rows["Input"].append(("--NAME VALUE", "An input's value: --a 7, --a=7, --W '[[1,2],"
                          "[3,4]]' (or --set NAME=VALUE, or --vars FILE.json)."))
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":  # PROGRAM: its own row above
            continue
        record = param.get_help_record(ctx)
        if record is not None:
            rows.setdefault(section_of(param) or "Other", []).append(record)
    for section, records in rows.items():
        if not records:
            continue
        with formatter.section(section):
            formatter.write_dl(records)
            examples = EXAMPLES.get(section)
            if examples:
                formatter.write_paragraph()
                formatter.write_text("Examples:")
                with formatter.indentation():
                    for example in examples:
                        formatter.write(f"{'':{formatter.current_indent}}{example}\n")


def readme_text():
    """The README: the source tree's when bpdiff runs from one, else the installed
    distribution's description (the same file, copied there by the build)."""
    tree = Path(__file__).resolve().parents[3]
    source = tree / "README.md"
    if source.is_file() and (tree / "src" / "bpdiff").is_dir():
        return source.read_text(encoding="utf-8")
    try:
        metadata = importlib.metadata.metadata("bpdiff")
    except importlib.metadata.PackageNotFoundError:
        return ""
    return metadata.get_payload() or metadata.get("Description") or ""


def readme_section(text, heading):
    """The README's section under `heading` (a Markdown heading line), up to the next
    heading of any level outside a code block; '' when there is none."""
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return ""
    fenced = False
    end = len(lines)
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            end = number
            break
    return "\n".join(lines[start:end]).strip() + "\n"


def topic_text(topic):
    """The long text of a help topic."""
    heading, _ = TOPICS[topic]
    text = readme_section(readme_text(), heading)
    return text or f"(the README section '{heading}' was not found)\n"


def topics_text():
    """`bpdiff help`: the topics and how to read them."""
    width = max(map(len, TOPICS))
    lines = ["Usage: bpdiff help TOPIC   (or bpdiff --help-all for every topic)", "",
             "Topics:"]
    lines += [f"  {name.ljust(width)}  {about}" for name, (_, about) in TOPICS.items()]
    lines += ["", "bpdiff --help lists the options, section by section."]
    return "\n".join(lines) + "\n"


def all_topics_text():
    """Every topic's text, one after another (for --help-all)."""
    text = readme_text()
    parts = []
    for name, (heading, _) in TOPICS.items():
        parts.append(f"{'=' * 78}\nbpdiff help {name}\n{'=' * 78}\n"
                     + (readme_section(text, heading) or f"({heading} not found)\n"))
    return "\n".join(parts)
