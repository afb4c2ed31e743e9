#!/usr/bin/python3
"""Markdown tables for docs/performance.md from anycl-bench JSON documents.

usage: perf_table.py [--commit REV] RUN.json [RUN.json ...]

Each file is what `anycl-bench all|gemm|conv|stages|net --json` (schema anycl-bench/1) or
`anycl-bench multi --json` (schema anycl-bench-multi/1) wrote, through --out or stdout. Several
runs of one kind go side by side: every cell reads "run 1 / run 2 / ...". Printed: the machine
block (from each document's "machine" object), then a table for each part the runs hold: GEMM,
convolution, stages, whole network, and the multi-device tables. Python 3 standard library only.
"""

import argparse
import signal

from bench_json import BENCH_SCHEMA, MULTI_SCHEMA, gflops, load







def fmt(value, style):
    if value is None:
        return "n/a"
    return {"gflops": f"{value:.1f}", "ratio": f"{value:.2f}x", "ms": f"{value:.3f}", "ms1": f"{value:.1f}"}[style]


def cell(values, style="gflops"):
    return " / ".join(fmt(v, style) for v in values)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def joined(values):
    """One value when the runs agree, else each run's value in order."""
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else " / ".join(values)


def machine_block(docs, commit):
    machines = [d.get("machine", {}) for d in docs]
    fields = [("CPU", "cpu"), ("OpenCL device", "device"), ("OpenCL driver", "driver"),
              ("anycl version", "anycl_version"), ("date", "date"), ("environment", "environment"),
              ("command", "command")]
    rows = []
    for label, key in fields:
        values = [str(m.get(key, "not recorded")) for m in machines]
        if key == "command":
            values = [f"`{v}`" for v in values]
        rows.append([label, joined(values)])
        if key == "anycl_version" and commit:
            rows.append(["commit", commit])
    return table(["field", "value"], rows)


def sources(runs):
    """Which file each figure of a cell comes from, when the cells hold several."""
    if len(runs) < 2:
        return ""
    return "Cells: " + " / ".join(f"`{path}`" for path, _ in runs) + "."


def keyed(runs, part, key):
    """Rows of one part across runs, by their label, in the order the labels first appear."""
    labels = dict.fromkeys(row[key] for run in runs for row in run.get(part, []))
    return [(label, [next((r for r in run.get(part, []) if r[key] == label), None) for run in runs])
            for label in labels]


def gemm_table(runs):
    rows = []
    for shape, per_run in keyed(runs, "gemm", "shape"):
        rows.append([shape] + [cell([gflops(r and r.get(side)) for r in per_run])
                               for side in ("anycl", "clblast", "openblas")])
    return table(["shape", "anycl", "CLBlast", "OpenBLAS"], rows)


def conv_title(runs):
    batches = {r["batch"] for run in runs for r in run.get("conv", []) if "batch" in r}
    batch = f"batch {batches.pop()}, " if len(batches) == 1 else ""
    return f"**Convolution** (forward, {batch}NCHW, GFLOP/s)"


def conv_table(runs):
    rows = []
    for layer, per_run in keyed(runs, "conv", "layer"):
        rows.append([layer,
                     cell([gflops(r and r.get("anycl_forward", {}).get("auto")) for r in per_run]),
                     cell([gflops(r and r.get("onednn_nchw")) for r in per_run]),
                     cell([gflops(r and r.get("onednn_blocked")) for r in per_run])])
    return table(["layer", "anycl Auto", "oneDNN NCHW", "oneDNN blocked"], rows)


def ratio(num, den):
    return num / den if num and den else None


