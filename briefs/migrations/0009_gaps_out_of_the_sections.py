"""The brief's editorial gaps leave its sections (issue 20): for databases that
already hold the catalogue, what its sections and featured-practice notes said
about what could not be confirmed moves into the brief's one note, "What this
summary could not confirm" (Brief.unconfirmed_note). The loader
(practices.content) only adds missing records and never changes one.

A value is changed only where it is still the one shipped before, so nothing a
curator edited since is overwritten; the note is filled only while empty. The
catalogue version moves so no cached page keeps the old text.
"""

import uuid

from django.db import migrations
from django.db.models import F
from django.utils import timezone

BRIEF = "internationalisation-of-smes"

NOTE = (
    "- **The original brief's date.** The copy of its page used for this summary "
    "shows none. The brief came out after 20 May 2021, when the Policy Learning "
    "Platform presented its content, then forthcoming, at a community "
    "brainstorming session.\n"
    "- **The brief's own grouping.** Its headings could not be read, so the five "
    "sections from [Grants and co-financing calls](#grants-and-co-financing) to "
    "[Integrated programmes and place promotion]"
    "(#integrated-programmes-and-place-promotion) sort the featured practices in "
    "Practice Atlas's own way.\n"
    "- **The brief's lessons learnt.** Its own list is not among the sources this "
    "summary could use, so it is not restated: [Lessons learnt](#lessons-learnt) "
    "gives related findings from the Platform and from projects instead.\n"
    "- **GO4EXPORT - Interactive development and Export Development Program.** The "
    "brief names both among its featured practices, but no description of either "
    "was found, so neither is placed in a section.\n"
    "- **SME INSTRUMENT DONOSTIA INN.** Its details could not be confirmed: what "
    "is said of it, a San Sebastián grant line linked to the EU's Horizon 2020 SME "
    "Instrument, is read from its name.\n"
    "- **Kent International Business.** The brief only names it. That it paid "
    "part of the cost of trade visits comes from Kent County Council's minutes, "
    "not from the brief, and is unconfirmed.\n"
    "- **Profitnet - building SME owner capacity through peer learning.** Its "
    "place, Ireland, could not be confirmed."
)

_GRANTS_BODY = (
    "\n\nThe most direct form of support is public money that pays part of a firm's "
    "plan to go abroad. It is usually offered through an open call that sets out who "
    "may apply, which costs count and how much each project can receive.\n\n"
    "- Incentive to the Internationalisation of SMEs – Individual projects "
    "(Algarve, Portugal) gives single SMEs in the region's RIS3 sectors a "
    "non-repayable ERDF grant of up to EUR 500,000, at no more than 45% of eligible "
    "cost, for steps such as market prospecting, a digital presence, brand "
    "promotion abroad and certification.\n"
    "- Call for non-exporting and non-regularly exporting businesses "
    "(Emilia-Romagna, Italy) is aimed at firms that export rarely or not at all. The "
    "region pays 40% of the eligible costs of a two-year path built on an export "
    "plan for no more than two countries, and networks of firms may apply together."
    "\n- SME INSTRUMENT DONOSTIA INN (San Sebastián, Spain)"
)
_SKILLS_INTRO = (
    "Going international takes management know-how and people with experience "
    "abroad. Two featured practices invest in these rather than in export projects "
    "as such.\n\n- Profitnet - building SME owner capacity through peer learning "
    "(Ireland"
)
_SKILLS_REST = (
    "): groups of 15-20 owner-managers meet monthly for about 18 months, review "
    "each other's business plans, work through shared problems and hold each other "
    "to the actions they agree, with access to the support of a Local Enterprise "
    "Office. It builds the management capacity that firms need before they go "
    "abroad.\n- International Connecting Talent Internships (San Sebastián, Spain): "
    "the city's development agency pays for local graduates under 30 to spend six "
    "months interning abroad, so that skills and contacts flow back home; a later "
    "version of the practice reports close to 600 internships over 10 years."
)
_LESSONS_INTRO = (
    "The brief sums up the lessons that Interreg Europe project partners drew on "
    "how best to support SME internationalisation. "
)
_LESSONS_REST = (
    "\n\n- Policy Learning Platform community brainstorming, 20 May 2021 (with the "
    "EIS, INTER VENTURES, SCALE UP, SIE and UpGradeSME projects): capacity building "
    "remains central, both for SMEs and for the bodies that support them, in "
    "digitalisation as much as in internationalisation.\n"
    "- Policy Learning Platform webinar, January 2019: regions act mainly by "
    "helping SMEs gain access to skills, knowledge, funding and markets, and by "
    "improving how regional support is governed.\n"
    "- INTRA joint policy recommendations (February 2019): cut red tape and "
    "simplify procedures, avoid services that duplicate each other, tailor support "
    "to what SMEs need, develop new tools, and offer distinct advice for barriers "
    "inside the firm, barriers outside it, and a firm's first moves abroad.\n"
    "- SIE cross-region study: set up a business network across regions so that "
    "SMEs can use opportunities elsewhere and share risk, and set up a 'policy "
    "laboratory' in which regions share and monitor practice, involving a handful "
    "of SMEs.\n"
    "- EIS: the project developed the GlobalEIS Tool, a structured six-step method "
    "that its partner regions used to prepare their action plans."
)

