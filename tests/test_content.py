"""The content catalog: every item cited to a seed heading, ids stable, rules correct."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import make_request

from dn_docs import ConsentRefusedError, parse_request
from dn_docs.cli import main
from dn_docs.content import ITEMS, Category, Source, guardian_age, select
from dn_docs.content.guardians import DEFAULT_GUARDIAN_AGE, STATUTORY_AGES
from dn_docs.content.model import ADDITIONS, SOURCE_TITLES
from dn_docs.request import Screening


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_every_item_has_a_citation(item) -> None:
    assert item.cite, f"{item.id} has no citation"
    for citation in item.cite:
        assert citation.source in SOURCE_TITLES
        assert citation.heading.strip()


def test_only_the_marked_additions_go_beyond_the_seeds() -> None:
    """The collapsed lung's warning signs and the choice of no treatment; each cites only
    its own source, and nothing else cites one."""
    outside = {i.id for i in ITEMS if any(c.source in ADDITIONS for c in i.cite)}
    assert outside == {
        "urgent.shortness_of_breath",
        "urgent.chest_pain",
        "alternative.no_treatment",
    }
    for item in ITEMS:
        if item.id in outside:
            assert all(c.source in ADDITIONS for c in item.cite), item.id
            assert all("not from the seed articles" in SOURCE_TITLES[c.source] for c in item.cite)


def _headings(path: Path) -> str:
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def test_cited_headings_exist_in_the_seed_articles(seeds: Path) -> None:
    for item in ITEMS:
        for citation in item.cite:
            if citation.source in ADDITIONS:
                continue
            article = _headings(seeds / citation.source.value)
            heading = citation.heading.split(" (")[0]
            assert heading in article, (
                f"{item.id}: heading {heading!r} not in {citation.source.value}"
            )


def test_seed_titles_match_the_articles(seeds: Path) -> None:
    for source, title in SOURCE_TITLES.items():
        if source not in ADDITIONS:
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


def test_every_consent_names_the_collapsed_lung_and_torso_areas_make_it_prominent() -> None:
    for area in ("chest", "upper_back", "lower_back", "shoulder", "neck"):
        for kind in ("consent", "aftercare"):
            selection = select(parse_request(make_request(kind=kind, session={"areas": [area]})))
            assert selection.collapsed_lung_prominent and "risk.collapsed_lung" in selection.ids
    knee = select(parse_request(make_request(session={"areas": ["knee", "foot"]})))
    assert not knee.collapsed_lung_prominent and "risk.collapsed_lung" in knee.ids
    aftercare = select(parse_request(make_request(kind="aftercare", session={"areas": ["knee"]})))
    assert "risk.collapsed_lung" not in aftercare.ids


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


RELATIVE = {
    "precaution.pregnant",
    "precaution.immunocompromised",
    "precaution.lymphedema",
    "precaution.pacemaker",
    "precaution.blood_thinners",
    "precaution.bleeding_disorder",
}


def test_every_consent_explains_the_six_relative_contraindications() -> None:
    answered = select(parse_request(make_request(screening={"pregnant": True})))
    blank = make_request()
    del blank["screening"]
    for selection in (answered, select(parse_request(blank))):
        assert {i.id for i in selection.of(Category.CONTRAINDICATION_RELATIVE)} == RELATIVE
        assert {"screening.absolute_rule", "screening.relative_rule"} <= set(selection.ids)
    assert [i.id for i in answered.precautions_discussed] == ["precaution.pregnant"]


def test_the_aftercare_lists_only_the_precautions_answered_yes() -> None:
    ids = _ids(kind="aftercare", screening={"pregnant": True, "blood_thinners": True})
    assert ids & RELATIVE == {"precaution.pregnant", "precaution.blood_thinners"}
    assert not _ids(kind="aftercare") & RELATIVE


def test_nine_health_questions_in_order_with_the_answers() -> None:
    answered = select(
        parse_request(make_request(screening={"needle_phobia": False, "bleeding_disorder": True}))
    )
    # One question per screening field, in the request's order.
    fields = [a.item.question.field for a in answered.questions]
    assert fields == list(Screening.model_fields) and len(fields) == 9
    # able_to_consent is asked the other way round: "able" means the row does not apply.
    assert [a.applies for a in answered.questions] == [False] * 8 + [True]
    assert answered.answered
    blank = make_request()
    del blank["screening"]
    unanswered = select(parse_request(blank))
    assert [a.applies for a in unanswered.questions] == [None] * 9
    assert not unanswered.answered and not unanswered.precautions_discussed
    assert not select(parse_request(make_request(kind="aftercare"))).questions


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


def _born_years_before_session(years: int) -> str:
    session = dt.date.today() + dt.timedelta(days=1)  # the example session date
    return session.replace(year=session.year - years).isoformat()


def test_minor_gets_guardian_and_other_language_gets_interpreter() -> None:
    sixteen = _born_years_before_session(16)
    selection = select(parse_request(make_request(patient={"date_of_birth": sixteen})))
    assert selection.guardian_required and selection.guardian_age == 18
    eighteen = _born_years_before_session(18)
    assert not select(
        parse_request(make_request(patient={"date_of_birth": eighteen}))
    ).guardian_required
    assert select(
        parse_request(make_request(locale="es", clinic={"language": "en"}))
    ).interpreter_required
    assert not select(parse_request(make_request(locale="es"))).interpreter_required


@pytest.mark.parametrize(
    ("country", "setting", "age", "signs_alone"),
    [("GB", None, 16, True), ("US", None, 18, False), ("GB", 18, 18, False), ("US", 16, 16, True)],
)
def test_the_guardian_age_comes_from_the_clinic_or_its_country(
    country: str, setting: int | None, age: int, signs_alone: bool
) -> None:
    clinic = {"country": country, **({"guardian_age": setting} if setting else {})}
    request = make_request(clinic=clinic, patient={"date_of_birth": _born_years_before_session(16)})
    selection = select(parse_request(request))
    assert selection.guardian_age == age
    assert selection.guardian_required is not signs_alone


def test_statutory_ages_name_their_law_and_default_to_eighteen() -> None:
    assert STATUTORY_AGES and all(
        12 <= s.age < DEFAULT_GUARDIAN_AGE and len(s.law) > 10 for s in STATUTORY_AGES.values()
    )
    assert guardian_age("gb") == 16 and guardian_age("FR") == 18 and guardian_age("US") == 18
    assert DEFAULT_GUARDIAN_AGE == 18


#: The seed facts the catalog had lost or bent: item id, words it must say, the seed
#: article and heading it cites, and the seed's own words there.
SEED_FACTS = [
    (
        "risk_factor.technique",
        "usually because the needle was not used the right way",
        Source.NERVE_DAMAGE,
        "How Common Is Nerve Damage",
        "usually related to improper technique",
    ),
    (
        "risk_factor.needle_placement",
        "How deep the needle goes, its angle and the spot",
        Source.NERVE_DAMAGE,
        "Factors That Influence the Risk",
        "needle depth, angle, and insertion point",
    ),
    (
        "risk_factor.anatomy",
        "Nerves are not in exactly the same place in every body",
        Source.NERVE_DAMAGE,
        "Factors That Influence the Risk",
        "Variations in anatomy",
    ),
    (
        "evidence.nerve_pain",
        "the evidence is mixed",
        Source.NERVE_PAIN,
        "Clinical Effectiveness for Neuropathic Conditions",
        "is mixed",
    ),
    (
        "risk.collapsed_lung",
        "especially when needles are used on or near the chest, back",
        Source.NERVE_PAIN,
        "Important Safety and Procedural Considerations",
        "particularly when needling near the torso",
    ),
    (
        "training.practitioner",
        "Your safety depends on their training and skill",
        Source.NERVE_PAIN,
        "Important Safety and Procedural Considerations",
        "safety depends on treatment from a qualified and licensed practitioner",
    ),
    (
        "precaution.pregnant",
        "Being pregnant",
        Source.NERVE_PAIN,
        "Important Safety and Procedural Considerations",
        "Relative contraindications",
    ),
    (
        "precaution.blood_thinners",
        "thins the blood",
        Source.NERVE_PAIN,
        "Important Safety and Procedural Considerations",
        "blood-thinning medications",
    ),
    (
        "precaution.bleeding_disorder",
        "A bleeding disorder",
        Source.NERVE_DAMAGE,
        "How to Minimize the Risk of Nerve Damage",
        "bleeding disorders",
    ),
    (
        "alternative.other_treatments",
        "often used together with other treatments",
        Source.NERVE_DAMAGE,
        "Is Dry Needling Worth the Risk?",
        "alongside other therapies",
    ),
]


def test_content_list_shows_every_restored_seed_fact_with_its_citation(seeds: Path) -> None:
    listing = CliRunner().invoke(main, ["content", "list"]).output
    blocks = {block.split()[0]: block for block in listing.split("\n\n") if block.strip()}
    for item_id, words, source, heading, seed_words in SEED_FACTS:
        block = blocks[item_id]
        assert words in " ".join(block.split()), item_id
        assert f"source: {source.value} § {heading}" in block, item_id
        assert seed_words in (seeds / source.value).read_text(encoding="utf-8"), item_id
    # Fatigue and lightheadedness carry the seed's "mild", not "common".
    for item_id in ("side_effect.twitching", "side_effect.lightheaded"):
        assert "common" not in next(i for i in ITEMS if i.id == item_id).frequency


def test_the_additions_say_where_they_come_from_in_the_content_list() -> None:
    listing = CliRunner().invoke(main, ["content", "list"]).output
    block = next(b for b in listing.split("\n\n") if b.startswith("alternative.no_treatment"))
    assert "source: informed-consent practice § AMA Code of Medical Ethics, Opinion 2.1.1" in block
