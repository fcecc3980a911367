"""The clinical content catalog.

Every statement a patient reads about dry needling is one item here, written in
plain language and cited to a seed article (file name and heading). Two kinds of
statement are not taken from the seeds, and cite their own source instead: the
urgent warning signs of a collapsed lung (:attr:`Source.SAFETY_GUIDANCE`) and the
patient's choice of no treatment (:attr:`Source.CONSENT_PRACTICE`). Texts are
wrapped in ``N_`` so that ``pybabel extract`` collects them into
``locales/messages.pot``.

Bump :data:`CATALOG_VERSION` whenever an item's wording or rule changes: the
version is printed on every document.
"""

from __future__ import annotations

from ..request import Area, Condition
from .model import Category as C
from .model import Citation, ContentItem, Question, when
from .model import Source as S

CATALOG_VERSION = "2026.12.1"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for translation"
    return message


# Seed headings, spelled as in the articles.
_WHAT_IT_IS = Citation(S.NERVE_PAIN, "What Dry Needling Is and Its Myofascial Focus")
_NEURAL_LINK = Citation(
    S.NERVE_PAIN, "The Neural Link: How Dry Needling Influences the Nervous System"
)
_EFFECTIVENESS = Citation(S.NERVE_PAIN, "Clinical Effectiveness for Neuropathic Conditions")
_SAFETY = Citation(S.NERVE_PAIN, "Important Safety and Procedural Considerations")
_WHAT_IS = Citation(S.NERVE_DAMAGE, "What Is Dry Needling?")
_HOW_IT_WORKS = Citation(S.NERVE_DAMAGE, "How Does Dry Needling Work?")
_SHORT_ANSWER = Citation(S.NERVE_DAMAGE, "Can Dry Needling Cause Nerve Damage? (The Short Answer)")
_WHY_CONCERN = Citation(S.NERVE_DAMAGE, "Why Is Nerve Damage a Concern?")
_HOW_COMMON = Citation(S.NERVE_DAMAGE, "How Common Is Nerve Damage from Dry Needling?")
_FACTORS = Citation(S.NERVE_DAMAGE, "Factors That Influence the Risk of Nerve Damage")
_MINIMIZE = Citation(S.NERVE_DAMAGE, "How to Minimize the Risk of Nerve Damage")
_SUSPECT = Citation(S.NERVE_DAMAGE, "What to Do If You Suspect Nerve Damage After Dry Needling")
_OTHER_EFFECTS = Citation(S.NERVE_DAMAGE, "Other Possible Side Effects of Dry Needling")
_WORTH_IT = Citation(S.NERVE_DAMAGE, "Is Dry Needling Worth the Risk?")
_FINAL = Citation(S.NERVE_DAMAGE, "Final Thoughts")
_EMERGENCY = Citation(
    S.SAFETY_GUIDANCE, "Urgent signs of a collapsed lung: call emergency services"
)
_ALL_OPTIONS = Citation(
    S.CONSENT_PRACTICE,
    "AMA Code of Medical Ethics, Opinion 2.1.1 Informed Consent: the risks and benefits "
    "of all options, including forgoing treatment",
)

#: Areas on or near the torso, where the seeds single out the collapsed-lung risk.
TORSO_AREAS = frozenset({Area.CHEST, Area.UPPER_BACK, Area.LOWER_BACK, Area.SHOULDER, Area.NECK})
#: Areas the seeds name as needing extra caution because of dense nerve networks.
DENSE_NERVE_AREAS = frozenset({Area.NECK, Area.UPPER_BACK})
#: Conditions of nerve pain, which carry the seed's honest evidence statement.
NERVE_PAIN_CONDITIONS = frozenset(
    {
        Condition.SCIATICA,
        Condition.RADICULOPATHY,
        Condition.CARPAL_TUNNEL,
        Condition.PERIPHERAL_NEUROPATHY,
    }
)

# Frequency wording, as the seeds give it.
COMMON = N_("common, mild and short-lived")
MILD = N_("mild, usually passes quickly")
RARE = N_("rare")
VERY_RARE = N_("very rare with a trained practitioner")
RARE_SERIOUS = N_("rare but serious")

