"""Makes the files of the worked example in the README ("Checking array homework"):
a softmax classifier's loss on 5 examples of 4 features and 3 classes, L2-regularised,
and a student's gradient dW with the classic mistake of forgetting the 1/N."""

import numpy as np

rng = np.random.default_rng(231)
N, D, C = 5, 4, 3
X = rng.normal(size=(N, D)).round(2)
W = (0.1 * rng.normal(size=(D, C))).round(3)
y = rng.integers(0, C, size=N)
Y = np.eye(C)[y]  # one-hot labels
reg = 0.1

# the student's vectorised softmax loss, with a bug: the data term's gradient
# is not divided by N
scores = X @ W
scores -= scores.max(axis=1, keepdims=True)
p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
loss = -np.sum(Y * np.log(p)) / N + 0.5 * reg * np.sum(W * W)
dW = X.T @ (p - Y) + reg * W  # forgot: / N

np.savez("inputs.npz", X=X, W=W, Y=Y, reg=reg)
np.savez("answers.npz", loss=loss, dW=dW)
np.save("dW.npy", dW)
