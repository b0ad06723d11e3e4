#!/usr/bin/python3
"""Plots the CSV of //bench/baselines:compare: one log-log panel per figure, one line per design.

Usage: /usr/bin/python3 bench/baselines/plot.py BASELINES.csv docs/baselines.png
(Debian's python3-matplotlib; a pyenv python3 first on PATH does not see it.)
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # Files only, no display.
import matplotlib.pyplot as plt  # noqa: E402

STYLES = {  # design -> (colour, marker)
    "ART": ("#1b6ca8", "o"),
    "pairwise": ("#c0392b", "s"),
    "sender keys": ("#27ae60", "^"),
}


def read(path):
    """Returns ({metric: (title, unit)} in file order, {(metric, design): [(n, value)]})."""
    metrics = {}
    series = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            metrics.setdefault(row["metric"], (row["title"], row["unit"]))
            series[(row["metric"], row["design"])].append((int(row["n"]), float(row["value"])))
    return metrics, series


def main(csv_path, png_path):
    metrics, series = read(csv_path)
    columns = 4
    rows = (len(metrics) + 1 + columns - 1) // columns  # One cell left for the legend.
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows))
    cells = axes.flatten()
    for cell, (metric, (title, unit)) in zip(cells, metrics.items()):
        for design, (colour, marker) in STYLES.items():
            points = sorted(series.get((metric, design), []))
            if not points:
                continue
            cell.plot([n for n, _ in points], [v for _, v in points], color=colour, marker=marker,
                      label=design, linewidth=1.6)
        cell.set_xscale("log")
        cell.set_yscale("log")
        # At least one decade on the y axis, so that noise on a flat line does not look like a trend.
        low, high = cell.get_ylim()
        if high / low < 10:
            middle = (low * high) ** 0.5
            cell.set_ylim(middle / 10 ** 0.5, middle * 10 ** 0.5)
        cell.set_title(title, fontsize=11)
        cell.set_xlabel("group size n")
        cell.set_ylabel("microseconds (CPU)" if unit == "us" else "bytes")
        cell.grid(True, which="major", alpha=0.35)
        cell.grid(True, which="minor", alpha=0.1)
    legend_cell = cells[len(metrics)]
    legend_cell.axis("off")
    handles, labels = cells[0].get_legend_handles_labels()
    legend_cell.legend(handles, labels, loc="center", fontsize=12, frameon=False,
                       title="design (same cipher suite)")
    for cell in cells[len(metrics) + 1:]:
        cell.axis("off")
    fig.suptitle("ART vs pairwise channels vs sender keys (log-log; lower is better)", fontsize=13)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
