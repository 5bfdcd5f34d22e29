"""LaTeX as written in Markdown notes -> bpdiff's notation (text to text).

One left-to-right pass with an explicit stack of open braces: linear time, no recursion
(100,000 nested \\frac work). By example:

    \\frac{a}{b} -> ((a)/(b))   \\sqrt{x} -> sqrt(x)   \\sqrt[3]{x} -> ((x)^(1/3))   x^{2} -> x^(2)
    \\cdot, \\times -> *   \\sigma(x) -> sigmoid(x) (else sigma)   \\ln -> log   \\log x -> log(x)
    \\left( \\right] -> ( ]   \\left| x \\right| -> abs( x )   \\left\\| x \\right\\| -> norm( x )
    \\mathrm{ReLU}(z) -> relu(z)   \\text{loss} -> loss   \\alpha -> alpha   \\hat{y} -> yhat
    x^\\top, x^{T} -> x^T   $ $$ & \\! -> nothing   \\, \\; \\quad -> a space   \\\\ -> a new line

Subscripts stay in the name: x_1, x_{12} -> x_12, W_{i,j} -> W_i_j. Unbraced, a subscript
is a run of digits or one letter (TeX's rule but for the digits) and the name ends after
it: a letter next starts a new name, so w_0x_0 -> w_0 x_0, an implicit product (and x_ij
-> x_i j, as TeX reads it). Layer indices: w^{(l)} or w^{[l]} after a name is the layer-l
copy of w, the name w + l, placed before any subscript: w^{(0)} -> w0, x^{(1)}_{2} and
x_{2}^{(1)} -> x1_2. Braces alone group without a trace, as in TeX; a new line inside
braces is a space; a `.` or `,` ending a line (a sentence's) is dropped.
"""

from __future__ import annotations

import re

from bpdiff.errors import BpdiffSyntaxError, did_you_mean

_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho"
          " tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi"
          " Psi Omega ell").split()
_SIZES = [size + side for size in ("big", "Big", "bigg", "Bigg") for side in ("l", "r", "")]
_WORDS = {**{g: g for g in _GREEK}, "varepsilon": "epsilon", "vartheta": "theta",
          "varphi": "phi", "cdot": "*", "times": "*", "ast": "*", "div": "/", "top": "T",
          "intercal": "T", "lvert": "abs(", "rvert": ")", "lVert": "norm(", "rVert": ")",
          "quad": " ", "qquad": " ", "displaystyle": "", **dict.fromkeys(_SIZES, "")}
_FUNCTIONS = {"sigma": "sigmoid", "ln": "log", **{f: f for f in (
    "tanh", "exp", "log", "sin", "cos", "tan", "max", "min", "arctan", "arcsin", "arccos",
    "sinh", "cosh")}}
_WRAPPERS = ("mathrm", "operatorname", "text", "textrm", "mathit", "mathbf", "mathsf",
             "boldsymbol", "bm", "vec", "rm", "hat", "bar", "tilde", "dot")  # accents last
_KNOWN_NAMES = {"relu", "sigmoid", "softmax", "softplus", "tanh", "exp", "log", "sin", "cos",
                "tan", "sqrt", "abs", "max", "min", "sign", "step", "sum", "mean", "norm",
                "arctan", "arcsin", "arccos", "atan", "asin", "acos"}
_HINTS = {"partial": "bpdiff takes the derivatives itself: write the function, not them",
          "sum": "write the terms out (a + b + c), or sum(x) on an array",
          "\\|": "write \\left\\| x \\right\\| or norm(x)"}
_SIZED = {"|": ("abs(", ")"), "\\lvert": ("abs(", ")"), "\\rvert": ("abs(", ")"),
          "\\|": ("norm(", ")"), "\\lVert": ("norm(", ")"), "\\rVert": ("norm(", ")"),
          "\\{": ("(", "("), "\\}": (")", ")"), "\\langle": ("(", "("), "\\rangle": (")", ")"),
          ".": ("", "")}

_TOKEN = re.compile(r"(?P<cont>\\\r?\n)|(?P<cmd>\\[A-Za-z]+)|(?P<esc>\\.)|(?P<name>[A-Za-z]"
                    r"[A-Za-z0-9]*)|(?P<sub>_)|(?P<sup>\^)|(?P<open>\{)|(?P<close>\})|(?P<nl>\n)"
                    r"|(?P<skip>[$&])|(?P<other>[^\\{}_^\n$&A-Za-z]+)", re.S)