def conv_passes_table(runs):
    """Every pass of the layers the runs timed backward, against oneDNN blocked (`conv --layout`)."""
    passes = (("anycl_forward", "onednn_blocked"), ("anycl_backward_data", "onednn_backward_data_blocked"),
              ("anycl_backward_weights", "onednn_backward_weights_blocked"))
    rows = []
    for layer, per_run in keyed(runs, "conv", "layer"):
        if not any(r and r.get("anycl_backward_data") for r in per_run):
            continue
        row, ours_by_pass = [layer], []
        for ours, theirs in passes:
            mine = [gflops(r and (r[ours].get("auto") if ours == "anycl_forward" else r.get(ours))) for r in per_run]
            blocked = [gflops(r and r.get(theirs)) for r in per_run]
            row += [cell(mine) + " / " + cell(blocked), cell([ratio(a, b) for a, b in zip(mine, blocked)], "ratio")]
            ours_by_pass.append(mine)
        forward, weights = ours_by_pass[0], ours_by_pass[-1]
        rows.append(row + [cell([ratio(w, f) for w, f in zip(weights, forward)], "ratio")])
    if not rows:
        return ""
    return table(["layer", "forward: anycl / blocked", "vs blocked", "bwd-data: anycl / blocked", "vs blocked",
                  "bwd-weights: anycl / blocked", "vs blocked", "bwd-w / own fwd"], rows)


NET_SIDES = (("anycl", "anycl"), ("onednn_nchw", "oneDNN NCHW"), ("onednn_blocked", "oneDNN blocked"),
             ("pytorch", "PyTorch"))
NET_PASSES = (("forward", "forward"), ("backward_data", "backward-data"), ("backward_weights", "backward-weights"),
              ("all", "all three"))


def net_table(runs):
    """Per network, batch and pass: each side's total ms (count x median per layer), and anycl's speedup."""
    rows = []
    keys = list(dict.fromkeys((r["network"], r["batch"]) for run in runs for r in run.get("net", [])))
    for network, batch in keys:
        found = [next((r for r in run.get("net", []) if (r["network"], r["batch"]) == (network, batch)), None)
                 for run in runs]
        for key, label in NET_PASSES:
            totals = [f and f["totals_ms"].get(key, {}) for f in found]
            rows.append([network, str(batch), label] +
                        [cell([t and t.get(side) for t in totals], "ms1") for side, _ in NET_SIDES] +
                        [cell([t and t.get(f"anycl_speedup_vs_{side}") for t in totals], "ratio")
                         for side in ("onednn_nchw", "onednn_blocked", "pytorch")])
    return table(["network", "batch", "pass", *(name + " ms" for _, name in NET_SIDES),
                  "vs oneDNN NCHW", "vs oneDNN blocked", "vs PyTorch"], rows)


def stages_table(runs):
    """Per workload and kernel: the median device time of one launch and the share of the call."""
    rows = []
    for workload, per_run in keyed(runs, "stages", "workload"):
        if all(r is None or "error" in r for r in per_run):
            rows.append([workload, "(not run)", "", ""])
            continue
        algorithms = [r["algorithm"] for r in per_run if r and "algorithm" in r]
        label = workload + (f" ({joined(algorithms)})" if algorithms else "")
        rows.append([label, "(call)", cell([r and r.get("call_median_ms") for r in per_run], "ms"), ""])
        kernels = []
        for r in per_run:
            for k in (r or {}).get("kernels", []):
                if (k["kernel"], k["device"]) not in kernels:
                    kernels.append((k["kernel"], k["device"]))
        several_devices = len({d for _, d in kernels}) > 1
        for name, device in kernels:
            found = [next((k for k in (r or {}).get("kernels", []) if (k["kernel"], k["device"]) == (name, device)),
                          None) for r in per_run]
            label = f"`{name}`" + (f" (device {device})" if several_devices else "")
            shares = " / ".join("n/a" if k is None else f"{100 * k['share']:.0f}%" for k in found)
            rows.append(["", label, cell([k and k["median_ms"] for k in found], "ms"), shares])
        outside = [r and r.get("outside_kernels_ms") for r in per_run]
        calls = [r and r.get("call_median_ms") for r in per_run]
        shares = " / ".join("n/a" if o is None or not c else f"{100 * o / c:.0f}%" for o, c in zip(outside, calls))
        rows.append(["", "(outside kernels)", cell(outside, "ms"), shares])
    return table(["workload", "kernel", "median ms", "share of the call"], rows)


