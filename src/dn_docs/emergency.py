"""Country facts printed on a document: the emergency number to call and the paper size.

Numbers are the ones a patient dials for an ambulance, as published by each
country's government or emergency service (EU and EEA: 112, the single European
emergency number set by the European Electronic Communications Code, Art. 109).
Where a country has a separate ambulance number, that number is given.
"""

from __future__ import annotations

from dataclasses import dataclass

# EU member states plus the EEA and Switzerland.
_EU_112 = [
    *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IT"),
    *("LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI"),
    *("NO", "CH"),
]

EMERGENCY_NUMBERS: dict[str, str] = {
    **dict.fromkeys(_EU_112, "112"),
    "US": "911",
    "CA": "911",
    "MX": "911",
    "GB": "999",
    "IE": "112",
    "AU": "000",
    "NZ": "111",
    "BR": "192",
    "CN": "120",
    "IN": "112",
    "JP": "119",
    "KR": "119",
    "SA": "997",
    "AE": "998",
    "IL": "101",
    "PH": "911",
    "VN": "115",
    "TW": "119",
    "HK": "999",
    "SG": "995",
    "ZA": "10177",
    "TR": "112",
    "UA": "103",
    "RU": "103",
    "AR": "107",
    "CL": "131",
    "CO": "123",
    "PE": "106",
    "EG": "123",
    "IR": "115",
    "PK": "1122",
    "HT": "116",
}

#: The European emergency number works from any mobile phone in most countries; it is the
#: fallback printed for a country that is not in the table.
FALLBACK_NUMBER = "112"

#: Countries whose clinics print on US Letter; everyone else uses A4.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO"})


@dataclass(frozen=True)
class CountryFacts:
    country: str
    emergency_number: str
    paper: str


def for_country(country: str) -> CountryFacts:
    code = country.upper()
    number = EMERGENCY_NUMBERS.get(code)
    return CountryFacts(
        country=code,
        emergency_number=number or FALLBACK_NUMBER,
        paper="letter" if code in LETTER_COUNTRIES else "A4",
    )
