"""Warm renders of varied requests are byte-identical to renders from scratch.

A bounded run; ``.venv/bin/python benchmarks/differential.py --count 2000`` is the
long one (see ``tests/differential.py`` for what the requests vary).
"""

from __future__ import annotations

from pathlib import Path

import differential
import pytest
from helpers import Pdf

from dn_docs.pdf import WeasyPrintRenderer, accel

#: Documents in the bounded run, and its seed.
COUNT = 300
SEED = 20261123


def test_the_generator_covers_what_requests_vary() -> None:
    requests = differential.requests(COUNT, SEED)
    assert {r["locale"] for r in requests} == set(differential.LOCALE_TAGS)
    assert {r["kind"] for r in requests} == {"consent", "aftercare"}
    for option in ("large_print", "bilingual", "language_assistance", "pdf_a"):
        assert {r["options"][option] for r in requests} == {True, False}, option
    assert {len(r["session"]["areas"]) for r in requests} >= {1, 15}
    names = [r["patient"]["name"] for r in requests]
    assert min(map(len, names)) == 1 and max(map(len, names)) == differential.MAX_NAME
    assert {r["clinic"].get("logo") for r in requests} >= {None, *differential.LOGOS}
    countries = {r["clinic"]["country"] for r in requests}
    assert countries & set(differential.LETTER_COUNTRIES) and countries - {"US", "CA"}
    assert any(r["clinic"]["language"] != r["locale"] for r in requests)
    # Exact repeats and near-repeats.
    assert len({repr(r) for r in requests}) < COUNT
    assert differential.requests(COUNT, SEED) == requests


def test_warm_renders_in_random_order_are_identical_to_renders_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DN_DOCS_ASSETS_DIR", str(tmp_path))
    differential.write_logos(tmp_path)
    warm = WeasyPrintRenderer()
    assert accel.acceleration(warm).on
    requests = differential.requests(COUNT, SEED)
    differences = [d.summary for d in differential.compare(requests, warm)]
    assert differences == []
    # The warm renderer did reuse work: this compared the acceleration, not two plain renders.
    assert warm.caches.lines.reuse.hits > 10_000
    assert warm.caches.sections.reuse.hits > 100
    assert warm.caches.drawing.reuse.hits > 10_000
    last = differential.render_document(
        requests[-1], renderer=warm, generated_at=differential.GENERATED_AT
    )
    assert Pdf(last.pdf).pages == last.pages
