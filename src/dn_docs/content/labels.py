"""Patient-facing names for the ids a request uses (areas, conditions), marked for translation."""

from __future__ import annotations

from ..request import Area, Condition
from .catalog import N_

AREA_LABELS: dict[Area, str] = {
    Area.NECK: N_("Neck"),
    Area.HEAD_JAW: N_("Head and jaw"),
    Area.SHOULDER: N_("Shoulder"),
    Area.UPPER_BACK: N_("Upper back"),
    Area.CHEST: N_("Chest"),
    Area.ARM: N_("Upper arm"),
    Area.FOREARM_WRIST: N_("Forearm and wrist"),
    Area.HAND: N_("Hand"),
    Area.LOWER_BACK: N_("Lower back"),
    Area.GLUTEAL: N_("Buttock"),
    Area.HIP: N_("Hip"),
    Area.THIGH: N_("Thigh"),
    Area.KNEE: N_("Knee"),
    Area.CALF: N_("Calf"),
    Area.FOOT: N_("Foot"),
}

CONDITION_LABELS: dict[Condition, str] = {
    Condition.NECK_PAIN: N_("Neck pain"),
    Condition.LOWER_BACK_PAIN: N_("Low back pain"),
    Condition.SHOULDER_PAIN: N_("Shoulder pain"),
    Condition.TENSION_HEADACHE: N_("Tension headache"),
    Condition.PLANTAR_FASCIITIS: N_("Heel pain (plantar fasciitis)"),
    Condition.MYOFASCIAL_PAIN: N_("Long-term muscle pain (myofascial pain)"),
    Condition.SCIATICA: N_("Sciatica"),
    Condition.RADICULOPATHY: N_("Pinched nerve root (radiculopathy)"),
    Condition.CARPAL_TUNNEL: N_("Carpal tunnel syndrome"),
    Condition.PERIPHERAL_NEUROPATHY: N_(
        "Nerve damage in the hands or feet (peripheral neuropathy)"
    ),
    Condition.OTHER: N_("Other"),
}

#: The language-assistance notice, printed in every shipped language in its own script.
LANGUAGE_HELP_HEADING = N_("Language help")
LANGUAGE_HELP = N_(
    "Free help in your language is available. Ask the clinic staff, or call %(phone)s."
)

#: Opening line of the bilingual edition.
BILINGUAL_NOTE = N_("This form is printed in two languages: %(first)s and %(second)s.")

#: The footer stamp's words for the document's language and the state of its translation
#: (the catalog's ``# Review-Status:`` line; anything but "reviewed" counts as a draft).
ORIGINAL_ENGLISH = N_("Original English text, not a translation")
TRANSLATION_DRAFT = N_("Translation %(version)s: a draft, not yet checked by a medical translator")
TRANSLATION_REVIEWED = N_("Translation %(version)s: checked by a medical translator")
