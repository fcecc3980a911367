"""A long differential run: warm renders against renders from scratch, byte for byte.

    .venv/bin/python benchmarks/differential.py --count 2000            # about an hour
    .venv/bin/python benchmarks/differential.py --count 300 --seed 7

Renders ``--count`` varied valid requests (see ``tests/differential.py``) in a seeded
random order with one warm renderer, and each again from scratch, and reports every
document whose bytes differ. The PDFs of a difference are written to ``--out``. Exit
status 1 when any document differs or the acceleration is off.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import differential  # noqa: E402

from dn_docs.pdf import WeasyPrintRenderer, accel  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000, help="documents to render")
    parser.add_argument("--seed", type=int, default=17, help="seed of the requests and order")
    parser.add_argument(
        "--out", type=Path, default=REPO / "out" / "differential", help="PDFs of differences"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as assets:
        os.environ["DN_DOCS_ASSETS_DIR"] = assets
        differential.write_logos(Path(assets))
        warm = WeasyPrintRenderer()
        state = accel.acceleration(warm)
        print(f"acceleration {state}", flush=True)
        if not state.on:
            return 1
        requests = differential.requests(args.count, args.seed)
        started = time.monotonic()

        def progress(done: int) -> None:
            if done % 50 == 0 or done == len(requests):
                elapsed = time.monotonic() - started
                print(f"{done}/{len(requests)} documents, {elapsed:.0f} s", flush=True)

        differences = 0
        for difference in differential.compare(requests, warm, progress):
            differences += 1
            args.out.mkdir(parents=True, exist_ok=True)
            for way in ("warm", "fresh"):
                path = args.out / f"{difference.number:05d}-{way}.pdf"
                path.write_bytes(getattr(difference, way))
            print(f"DIFFERS: document {difference.number}: {difference.summary}", flush=True)
    print(f"{len(requests)} documents (seed {args.seed}), {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
