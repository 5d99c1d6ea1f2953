#!/usr/bin/env python3
"""The FNO peer of kpde's MgNO on Darcy data (run by bench/mgno_fno.sh with the bench venv's python).

Trains neuraloperator's FNO (`from neuralop.models import FNO`) on two `kpde generate` darcy
files (the data kpde's MgNO trains on) in the FNO paper's Darcy setting (Li et al., ICLR
2021; zongyi-li/fourier_neural_operator fourier_2d.py) and prints the parameter count, the
seconds per epoch and the test relative L2 error.

Input and output (as fourier_2d.py):
  - input channels (a, x, y): the permeability a itself (not log a), normalised pointwise
    ((a - mean) / (std + 1e-5), mean and std over the training samples at each node), and
    the node coordinates of the file's layout (x = j/(n-1), y = 1 - i/(n-1) on [0, 1]^2).
    a takes two values (a_minus, a_plus), so log a or a gives the same normalised input.
  - output u, normalised pointwise the same way from the training solutions; the model's
    output is decoded (u = out (std + 1e-5) + mean) before the loss and the test error.
  - loss: the relative L2 error ||pred - u|| / ||u|| over the n x n nodes of each sample,
    SUMMED over the batch (fourier_2d.py's LpLoss(size_average=False)).
  - Adam (torch.optim.Adam: lr 1e-3, weight decay 1e-4 coupled as L2, as fourier_2d.py),
    StepLR gamma 0.5 every step_size epochs (default max(1, epochs // 5): the paper's 100 of
    500 epochs), shuffled batches, the last one partial; float32.

--arch paper (default): neuraloperator's FNO set up as the paper's network (its layers and
  its 2,368,001 real parameters at width 32 / 12 modes / 4 layers):
    positional_embedding=None (the (x, y) channels are built here), in_channels=3,
    lifting_channel_ratio=0 (a linear lifting 3 -> 32, the paper's fc0),
    projection_channel_ratio=4 (32 -> 128 -> GELU -> 1, fc1/fc2), use_channel_mlp=False,
    fno_skip="linear" (the paper's 1x1 conv W; its bias is SpectralConv's bias),
    n_modes=(2 m, 2 m - 2): neuraloperator >= 0.3 counts modes differently from the
    paper. Its n_modes[k] is the TOTAL number of frequencies kept along axis k
    (n_modes[k] / 2 negative and as many non-negative ones), and the last (rfft) axis
    keeps n_modes[-1] // 2 + 1. The paper's "modes = 12" keeps the frequencies -12 .. 11
    along the first (row) axis and 0 .. 11 along the second, which is n_modes=(24, 22)
    here (weights [32, 32, 24, 12]). n_modes=(12, 12) would keep only -6 .. 5 and 0 .. 6
    (weights [32, 32, 12, 7], 696,833 parameters).
  Still different from fourier_2d.py: with use_channel_mlp=False neuraloperator's
  FNOBlocks applies the non-linearity twice after each Fourier layer but the last
  (GELU(GELU(Kx + Wx))); the spectral weights are complex normal with std sqrt(2 / (2 w))
  and fft norm "forward" (the paper: uniform [0, 1/w^2) and norm "backward"); no domain
  padding unless --domain-padding (today's fourier_2d.py pads 9 nodes, about 0.1).
--arch neuralop: neuraloperator's FNO with its own defaults and only
  FNO(n_modes=(m, m), in_channels=1, out_channels=1, hidden_channels=w, n_layers=L): its
  own grid embedding (i/n and j/n along the row and column axes, on [0, 1) periodic
  style), lifting MLP 3 -> 64 -> 32, a channel MLP with soft-gating skips in each block,
  projection 32 -> 64 -> 1, the modes counted as above (12: 12 x 7 of the paper's 24 x 12
  frequencies); 701,281 real parameters at 32 / 12 / 4.

Prints, last:
  fno: params=... params_numel=... arch=... n_modes=... epochs=... batch=... n_train=...
       n_test=... grid=... s_per_epoch=... train_s=... s_first_epoch=... train_rel_l2_last=...
       test_rel_l2_mean=... test_rel_l2_median=... threads=... torch=... neuralop=...
params: real parameters (a complex one counts 2, as fourier_2d.py's count_params and as
kpde counts); params_numel: sum(p.numel()) (a complex one counts 1).
s_per_epoch: the training wall time / epochs: batch draw, forward, loss, backward, Adam step
and the scheduler step; without data loading, normalisation and the test evaluation.
test_rel_l2_*: over the test samples of ||pred - u|| / ||u|| (all n x n nodes, float64 norms
of the float32 prediction).
"""
import argparse
import platform
import sys
import time

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--train", required=True, help="kpde generate darcy file (training)")
p.add_argument("--test", required=True, help="kpde generate darcy file (test)")
p.add_argument("--n-train", type=int, default=0, help="first N training samples (0: all)")
p.add_argument("--n-test", type=int, default=0, help="first N test samples (0: all)")
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--weight-decay", type=float, default=1e-4)
p.add_argument("--step-size", type=int, default=0, help="StepLR epochs (0: max(1, epochs // 5))")
p.add_argument("--gamma", type=float, default=0.5)
p.add_argument("--width", type=int, default=32)
p.add_argument("--modes", type=int, default=12, help="the paper's modes per axis (--arch paper); neuraloperator's n_modes (--arch neuralop)")
p.add_argument("--layers", type=int, default=4)
p.add_argument("--arch", choices=["paper", "neuralop"], default="paper")
p.add_argument("--domain-padding", type=float, default=0.0, help="neuraloperator's domain_padding (fraction; 0: none, as the paper)")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
for k in ("epochs", "batch", "width", "modes", "layers", "threads"):
    if getattr(a, k) < 1:
        sys.exit(f"mgno_fno.py: --{k} must be >= 1")

