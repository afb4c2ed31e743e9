#!/usr/bin/python3
"""PyTorch as an independent convolution oracle for tests/test_conv_torch.cpp.

Usage: /usr/bin/python3 torch_conv_oracle.py DIR

DIR/cases.json (written by the C++ test) is {"cases": [case, ...]}, each case
    {"name": str, "n", "c", "h", "w", "k", "r", "s", "stride": [sh, sw],
     "pad": [top, left, bottom, right], "dilation": [dh, dw], "groups", "relu": bool,
     "bias": bool, "layout": "nchw" | "nhwc"}
with raw little-endian float32 inputs DIR/<i>.x (n,c,h,w), DIR/<i>.w (k,c/groups,r,s),
DIR/<i>.bias (k, only when "bias" is true) and DIR/<i>.dy (n,k,p,q). With "nhwc" the four-axis
tensors (inputs and outputs) are stored channels-last, (n,h,w,c) and (k,r,s,c/groups): PyTorch's
channels_last memory format, which the convolution then runs in.

For every case this writes, as raw little-endian float32:
    DIR/<i>.y      forward: conv2d(x, w) + bias, then max(0, .) when "relu"
    DIR/<i>.dx     d/dx of sum(z * dy) where z = conv2d(x, w) + bias (no relu: anycl's backward
    DIR/<i>.dw     passes are those of the convolution itself)
    DIR/<i>.dbias
and DIR/done.json listing the shapes it wrote. Everything is computed in torch.float64 from the
float32 inputs, so the oracle's own rounding is far below anycl's float32 error.

Exit codes: 0 done, 2 bad usage or input, 3 torch cannot be imported.
"""
import json
import os
import sys

MISSING_TORCH = 3


def main(argv):
    if len(argv) != 2:
        print("usage: torch_conv_oracle.py DIR", file=sys.stderr)
        return 2
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:  # loud on purpose: the C++ test turns this into a failure
        print("*" * 78, file=sys.stderr)
        print("TORCH MISSING: %s cannot import torch (%s)." % (sys.executable, e), file=sys.stderr)
        print("Install it with: apt-get install python3-torch   (scripts/setup.sh does this)", file=sys.stderr)
        print("*" * 78, file=sys.stderr)
        return MISSING_TORCH

    import numpy as np

    torch.set_num_threads(1)
    folder = argv[1]
    with open(os.path.join(folder, "cases.json")) as f:
        cases = json.load(f)["cases"]

    def load(i, what, shape, channels_last=False):
        path = os.path.join(folder, "%d.%s" % (i, what))
        a = np.fromfile(path, dtype="<f4")
        expect = int(np.prod(shape))
        if a.size != expect:
            raise ValueError("%s holds %d floats, expected %d for shape %s" % (path, a.size, expect, shape))
        if not channels_last:
            return torch.from_numpy(a.astype(np.float64).reshape(shape))
        stored = (shape[0], shape[2], shape[3], shape[1])
        t = torch.from_numpy(a.astype(np.float64).reshape(stored)).permute(0, 3, 1, 2)
        assert t.is_contiguous(memory_format=torch.channels_last)
        return t

    def save(i, what, t, channels_last=False):
        t = t.detach().cpu()
        if channels_last and t.dim() == 4:
            t = t.permute(0, 2, 3, 1).contiguous()  # the bytes of t in channels_last memory
        t.numpy().astype("<f4").tofile(os.path.join(folder, "%d.%s" % (i, what)))

    done = []
    for i, cs in enumerate(cases):
        n, c, h, w, k, r, s, g = (int(cs[key]) for key in ("n", "c", "h", "w", "k", "r", "s", "groups"))
        sh, sw = (int(v) for v in cs["stride"])
        pt, pl, pb, pr = (int(v) for v in cs["pad"])
        dh, dw = (int(v) for v in cs["dilation"])
        p = (h + pt + pb - dh * (r - 1) - 1) // sh + 1
        q = (w + pl + pr - dw * (s - 1) - 1) // sw + 1
        cl = cs.get("layout", "nchw") == "nhwc"
        if cs.get("layout", "nchw") not in ("nchw", "nhwc"):
            raise ValueError("case %d: unknown layout %r" % (i, cs["layout"]))
        x = load(i, "x", (n, c, h, w), cl).requires_grad_(True)
        wt = load(i, "w", (k, c // g, r, s), cl).requires_grad_(True)
        bias = load(i, "bias", (k,)) if cs["bias"] else torch.zeros(k, dtype=torch.float64)
        bias.requires_grad_(True)
        dy = load(i, "dy", (n, k, p, q), cl)
        # Asymmetric padding: pad explicitly (F.pad takes left, right, top, bottom), then convolve
        # unpadded; autograd through F.pad gives dx of the unpadded input.
        xp = F.pad(x, (pl, pr, pt, pb))
        z = F.conv2d(xp, wt, bias, stride=(sh, sw), padding=0, dilation=(dh, dw), groups=g)
        if tuple(z.shape) != (n, k, p, q):
            raise ValueError("case %d (%s): torch output shape %s, expected %s"
                             % (i, cs["name"], tuple(z.shape), (n, k, p, q)))
        y = torch.relu(z) if cs["relu"] else z
        z.backward(dy)
        save(i, "y", y, cl)
        save(i, "dx", x.grad, cl)
        save(i, "dw", wt.grad, cl)
        save(i, "dbias", bias.grad)
        done.append({"name": cs["name"], "y": [n, k, p, q]})

    with open(os.path.join(folder, "done.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": done}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
