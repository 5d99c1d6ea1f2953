#!/usr/bin/env python3
"""DeepXDE's side of bench/deeponet_deepxde.sh (run with the bench venv's python).

Trains DeepXDE's DeepONetCartesianProd (PyTorch backend) on aligned antiderivative data
read from two `kpde generate` files, with the sizes of kpde's `kpde train` DeepONet:

  branch [m, w x depth, p] (tanh hidden layers, linear last layer)
  trunk  [1, w x depth, p] (tanh)       output sum_k b_k t_k + b0
  Adam (lr, batch of `batch` functions x all points per iteration, loss = MSE)

DeepXDE applies the trunk's activation to the trunk's last layer too (t = tanh(W h + c));
kpde's trunk ends in a linear layer. --arch deepxde (default) keeps DeepXDE's network as a
DeepXDE user gets it (Glorot-normal init everywhere, tanh on the trunk's output);
--arch kpde makes it kpde's exactly (no activation on the trunk's output, PyTorch's default
init of the branch). Both have the same layer sizes and parameter count.

Prints one line:
  deepxde dtype=... threads=... iters=... ms_per_iter=... train_ms_per_iter=... train_s=...
          test_rel_l2_mean=... test_rel_l2_median=... final_loss=... n_params=...
ms_per_iter: iterations 2 .. N-1 (first and last excluded: warm-up; the last iteration
holds DeepXDE's one test evaluation), from timestamps taken after every iteration.
train_ms_per_iter: model.train() wall time / N (includes its initial and final test
evaluations). test_rel_l2_*: over the test functions of ||pred - s|| / ||s|| (float64
norms of the model's predictions), as kpde's metrics.json.
"""
import argparse
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--train", required=True, help="kpde generate antiderivative file (training)")
p.add_argument("--test", required=True, help="kpde generate antiderivative file (test)")
p.add_argument("--iters", type=int, default=10000)
p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--width", type=int, default=100)
p.add_argument("--depth", type=int, default=3, help="hidden layers of branch and trunk")
p.add_argument("--basis", type=int, default=100, help="p")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--batch", type=int, default=100, help="functions per iteration (all points each)")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--arch", choices=["deepxde", "kpde"], default="deepxde")
a = p.parse_args()
if a.iters < 3:
    sys.exit("deeponet_deepxde.py: --iters must be >= 3")

os.environ.setdefault("DDE_BACKEND", "pytorch")
import numpy as np  # noqa: E402
import h5py  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(a.threads)
import deepxde as dde  # noqa: E402

if dde.backend.backend_name != "pytorch":
    sys.exit(f"deeponet_deepxde.py: DeepXDE runs the {dde.backend.backend_name} backend, not pytorch")
dde.config.set_default_float(a.dtype)
dde.config.set_random_seed(a.seed)
torch.set_num_threads(a.threads)  # again: DeepXDE's import must not have changed it
real = np.float64 if a.dtype == "float64" else np.float32


def load(path):
    with h5py.File(path, "r") as f:
        kind = f.attrs.get("kind")
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind != "antiderivative":
            sys.exit(f"deeponet_deepxde.py: {path} holds {kind} data, not antiderivative")
        u = np.asarray(f["u"][...], dtype=np.float64)
        s = np.asarray(f["s"][...], dtype=np.float64)
    return u, s


u_tr, s_tr = load(a.train)
u_te, s_te = load(a.test)
P = s_tr.shape[1]
y = (np.arange(P, dtype=np.float64) / (P - 1))[:, None]  # y_j = j / (P - 1), as kpde
data = dde.data.TripleCartesianProd(
    X_train=(u_tr.astype(real), y.astype(real)), y_train=s_tr.astype(real),
    X_test=(u_te.astype(real), y.astype(real)), y_test=s_te.astype(real))

m = u_tr.shape[1]
net = dde.nn.DeepONetCartesianProd(
    [m] + [a.width] * a.depth + [a.basis], [1] + [a.width] * a.depth + [a.basis],
    "tanh", "Glorot normal")
if a.arch == "kpde":
    net.activation_trunk = lambda x: x           # kpde's trunk ends in a linear layer
    for layer in net.branch.linears:             # kpde's branch: PyTorch's default init
        layer.reset_parameters()
n_params = sum(q.numel() for q in net.parameters())

model = dde.Model(data, net)
model.compile("adam", lr=a.lr, loss="mse")


class Stamps(dde.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.t = []

    def on_epoch_end(self):  # DeepXDE's "epoch" is one iteration (one mini-batch step)
        self.t.append(time.perf_counter())


stamps = Stamps()
t0 = time.perf_counter()
# display_every = iters: DeepXDE evaluates train/test losses once before and once after
model.train(iterations=a.iters, batch_size=a.batch, display_every=a.iters, callbacks=[stamps], verbose=0)
train_s = time.perf_counter() - t0
t = stamps.t
if len(t) != a.iters:
    sys.exit(f"deeponet_deepxde.py: expected {a.iters} iteration stamps, got {len(t)}")
ms_per_iter = 1e3 * (t[-2] - t[0]) / (a.iters - 2)

pred = np.asarray(model.predict((u_te.astype(real), y.astype(real))), dtype=np.float64)
err = np.linalg.norm(pred - s_te, axis=1) / np.linalg.norm(s_te, axis=1)
loss = model.train_state.loss_train
final_loss = float(np.sum(loss)) if loss is not None else float("nan")
print(f"deepxde {dde.__version__} torch {torch.__version__} arch={a.arch} dtype={a.dtype} threads={a.threads} "
      f"iters={a.iters} ms_per_iter={ms_per_iter:.4f} train_ms_per_iter={1e3 * train_s / a.iters:.4f} "
      f"train_s={train_s:.3f} test_rel_l2_mean={err.mean():.4e} test_rel_l2_median={np.median(err):.4e} "
      f"final_loss={final_loss:.4e} n_params={n_params}")
