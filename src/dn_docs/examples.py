"""Fictional example patients for the demo, the README and the tests.

One example per shipped locale, each with a patient name in the locale's own
script and a clinic in a country that speaks it, so the demo shows right-to-left
and CJK documents, local emergency numbers and both paper sizes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import locales

# locale → (patient name, clinic country, clinic name, areas, condition)
_PROFILES: dict[str, tuple[str, str, str, list[str], str | None]] = {
    "en": ("Jordan Avery", "US", "Riverside Physical Therapy", ["neck", "upper_back"], "neck_pain"),
    "es": (
        "María José Fernández",
        "ES",
        "Clínica Fisio Centro",
        ["gluteal", "lower_back"],
        "sciatica",
    ),
    "ar": ("ليلى حداد", "SA", "عيادة النخيل للعلاج الطبيعي", ["shoulder", "neck"], "shoulder_pain"),
    "zh_Hans": ("王小明", "CN", "康复理疗中心", ["forearm_wrist", "hand"], "carpal_tunnel"),
    "zh_Hant": ("陳美玲", "TW", "仁愛物理治療所", ["calf", "foot"], "plantar_fasciitis"),
    "vi": (
        "Nguyễn Thị Lan",
        "VN",
        "Phòng khám Vật lý trị liệu An Bình",
        ["lower_back"],
        "lower_back_pain",
    ),
    "ko": ("김민준", "KR", "서울 재활의학 클리닉", ["neck", "head_jaw"], "tension_headache"),
    "tl": ("Maria Santos", "PH", "Klinika ng Pisikal na Terapiya", ["knee", "thigh"], None),
    "ru": (
        "Анна Иванова",
        "RU",
        "Клиника физиотерапии",
        ["upper_back", "shoulder"],
        "myofascial_pain",
    ),
    "ht": (
        "Jean-Baptiste Pierre",
        "HT",
        "Klinik Fizyoterapi Lespwa",
        ["hip", "gluteal"],
        "sciatica",
    ),
    "fr": (
        "Camille Martin",
        "FR",
        "Cabinet de kinésithérapie",
        ["chest", "shoulder"],
        "shoulder_pain",
    ),
    "pl": ("Zofia Kowalska", "PL", "Gabinet Fizjoterapii", ["lower_back", "hip"], "radiculopathy"),
    "pt_BR": (
        "João da Silva",
        "BR",
        "Clínica de Fisioterapia Vida",
        ["foot", "calf"],
        "peripheral_neuropathy",
    ),
    "de": ("Lukas Müller", "DE", "Physiotherapie am Markt", ["neck", "shoulder"], "neck_pain"),
    "ja": ("佐藤 花子", "JP", "さくら整形外科リハビリ", ["upper_back"], "myofascial_pain"),
    "hi": ("अनीता शर्मा", "IN", "स्वास्थ्य फिजियोथेरेपी क्लिनिक", ["lower_back", "gluteal"], "sciatica"),
    "fa": ("سارا محمدی", "IR", "کلینیک فیزیوتراپی آرامش", ["neck"], "neck_pain"),
    "he": ("נועה כהן", "IL", "מרפאת פיזיותרפיה השרון", ["arm", "forearm_wrist"], "carpal_tunnel"),
}

_NO = dict.fromkeys(
    [
        "local_infection",
        "needle_phobia",
        "pregnant",
        "immunocompromised",
        "lymphedema",
        "pacemaker_or_implant",
        "blood_thinners",
        "bleeding_disorder",
    ],
    False,
)


def example_request(
    locale_id: str = "en", kind: str = "consent", number: int = 1
) -> dict[str, Any]:
    """A complete, valid request for a fictional patient of ``locale_id``."""
    name, country, clinic, areas, condition = _PROFILES[locale_id]
    today = dt.date.today()
    session: dict[str, Any] = {
        "date": (today + dt.timedelta(days=1)).isoformat(),
        "areas": areas,
        "electrical_stimulation": number % 3 == 0,
        "next_appointment": (today + dt.timedelta(days=8)).isoformat(),
    }
    if condition:
        session["condition"] = condition
    return {
        "kind": kind,
        "locale": locale_id,
        "patient": {
            "name": name,
            "date_of_birth": dt.date(
                1970 + number % 40, 1 + number % 12, 1 + number % 28
            ).isoformat(),
            "id": f"DEMO-{number:04d}",
        },
        "practitioner": {"name": "Dr. Sam Okafor", "credentials": "PT, DPT", "license": "PT-00417"},
        "clinic": {
            "name": clinic,
            "address": "1 Example Street",
            "phone": "+1 555 0100",
            "country": country,
            "language": locale_id,
        },
        "session": session,
        "screening": {**_NO, "able_to_consent": True, "blood_thinners": number % 4 == 0},
        "options": {"large_print": False},
    }


def demo_requests() -> list[dict[str, Any]]:
    """Consent and aftercare for every shipped locale, then the special editions."""
    requests = [
        example_request(locale_id, kind, number)
        for number, locale_id in enumerate(sorted(locales.SUPPORTED), start=1)
        for kind in ("consent", "aftercare")
    ]
    bilingual = example_request("ar", "consent", 90)
    bilingual["clinic"]["language"] = "en"
    bilingual["options"]["bilingual"] = True
    large = example_request("en", "aftercare", 91)
    large["options"]["large_print"] = True
    notice = example_request("es", "aftercare", 92)
    notice["options"]["language_assistance"] = True
    # Printed the day before for a course of treatment; the patient answers at the desk.
    at_the_desk = example_request("en", "consent", 93)
    del at_the_desk["screening"]
    at_the_desk["session"]["scope"] = {"sessions": 6}
    at_the_desk["practitioner"]["dry_needling_training"] = "Certified, 54-hour course, 2019"
    return [*requests, bilingual, large, notice, at_the_desk]
