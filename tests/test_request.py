"""Request validation: every bad request gets one line naming the field and the reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import make_request

from dn_docs import DocumentRequest, RequestError, parse_request
from dn_docs.cli import main

TODAY = dt.date.today()


def _without(path: str) -> dict[str, Any]:
    data = make_request()
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    del node[leaf]
    return data


BAD_REQUESTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing kind", _without("kind"), "kind", "is required"),
    ("missing patient name", _without("patient.name"), "patient.name", "is required"),
    ("missing clinic phone", _without("clinic.phone"), "clinic.phone", "is required"),
    (
        "partial screening",
        _without("screening.pregnant"),
        "screening.pregnant",
        "is required",
    ),
    ("unknown kind", make_request(kind="waiver"), "kind", "must be one of"),
    ("name of wrong type", make_request(patient={"name": 42}), "patient.name", "must be text"),
    (
        "areas not a list",
        make_request(session={"areas": "neck"}),
        "session.areas",
        "must be a list",
    ),
    (
        "unknown area",
        make_request(session={"areas": ["neck", "elbowz"]}),
        "session.areas[1]",
        "must be one of",
    ),
    (
        "duplicate area",
        make_request(session={"areas": ["neck", "neck"]}),
        "session.areas",
        "more than once",
    ),
    ("no areas", make_request(session={"areas": []}), "session.areas", "at least 1"),
    (
        "unknown condition",
        make_request(session={"condition": "gout"}),
        "session.condition",
        "must be one of",
    ),
    (
        "unknown field",
        make_request(patient={"nickname": "Jo"}),
        "patient.nickname",
        "not a known field",
    ),
    ("unknown top-level field", make_request(colour="blue"), "colour", "not a known field"),
    (
        "future birth date",
        make_request(patient={"date_of_birth": (TODAY + dt.timedelta(days=30)).isoformat()}),
        "patient.date_of_birth",
        "in the future",
    ),
    (
        "birth after session",
        make_request(
            patient={"date_of_birth": TODAY.isoformat()},
            session={"date": (TODAY - dt.timedelta(days=3)).isoformat()},
        ),
        "patient.date_of_birth",
        "after the session date",
    ),
    (
        "impossible date",
        make_request(patient={"date_of_birth": "1990-02-30"}),
        "patient.date_of_birth",
        "YYYY-MM-DD",
    ),
    ("not a date", make_request(session={"date": "tomorrow"}), "session.date", "YYYY-MM-DD"),
    (
        "10,000-character name",
        make_request(patient={"name": "A" * 10_000}),
        "patient.name",
        "too long",
    ),
    ("empty name", make_request(patient={"name": "   "}), "patient.name", "must not be empty"),
    (
        "control characters",
        make_request(patient={"name": "Ann\x00\x1b[31m"}),
        "patient.name",
        "control characters",
    ),
    ("unsupported locale", make_request(locale="tlh"), "locale", "not a supported language"),
    ("unknown country", make_request(clinic={"country": "XX"}), "clinic.country", "ISO 3166"),
    (
        "screening answer not a bool",
        make_request(screening={"pregnant": "maybe"}),
        "screening.pregnant",
        "true or false",
    ),
    (
        "phone with letters",
        make_request(clinic={"phone": "call us"}),
        "clinic.phone",
        "not allowed",
    ),
    (
        "next appointment before session",
        make_request(session={"next_appointment": "2001-01-01"}),
        "session.next_appointment",
        "before the session",
    ),
    ("empty course", make_request(session={"scope": {}}), "session.scope", "until"),
    (
        "course of no sessions",
        make_request(session={"scope": {"sessions": 0}}),
        "session.scope.sessions",
        "greater than or equal to 1",
    ),
    (
        "course sessions as yes",
        make_request(session={"scope": {"sessions": True}}),
        "session.scope.sessions",
        "number of sessions",
    ),
    (
        "course ending before the session",
        make_request(session={"scope": {"until": "2001-01-01"}}),
        "session.scope.until",
        "before the session date",
    ),
    (
        "course over two years",
        make_request(
            session={"scope": {"until": (TODAY.replace(year=TODAY.year + 5)).isoformat()}}
        ),
        "session.scope.until",
        "more than 2 years",
    ),
    (
        "guardian age of 5",
        make_request(clinic={"guardian_age": 5}),
        "clinic.guardian_age",
        "greater than or equal to 12",
    ),
    (
        "training of 300 characters",
        make_request(practitioner={"dry_needling_training": "x" * 300}),
        "practitioner.dry_needling_training",
        "too long",
    ),
    (
        "age over 130",
        make_request(patient={"date_of_birth": "1850-01-01"}),
        "patient.date_of_birth",
        "over 130",
    ),
]


@pytest.mark.parametrize(
    ("label", "data", "field", "reason"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS]
)
def test_bad_request_names_field_and_reason(
    label: str, data: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(data)
    message = caught.value.first
    assert message.startswith(f"{field}: "), message
    assert reason in message, message
    assert "\n" not in str(caught.value)


def test_error_messages_never_repeat_patient_data() -> None:
    secret = "Zebediah Quartermaine"
    data = make_request(patient={"name": secret * 20, "date_of_birth": "1990-13-45"})
    with pytest.raises(RequestError) as caught:
        parse_request(data)
    assert "Zebediah" not in str(caught.value)
    assert "1990-13-45" not in str(caught.value)


@pytest.mark.parametrize(
    ("label", "data", "field", "reason"),
    BAD_REQUESTS,
    ids=[b[0] for b in BAD_REQUESTS],
)
def test_cli_refuses_bad_request_without_writing(
    tmp_path, label: str, data: dict[str, Any], field: str, reason: str
) -> None:
    source = tmp_path / "request.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    target = tmp_path / "out.pdf"
    result = CliRunner().invoke(main, ["render", str(source), "-o", str(target)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and reason in lines[0], result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]


def test_cli_reports_invalid_json_in_one_line(tmp_path) -> None:
    source = tmp_path / "request.json"
    source.write_text('{"kind": "consent",', encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(source), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr and "line 1" in result.stderr


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es-MX", "es"),
        ("ES", "es"),
        ("zh-Hans", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("ar-SA", "ar"),
        ("en_GB", "en"),
    ],
)
def test_locale_tags_are_normalised(tag: str, expected: str) -> None:
    assert parse_request(make_request(locale=tag)).locale == expected


def test_request_round_trips_through_json() -> None:
    request = parse_request(make_request(locale="es", kind="aftercare"))
    again = DocumentRequest.model_validate_json(request.model_dump_json())
    assert again == request
    assert json.loads(request.model_dump_json())["session"]["areas"] == [
        a.value for a in request.session.areas
    ]


def test_no_document_needs_the_screening_answers() -> None:
    for kind in ("consent", "aftercare"):
        data = _without("screening")
        data["kind"] = kind
        assert parse_request(data).screening is None


def test_a_course_of_treatment_a_guardian_age_and_the_training_are_read() -> None:
    until = (TODAY + dt.timedelta(days=60)).isoformat()
    request = parse_request(
        make_request(
            session={"scope": {"sessions": "6", "until": until}},
            clinic={"guardian_age": 16},
            practitioner={"dry_needling_training": "Level 2 course, 2021"},
        )
    )
    assert request.session.scope is not None
    assert (request.session.scope.sessions, request.session.scope.until.isoformat()) == (6, until)
    assert request.clinic.guardian_age == 16
    assert request.practitioner.dry_needling_training == "Level 2 course, 2021"
    assert parse_request(make_request()).session.scope is None


# Caught at validation, not at render time --------------------------------------------------

PRINTS_NOTHING = [
    "\u200b\u200b",  # zero-width spaces only
    "\u3164",  # Hangul filler
    "\u0301\u0308",  # combining marks with nothing to sit on
    "\u115f\u2800",  # Hangul choseong filler, blank Braille
    "\ufe0f\u200d",  # a variation selector and a joiner
]


@pytest.mark.parametrize("name", PRINTS_NOTHING)
def test_names_that_print_as_nothing_are_refused(name: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(make_request(patient={"name": name}))
    assert caught.value.first.startswith("patient.name: ")
    assert "empty" in caught.value.first or "prints as nothing" in caught.value.first


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\ufff9", "\ufffa", "\ufffb"])
def test_characters_no_font_prints_are_refused(char: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(make_request(patient={"name": f"Ann{char}Lee"}))
    assert caught.value.first == (
        f"patient.name: has characters no installed font can print (U+{ord(char):04X})"
    )


@pytest.mark.parametrize("tag", ["zh-Hant-CN", "zh-Hant-US", "zh-Hant-SG", "zh-hant-hk-u-nu"])
def test_zh_hant_tags_are_always_traditional(tag: str) -> None:
    assert parse_request(make_request(locale=tag)).locale == "zh_Hant"
    assert parse_request(make_request(locale="zh-Hans-TW")).locale == "zh_Hans"


@pytest.mark.parametrize("code", ["EU", "UN", "ZZ", "XK", "QO", "AA", "00"])
def test_country_codes_outside_iso_3166_are_refused(code: str) -> None:
    with pytest.raises(RequestError, match=r"clinic\.country: must be an ISO 3166"):
        parse_request(make_request(clinic={"country": code}))


def test_assigned_country_codes_are_accepted_in_any_case() -> None:
    assert parse_request(make_request(clinic={"country": "gb"})).clinic.country == "GB"
    assert parse_request(make_request(clinic={"country": "AQ"})).clinic.country == "AQ"


@pytest.mark.parametrize("value", [0, 19840502, 1.5e9, True])
def test_a_number_where_a_date_belongs_is_refused(value: object) -> None:
    with pytest.raises(RequestError) as caught:
        parse_request(make_request(patient={"date_of_birth": value}))
    assert caught.value.first.startswith("patient.date_of_birth: must be a date in YYYY-MM-DD")


def test_session_time_is_optional_and_read_as_hh_mm() -> None:
    assert parse_request(make_request()).session.time is None
    request = parse_request(make_request(session={"time": "14:30"}))
    assert request.session.time == dt.time(14, 30)
    with pytest.raises(RequestError, match=r"session\.time: must be a time in HH:MM form"):
        parse_request(make_request(session={"time": 870}))


def test_limits_are_counted_after_normalisation() -> None:
    # 120 letters typed decomposed (e + combining acute) are 240 code points, 120 printed.
    decomposed = "e\u0301" * 120
    assert parse_request(make_request(patient={"name": decomposed})).patient.name == "é" * 120
    with pytest.raises(RequestError, match=r"patient.name: is too long \(at most 120"):
        parse_request(make_request(patient={"name": "é" * 121}))
    # Zero-width characters removed by cleaning do not count either.
    padded = "A" + "\u200b" * 300 + "B"
    assert parse_request(make_request(patient={"name": padded})).patient.name == "AB"
    with pytest.raises(RequestError, match="is too long"):
        parse_request(make_request(patient={"name": "x" * 10_000}))
