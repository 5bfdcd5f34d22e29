"""bpdiff's own phase split, measured in-process (run by bench/run.py in a fresh
interpreter of the bench venv, one process per measurement):

  import       import bpdiff and the modules the pipeline uses
  grammar      loading the LALR tables Lark made of the grammar (cached) and compiling
               the scanner's regexes (first parse only)
  parse+build  bpdiff.language.parse.parse(text): bpdiff.language.lalr's driver parses and the builder
               makes the graph at each reduction, so the two are one phase
  forward      resolving the input values and bpdiff.engine.autodiff.forward(graph, inputs)
  backward     bpdiff.engine.autodiff.backward(graph, values)
  render       bpdiff.api.Result.from_passes(...) (which also scans for nan/inf) and
               bpdiff.render.json.render(result), written to /dev/null

    python bench/phases.py PROGRAM.bp VALUES.json     # prints one JSON object

The cyclic garbage collector is off, as in bpdiff's CLI. Reading the files is not
timed. The CLI's whole-process time minus the sum of these is the interpreter's
start-up and exit, click, and reading the program and values.
"""

import gc
import json
import sys
import time

clock = time.perf_counter


def main(program_path, values_path):
    gc.disable()  # as bpdiff's CLI does in its own process
    started = clock()
    import bpdiff  # noqa: F401
    import bpdiff.api
    import bpdiff.engine.autodiff
    import bpdiff.language.grammar
    import bpdiff.language.parse
    import bpdiff.render.json
    phases = {"import": clock() - started}

    with open(program_path, encoding="utf-8") as handle:
        text = handle.read()
    with open(values_path, encoding="utf-8") as handle:
        given = json.load(handle)

    t = clock()
    bpdiff.language.grammar.loaded()
    phases["grammar"] = clock() - t

    t = clock()
    graph = bpdiff.language.parse.parse(text)
    phases["parse+build"] = clock() - t

    t = clock()
    inputs = bpdiff.api.resolve_inputs(graph, given, text)
    values = bpdiff.engine.autodiff.forward(graph, inputs)
    phases["forward"] = clock() - t

    t = clock()
    grads = bpdiff.engine.autodiff.backward(graph, values)
    phases["backward"] = clock() - t

    t = clock()
    result = bpdiff.api.Result.from_passes(text, graph, inputs, values, grads)
    rendered = bpdiff.render.json.render(result)
    with open("/dev/null", "w", encoding="utf-8") as sink:
        sink.write(rendered)
    phases["render"] = clock() - t

    phases["total"] = clock() - started
    print(json.dumps({"phases": phases, "graph_nodes": len(graph),
                      "value": result.value, "version": bpdiff.__version__}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: phases.py PROGRAM.bp VALUES.json")
    main(sys.argv[1], sys.argv[2])