import numpy as np  # noqa: E402
import h5py  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(a.threads)
import neuralop  # noqa: E402
from neuralop.models import FNO  # noqa: E402

torch.set_num_threads(a.threads)  # again: neuralop's import must not have changed it
torch.manual_seed(a.seed)


def text(v):
    return v.decode() if isinstance(v, (bytes, np.bytes_)) else str(v)


def load(path, n_max):
    """permeability and solution [N][n][n] float32, and the file's attributes."""
    with h5py.File(path, "r") as f:
        kind = text(f.attrs.get("kind", ""))
        if kind != "darcy":
            sys.exit(f"mgno_fno.py: {path} holds '{kind}' data, not darcy")
        geo = text(f.attrs.get("geometry", "square"))
        if geo != "square":
            sys.exit(f"mgno_fno.py: {path} has geometry '{geo}'; this bench reads square-domain darcy data only "
                     "(other geometries need the mask as an input channel)")
        n = int(f.attrs["grid"])
        N = f["permeability"].shape[0]
        m = N if n_max <= 0 else min(n_max, N)
        if n_max > N:
            print(f"mgno_fno.py: {path} has {N} samples, fewer than the {n_max} asked; using {N}", file=sys.stderr)
        perm = np.asarray(f["permeability"][:m], dtype=np.float32).reshape(m, n, n)   # [N][n][n] or [N][n*n]
        sol = np.asarray(f["solution"][:m], dtype=np.float32).reshape(m, n, n)
        box = tuple(float(f.attrs.get(k, d)) for k, d in (("x_lo", 0.0), ("x_hi", 1.0), ("y_lo", 0.0), ("y_hi", 1.0)))
    return perm, sol, n, box


t_load = time.perf_counter()
a_tr, u_tr, n, box = load(a.train, a.n_train)
a_te, u_te, n_te, box_te = load(a.test, a.n_test)
if n_te != n or box_te != box:
    sys.exit(f"mgno_fno.py: the test grid ({n_te}, box {box_te}) differs from the training grid ({n}, box {box}); "
             "the pointwise normalisation needs the same grid")
N_tr, N_te = a_tr.shape[0], a_te.shape[0]
if a.modes > n // 2:
    sys.exit(f"mgno_fno.py: --modes {a.modes} is above the Nyquist limit of the {n}-node grid")


class UnitGaussianNormalizer:
    """fourier_2d.py's: pointwise mean and std over the training samples, eps 1e-5."""

    def __init__(self, x, eps=1e-5):
        self.mean = x.mean(0)
        self.std = x.std(0)   # torch.std: unbiased, as fourier_2d.py
        self.eps = eps

    def encode(self, x):
        return (x - self.mean) / (self.std + self.eps)

    def decode(self, x):
        return x * (self.std + self.eps) + self.mean


a_tr_t, u_tr_t = torch.from_numpy(a_tr), torch.from_numpy(u_tr)
a_te_t, u_te_t = torch.from_numpy(a_te), torch.from_numpy(u_te)
if N_tr < 2:
    sys.exit("mgno_fno.py: at least 2 training samples are needed (the pointwise std)")
a_norm = UnitGaussianNormalizer(a_tr_t)
u_norm = UnitGaussianNormalizer(u_tr_t)

x_lo, x_hi, y_lo, y_hi = box
idx = torch.arange(n, dtype=torch.float32) / (n - 1)
xs = (x_lo + (x_hi - x_lo) * idx).view(1, n).expand(n, n)   # column j: x
ys = (y_hi - (y_hi - y_lo) * idx).view(n, 1).expand(n, n)   # row i: y (row 0 at y_hi)