CONSENT_ONLY = frozenset({"consent"})
AFTERCARE_ONLY = frozenset({"aftercare"})


def _precaution(item_id: str, text: str, field: str, *cite: Citation) -> ContentItem:
    """A relative contraindication: asked about and explained in every consent, and listed
    in the aftercare when the patient answered yes."""
    return ContentItem(
        item_id,
        C.CONTRAINDICATION_RELATIVE,
        text,
        cite,
        applies=when(screening=field, always_in=CONSENT_ONLY),
        question=Question(field),
    )


ITEMS: tuple[ContentItem, ...] = (
    # What dry needling is
    ContentItem(
        "about.what",
        C.ABOUT,
        N_(
            "Dry needling uses very thin, solid needles. They go through the skin into a "
            "tight muscle. Nothing is injected, which is why it is called dry."
        ),
        (_WHAT_IT_IS, _WHAT_IS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "about.trigger_point",
        C.ABOUT,
        N_(
            "The needles aim at trigger points. A trigger point is a tight, tender knot in a "
            "muscle. It can hurt where it is, or cause pain in another part of the body."
        ),
        (_WHAT_IT_IS, _HOW_IT_WORKS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "about.twitch_response",
        C.ABOUT,
        N_(
            "When the needle reaches a trigger point, the muscle may jump or twitch on its "
            "own. This is called a twitch response. It is expected, and it helps the tight "
            "muscle relax."
        ),
        (_WHAT_IT_IS, _HOW_IT_WORKS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "about.not_acupuncture",
        C.ABOUT,
        N_(
            "Dry needling is not acupuncture. The needles look alike, but dry needling is "
            "based on Western science about muscles and nerves, not on traditional Chinese "
            "medicine."
        ),
        (_WHAT_IT_IS, _WHAT_IS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "about.pain_signals",
        C.ABOUT,
        N_(
            "Needling may also calm pain signals in your nerves and spinal cord. This can "
            "ease pain beyond the muscle that was treated."
        ),
        (_NEURAL_LINK,),
        kinds=CONSENT_ONLY,
    ),
    # Expected benefits
    ContentItem(
        "benefit.goals",
        C.BENEFIT,
        N_(
            "The aim is to loosen muscle knots, ease tension, improve blood flow, lower pain "
            "and help the muscle work normally again."
        ),
        (_WHAT_IS, _HOW_IT_WORKS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "benefit.conditions",
        C.BENEFIT,
        N_(
            "Studies show it can ease pain and help you move better. This was found for pain "
            "in the low back, neck and shoulder, and for tension headaches. It was also found "
            "for heel pain (plantar fasciitis) and long-term muscle pain."
        ),
        (_WORTH_IT,),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "benefit.relief",
        C.BENEFIT,
        N_(
            "Many people feel better after one or a few sessions. It does not help everyone, "
            "and it is not free of risk."
        ),
        (_HOW_IT_WORKS, _FINAL),
        kinds=CONSENT_ONLY,
    ),
    # The honest evidence statement for nerve pain
    ContentItem(
        "evidence.nerve_pain",
        C.EVIDENCE,
        N_(
            "Dry needling treats muscles. It does not repair damaged nerves. For nerve pain, "
            "the evidence is mixed. It can ease symptoms caused by tight muscles around a "
            "nerve. It is an extra treatment to use with your other care, not a replacement "
            "for it."
        ),
        (_EFFECTIVENESS,),
        applies=when(conditions=NERVE_PAIN_CONDITIONS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "evidence.sciatica",
        C.EVIDENCE,
        N_(
            "For sciatica, needling the buttock muscles can ease tension that presses on "
            "the sciatic nerve."
        ),
        (_EFFECTIVENESS,),
        applies=when(conditions=[Condition.SCIATICA]),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "evidence.carpal_tunnel",
        C.EVIDENCE,
        N_(
            "In studies of carpal tunnel syndrome, needling the wrist and forearm muscles gave "
            "a stronger grip and less pain. It eases tight muscles that may press on the "
            "median nerve."
        ),
        (_EFFECTIVENESS,),
        applies=when(conditions=[Condition.CARPAL_TUNNEL]),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "evidence.neuropathy",
        C.EVIDENCE,
        N_(
            "For nerve damage such as peripheral neuropathy, the evidence is weaker. Here "
            "dry needling is only an add-on to other treatment."
        ),
        (_EFFECTIVENESS,),
        applies=when(conditions=[Condition.PERIPHERAL_NEUROPATHY]),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "electrical_stimulation.evidence",
        C.ELECTRICAL_STIMULATION,
        N_(
            "Your plan adds electrical stimulation to the needles. Some studies of nerve "
            "problems found promising results when needling was used with electrical "
            "stimulation. But the proof is still limited."
        ),
        (_EFFECTIVENESS,),
        applies=when(electrical_stimulation=True),
    ),
    # Who does it
    ContentItem(
        "training.practitioner",
        C.TRAINING,
        N_(
            "Only a licensed practitioner with extra training should do dry needling. This "
            "may be a physical therapist or a doctor. Your safety depends on their training "
            "and skill. You may ask about it."
        ),
        (_SAFETY, _FACTORS, _MINIMIZE),
        kinds=CONSENT_ONLY,
    ),
    # The health questions: what a "yes" means
    ContentItem(
        "screening.absolute_rule",
        C.SCREENING,
        N_("If you answer yes to any of questions 1 to 3, dry needling will not be done today."),
        (_SAFETY,),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "screening.relative_rule",
        C.SCREENING,
        N_(
            "If you answer yes to any of questions 4 to 9, tell your practitioner. Dry "
            "needling may still be done, but they will take special care."
        ),
        (_SAFETY, _MINIMIZE),
        kinds=CONSENT_ONLY,
    ),
    # Absolute contraindications
    # (Questions 1 to 3, in this order.)
    ContentItem(
        "contraindication.local_infection",
        C.CONTRAINDICATION_ABSOLUTE,
        N_("An infection where the needles would go"),
        (_SAFETY,),
        kinds=CONSENT_ONLY,
        question=Question("local_infection"),
    ),
    ContentItem(
        "contraindication.needle_phobia",
        C.CONTRAINDICATION_ABSOLUTE,
        N_("A strong fear of needles"),
        (_SAFETY,),
        kinds=CONSENT_ONLY,
        question=Question("needle_phobia"),
    ),
    ContentItem(
        "contraindication.unable_to_consent",
        C.CONTRAINDICATION_ABSOLUTE,
        N_("Not being able to understand the treatment and agree to it"),
        (_SAFETY,),
        kinds=CONSENT_ONLY,
        # The one question asked the other way round: "no" is the contraindication.
        question=Question("able_to_consent", applies_when=False),
    ),
    # Relative contraindications (questions 4 to 9, in this order): they need special care
    _precaution("precaution.pregnant", N_("Being pregnant"), "pregnant", _SAFETY),
    _precaution(
        "precaution.immunocompromised",
        N_("A weak immune system, so your body fights infection less well"),
        "immunocompromised",
        _SAFETY,
    ),
    _precaution(
        "precaution.lymphedema",
        N_("Lymphedema: long-term swelling from a problem with the lymph system"),
        "lymphedema",
        _SAFETY,
    ),
    _precaution(
        "precaution.pacemaker",
        N_("A pacemaker or a similar device implanted in your body"),
        "pacemaker_or_implant",
        _SAFETY,
    ),
    _precaution(
        "precaution.blood_thinners",
        N_("Taking medicine that thins the blood (a blood thinner)"),
        "blood_thinners",
        _SAFETY,
    ),
    _precaution(
        "precaution.bleeding_disorder",
        N_("A bleeding disorder, which makes you bleed more easily"),
        "bleeding_disorder",
        _MINIMIZE,
    ),
    # Side effects
    ContentItem(
        "side_effect.soreness",
        C.SIDE_EFFECT,
        N_("Sore or stiff muscles where the needles went in"),
        (_SAFETY, _OTHER_EFFECTS),
        frequency=COMMON,
    ),
    ContentItem(
        "side_effect.bruising",
        C.SIDE_EFFECT,
        N_("A bruise or a little bleeding where a needle went in"),
        (_SAFETY, _HOW_COMMON, _OTHER_EFFECTS),
        frequency=COMMON,
    ),
    ContentItem(
        "side_effect.twitching",
        C.SIDE_EFFECT,
        N_("Muscle twitching or tired muscles for a short time"),
        (_HOW_COMMON,),
        frequency=MILD,
    ),
    ContentItem(
        "side_effect.lightheaded",
        C.SIDE_EFFECT,
        N_("Feeling tired or lightheaded"),
        (_OTHER_EFFECTS,),
        frequency=MILD,
    ),
    # Rare and serious risks
    ContentItem(
        "risk.infection",
        C.RISK,
        N_(
            "Infection where a needle went in. This can happen if clean, sterile methods "
            "are not used."
        ),
        (_OTHER_EFFECTS,),
        frequency=RARE,
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "risk.nerve_injury",
        C.RISK,
        N_(
            "Nerve injury. If a needle touches a nerve, you may feel sharp or shooting pain, "
            "numbness, tingling, weakness or muscle spasms. Rarely, the injury lasts a long time."
        ),
        (_SHORT_ANSWER, _WHY_CONCERN, _HOW_COMMON),
        frequency=VERY_RARE,
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "risk.collapsed_lung",
        C.RISK,
        N_(
            "A collapsed lung. Doctors call this a pneumothorax. It can happen especially when "
            "needles are used on or near the chest, back, shoulders or neck."
        ),
        (_SAFETY,),
        frequency=RARE_SERIOUS,
        applies=when(areas=TORSO_AREAS, always_in=CONSENT_ONLY),
    ),
    # What changes the risk of nerve injury
    ContentItem(
        "risk_factor.technique",
        C.RISK_FACTOR,
        N_(
            "Nerve injury is very rare. When it happens, it is usually because the needle "
            "was not used the right way."
        ),
        (_HOW_COMMON,),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "risk_factor.needle_placement",
        C.RISK_FACTOR,
        N_(
            "How deep the needle goes, its angle and the spot where it goes in all matter. "
            "Getting them right keeps the needle away from nerves."
        ),
        (_FACTORS,),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "risk_factor.anatomy",
        C.RISK_FACTOR,
        N_(
            "Nerves are not in exactly the same place in every body. A skilled practitioner "
            "allows for this."
        ),
        (_FACTORS,),
        kinds=CONSENT_ONLY,
    ),
    # Area cautions and the nerves near treated areas
    ContentItem(
        "area.dense_nerves",
        C.AREA_CAUTION,
        N_(
            "The neck and upper back have many nerves close together, so your practitioner "
            "takes extra care there."
        ),
        (_FACTORS,),
        applies=when(areas=DENSE_NERVE_AREAS),
    ),
    ContentItem(
        "area.sciatic_nerve",
        C.AREA_CAUTION,
        N_(
            "The sciatic nerve, a large nerve to the leg, lies near the buttock, hip and "
            "thigh muscles. Your practitioner works to keep the needles away from it."
        ),
        (_WHY_CONCERN, _EFFECTIVENESS),
        applies=when(areas=[Area.GLUTEAL, Area.HIP, Area.THIGH]),
    ),
    ContentItem(
        "area.brachial_plexus",
        C.AREA_CAUTION,
        N_(
            "The brachial plexus, a group of large nerves to the arm, lies near the neck and "
            "shoulder muscles. Your practitioner works to keep the needles away from it."
        ),
        (_WHY_CONCERN,),
        applies=when(areas=[Area.NECK, Area.SHOULDER]),
    ),
    ContentItem(
        "area.median_nerve",
        C.AREA_CAUTION,
        N_(
            "The median nerve runs through the forearm and wrist into the hand. Your "
            "practitioner works to keep the needles away from it."
        ),
        (_EFFECTIVENESS,),
        applies=when(areas=[Area.FOREARM_WRIST, Area.HAND]),
    ),
    # Other choices
    ContentItem(
        "alternative.other_treatments",
        C.ALTERNATIVE,
        N_(
            "Dry needling is one option. It is often used together with other treatments. "
            "Ask your practitioner about other ways to treat your problem."
        ),
        (_WORTH_IT, _EFFECTIVENESS),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "alternative.no_treatment",
        C.ALTERNATIVE,
        N_("You can choose not to have dry needling, or to have no treatment at all."),
        (_ALL_OPTIONS,),
        kinds=CONSENT_ONLY,
    ),
    # What the patient can do
    ContentItem(
        "role.medical_history",
        C.PATIENT_ROLE,
        N_(
            "Tell your practitioner about your health, past and present. Say if you have "
            "any nerve problems or bleeding disorders."
        ),
        (_SAFETY, _MINIMIZE),
        kinds=CONSENT_ONLY,
    ),
    ContentItem(
        "report_during.sharp_pain",
        C.REPORT_DURING,
        N_(
            "During treatment, tell your practitioner at once if you feel sharp, electric "
            "or shooting pain."
        ),
        (_MINIMIZE,),
    ),
    # After treatment
    ContentItem(
        "report_after.nerve_symptoms",
        C.REPORT_AFTER,
        N_(
            "Numbness, weakness or strong pain that does not go away. See a doctor soon if "
            "this happens."
        ),
        (_SUSPECT,),
    ),
    ContentItem(
        "report_after.speak_early",
        C.REPORT_AFTER,
        N_("Tell us early about anything unusual. Speaking up quickly can prevent problems."),
        (_FINAL,),
    ),
    ContentItem(
        "urgent.shortness_of_breath",
        C.REPORT_URGENT,
        N_("Shortness of breath or trouble breathing"),
        (_EMERGENCY,),
    ),
    ContentItem(
        "urgent.chest_pain",
        C.REPORT_URGENT,
        N_("Chest pain"),
        (_EMERGENCY,),
    ),
    ContentItem(
        "nerve_injury.exam",
        C.NERVE_INJURY_STEP,
        N_("A check of your nerves, strength and feeling (a neurological exam)"),
        (_SUSPECT,),
        kinds=AFTERCARE_ONLY,
    ),
    ContentItem(
        "nerve_injury.imaging",
        C.NERVE_INJURY_STEP,
        N_("Scans such as MRI or ultrasound"),
        (_SUSPECT,),
        kinds=AFTERCARE_ONLY,
    ),
    ContentItem(
        "nerve_injury.referral",
        C.NERVE_INJURY_STEP,
        N_("A visit to a nerve specialist (a neurologist)"),
        (_SUSPECT,),
        kinds=AFTERCARE_ONLY,
    ),
    ContentItem(
        "nerve_injury.early",
        C.RECOVERY,
        N_("Finding and treating a nerve injury early gives the best chance of a full recovery."),
        (_SUSPECT,),
        kinds=AFTERCARE_ONLY,
    ),
    ContentItem(
        "aftercare.rest",
        C.AFTERCARE,
        N_("Rest, and avoid hard exercise or heavy work if your practitioner advises it."),
        (_MINIMIZE,),
        kinds=AFTERCARE_ONLY,
    ),
    ContentItem(
        "aftercare.side_effects_pass",
        C.AFTERCARE,
        N_(
            "Soreness, stiffness and bruising are common. They are usually mild and go "
            "away quickly."
        ),
        (_SAFETY, _OTHER_EFFECTS),
        kinds=AFTERCARE_ONLY,
    ),
    ContentItem(
        "aftercare.ask",
        C.AFTERCARE,
        N_("If something feels unusual, call the clinic or talk to your healthcare provider."),
        (_FINAL,),
        kinds=AFTERCARE_ONLY,
    ),
)

BY_ID: dict[str, ContentItem] = {item.id: item for item in ITEMS}
