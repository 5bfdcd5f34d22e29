"""Seeded generator of bpdiff benchmark programs.

Five kinds of program, each generated at a target size in NODES:

  sum    sum of product terms  `x3*x17 + x5*x2 + ...` over ~sqrt(N) variables
  nest   N-deep binary nesting `((((x+1)*y+1)*y+1)*y ...)` (one '(' per level)
  unary  N-deep unary nesting  `sin(tanh(sin(tanh(... x))))`
  dag    random expression DAG: named intermediates `t1 = ...; t2 = ...`, each using the
         one before it plus randomly chosen earlier intermediates and ~sqrt(N) inputs,
         so intermediates are reused (a DAG, not a tree); ops + - * / ^ only
  mlp    unrolled MLP loss: scalar weights, one tanh hidden layer, sigmoid output,
         squared loss averaged over a batch written into the program as literals

How nodes are counted: every operator or function application is one node and every
leaf *as written* is one node (a variable occurrence, a numeric literal, or a reference
to a named intermediate). It is the size of the expression trees as written, summed over
statements. bpdiff's own graph is smaller: it shares inputs, constants and identical
subexpressions, and a reference to an intermediate is an edge, not a node (bench/run.py
reports bpdiff's actual graph size next to this count).

Programs use only the part of bpdiff's syntax that is also Python once `^` becomes `**`
(explicit `*`, no implicit products, one statement per line), so the peers' translation
is mechanical. All values stay within a few units, so no tool over- or underflows in a
way the others would not.

    python bench/workloads.py --out bench/out/workloads --sizes 10,1000 --seed 0
    python bench/workloads.py --kind dag --size 1000 --print      # one program to stdout

Importable: generate(kind, size, seed) -> Workload; write_all(out, kinds, sizes, seed).
"""

import argparse
import json
import math
import os
import random
import sys
from typing import NamedTuple

KINDS = ("sum", "nest", "unary", "dag", "mlp")
DEFAULT_SIZES = (10, 1_000, 10_000, 100_000, 1_000_000)

# Operations each kind may use, as bpdiff names them (run.py uses this to skip peers
# that lack an operation, e.g. micrograd has no sin, tanh or sigmoid).
OPS = {
    "sum": ("add", "mul"),
    "nest": ("add", "mul"),
    "unary": ("sin", "tanh"),
    "dag": ("add", "sub", "mul", "div", "pow"),
    "mlp": ("add", "sub", "mul", "div", "pow", "tanh", "sigmoid"),
}


class Workload(NamedTuple):
    kind: str
    target: int  # the size asked for, in nodes
    nodes: int  # the size generated, counted as described above
    text: str  # the program, in bpdiff syntax
    values: dict  # input name -> value
    ops: tuple  # the operations it uses (bpdiff names)
    statements: int


def _fmt(value):
    """A literal both bpdiff and Python read back exactly."""
    return repr(float(value))


# --------------------------------------------------------------------------- sum
def gen_sum(n, rng):
    terms = max(1, round((n + 1) / 4))  # each term x*y is 3 nodes, plus terms-1 adds
    nvars = max(2, round(math.sqrt(n)))
    used = set()
    parts = []
    for _ in range(terms):
        i, j = rng.randrange(nvars), rng.randrange(nvars)
        used.update((i, j))
        parts.append(f"x{i}*x{j}")
    values = {f"x{i}": rng.uniform(-1, 1) for i in sorted(used)}
    return " + ".join(parts) + "\n", values, 4 * terms - 1, 1


# --------------------------------------------------------------------------- nest
def gen_nest(n, rng):
    levels = max(1, round((n - 1) / 4))  # each level: +, 1, *, y
    text = "(" * levels + "x" + "+1)*y" * levels + "\n"
    values = {"x": rng.uniform(-1, 1), "y": rng.uniform(0.3, 0.7)}
    return text, values, 4 * levels + 1, 1


