#!/usr/bin/env python3
"""Renders the trainer's loss CSV as an SVG line chart (standard library only).

  python3 export/demo-model/plot_loss.py [export/demo-model/loss.csv] [docs/demo-model-loss.svg]

x: tokens seen; y: cross-entropy in nats per token. Train loss is the mean over each logging
interval; valid loss is measured on held-out files at each checkpoint.
"""
import csv
import sys
from xml.sax.saxutils import escape

W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 420, 64, 20, 36, 48


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "export/demo-model/loss.csv"
    target = sys.argv[2] if len(sys.argv) > 2 else "docs/demo-model-loss.svg"
    train, valid = [], []
    with open(source, newline="") as f:
        for row in csv.DictReader(f):
            tokens = int(row["tokens"])
            if row.get("train_loss"):
                train.append((tokens, float(row["train_loss"])))
            if row.get("valid_loss"):
                valid.append((tokens, float(row["valid_loss"])))
    points = train + valid
    if not points:
        raise SystemExit(f"{source} holds no losses yet")
    x_max = max(t for t, _ in points) or 1
    y_min = max(0.0, min(l for _, l in points) - 0.1)
    y_max = max(l for _, l in points) + 0.1

    def sx(t):
        return LEFT + (W - LEFT - RIGHT) * t / x_max

    def sy(l):
        return TOP + (H - TOP - BOTTOM) * (y_max - l) / (y_max - y_min)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">Demo model loss (nats/token)</text>']
    for i in range(6):  # grid lines with axis labels
        l = y_min + (y_max - y_min) * i / 5
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{sy(l):.1f}" y2="{sy(l):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{sy(l) + 4:.1f}" text-anchor="end">{l:.2f}</text>')
        t = x_max * i / 5
        out.append(f'<text x="{sx(t):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{t / 1e6:.2f}M</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 10}" text-anchor="middle">tokens seen</text>')
    for series, color in ((train, "#1f77b4"), (valid, "#d62728")):
        if series:
            path = " ".join(f"{sx(t):.1f},{sy(l):.1f}" for t, l in series)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
    for t, l in valid:
        out.append(f'<circle cx="{sx(t):.1f}" cy="{sy(l):.1f}" r="3" fill="#d62728"/>')
    last = f" (last {valid[-1][1]:.3f})" if valid else ""
    out.append(f'<text x="{W - RIGHT - 170}" y="{TOP + 14}" fill="#1f77b4">&#8212; train</text>')
    out.append(f'<text x="{W - RIGHT - 170}" y="{TOP + 30}" fill="#d62728">&#9679; valid, held-out{escape(last)}</text>')
    out.append("</svg>")
    with open(target, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"{len(train)} train and {len(valid)} valid points -> {target}")


if __name__ == "__main__":
    main()
