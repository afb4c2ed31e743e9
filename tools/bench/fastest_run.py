"""The fastest of repeated `examples/train_cnn --json` runs (other load on a shared machine only
slows a run), keeping every run's images/s beside it."""
import glob
import json


def fastest(pattern):
    runs = [json.load(open(p)) for p in glob.glob(pattern)]
    best = max(runs, key=lambda r: r["images_per_second"])
    best["all_images_per_second"] = sorted(r["images_per_second"] for r in runs)
    return best
