"""PyTorch peer of bench/tensor_mlp.py: the MLP loss and its gradient with CPU float64
tensors, from the same values file bpdiff reads, printed as JSON.

    python bench/peers/torch_tensor_mlp.py VALUES.json

    H = tanh(W1 @ X + b1);  P = W2 @ H + b2;  L = mean((P - Y)^2)

Prints {"value": L, "gradient": {name: nested lists}} for W1, b1, W2, b2 (X and Y are
data: bpdiff differentiates them too, but the answer compared is the parameters'), and
"compute_s": the seconds from the values as Python lists to the gradients (tensors
made, forward, backward), which bench/tensor_mlp.py sets beside bpdiff's differentiate().
"""

import json
import sys
import time

import torch

PARAMETERS = ("W1", "b1", "W2", "b2")


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        values = json.load(handle)
    start = time.perf_counter()
    tensors = {name: torch.tensor(value, dtype=torch.float64,
                                  requires_grad=name in PARAMETERS)
               for name, value in values.items()}
    W1, b1, W2, b2, X, Y = (tensors[n] for n in ("W1", "b1", "W2", "b2", "X", "Y"))
    H = torch.tanh(W1 @ X + b1)
    P = W2 @ H + b2
    L = torch.mean((P - Y) ** 2)
    L.backward()
    seconds = time.perf_counter() - start
    json.dump({"value": L.item(),
               "gradient": {name: tensors[name].grad.tolist() for name in PARAMETERS},
               "compute_s": seconds}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
