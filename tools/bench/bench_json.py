"""Reading anycl-bench's JSON documents: shared by perf_table.py and compare_runs.py."""

import json
import sys

BENCH_SCHEMA = "anycl-bench/1"
MULTI_SCHEMA = "anycl-bench-multi/1"


def load(path, tool):
    """The document at `path`; exits with `tool`'s name on an unreadable or foreign file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{tool}: cannot read {path}: {e}")
    if not isinstance(doc, dict) or doc.get("schema") not in (BENCH_SCHEMA, MULTI_SCHEMA):
        schema = doc.get("schema") if isinstance(doc, dict) else None
        sys.exit(f"{tool}: {path} is not an anycl-bench document (schema {schema!r})")
    return doc


def gflops(result):
    """A result object's GFLOP/s, or None when the run did not support it (or lacks it)."""
    if not isinstance(result, dict) or result.get("supported") is False or "gflops" not in result:
        return None
    return result["gflops"]