def multi_tables(runs, note):
    """The paired ratios (calls alternated in one process), the process rounds, POCL + Oclgrind."""
    parts = []
    paired = [r.get("paired", {}) for r in runs]
    names = list(dict.fromkeys(w for p in paired for w in p))
    rows = [[w] + [cell([p.get(w, {}).get("ratios", {}).get(key) for p in paired], "ratio")
                   for key in ("cpu_2_vs_one_core", "cpu_2_vs_whole", "whole_vs_one_core")] for w in names]
    parts.append("**Multi-device** (`anycl-bench multi`, paired ratios: calls alternated in one process)\n\n" +
                 (note + "\n\n" if note else "") +
                 table(["workload", "cpu/2 vs one core", "cpu/2 vs whole device", "whole device vs one core"], rows))

    split = [r.get("split", {}) for r in runs]
    names = list(dict.fromkeys(w for s in split for w in s.get("ratios", {})))
    rows = []
    for w in names:
        rows.append([w] + [cell([gflops(s.get(c, {}).get("results", {}).get(w)) for s in split])
                           for c in ("one_core", "whole_device", "cpu_2")] +
                    [cell([s.get("ratios", {}).get(w, {}).get(k) for s in split], "ratio")
                     for k in ("cpu_2_vs_one_core", "cpu_2_vs_whole")])
    rounds = joined([str(r.get("rounds", "?")) for r in runs])
    parts.append(f"**Multi-device, child processes in rotated rounds** (GFLOP/s; rounds: {rounds})\n\n" +
                 table(["workload", "one core", "whole device", "cpu/2", "cpu/2 vs one core", "cpu/2 vs whole device"],
                       rows))

    het = [r.get("heterogeneous", {}) for r in runs]
    if any(h.get("supported") is False for h in het):
        notes = joined([h.get("note", "") for h in het if h.get("supported") is False])
        parts.append(f"**POCL + Oclgrind**: not run ({notes})")
    else:
        names = list(dict.fromkeys(w for h in het for w in h.get("ratios", {})))
        rows = [[w] + [cell([gflops(h.get(c, {}).get("results", {}).get(w)) for h in het])
                       for c in ("pocl_alone", "pocl_oclgrind")] +
                [cell([h.get("ratios", {}).get(w, {}).get(k) for h in het], "ratio")
                 for k in ("with_oclgrind_vs_alone", "with_oclgrind_vs_alone_paired")] for w in names]
        parts.append("**POCL + Oclgrind against POCL alone** (GFLOP/s)\n\n" +
                     table(["workload", "POCL", "POCL + Oclgrind", "ratio, processes", "ratio, paired"], rows))
    return parts


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the output quietly
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN.json", help="anycl-bench --json output files")
    parser.add_argument("--commit", help="the commit the runs' build came from (not in the JSON)")
    args = parser.parse_args()
    docs = [load(p, "perf_table.py") for p in args.runs]

    parts = [machine_block(docs, args.commit)]
    for title, part, make in ((lambda _: "**GEMM** (SGEMM, row-major, GFLOP/s)", "gemm", gemm_table),
                              (conv_title, "conv", conv_table),
                              (lambda _: "**Convolution, every pass** (GFLOP/s; oneDNN's blocked layout; a ratio "
                               "is anycl / oneDNN)", "conv", conv_passes_table),
                              (lambda _: "**Stages** (`anycl-bench stages`: device time of each kernel; median ms "
                               "of one launch, and of the call)", "stages", stages_table),
                              (lambda _: "**Whole network** (`anycl-bench net`: every convolution, ms per pass over the "
                               "network; speedup = opponent ms / anycl ms)", "net", net_table)):
        runs = [(p, d) for p, d in zip(args.runs, docs) if d["schema"] == BENCH_SCHEMA and part in d]
        if runs:
            only_docs = [d for _, d in runs]
            body = make(only_docs)
            if body:
                parts.append("\n\n".join(x for x in (title(only_docs), sources(runs), body) if x))
    runs = [(p, d) for p, d in zip(args.runs, docs) if d["schema"] == MULTI_SCHEMA]
    if runs:
        parts += multi_tables([d for _, d in runs], sources(runs))
    print("\n\n".join(parts))


if __name__ == "__main__":
    main()
