"""The content catalog: every item cited to a seed heading, ids stable, rules correct."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import make_request

from dn_docs import ConsentRefusedError, parse_request
from dn_docs.cli import main
from dn_docs.content import ITEMS, Category, Source, select
from dn_docs.content.model import SOURCE_TITLES


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_every_item_has_a_citation(item) -> None:
    assert item.cite, f"{item.id} has no citation"
    for citation in item.cite:
        assert citation.source in SOURCE_TITLES
        assert citation.heading.strip()


def test_only_the_collapsed_lung_warning_signs_go_beyond_the_seeds() -> None:
    outside = {i.id for i in ITEMS if any(c.source is Source.SAFETY_GUIDANCE for c in i.cite)}
    assert outside == {"urgent.shortness_of_breath", "urgent.chest_pain"}


def _headings(path: Path) -> str:
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def test_cited_headings_exist_in_the_seed_articles(seeds: Path) -> None:
    for item in ITEMS:
        for citation in item.cite:
            if citation.source is Source.SAFETY_GUIDANCE:
                continue
            article = _headings(seeds / citation.source.value)
            heading = citation.heading.split(" (")[0]
            assert heading in article, (
                f"{item.id}: heading {heading!r} not in {citation.source.value}"
            )


def test_seed_titles_match_the_articles(seeds: Path) -> None:
    for source, title in SOURCE_TITLES.items():
        if source is not Source.SAFETY_GUIDANCE:
            assert title in (seeds / source.value).read_text(encoding="utf-8")


def test_ids_are_unique_and_dotted() -> None:
    ids = [i.id for i in ITEMS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", i) for i in ids)


def test_catalog_covers_every_category() -> None:
    assert {i.category for i in ITEMS} == set(Category)


def test_content_list_prints_items_with_citations() -> None:
    result = CliRunner().invoke(main, ["content", "list"])
    assert result.exit_code == 0
    for item in ITEMS:
        assert item.id in result.output
    assert result.output.count("source: ") == sum(len(i.cite) for i in ITEMS)
    data = json.loads(CliRunner().invoke(main, ["content", "list", "--json"]).output)
    assert len(data["items"]) == len(ITEMS) and all(row["citations"] for row in data["items"])


def _ids(**changes) -> set[str]:
    return set(select(parse_request(make_request(**changes))).ids)


def test_torso_areas_make_the_collapsed_lung_risk_prominent() -> None:
    for area in ("chest", "upper_back", "shoulder", "neck"):
        selection = select(parse_request(make_request(session={"areas": [area]})))
        assert selection.collapsed_lung_prominent and "risk.collapsed_lung" in selection.ids
    selection = select(parse_request(make_request(session={"areas": ["knee", "foot"]})))
    assert not selection.collapsed_lung_prominent and "risk.collapsed_lung" not in selection.ids


def test_areas_name_their_nerves() -> None:
    assert "area.sciatic_nerve" in _ids(session={"areas": ["gluteal"]})
    assert "area.brachial_plexus" in _ids(session={"areas": ["shoulder"]})
    assert "area.median_nerve" in _ids(session={"areas": ["forearm_wrist"]})
    assert "area.dense_nerves" in _ids(session={"areas": ["upper_back"]})
    knee = _ids(session={"areas": ["knee"]})
    assert (
        not {"area.sciatic_nerve", "area.brachial_plexus", "area.median_nerve", "area.dense_nerves"}
        & knee
    )


@pytest.mark.parametrize(
    "condition", ["sciatica", "radiculopathy", "carpal_tunnel", "peripheral_neuropathy"]
)
def test_nerve_pain_conditions_carry_the_evidence_statement(condition: str) -> None:
    assert "evidence.nerve_pain" in _ids(session={"condition": condition})


def test_other_conditions_do_not() -> None:
    assert "evidence.nerve_pain" not in _ids(session={"condition": "neck_pain"})


def test_relative_contraindications_become_precautions() -> None:
    ids = _ids(screening={"pregnant": True, "blood_thinners": True})
    assert {"precaution.pregnant", "precaution.blood_thinners"} <= ids
    assert "precaution.lymphedema" not in ids


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ({"local_infection": True}, "local infection"),
        ({"needle_phobia": True}, "needle phobia"),
        ({"able_to_consent": False}, "unable to consent"),
    ],
)
def test_absolute_contraindications_refuse_the_consent(answer, named: str) -> None:
    with pytest.raises(ConsentRefusedError, match=named):
        select(parse_request(make_request(screening=answer)))
    # An aftercare handout is still given.
    assert select(parse_request(make_request(kind="aftercare", screening=answer))).items


def test_minor_gets_guardian_and_other_language_gets_interpreter() -> None:
    import datetime as dt

    session = dt.date.today() + dt.timedelta(days=1)
    sixteen = session.replace(year=session.year - 16)
    selection = select(parse_request(make_request(patient={"date_of_birth": sixteen.isoformat()})))
    assert selection.guardian_required
    eighteen = session.replace(year=session.year - 18)
    assert not select(
        parse_request(make_request(patient={"date_of_birth": eighteen.isoformat()}))
    ).guardian_required
    assert select(
        parse_request(make_request(locale="es", clinic={"language": "en"}))
    ).interpreter_required
    assert not select(parse_request(make_request(locale="es"))).interpreter_required