# -------------------------------------------------------------------------- unary
def gen_unary(n, rng):
    depth = max(1, n - 1)
    funcs = ("sin", "tanh")
    opening = "".join(funcs[k % 2] + "(" for k in range(depth))
    text = opening + "x" + ")" * depth + "\n"
    return text, {"x": rng.uniform(0.5, 1.5)}, depth + 1, 1


# ---------------------------------------------------------------------------- dag
# Each template keeps |result| <= 1 when every operand is in [-1, 1], so values stay
# bounded however long the chain. (text, nodes) with A the previous intermediate.
_DAG_TEMPLATES = (
    ("{A}*{B}", 3),
    ("0.5*({A} + {B})", 5),
    ("0.5*({A} - {B})", 5),
    ("{A}*{B}*{C}", 5),
    ("0.5*({A}*{B} + {C})", 7),
    ("0.5*({A} - {B}*{C})", 7),
    ("{A}/(1 + {B}^2)", 7),
    ("0.5*({A}^2 + {B}*{C})", 9),
    ("({A} + {B})*({C} - {A})*0.25", 9),
)


def gen_dag(n, rng):
    nvars = max(2, round(math.sqrt(n)))
    names = [f"x{i}" for i in range(nvars)]
    used = set()
    lines = []
    nodes = 0
    k = 0

    def operand(avoid):
        while True:
            if k > 2 and rng.random() < 0.5:
                name = f"t{rng.randrange(1, k - 1)}"  # any earlier intermediate: reuse
            else:
                name = rng.choice(names)
            if name != avoid:
                if name[0] == "x":
                    used.add(name)
                return name

    while nodes < n or k == 0:
        k += 1
        template, size = rng.choice(_DAG_TEMPLATES)
        if k == 1:
            first = rng.choice(names)
            used.add(first)
            a = first
        else:
            a = f"t{k - 1}"
        b = operand(a)
        c = operand(b)
        lines.append(f"t{k} = " + template.format(A=a, B=b, C=c))
        nodes += size
        if n - nodes < 3:
            break
    values = {name: rng.uniform(-1, 1) for name in names if name in used}
    return "\n".join(lines) + "\n", values, nodes, len(lines)


# ---------------------------------------------------------------------------- mlp
def _negatives(literals):
    return sum(1 for v in literals if v < 0)


def _mlp_shape(n):
    """(inputs d, hidden h, batch size) whose program is about n nodes; h = 0 means
    logistic regression (no hidden layer)."""
    if n < 100:
        return 1, 0, max(1, round(n / 10))

    def per_sample(d, h):  # see gen_mlp: hidden units, output unit, squared error
        return h * (4 * d + 2 + d / 2) + (4 * h + 2) + 5 + 2  # d/2: negative literals

    h = max(2, round(n ** 0.25))
    d = h
    batch = max(1, round((n - 2) / per_sample(d, h)))
    return d, h, batch


def gen_mlp(n, rng):
    d, h, batch = _mlp_shape(n)
    values = {}
    lines = []
    nodes = 0
    scale_in = 1 / math.sqrt(d)
    if h == 0:  # logistic regression: w, b
        for i in range(d):
            values[f"w{i}"] = rng.gauss(0, 1)
        values["b"] = rng.gauss(0, 0.5)
        errors = []
        for s in range(batch):
            x = [rng.uniform(-1, 1) for _ in range(d)]
            y = rng.uniform(0.1, 0.9)
            z = " + ".join(f"w{i}*{_fmt(x[i])}" for i in range(d)) + " + b"
            errors.append(f"(sigmoid({z}) - {_fmt(y)})^2")
            nodes += 4 * d + 6 + _negatives(x)
        body = " + ".join(errors)
        text = f"L = ({body})/{batch}\n" if batch > 1 else f"L = {body}\n"
        nodes += batch + 1 if batch > 1 else 0
        return text, values, nodes, 1

    for j in range(h):
        for i in range(d):
            values[f"w1_{i}_{j}"] = rng.gauss(0, scale_in)
        values[f"b1_{j}"] = rng.gauss(0, 0.1)
    for j in range(h):
        values[f"w2_{j}"] = rng.gauss(0, 1 / math.sqrt(h))
    values["b2"] = rng.gauss(0, 0.1)
    for s in range(batch):
        x = [rng.uniform(-1, 1) for _ in range(d)]
        y = rng.uniform(0.1, 0.9)
        for j in range(h):
            z = " + ".join(f"w1_{i}_{j}*{_fmt(x[i])}" for i in range(d))
            lines.append(f"h{s}_{j} = tanh({z} + b1_{j})")
            # d muls, 2d leaves, d adds (incl. the bias), tanh, bias leaf; a negative
            # literal is written -0.5, a negation node more
            nodes += 4 * d + 2 + _negatives(x)
        z = " + ".join(f"w2_{j}*h{s}_{j}" for j in range(h))
        lines.append(f"o{s} = sigmoid({z} + b2)")
        nodes += 4 * h + 2
        lines.append(f"e{s} = (o{s} - {_fmt(y)})^2")
        nodes += 5
    terms = " + ".join(f"e{s}" for s in range(batch))
    lines.append(f"L = ({terms})/{batch}")
    nodes += 2 * batch + 1
    return "\n".join(lines) + "\n", values, nodes, len(lines)


