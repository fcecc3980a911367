"""Who signs for a minor: the age below which a parent or legal guardian consents.

A clinic sets it with ``clinic.guardian_age``. Without one, it is the age from which
the law of the clinic's country lets a patient consent to medical treatment alone,
where a statute sets one below the age of majority, and 18 everywhere else. The
table is deliberately small: only ages a statute states outright. Where the age
depends on the region (the United States, Canada, Australia) or on the patient's
understanding alone (Germany, France), the default of 18 stands and a clinic that
follows a lower age sets it itself.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where no statute in :data:`STATUTORY_AGES` applies.
DEFAULT_GUARDIAN_AGE = 18


@dataclass(frozen=True)
class StatutoryAge:
    age: int
    law: str


STATUTORY_AGES: dict[str, StatutoryAge] = {
    "GB": StatutoryAge(
        16,
        "Family Law Reform Act 1969, s. 8 (England and Wales); Age of Legal Capacity "
        "(Scotland) Act 1991, s. 1; Age of Majority Act (Northern Ireland) 1969, s. 4",
    ),
    "IE": StatutoryAge(16, "Non-Fatal Offences Against the Person Act 1997, s. 23"),
    "ES": StatutoryAge(16, "Ley 41/2002 básica reguladora de la autonomía del paciente, art. 9.4"),
    "NL": StatutoryAge(16, "Burgerlijk Wetboek, Boek 7, art. 7:447 and 7:450 (WGBO)"),
    "NO": StatutoryAge(16, "Pasient- og brukerrettighetsloven 1999, § 4-3"),
    "DK": StatutoryAge(15, "Sundhedsloven, § 17"),
}


def guardian_age(country: str, clinic_setting: int | None = None) -> int:
    """The age below which a guardian signs: the clinic's own setting, else the statute's."""
    if clinic_setting is not None:
        return clinic_setting
    statute = STATUTORY_AGES.get(country.upper())
    return statute.age if statute else DEFAULT_GUARDIAN_AGE
