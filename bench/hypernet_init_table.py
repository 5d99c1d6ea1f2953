#!/usr/bin/env python3
"""The table of bench/hypernet_init.sh from its output folder (h5py needed).

    python3 bench/hypernet_init_table.py OUT ID...

For each benchmark ID, OUT/ID-random, OUT/ID-random32 and OUT/ID-hypernet are kpde solve
folders with history/monitor_wall_s and history/monitor_rel_l2 (the relative L2 error
against the reference, monitored every K steps, step 0 included), and OUT/ID-hypernet.log
holds the line "initial weights from the hypernetwork ... in S s".

Columns, for the config's own network (random) and the target PINN (random32):
  E        the random run's final monitored error
  T_rand   its first training time (s) with error <= E
  T_hyp    the hypernet run's first training time with error <= E, plus the seconds of
           its initialisation; "-" when it never gets there
  speedup  T_rand / T_hyp
  T10      the same two times for 10 E (one decade short of the final error), "rand/hyp"
and init_s, the hypernet run's error at step 0 (the emitted PINN) and at the end.
"""
import re
import sys

import h5py


def monitor(path):
    with h5py.File(path + "/solution.h5", "r") as f:
        return list(f["history/monitor_wall_s"][:]), list(f["history/monitor_rel_l2"][:])


def first(t, e, level):
    return next((t[k] for k in range(len(e)) if e[k] <= level), None)


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def main():
    out, ids = sys.argv[1], sys.argv[2:]
    print("%-5s | %9s %7s %7s %7s %13s | %9s %7s %7s %7s %13s | %6s %9s %9s" %
          ("id", "E", "T_rand", "T_hyp", "speedup", "T10 rand/hyp", "E32", "T_rand", "T_hyp", "speedup",
           "T10 rand/hyp", "init_s", "hyp_step0", "hyp_final"))
    for name in ids:
        d = out + "/" + name
        m = re.search(r"from the hypernetwork .* in ([0-9.]+) s", open(d + "-hypernet.log").read())
        init = float(m.group(1)) if m else float("nan")
        th, eh = monitor(d + "-hypernet")
        row = ["%-5s |" % name]
        for run in ("random", "random32"):
            tr, er = monitor(d + "-" + run)
            E = er[-1]
            cols = []
            for level in (E, 10 * E):
                t_r, t_h = first(tr, er, level), first(th, eh, level)
                cols.append((t_r, None if t_h is None else t_h + init))
            (t_r, t_h), (t10_r, t10_h) = cols
            row += ["%9.2e" % E, "%7.1f" % t_r, "%7s" % fmt(t_h), "%7s" % fmt(None if t_h is None else t_r / t_h, "%.2f"),
                    "%13s" % (fmt(t10_r) + "/" + fmt(t10_h)), "|"]
        row += ["%6.2f" % init, "%9.2e" % eh[0], "%9.2e" % eh[-1]]
        print(" ".join(row))


if __name__ == "__main__":
    main()
