"""PyTorch peer: one float64 scalar tensor with requires_grad per input, the program
built from torch operations by walking the translated text (peers/_common.py),
out.backward(), then every input's .grad, printed as JSON.

    python bench/peers/torch_peer.py PROGRAM.bp VALUES.json

Literals stay Python floats (torch combines them with the float64 tensors), as in
hand-written code. float64 so that the answers can be compared with bpdiff's at 1e-6.
"""

import torch
import torch.nn.functional as F
from _common import Backend, emit, load, main_guard, run_program


def _tensor(a):
    return a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64)


def _lift(function):
    return lambda *args: function(*map(_tensor, args))


class TorchBackend(Backend):
    functions = {name: _lift(f) for name, f in {
        "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp,
        "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid, "relu": torch.relu, "softplus": F.softplus,
        "max": torch.maximum, "min": torch.minimum, "pow": torch.pow}.items()}


def main():
    text, values = load()
    inputs = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for name, v in values.items()}
    out, frontend = run_program(text, dict(inputs), TorchBackend())
    out.backward()
    emit(out.item(), {name: 0.0 if x.grad is None else x.grad.item()
                      for name, x in inputs.items()}, frontend)


if __name__ == "__main__":
    main_guard(main)
