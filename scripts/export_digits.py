#!/usr/bin/python3
"""Writes the 8x8 handwritten digits that ship with scikit-learn (1797 images, pixels 0..16) to
a text file for examples/train_cnn and tests/test_train, with a fixed train/test split.

Usage: /usr/bin/python3 scripts/export_digits.py OUT_FILE [N_TRAIN]   (default N_TRAIN 1500)

Format: a header line "anycl-digits 1 <height> <width> <n_train> <n_test>", then one line per
image, "<label> <pixel> ... <pixel>" (row-major), the n_train training images first. The images
are in a seeded permutation (numpy RandomState(0)), so the split mixes every writer."""
import sys

try:
    import numpy as np
    from sklearn.datasets import load_digits
except ImportError as e:
    sys.exit(f"export_digits.py: {e}: install python3-sklearn (scripts/setup.sh does) and run with /usr/bin/python3")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    digits = load_digits()
    n = len(digits.target)
    n_train = int(sys.argv[2]) if len(sys.argv) == 3 else 1500
    if not 0 < n_train < n:
        sys.exit(f"export_digits.py: N_TRAIN must be in 1..{n - 1}")
    order = np.random.RandomState(0).permutation(n)
    h, w = digits.images.shape[1:]
    with open(sys.argv[1], "w") as out:
        out.write(f"anycl-digits 1 {h} {w} {n_train} {n - n_train}\n")
        for i in order:
            pixels = " ".join(str(int(v)) for v in digits.images[i].ravel())
            out.write(f"{int(digits.target[i])} {pixels}\n")


if __name__ == "__main__":
    main()
