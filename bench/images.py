"""Rendition benchmark: Pinstablr's image engine against libvips, sorl-thumbnail and
easy-thumbnails, and against the decode+encode floor.

Every contender makes the same rendition set of each photo: widths 256, 640, 1280 and 2048
(never upscaled), each in WebP and JPEG. Each contender runs in its own subprocess, so its
imports, memory and libraries do not leak into the others:

    .venv/bin/python bench/images.py              # full run (3 repetitions, every photo)
    .venv/bin/python bench/images.py --quick      # 1 repetition on 5 photos
    .venv/bin/python bench/images.py --variants   # also prototype changes to the engine

See bench/README.md for what is measured and how to read the output. The contenders are in
image_engines.py, what a child process measures in image_tasks.py, the parent's run in
image_runner.py, SSIM in image_quality.py and the tables in image_report.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a file: run the package's module
    _PATH = os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.getenv("PYTHONPATH", "")])
    _ARGV = [sys.executable, "-m", "bench.images", *sys.argv[1:]]
    os.execve(sys.executable, _ARGV, {**os.environ, "PYTHONPATH": _PATH})  # noqa: S606

from bench.image_engines import ENGINES, VARIANTS


def main() -> None:
    """Parse the command line; run the whole benchmark, or one child task."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition on 5 photos")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (full run)")
    parser.add_argument("--engines", help=f"comma-separated subset of {', '.join(ENGINES)}")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also time prototype variants of Pinstablr's engine in a paired run "
        f"({', '.join(VARIANTS)})",
    )
    parser.add_argument("--photos", help="folder of *.jpg to use instead of shared/data/photos")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--no-phases", action="store_true", help="skip the phase breakdown")
    parser.add_argument(
        "--no-micro", action="store_true", help="skip the step-by-step Pillow/libvips table"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp work folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # a child imports only what its contender needs
        from bench.image_tasks import child_main

        child_main(args)
    else:
        from bench.image_runner import parent_main

        parent_main(args)


if __name__ == "__main__":
    main()
