"""``labeler preview``: save a contact sheet of a dataset's images per class (PNG)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from labeler.data.dataset_format import load_dataset_info, load_split
from labeler.data.preview import make_contact_sheet


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="save a contact sheet of a dataset's images, per class (PNG)",
        description="Save the first images of each class of one split as a single PNG.",
    )
    parser.add_argument("dataset", help="dataset folder")
    parser.add_argument("--split", default="train", help="split to show (default train)")
    parser.add_argument("--n-per-class", type=int, default=8, help="images per class (default 8)")
    parser.add_argument("--columns", type=int, default=8, help="images per row (default 8)")
    parser.add_argument("--out", help="PNG to write (default DATASET/preview-SPLIT.png)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    info = load_dataset_info(args.dataset)
    images, labels = load_split(args.dataset, args.split)
    title = f"{info.family} {info.problem} ({info.name}, {args.split})"
    sheet = make_contact_sheet(
        images,
        labels,
        info.class_names,
        n_per_class=args.n_per_class,
        n_columns=args.columns,
        title=title,
    )
    out = Path(args.out) if args.out else Path(args.dataset) / f"preview-{args.split}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    print(f"wrote {out} ({sheet.width} x {sheet.height} px)")
    return 0