_ARG = re.compile(r"[ \t]*(?:(\{)|([A-Za-z0-9]))")
_SUB = re.compile(r"_(?:([0-9]+|[A-Za-z])|\{\s*(?:\\(?:text|mathrm|rm|mathit)\s*"
                  r"\{([A-Za-z0-9, ]*)\}|([A-Za-z0-9, ]*))\s*\})")
_LAYER = re.compile(r"\^\{\s*[(\[]\s*([A-Za-z0-9]+)\s*[)\]]\s*\}")
_TOP = re.compile(r"\^\s*(?:\\top|\\intercal|\{\s*(?:\\top|\\intercal|T)\s*\})")
_DELIMITER = re.compile(r"\\(left|right)\s*(\(|\)|\[|\]|\.|\||\\\||\\[{}]|\\[lr](?:vert|Vert)"
                        r"|\\[lr]angle)")
_WRAPPED = re.compile(r"\\([A-Za-z]+)\s*\{\s*([A-Za-z0-9 ]*?)\s*\}")
_ROOT = re.compile(r"\\sqrt\s*\[\s*([^\[\]{}\\]+?)\s*\]")
_SPACED_ARG = re.compile(r"[ \t]+([A-Za-z0-9.]+)(?![A-Za-z0-9_^({\[.\\])")
_CALL_NEXT = re.compile(r"\s*(?:\(|\\left\b|\\[bB]igl?\b)")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[A-Za-z*]*\}")


def looks_like_latex(text: str) -> bool:
    """True when `text` reads as LaTeX: a backslash before a letter (not before a new
    line, bpdiff's line continuation), `^{` or `_{`, or a `$...$` / `$$...$$` wrapper.
    What follows a `#` (a comment in bpdiff's programs) does not count."""
    if "\\" not in text and "{" not in text and "$" not in text:  # the common case, fast
        return False
    stripped = text.strip()
    wrapped = len(stripped) >= 2 and stripped[0] == stripped[-1] == "$"
    return wrapped or bool(_LATEX_MARK.search(text))


_LATEX_MARK = re.compile(r"^[^#\n]*?(?:\\[A-Za-z]|\^\{|_\{)", re.MULTILINE)


def _error(text: str, at: int, message: str, hint: str) -> BpdiffSyntaxError:
    line = text.count("\n", 0, at) + 1
    return BpdiffSyntaxError(message, text, line, at - text.rfind("\n", 0, at), hint=hint)


