#!/usr/bin/python3
"""Kernel variants against each other in one session, by device time.

Runs `anycl-bench run --mode=perf --profile` on the same descriptors once per variant and round,
the variants' order reversed every other round (a slow spell of a shared machine then falls on
all of them), and prints per descriptor and kernel each variant's device milliseconds per call
over the rounds (lowest-highest), then the call's wall median likewise, and each variant's
median and lowest over the rounds against the first variant's (the lowest is what a variant does
when the machine leaves it alone).

A variant is LABEL or LABEL:ENV, ENV being space-separated NAME=VALUE assignments set for its
runs: a copy of cl_kernels/ (ANYCL_KERNEL_PATH=DIR), or a cache folder whose params/ holds a
parameter layer (ANYCL_CACHE_DIR=DIR, docs/tuning.md). Kernel arguments the host passes must
match across the copies: the binary is the same, unless a variant also loads another build's
library (LD_LIBRARY_PATH=DIR holding its libanycl.so.0, which the bench's RUNPATH yields to) with
that build's kernels.

usage: compare_kernels.py [--bench PATH] [--rounds N] [--repeats N]
                          --variant V --variant V [...] [--] DESCRIPTOR...
example: compare_kernels.py --rounds 3 --variant old:ANYCL_KERNEL_PATH=/tmp/old-kernels \\
             --variant new -- conv:bwd_d:n8c144h56w56k144r5s5:p2:s2:g144
Python 3 standard library only.
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys

PERF = re.compile(r"^perf (\S+): median ([0-9.]+) ms")
KERNEL = re.compile(r"^  (\S+)\s+(\d+)\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)\s+-?[0-9.]+%$")


def parse_variant(text):
    """'LABEL[:NAME=VALUE ...]' -> (label, {name: value}); ValueError names what is wrong."""
    label, _, env_text = text.partition(":")
    if not label:
        raise ValueError(f"--variant '{text}': the label before ':' is empty")
    env = {}
    for item in env_text.split():
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise ValueError(f"--variant '{text}': '{item}' is not NAME=VALUE")
        env[name] = value
    return label, env


def parse_run(output):
    """anycl-bench run's perf output -> {descriptor: {'wall': ms, kernel: ms per call}}."""
    figures, current = {}, None
    for line in output.splitlines():
        perf = PERF.match(line)
        if perf:
            current = figures.setdefault(perf.group(1), {})
            current["wall"] = float(perf.group(2))
            continue
        kernel = KERNEL.match(line)
        if kernel and current is not None:
            name = kernel.group(1) if kernel.group(2) == "0" else f"{kernel.group(1)}@{kernel.group(2)}"
            current[name] = current.get(name, 0.0) + float(kernel.group(3))
    return figures


def run_once(bench, env, repeats, descriptors):
    command = [bench, "run", "--mode=perf", "--repeats", str(repeats), "--profile", *descriptors]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"compare_kernels.py: {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return parse_run(done.stdout)


def spread(values):
    return f"{min(values):.3f}-{max(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def table(descriptors, labels, rounds):
    """rounds: [{label: figures}] -> the markdown table's lines."""
    lines = ["| descriptor | kernel | " + " | ".join(labels) + " | " +
             " | ".join(f"{label} / {labels[0]} (median / lowest)" for label in labels[1:]) + " |",
             "|---|---|" + "---|" * (2 * len(labels) - 1)]
    for d in descriptors:
        names = sorted({k for r in rounds for label in labels for k in r[label].get(d, {}) if k != "wall"})
        for name in names + ["wall"]:
            per_label = [[r[label][d][name] for r in rounds if name in r[label].get(d, {})] for label in labels]
            if not all(per_label):
                cells = [spread(v) if v else "absent" for v in per_label]
                lines.append(f"| {d} | {name} | " + " | ".join(cells) + " |" + " |" * (len(labels) - 1))
                continue
            first, lowest = statistics.median(per_label[0]), min(per_label[0])
            ratios = [f"{statistics.median(v) / first:.2f}x / {min(v) / lowest:.2f}x" if lowest > 0 else "n/a"
                      for v in per_label[1:]]
            lines.append(f"| {d} | {name} | " + " | ".join(spread(v) for v in per_label) + " | " +
                         " | ".join(ratios) + " |")
    return lines


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    here = os.path.dirname(os.path.abspath(__file__))
    default_bench = os.path.join(here, "..", "..", "build", "tools", "anycl-bench")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", default=default_bench, help="the anycl-bench binary (default: build/tools/)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each variant (default 3)")
    parser.add_argument("--repeats", type=int, default=21, help="timed calls a run (default 21)")
    parser.add_argument("--variant", action="append", default=[], help="LABEL or LABEL:NAME=VALUE ...")
    parser.add_argument("descriptors", nargs="+", help="anycl-bench run descriptors")
    args = parser.parse_args()
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats must be at least 1")
    if len(args.variant) < 2:
        parser.error("give at least two --variant")
    try:
        variants = [parse_variant(v) for v in args.variant]
    except ValueError as e:
        parser.error(str(e))
    labels = [label for label, _ in variants]
    if len(set(labels)) != len(labels):
        parser.error("variant labels must differ: " + ", ".join(labels))
    if not os.access(args.bench, os.X_OK):
        parser.error(f"--bench {args.bench} is not an executable")

    rounds = []
    for r in range(args.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        rounds.append({label: run_once(args.bench, env, args.repeats, args.descriptors) for label, env in order})
    descriptors = list(dict.fromkeys(d for r in rounds for figures in r.values() for d in figures))
    print(f"device ms per call over {args.rounds} round(s) of {args.repeats} timed calls; "
          "wall: the call's median; ratios: of the medians and of the lowest over the rounds")
    print("\n".join(table(descriptors, labels, rounds)))


if __name__ == "__main__":
    main()