# anchor -> (body as shipped before, corrected)
SECTIONS = {
    "grants-and-co-financing": (
        "The next five sections sort the brief's featured practices by the kind of "
        "support they give. This grouping is Practice Atlas's own; it does not "
        "reproduce the brief's headings. Two featured practices, GO4EXPORT - "
        "Interactive development and Export Development Program, are not placed in "
        "any group because no description of them was found."
        + _GRANTS_BODY
        + " appears, from its name, to be a city grant line connected with the EU's "
        "Horizon 2020 SME Instrument; its details could not be confirmed.\n"
        "- Kent International Business (England, UK): Kent County Council's "
        "initiative to help the county's SMEs into European markets; council minutes "
        "describe it as paying part of the cost of trade visits (unconfirmed: the "
        "brief only names it).",
        "The next five sections group the brief's featured practices by the kind of "
        "support they give, in Practice Atlas's own grouping."
        + _GRANTS_BODY
        + ": going by its name, a city grant line connected with the EU's Horizon "
        "2020 SME Instrument.\n"
        "- Kent International Business (England, UK): Kent County Council's "
        "initiative to help the county's SMEs into European markets; council minutes "
        "describe it as paying part of the cost of trade visits.",
    ),
    "skills-and-peer-learning": (
        _SKILLS_INTRO + "; place unconfirmed" + _SKILLS_REST,
        _SKILLS_INTRO + _SKILLS_REST,
    ),
    "lessons-learnt": (
        _LESSONS_INTRO + "That list is not among the sources Practice Atlas could "
        "use, so it is not restated here. The points below are related findings, "
        "each credited to the Platform event or project it comes from."
        + _LESSONS_REST,
        _LESSONS_INTRO + "The points below are related findings, each credited to "
        "the Platform event or project it comes from." + _LESSONS_REST,
    ),
}

_NOT_FOUND = (
    "Featured in the brief; no description of this practice was found in the "
    "sources used for this catalogue."
)
# featured practice slug -> (note as shipped before, corrected)
NOTES = {
    "go4export-interactive-development": (_NOT_FOUND, ""),
    "export-development-program": (_NOT_FOUND, ""),
    "sme-instrument-donostia-inn": (
        "Points to city-level grant support linked to EU innovation funding, "
        "although its details are not confirmed.",
        "Points, going by its name, to city-level grant support linked to EU "
        "innovation funding.",
    ),
    "kent-international-business": (
        "Shows a county council helping its SMEs reach European markets, reportedly "
        "by paying part of the cost of trade visits (unconfirmed).",
        "Shows a county council helping its SMEs reach European markets; council "
        "minutes describe it as paying part of the cost of trade visits.",
    ),
}


def move_gaps(apps, schema_editor):
    db = schema_editor.connection.alias
    Brief = apps.get_model("briefs", "Brief")
    Version = apps.get_model("practices", "CatalogueVersion")
    brief = Brief.objects.using(db).filter(slug=BRIEF).first()
    if brief is None:
        return  # a new database: the loader adds the corrected content
    for anchor, (before, after) in SECTIONS.items():
        brief.sections.filter(anchor=anchor, body=before).update(body=after)
    for slug, (before, after) in NOTES.items():
        brief.featured.filter(practice__slug=slug, note=before).update(note=after)
    Brief.objects.using(db).filter(pk=brief.pk, unconfirmed_note="").update(
        unconfirmed_note=NOTE
    )
    Version.objects.using(db).filter(pk=1).update(
        number=F("number") + 1, token=uuid.uuid4(), changed_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("briefs", "0008_unconfirmed_note"),
        # After the corrections of issue 15, whose results are the "before" here.
        ("practices", "0011_corrections_from_the_research"),
    ]

    operations = [migrations.RunPython(move_gaps, migrations.RunPython.noop)]