def to_bpdiff(text: str) -> str:
    """Translate the LaTeX formulas in `text` into bpdiff's notation, line for line (see
    the module's docstring). Raises BpdiffSyntaxError at an unknown command or an
    unbalanced brace, with its line and column in `text`."""
    out: list[str] = []
    stack: list[tuple[list[str], int]] = []  # each open brace: what its } emits, where
    pending: tuple[list[str], str, int] | None = None  # a command waiting for {argument}
    state, sub_at, i = "other", -1, 0  # after a "name", a "decorated" one (x_1) or "other"
    while i < len(text):
        if pending is not None:  # the argument: {...} or one character, as \frac12
            closers, command, at = pending
            if (arg := _ARG.match(text, i)) is None:
                raise _error(text, i, f"\\{command} needs an argument in braces",
                             "write \\frac{a}{b}, \\sqrt{x}, \\mathrm{name}")
            i, pending, state = arg.end(), None, "other"
            if arg.group(1):
                stack.append((closers, arg.start(1)))
            else:
                out += [arg.group(2), closers[0]]
                pending = (closers[1:], command, at) if len(closers) > 1 else None
            continue
        found = _TOKEN.match(text, i)
        assert found is not None  # every character starts some token
        kind, word, end = found.lastgroup, found.group(), found.end()
        gap = " " if state == "decorated" else ""  # a name after x_1 is a new name
        name = word[1:]
        if kind == "cmd" and (sized := _DELIMITER.match(text, i)) is not None:
            bracket = sized.group(2)
            out.append(_SIZED.get(bracket, (bracket, bracket))[sized.group(1) == "right"])
            state, end = "other", sized.end()
        elif kind == "cmd" and name == "sqrt" and (root := _ROOT.match(text, i)) is not None:
            index = root.group(1) if root.group(1).isalnum() else f"({root.group(1)})"
            out.append("((")
            pending, end = ([f")^(1/{index}))"], name, i), root.end()
        elif kind == "cmd" and name in ("frac", "dfrac", "tfrac", "sqrt"):
            out.append("sqrt(" if name == "sqrt" else "((")
            pending = ([")"] if name == "sqrt" else [")/(", "))"], name, i)
        elif kind == "cmd" and name in _WRAPPERS:
            accent = name if _WRAPPERS.index(name) >= _WRAPPERS.index("hat") else ""
            if (wrapped := _WRAPPED.match(text, i)) is None:  # braces inside: \hat{\theta}
                out.append(gap)
                pending = ([accent], name, i)
            else:
                content, end = wrapped.group(2).replace(" ", ""), wrapped.end()
                content = content.lower() if content.lower() in _KNOWN_NAMES else content
                out.append(gap + content + accent)
                state, sub_at = ("name" if content[:1].isalpha() else "other"), -1
        elif kind == "cmd" and name in _FUNCTIONS and (
                name != "sigma" or _CALL_NEXT.match(text, end)):
            out.append(_FUNCTIONS[name])
            spaced = _SPACED_ARG.match(text, end)  # \log x -> log(x)
            if spaced is not None and name not in ("max", "min", "sigma"):
                out.append(f"({spaced.group(1)})")
                end = spaced.end()
            state = "other"
        elif kind == "cmd" and (name in _WORDS or name == "sigma"):
            word = _WORDS.get(name, name)
            out.append(gap + word if word.isalpha() else word)
            state, sub_at = ("name" if word.isalpha() else "other"), -1
        elif kind == "cmd" and (env := _ENVIRONMENT.match(text, i)) is not None:
            end = env.end()
        elif kind == "cmd":
            known = [k for k in sorted({*_WORDS, *_FUNCTIONS, *_WRAPPERS, "frac", "sqrt", "left",
                     "right"}) if k not in _GREEK and k not in _SIZES]
            guess = "" if name in _HINTS else did_you_mean(word, [f"\\{k}" for k in known
                                                                  + _GREEK])
            raise _error(text, i, f"unknown LaTeX command {word}{guess}", _HINTS.get(
                name, "known: \\" + ", \\".join(known) + " and the Greek letters"))
        elif kind == "esc" and word in ("\\\\", "\\{", "\\}", "\\_", "\\!") or (
                kind == "esc" and word[1] in ",;: \t"):
            out.append({"\\\\": " " if stack else "\n", "\\{": "(", "\\}": ")", "\\_": "_",
                        "\\!": ""}.get(word, " "))
            state = "other"
        elif kind == "esc":
            raise _error(text, i, "'\\|' may open or close a norm" if word == "\\|" else
                         f"unknown LaTeX command {word}", _HINTS.get(word, "known: \\, \\; "
                         "\\: \\! (spacing), \\{ \\} \\_ and \\\\ (a new line)"))
        elif kind == "sub":
            if (sub := _SUB.match(text, i)) is None:
                raise _error(text, i, "a subscript must be letters and digits", "write x_1,"
                             " x_{12} or W_{i,j}: the subscript becomes part of the name")
            label = next(g for g in sub.groups() if g is not None)
            sub_at = len(out) if sub_at < 0 else sub_at
            out.append("_" + "_".join(p.replace(" ", "") for p in label.split(",")))
            state, end = "decorated", sub.end()
        elif kind == "sup" and (top := _TOP.match(text, i)) is not None:
            out.append("^T")
            state, end = "other", top.end()
        elif kind == "sup" and state != "other" and (layer := _LAYER.match(text, i)):
            if sub_at >= 0:
                out[sub_at] = layer.group(1) + out[sub_at]
            else:
                out.append(layer.group(1))
            state, end = "decorated", layer.end()
        elif kind == "sup" and text.startswith("^{", i):
            out.append("^(")
            stack.append(([")"], i + 1))
            state, end = "other", i + 2
        elif kind == "open":
            stack.append(([""], i))
        elif kind == "close":
            if not stack:
                raise _error(text, i, "unmatched '}'", "remove it, or add the '{' it closes")
            closers = stack.pop()[0]
            out.append(closers[0])
            pending = (closers[1:], "frac", i) if len(closers) > 1 else None
            state = "other" if closers[0] else state
        elif kind == "name":
            out.append(gap + word)
            state, sub_at = "name", -1
        elif kind == "nl":
            out.append(" " if stack else "\n")
            state = "other"
        elif kind != "skip":  # cont, other and a plain ^ are copied
            out.append(word)
            state = "other"
        i = end
    if pending is not None:
        raise _error(text, pending[2], f"\\{pending[1]} is missing an argument in braces",
                     "write \\frac{a}{b}, \\sqrt{x}")
    if stack:
        raise _error(text, stack[-1][1], "'{' is never closed", "add the '}' that closes it")
    lines = [line.strip() for line in "".join(out).split("\n")]
    return "\n".join(line[:-1].rstrip() if line.endswith((".", ",")) else line
                     for line in lines)
