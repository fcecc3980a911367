"""Property: any request ends in a rendered PDF or a validation error, never another exception."""

from __future__ import annotations

import copy
from typing import Any

from helpers import TEXT_FIELDS, make_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dn_docs
from dn_docs import ConsentRefusedError, RequestError, locales

PATHS = [
    ("kind",),
    ("locale",),
    *TEXT_FIELDS,
    ("patient", "date_of_birth"),
    ("clinic", "phone"),
    ("clinic", "country"),
    ("clinic", "language"),
    ("clinic", "logo"),
    ("session", "date"),
    ("session", "areas"),
    ("session", "electrical_stimulation"),
    ("session", "condition"),
    ("session", "next_appointment"),
    ("screening", "pregnant"),
    ("screening", "local_infection"),
    ("screening", "able_to_consent"),
    ("options", "large_print"),
    ("options", "bilingual"),
    ("options", "language_assistance"),
    ("patient",),
    ("session",),
    ("screening",),
    ("unexpected",),
]

values = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        ["neck", "gluteal", "sciatica", "consent", "aftercare", "es-MX", "ar", "US", "zh-TW"]
    ),
    st.lists(st.sampled_from(["neck", "chest", "knee", "elbow", 3, None]), max_size=4),
    st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2),
)
mutation = st.tuples(st.sampled_from(PATHS), st.one_of(values, st.just("<delete>")))


def apply(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            return
        node = node[part]
    if value == "<delete>":
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    locale=st.sampled_from(sorted(locales.SUPPORTED)),
    kind=st.sampled_from(["consent", "aftercare"]),
    mutations=st.lists(mutation, min_size=1, max_size=3),
)
def test_any_request_renders_or_is_refused_cleanly(locale: str, kind: str, mutations: list) -> None:
    data = copy.deepcopy(make_request(locale, kind))
    for path, value in mutations:
        apply(data, path, value)
    try:
        pdf = dn_docs.render_pdf(data)
    except RequestError as exc:
        assert exc.errors and all(field and reason for field, reason in exc.errors)
        assert "\n" not in str(exc)
        return
    except ConsentRefusedError:
        return
    assert pdf.startswith(b"%PDF-")


@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    locale=st.sampled_from(sorted(locales.SUPPORTED)),
    path=st.sampled_from(TEXT_FIELDS),
    text=st.text(min_size=1, max_size=40),
)
def test_any_text_in_any_field_prints_or_is_refused(
    locale: str, path: tuple[str, str], text: str
) -> None:
    data = make_request(locale, "aftercare")
    data[path[0]][path[1]] = text
    try:
        pdf = dn_docs.render_pdf(data)
    except RequestError as exc:
        assert exc.first.startswith(".".join(path) + ": ")
        return
    assert pdf.startswith(b"%PDF-")
