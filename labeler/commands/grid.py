"""``labeler grid``: turn grid labeling on or off for a project, set its blind share, and
compare how grid and blind labels fare in review."""

from __future__ import annotations

import argparse
from typing import Any

from labeler.store.grids import BLIND_SOURCE, GRID_SOURCE, MAX_BLIND_SHARE
from labeler.store.project import open_project


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "grid",
        help="turn grid labeling on or off, set its blind share, see how grid labels review",
        description=(
            "Grid labeling shows an annotator a page of images the model puts in one class, "
            "to confirm at once, marking those that do not belong. Against confirmation bias, "
            "a random slice of every grid (the blind share) is labeled one at a time without "
            "the model's guess, and this command (like the dashboard) sets review agreement "
            "of grid labels against blind ones. Without options, print the settings."
        ),
    )
    parser.add_argument("project", help="project folder")
    switch = parser.add_mutually_exclusive_group()
    switch.add_argument("--on", dest="enabled", action="store_const", const=True, default=None)
    switch.add_argument("--off", dest="enabled", action="store_const", const=False)
    parser.add_argument(
        "--blind-share",
        type=float,
        default=None,
        help=f"share of every grid labeled blind, 0-{MAX_BLIND_SHARE} (default 0.05; above 0, "
        "at least one image of every grid)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_project(args.project) as project:
        store = project.store
        settings = store.set_grid_settings(enabled=args.enabled, blind_share=args.blind_share)
        agreement = store.get_review_agreement_by_source()
    state = "on" if settings.enabled else "off"
    print(f"grid labeling {state}; blind share {settings.blind_share:g}")
    for source in (GRID_SOURCE, BLIND_SOURCE):
        reviewed, confirmed = agreement.get(source, (0, 0))
        rate = f"{confirmed / reviewed:.0%}" if reviewed else "-"
        print(f"{source} labels reviewed: {reviewed}, confirmed: {confirmed} ({rate})")
    return 0
