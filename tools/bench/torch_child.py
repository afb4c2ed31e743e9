"""The request loop the PyTorch children of anycl-bench share (net_torch.py, train_torch.py).

One JSON request a line on stdin, one JSON answer a line on stdout; a request the script cannot
serve is answered {"supported": false, "note"} and the loop goes on. --threads sets
torch.set_num_threads (default 2, the machine's cores).
"""
import argparse
import json
import os
import sys


def serve(description, answer):
    """Answers every line of stdin with answer(request) until stdin closes."""
    import torch  # the caller imported it after setting OMP_WAIT_POLICY

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    me = os.path.basename(sys.argv[0])
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(json.loads(line))
        except (ValueError, KeyError, TypeError, RuntimeError) as e:
            reply = {"supported": False, "note": f"{me}: {type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)