GENERATORS = {"sum": gen_sum, "nest": gen_nest, "unary": gen_unary, "dag": gen_dag,
              "mlp": gen_mlp}


def generate(kind, size, seed=0):
    """The `kind` program of about `size` nodes; the same (kind, size, seed) always
    gives the same program and values."""
    if kind not in GENERATORS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    rng = random.Random(f"{seed}:{kind}:{size}")
    text, values, nodes, statements = GENERATORS[kind](int(size), rng)
    return Workload(kind, int(size), nodes, text, values, OPS[kind], statements)


def file_stem(kind, size):
    return f"{kind}_{size}"


def write_all(out, kinds=KINDS, sizes=DEFAULT_SIZES, seed=0):
    """Write <kind>_<size>.bp (program) and <kind>_<size>.json (input values) for each
    kind and size into `out`, plus manifest.json; returns the manifest (a list)."""
    os.makedirs(out, exist_ok=True)
    manifest = []
    for kind in kinds:
        for size in sizes:
            w = generate(kind, size, seed)
            stem = file_stem(kind, size)
            program = os.path.join(out, stem + ".bp")
            values = os.path.join(out, stem + ".json")
            with open(program, "w", encoding="utf-8") as handle:
                handle.write(w.text)
            with open(values, "w", encoding="utf-8") as handle:
                json.dump(w.values, handle)
            manifest.append({"kind": kind, "target": w.target, "nodes": w.nodes,
                             "inputs": len(w.values), "statements": w.statements,
                             "bytes": len(w.text.encode()), "ops": list(w.ops),
                             "program": program, "values": values, "seed": seed})
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    return manifest


def _sizes(text):
    return [int(float(s)) for s in text.split(",") if s.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out",
                                                      "workloads"),
                        help="directory for the .bp/.json files (default bench/out/workloads)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated kinds (default {','.join(KINDS)})")
    parser.add_argument("--kind", help="one kind (with --size and --print)")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated target sizes in nodes; 1e4 style works")
    parser.add_argument("--size", type=lambda s: int(float(s)), help="one size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--print", action="store_true",
                        help="print the program of --kind/--size and its values to stdout")
    args = parser.parse_args(argv)
    if args.print:
        if not (args.kind and args.size):
            parser.error("--print needs --kind and --size")
        w = generate(args.kind, args.size, args.seed)
        sys.stdout.write(w.text)
        sys.stdout.write("# values: " + json.dumps(w.values) + f"\n# nodes: {w.nodes}\n")
        return 0
    kinds = [args.kind] if args.kind else [k.strip() for k in args.kinds.split(",") if k]
    sizes = [args.size] if args.size else _sizes(args.sizes)
    for entry in write_all(args.out, kinds, sizes, args.seed):
        print(f"{entry['kind']:6} target {entry['target']:>9,}  nodes {entry['nodes']:>9,}"
              f"  inputs {entry['inputs']:>5}  {entry['bytes']:>10,} bytes  {entry['program']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