def inputs(perm):   # [N][n][n] -> [N][C][n][n]
    an = a_norm.encode(perm).unsqueeze(1)
    if a.arch == "neuralop":
        return an.contiguous()     # FNO's own GridEmbeddingND adds its grid channels
    g = torch.stack([xs, ys]).unsqueeze(0).expand(perm.shape[0], 2, n, n)
    return torch.cat([an, g], dim=1).contiguous()


X_tr, X_te = inputs(a_tr_t), inputs(a_te_t)
t_load = time.perf_counter() - t_load

pad = a.domain_padding if a.domain_padding > 0 else None
if a.arch == "paper":
    n_modes = (2 * a.modes, 2 * a.modes - 2)   # see the module docstring
    model = FNO(n_modes=n_modes, in_channels=3, out_channels=1, hidden_channels=a.width, n_layers=a.layers,
                positional_embedding=None, lifting_channel_ratio=0, projection_channel_ratio=4,
                use_channel_mlp=False, fno_skip="linear", domain_padding=pad)
else:
    n_modes = (a.modes, a.modes)
    model = FNO(n_modes=n_modes, in_channels=1, out_channels=1, hidden_channels=a.width, n_layers=a.layers,
                domain_padding=pad)
params_numel = sum(q.numel() for q in model.parameters())
params = sum(q.numel() * (2 if q.is_complex() else 1) for q in model.parameters())

opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
step_size = a.step_size if a.step_size > 0 else max(1, a.epochs // 5)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=a.gamma)


def rel_l2(pred, u):   # [B][n][n] -> [B]
    d = (pred - u).reshape(u.shape[0], -1)
    return d.norm(dim=1) / u.reshape(u.shape[0], -1).norm(dim=1)


cpu = "unknown"
try:
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
except OSError:
    pass
print(f"fno: {N_tr} training / {N_te} test samples, {n} x {n}; arch {a.arch}, width {a.width}, n_modes {n_modes}, "
      f"{a.layers} layers, {params} parameters ({params_numel} tensor elements); Adam lr {a.lr} wd {a.weight_decay}, "
      f"StepLR x{a.gamma} every {step_size} epochs, batch {a.batch}, {a.epochs} epochs; data loaded in {t_load:.2f} s",
      flush=True)
print(f"fno: cpu: {cpu}; torch {torch.__version__} ({a.threads} threads), neuraloperator {neuralop.__version__}, "
      f"python {platform.python_version()}", flush=True)

gen = torch.Generator().manual_seed(a.seed)
train_s = 0.0
first_s = 0.0
last_train = float("nan")
for ep in range(a.epochs):
    model.train()
    t0 = time.perf_counter()
    perm_idx = torch.randperm(N_tr, generator=gen)
    tot = 0.0
    lr = opt.param_groups[0]["lr"]
    for b in range(0, N_tr, a.batch):
        bi = perm_idx[b:b + a.batch]
        x, u = X_tr[bi], u_tr_t[bi]
        opt.zero_grad(set_to_none=True)
        out = u_norm.decode(model(x).squeeze(1))
        loss = rel_l2(out, u).sum()
        loss.backward()
        opt.step()
        tot += loss.item()
    sched.step()
    dt = time.perf_counter() - t0
    train_s += dt
    if ep == 0:
        first_s = dt
    last_train = tot / N_tr
    if a.epochs <= 20 or (ep + 1) % max(1, a.epochs // 20) == 0 or ep == a.epochs - 1:
        print(f"fno: epoch {ep + 1}/{a.epochs} train_rel_l2 {last_train:.4e} lr {lr:.3e} "
              f"{dt:.2f} s", flush=True)

model.eval()
errs = []
with torch.no_grad():
    for b in range(0, N_te, a.batch):
        out = u_norm.decode(model(X_te[b:b + a.batch]).squeeze(1))
        errs.append(rel_l2(out.double(), u_te_t[b:b + a.batch].double()))
errs = torch.cat(errs).numpy()

print(f"fno: params={params} params_numel={params_numel} arch={a.arch} n_modes={n_modes[0]},{n_modes[1]} "
      f"epochs={a.epochs} batch={a.batch} n_train={N_tr} n_test={N_te} grid={n} "
      f"s_per_epoch={train_s / a.epochs:.3f} train_s={train_s:.3f} s_first_epoch={first_s:.3f} "
      f"train_rel_l2_last={last_train:.4e} test_rel_l2_mean={errs.mean():.4e} "
      f"test_rel_l2_median={np.median(errs):.4e} threads={a.threads} torch={torch.__version__} "
      f"neuralop={neuralop.__version__}", flush=True)
