#!/usr/bin/python3
"""Old build against new build from anycl-bench JSON documents (compare_builds.sh runs it).

usage: compare_runs.py --old OLD.json [OLD.json ...] --new NEW.json [NEW.json ...]

The files are rounds of the same anycl-bench command, one per build and round, given in round
order. Per workload: each build's median GFLOP/s over its rounds (and the range), the new/old
ratio of the medians, and in how many rounds the new build was faster than the old one run next
to it (`train` documents: images/s). Stages documents add each kernel's median device time (there the ratio is old/new, so
above 1 is faster in every column). The opponents (CLBlast, OpenBLAS, oneDNN) run the same code
in both builds' processes: their table shows how far the machine itself moved between runs.
Python 3 standard library only.
"""

import argparse
import signal
import statistics

from bench_json import gflops, load






def bench_figures(doc, anycl, opponents, kernels):
    """Fills {workload: GFLOP/s} for anycl and the opponents, {kernel: ms} from an anycl-bench/1 doc."""
    for row in doc.get("gemm", []):
        name = "sgemm " + row["shape"]
        anycl[name] = gflops(row.get("anycl"))
        opponents[name + ", CLBlast"] = gflops(row.get("clblast"))
        opponents[name + ", OpenBLAS"] = gflops(row.get("openblas"))
    for row in doc.get("conv", []):
        name = "conv " + row["layer"]
        for algo, result in row.get("anycl_forward", {}).items():
            anycl[f"{name} fwd {algo}"] = gflops(result)
        for key, label in (("anycl_backward_data", "bwd-data"), ("anycl_backward_weights", "bwd-weights")):
            if key in row:
                anycl[f"{name} {label}"] = gflops(row[key])
        for key, label in (("clblast_convgemm", "CLBlast Convgemm"), ("onednn_nchw", "oneDNN NCHW"),
                           ("onednn_blocked", "oneDNN blocked"), ("onednn_backward_data_nchw", "oneDNN bwd-data"),
                           ("onednn_backward_weights_nchw", "oneDNN bwd-weights")):
            if key in row:
                opponents[f"{name}, {label}"] = gflops(row[key])
    for row in doc.get("train", []):  # images/s, not GFLOP/s: the name says so
        name = f"train {row['model']} batch {row['batch']} (images/s)"
        anycl[name] = row["anycl"]["images_per_second"]
        opponents[name + ", PyTorch"] = row["pytorch"]["images_per_second"]
    for row in doc.get("stages", []):
        if "error" in row:
            continue
        anycl["stages: " + row["workload"]] = row.get("gflops")
        for k in row.get("kernels", []):
            device = f" (device {k['device']})" if k["device"] else ""
            kernels[f"{row['workload']}: {k['kernel']}{device}"] = k["median_ms"]


def multi_figures(doc, anycl):
    """{workload: GFLOP/s} of every configuration of an anycl-bench-multi/1 doc."""
    for part in ("split", "heterogeneous"):
        for config, value in doc.get(part, {}).items():
            if isinstance(value, dict):
                for workload, result in value.get("results", {}).items():
                    anycl[f"multi {config}: {workload}"] = gflops(result)
    for workload, configs in doc.get("paired", {}).items():
        for config, result in configs.items():
            if config != "ratios":
                anycl[f"multi paired {config}: {workload}"] = gflops(result)


def figures(doc):
    anycl, opponents, kernels = {}, {}, {}
    if doc.get("schema") == "anycl-bench-multi/1":
        multi_figures(doc, anycl)
    else:
        bench_figures(doc, anycl, opponents, kernels)
    return {"anycl": anycl, "opponents": opponents, "kernels": kernels}


def side(values, fmt):
    """The median of the rounds that have the figure, with their range when there are several."""
    present = [v for v in values if v is not None]
    if not present:
        return None, "n/a"
    med = statistics.median(present)
    text = fmt.format(med)
    if len(present) > 1:
        text += f" ({fmt.format(min(present))}–{fmt.format(max(present))})"
    return med, text


def rows_for(kind, old_runs, new_runs, higher_is_better):
    names = list(dict.fromkeys(n for run in old_runs + new_runs for n in run[kind]))
    rows = []
    for name in names:
        old = [run[kind].get(name) for run in old_runs]
        new = [run[kind].get(name) for run in new_runs]
        fmt = "{:.1f}" if higher_is_better else "{:.4f}"
        old_med, old_text = side(old, fmt)
        new_med, new_text = side(new, fmt)
        if old_med is None and new_med is None:
            continue  # neither build could run it (an algorithm that does not apply)
        ratio = "n/a"
        if old_med and new_med:
            ratio = f"{(new_med / old_med if higher_is_better else old_med / new_med):.3f}x"
        pairs = [(o, n) for o, n in zip(old, new) if o is not None and n is not None]
        faster = sum(1 for o, n in pairs if (n > o if higher_is_better else n < o))
        rows.append([name, old_text, new_text, ratio, f"{faster} of {len(pairs)}"])
    return rows


def print_table(title, header, rows):
    if not rows:
        return
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the output quietly
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", nargs="+", required=True, metavar="OLD.json", help="the old build's rounds")
    parser.add_argument("--new", nargs="+", required=True, metavar="NEW.json", help="the new build's rounds")
    args = parser.parse_args()
    old_runs = [figures(load(p, "compare_runs.py")) for p in args.old]
    new_runs = [figures(load(p, "compare_runs.py")) for p in args.new]
    rounds = f"{len(old_runs)} old and {len(new_runs)} new rounds"
    header = ["workload", "old", "new", "new vs old", "new faster"]
    print_table(f"**anycl** (GFLOP/s, median over {rounds}; range in brackets; new vs old = new/old)", header,
                rows_for("anycl", old_runs, new_runs, True))
    print_table("**Kernels** (`stages`: median device time of one launch, ms; new vs old = old/new)", header,
                rows_for("kernels", old_runs, new_runs, False))
    print_table("**Opponents** (the same code in both builds' runs: how far the machine moved; GFLOP/s)", header,
                rows_for("opponents", old_runs, new_runs, True))


if __name__ == "__main__":
    main()
