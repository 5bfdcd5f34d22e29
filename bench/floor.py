"""The machine's floor for "cost linear in size": the same few lines of pure Python
per step, run for N steps, timed in-process (run by bench/run.py in a fresh
interpreter of the bench venv, one process per measurement).

Each step stores a new name in a dict and looks up two earlier names, as a parser
resolving named intermediates does (and as the dag workload's `t9 = t3*t7` makes
every tool do):

  random       the two earlier names are chosen at random (the dag workload's pattern)
  sequential   they are the two just before (a chain)

The work per step is the same at every N, so time(10N)/time(N) above 10 is what a
bigger working set costs on this machine (caches, TLB), not the algorithm.
The names and random choices are made before the clock starts.

    python bench/floor.py N            # prints one JSON object: seconds per pattern
"""

import gc
import json
import random
import sys
import time


def steps(names, earlier):
    """Run the timed loop over `names`, the i-th step reading names earlier[2i],
    earlier[2i+1]; return the seconds it took."""
    started = time.perf_counter()
    ids = {}
    nodes = []
    append = nodes.append
    for i, name in enumerate(names):
        append((ids.get(names[earlier[2 * i]]), ids.get(names[earlier[2 * i + 1]])))
        ids[name] = i
    return time.perf_counter() - started


def main(n):
    gc.disable()  # as bpdiff's CLI does
    names = [f"t{i}" for i in range(n)]
    rng = random.Random(0)
    chosen = [rng.randrange(max(i, 1)) for i in range(n) for _ in (0, 1)]
    chained = [max(i - back, 0) for i in range(n) for back in (1, 2)]
    print(json.dumps({"n": n, "random": steps(names, chosen),
                      "sequential": steps(names, chained)}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: floor.py N")
    main(int(float(sys.argv[1])))
