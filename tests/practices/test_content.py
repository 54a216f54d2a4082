"""The catalogue content in fixtures/catalogue/ and the loader `make run` uses."""

import csv
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from briefs.models import Brief
from practices.content import (
    CONTENT_DIR,
    ContentError,
    catalogue_files,
    content_files,
    load_catalogue,
    read_content,
)
from practices.models import (
    InstrumentType,
    Period,
    Practice,
    PracticeSource,
    Region,
    Status,
    Theme,
)

pytestmark = pytest.mark.django_db

FEATURED_ORDER = [
    "GO4EXPORT - Interactive development",
    "Call for non-exporting and non-regularly exporting businesses",
    "Incentive to the Internationalisation of SMEs – Individual projects",
    "Export Consortia",
    "Co-financing promotional activities of SMEs Internationalisation Consortia",
    "Export Development Program",
    "Profitnet - building SME owner capacity through peer learning.",
    "International Connecting Talent Internships",
    "Fostering value added business cooperation between SMEs",
    "SME INSTRUMENT DONOSTIA INN",
    "The Wakefield First Bondholder Scheme",
    "PASSPORT ABROAD",
    "Emilia-Romagna Go Global (ERGO) 2016 – 2020",
    "Kent International Business",
]


def test_the_brief_features_the_14_practices_in_order(catalogue):
    brief = Brief.objects.published().get(slug="internationalisation-of-smes")
    featured = brief.featured.filter(practice__in=Practice.objects.published())
    titles = [f.practice.title for f in featured]
    assert titles == FEATURED_ORDER


def test_every_practice_cites_titled_web_sources(catalogue):
    """What the loader does not enforce: each record names its sources, with a
    title, at a web address. (Status, summary and attribution it does.)"""
    for practice in Practice.objects.prefetch_related("sources"):
        sources = practice.sources.all()
        assert sources, practice
        for source in sources:
            assert source.url.startswith(("https://", "http://")), source
            assert source.title.strip(), source


def test_an_unknown_uncertain_flag_is_refused_by_the_loader(tmp_path, db):
    """Flags name facts pages can mark; a misspelt one would mark nothing."""
    path = write(
        tmp_path,
        "flags.json",
        {
            "practices": [
                {
                    "slug": "x",
                    "title": "X",
                    "summary": "S",
                    "attribution": "A",
                    "uncertain_fields": ["place"],  # the fact is "places"
                }
            ]
        },
    )
    with pytest.raises(ContentError, match="slug 'x'.*'place' cannot be flagged"):
        load_catalogue([path])
    assert not Practice.objects.exists()


def test_nuts_codes_are_well_formed_and_belong_to_their_country(catalogue):
    for region in Region.objects.select_related("country", "parent"):
        assert re.fullmatch(r"[A-Z]{2}[A-Z0-9]{1,3}", region.code), region
        assert region.code.startswith(region.country.nuts_code), region
        assert region.level == len(region.code) - 2, region
        if region.parent:
            assert region.code.startswith(region.parent.code), region
            assert region.parent.level == region.level - 1, region


def test_loading_twice_keeps_one_copy_and_curators_edits(catalogue):
    assert catalogue["practices"] >= 14
    edited = Practice.objects.get(slug="export-consortia")
    edited.summary = "Edited by a curator."
    edited.save()
    Practice.objects.filter(slug="passport-abroad").update(status=Status.DRAFT)
    counts = {m: m.objects.count() for m in (Practice, Region, Brief)}

    assert load_catalogue() == {}

    assert {m: m.objects.count() for m in counts} == counts
    assert (
        Practice.objects.get(slug="export-consortia").summary == "Edited by a curator."
    )
    assert Practice.objects.get(slug="passport-abroad").status == Status.DRAFT


def test_command_reports_what_it_added(capsys, db):
    call_command("load_catalogue")
    out = capsys.readouterr().out
    assert re.search(r"Catalogue content added from \d+ files: .*\d+ practices", out)
    call_command("load_catalogue")
    assert "everything is already loaded" in capsys.readouterr().out


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_conflicting_duplicates_are_refused(tmp_path, db):
    a = write(
        tmp_path,
        "a.json",
        {"countries": [{"code": "IT", "name": "Italy", "nuts_code": "IT"}]},
    )
    b = write(
        tmp_path,
        "b.json",
        {"countries": [{"code": "IT", "name": "Italia", "nuts_code": "IT"}]},
    )
    with pytest.raises(ContentError, match="countries 'IT' differs"):
        load_catalogue([a, b])


def test_a_bad_record_loads_nothing_and_names_the_problem(tmp_path, db):
    path = write(
        tmp_path,
        "bad.json",
        {
            "countries": [{"code": "IT", "name": "Italy", "nuts_code": "IT"}],
            "practices": [
                {
                    "slug": "x",
                    "title": "X",
                    "summary": "S",
                    "attribution": "A",
                    "themes": ["no-such-theme"],
                }
            ],
        },
    )
    with pytest.raises(CommandError, match=r"slug 'x'\): themes: unknown theme"):
        call_command("load_catalogue", str(path))
    assert not Practice.objects.exists()
    assert not Region.objects.exists()


def test_unreadable_file_gives_a_clear_error(tmp_path, db):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read JSON"):
        call_command("load_catalogue", str(path))


# --- content checks on the shipped files ---------------------------------------

# The brief lists this one, but no description of it exists in any source we
# have: it carries the brief as its only source and shows every fact as
# "Not recorded" rather than a guessed place, theme or instrument. (GO4EXPORT was
# another until issue 22: see its test below.)
NO_FACTS_RECORDED = {"export-development-program"}


def test_every_practice_has_the_facts_a_listing_needs(catalogue):
    practices = Practice.objects.prefetch_related(
        "countries", "regions", "themes", "instruments", "sources"
    )
    for practice in practices:
        assert practice.title.strip() and practice.summary.strip(), practice
        assert practice.sources.all(), practice
        has_place = practice.countries.all() or practice.regions.all()
        if practice.slug in NO_FACTS_RECORDED:
            assert not has_place and not practice.themes.all(), practice
            assert not practice.instruments.all() and practice.project is None
            continue
        assert has_place, practice
        assert practice.themes.all(), practice
        assert practice.instruments.all(), practice


def test_every_region_of_a_practice_is_in_one_of_its_countries(catalogue):
    for practice in Practice.objects.prefetch_related("countries", "regions"):
        codes = {country.code for country in practice.countries.all()}
        for region in practice.regions.all():
            assert region.country.code in codes, (practice, region)


def test_no_two_practices_share_a_title(catalogue):
    titles = list(Practice.objects.values_list("title", flat=True))
    assert len(titles) == len(set(titles))


def test_every_reference_in_the_content_files_resolves():
    """Regions resolve in the files' own or in the NUTS 2021 units (nuts-2021.csv),
    which the loader adds before the practices."""
    content = read_content(content_files())
    country_of = {c["nuts_code"]: code for code, c in content["countries"].items()}
    content["regions"] = {**nuts_regions(country_of), **content["regions"]}
    for practice in content["practices"].values():
        for kind, field in [
            ("countries", "countries"),
            ("regions", "regions"),
            ("themes", "themes"),
            ("instruments", "instruments"),
        ]:
            for key in practice.get(field, []):
                assert key in content[kind], (practice["slug"], kind, key)
        if practice.get("project"):
            assert practice["project"] in content["projects"], practice["slug"]
    for region in content["regions"].values():
        assert region["country"] in content["countries"], region
        assert not region["parent"] or region["parent"] in content["regions"], region


def nuts_regions(country_of):
    """{code: unit} of the NUTS 2021 units below the countries, as regions are;
    `country_of` maps a NUTS country code (EL, UK) to the country's (GR, GB)."""
    with open(CONTENT_DIR / "nuts-2021.csv", newline="", encoding="utf-8") as file:
        return {
            row["code"]: {
                "code": row["code"],
                "country": country_of[row["country_code"]],
                "parent": row["parent"] if row["level"] != "1" else None,
            }
            for row in csv.DictReader(file)
            if row["level"] != "0"
        }


def test_every_term_has_a_one_sentence_description(catalogue):
    for model in (Theme, InstrumentType):
        for term in model.objects.all():
            text = term.description.strip()
            assert text.endswith(".") and text.count(". ") == 0, term


def test_the_brief_keeps_exactly_its_14_practices_while_the_catalogue_grows(
    catalogue,
):
    brief = Brief.objects.get(slug="internationalisation-of-smes")
    assert brief.featured.count() == 14
    assert Practice.objects.published().count() > 14


def test_new_content_is_added_to_an_existing_database_without_touching_edits(
    tmp_path, db
):
    files = catalogue_files()
    # (Without the evidence of practices that are not loaded yet.)
    featured_only = [
        f for f in files if "more-practices" not in f.name and f.name != "evidence.json"
    ]
    load_catalogue(featured_only)
    Practice.objects.filter(slug="export-consortia").update(title="Curated title")
    before = Practice.objects.count()

    created = load_catalogue(files)

    assert created["practices"] == Practice.objects.count() - before > 0
    assert Practice.objects.get(slug="export-consortia").title == "Curated title"


def test_transfer_prerequisites_reach_a_database_loaded_before_them(tmp_path, db):
    """A database loaded from records without them gets each practice's budget
    scale, funding source, legal basis and staff, their flags and the sources they
    rest on at the next run, once; a practice a curator has described is kept."""
    fields = Practice.PREREQUISITES
    path = next(f for f in content_files() if f.name == "more-practices-2a.json")
    data = json.loads(path.read_text("utf-8"))
    described = [r for r in data["practices"] if any(r.get(f) for f in fields)]
    assert len(described) >= 2
    older = json.loads(path.read_text("utf-8"))
    for record in older["practices"]:
        for field in fields:
            record.pop(field, None)
        record["uncertain_fields"] = [
            f for f in record["uncertain_fields"] if f not in fields
        ]
        if any(r["slug"] == record["slug"] for r in described[1:]):
            # The sources its prerequisites added come later too.
            record["sources"] = record["sources"][:1]
    places = [CONTENT_DIR / "taxonomies.json", CONTENT_DIR / "nuts-2021.csv"]
    load_catalogue([*places, write(tmp_path, path.name, older)])
    curated, *others = described
    Practice.objects.filter(slug=curated["slug"]).update(staff="Curated staff")

    assert load_catalogue([*places, path])["transfer prerequisites"] == len(others)
    for record in others:
        practice = Practice.objects.get(slug=record["slug"])
        assert {f: getattr(practice, f) for f in fields} == {
            f: record.get(f, "") for f in fields
        }
        assert set(practice.uncertain_fields) == set(record["uncertain_fields"])
        assert [s.url for s in practice.sources.all()] == [
            s["url"] for s in record["sources"]
        ]
    kept = Practice.objects.get(slug=curated["slug"])
    assert (kept.staff, kept.funding_source) == ("Curated staff", "")
    assert load_catalogue([*places, path]) == {}  # once


# --- issue 21 #3: a brief's recommendations -----------------------------------------

BRIEF_SLUG = "internationalisation-of-smes"


def brief_recommendations():
    brief = Brief.objects.get(slug=BRIEF_SLUG)
    return {
        r.anchor: (
            r.number,
            r.text,
            [link.practice.slug for link in r.illustrations.all()],
        )
        for r in brief.recommendations.prefetch_related("illustrations__practice")
    }


def test_recommendations_reach_a_database_loaded_before_them(tmp_path, db):
    """A database loaded before the files had recommendations gets them, with
    their practices, at the next run; and a recommendation whose practices come
    from a file not loaded yet waits for it."""
    files = catalogue_files()
    # (Without the evidence of practices that are not loaded yet.)
    featured_only = [
        f for f in files if "more-practices" not in f.name and f.name != "evidence.json"
    ]
    data = json.loads(
        next(f for f in files if f.name.startswith("brief-")).read_text("utf-8")
    )
    entries = data["briefs"][0].pop("recommendations")
    older = write(tmp_path, "brief-internationalisation-of-smes.json", data)
    load_catalogue([older if f.name.startswith("brief-") else f for f in featured_only])
    assert brief_recommendations() == {}

    # Now with them, but still without more-practices.json.
    first = load_catalogue(featured_only)
    loaded = set(Practice.objects.values_list("slug", flat=True))
    waiting = [
        entry
        for entry in entries
        if not {link["practice"] for link in entry["practices"]} <= loaded
    ]
    assert waiting  # some rest on practices of more-practices.json
    assert first.get("recommendations", 0) == len(entries) - len(waiting)

    Practice.objects.filter(slug="export-consortia").update(title="Curated title")
    assert load_catalogue(files)["recommendations"] == len(waiting)
    assert brief_recommendations() == {
        entry["anchor"]: (
            entry["number"],
            entry["text"],
            [link["practice"] for link in entry["practices"]],
        )
        for entry in entries
    }
    assert load_catalogue(files) == {}  # idempotent
    assert Practice.objects.get(slug="export-consortia").title == "Curated title"


def test_curators_edits_to_recommendations_are_kept(catalogue):
    brief = Brief.objects.get(slug=BRIEF_SLUG)
    first = brief.recommendations.get(number=1)
    first.text = "A curator's wording."
    first.save()
    first.illustrations.first().delete()  # a practice a curator took off
    # A curator's own recommendation took number 2: the file's is not added
    # back beside it.
    brief.recommendations.filter(number=2).delete()
    brief.recommendations.create(number=2, anchor="curators-own", text="Ours.")
    before = brief_recommendations()

    assert load_catalogue() == {}

    assert brief_recommendations() == before
    assert brief.recommendations.get(number=1).text == "A curator's wording."


def test_content_breaking_a_database_constraint_is_reported(tmp_path, db):
    path = write(
        tmp_path,
        "years.json",
        {
            "practices": [
                {
                    "slug": "x",
                    "title": "X",
                    "summary": "S",
                    "attribution": "A",
                    "start_year": 2020,
                    "end_year": 2010,
                }
            ]
        },
    )
    with pytest.raises(ContentError, match="slug 'x'.*end_year 2010 is before"):
        load_catalogue([path])
    assert not Practice.objects.exists()


# --- issue 15: the records the review found wrong, pinned against the research
# (shared/data/featured-practices.json and more-practices.json, with their notes)


def practice(slug):
    return Practice.objects.get(slug=slug)


def test_the_emilia_romagna_call_names_its_project_unconfirmed(catalogue):
    call = practice("call-for-non-exporting-and-non-regularly-exporting-businesses")
    # Research: project "EIS or COMPETE IN (unconfirmed)".
    assert call.project.slug == "eis" and "project" in call.uncertain_fields
    assert "COMPETE IN" in call.description
    urls = " ".join(call.sources.values_list("url", flat=True))
    assert "progetti-europei/eis" in urls and "progetto-compete-in" in urls
    for flagged in ("level", "start_year", "end_year"):
        assert flagged in call.uncertain_fields


@pytest.mark.parametrize(
    ("slug", "evidence", "not_in_description"),
    [
        (
            "incentive-to-the-internationalisation-of-smes-individual-projects",
            ["CRESC Algarve 2020", "Faro, 30-31 May 2018", "could not be read"],
            "study visit to Faro",
        ),
        (
            "the-wakefield-first-bondholder-scheme",
            ["(Wakefield, June 2017)", "Leeds Beckett University (May 2018)"],
            "COMPETE IN partners visited",
        ),
        (
            "kent-international-business",
            ["January 2014", "2010/11"],
            "committee minutes",
        ),
        ("xport-accelerator", ["within 3 days", "Within 15 days"], "within 3 days"),
    ],
)
def test_evidence_is_back_in_evidence_and_unconfirmed(
    catalogue, slug, evidence, not_in_description
):
    record = practice(slug)
    for item in evidence:
        assert item in record.evidence
    assert "evidence" in record.uncertain_fields  # as the research flags it
    assert not_in_description not in record.description


def test_places_and_projects_follow_the_research(catalogue):
    motors = practice("4-motors-for-europe-business-passport")
    assert [c.code for c in motors.countries.all()] == ["DE"]  # partners: in text
    assert [r.code for r in motors.regions.all()] == ["DE1"]
    assert "Lombardy" in motors.description
    expedire = practice("expedire-economic-bridge-between-slovenia-and-austria")
    assert expedire.project.slug == "interreg-slovenia-austria"
    assert expedire.project.name != expedire.title


def test_source_titles_are_plain(catalogue):
    titles = " ".join(PracticeSource.objects.values_list("title", flat=True).order_by())
    assert "seed" not in titles.lower()


def test_the_brief_groups_kent_with_grants_and_marks_our_own_words(catalogue):
    brief = Brief.objects.get(slug="internationalisation-of-smes")
    kent = brief.featured.get(practice__slug="kent-international-business")
    assert kent.section.anchor == "grants-and-co-financing"
    sections = {s.anchor: s.body for s in brief.sections.all()}
    assert "Kent International Business" in sections["grants-and-co-financing"]
    assert "Kent" not in sections["integrated-programmes-and-place-promotion"]
    assert not any(".:" in body for body in sections.values())
    last = sections["digitalisation-and-covid-19"].rsplit("\n\n", 1)[-1]
    assert last.startswith("*Practice Atlas's own remark, not the brief's:*")
    assert brief.source_published_on is None  # the original's date is unknown


def test_only_sources_that_say_so_make_a_practice_ongoing(catalogue):
    """No source in the research says a practice still runs; a start year alone
    is not enough. Ongoing: the end years still to come (2026 in the research)."""
    this_year = timezone.localdate().year
    periods = dict(Practice.objects.with_period().values_list("slug", "period"))
    ongoing = {slug for slug, period in periods.items() if period == Period.ONGOING}
    assert ongoing == set(
        Practice.objects.filter(end_year__gte=this_year).values_list("slug", flat=True)
    )
    assert not Practice.objects.filter(still_running=True).exists()
    started_only = Practice.objects.filter(
        start_year__isnull=False, end_year__isnull=True
    )
    shipped = read_content(content_files())["practices"].values()
    assert started_only.count() == sum(
        1 for p in shipped if p.get("start_year") and not p.get("end_year")
    )
    assert {periods[p.slug] for p in started_only} == {Period.UNKNOWN}


def test_a_loaded_catalogue_has_planner_statistics(catalogue):
    """PostgreSQL plans a list with every filter in milliseconds only with
    statistics; a new database has none until autovacuum comes by."""
    from django.db import connection

    from practices.models import FacetValue

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s",
                [FacetValue._meta.db_table],
            )
            assert cursor.fetchone()[0] > 0
    assert FacetValue.objects.exists()


# --- issue 22 #2: GO4EXPORT, described from a programme that may be it --------------

GO4EXPORT = "go4export-interactive-development"


def catalogue_notes():
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in content_files()[0].parent.glob("*.md")
    )


def filled_facts(record):
    """The facts (named as in Practice.UNCERTAIN_FIELDS) that a record fills."""
    values = {**record, "places": record.get("countries") or record.get("regions")}
    return {name for name in Practice.UNCERTAIN_FIELDS if values.get(name)}


def test_go4export_s_facts_are_unconfirmed_unless_its_identification_is_and_noted():
    """Its facts are those of the Province of Overijssel's GO4EXPORT programme,
    which no source ties to the brief's practice: until a note line records the
    source that does (`slug | identification | URL | "quote"`), each filled fact
    is flagged uncertain, the summary says so, no project is named and the grade
    and figures are unconfirmed. Confirmed or not, each fact, theme, instrument,
    grade and figure has its note line, citing one of the record's sources."""
    content = read_content(content_files())
    record, grade = content["practices"][GO4EXPORT], content["evidence"][GO4EXPORT]
    notes = catalogue_notes()
    filled = filled_facts(record)
    assert {"summary", "description", "places", "evidence"} <= filled

    if not re.search(rf"^{GO4EXPORT} \| identification \| ", notes, re.M):
        assert filled <= set(record["uncertain_fields"])
        assert "not confirmed" in record["summary"]
        assert "not confirmed" in record["description"]
        assert not record.get("project")
        assert grade["unconfirmed"] and "not confirmed" in grade["basis"]
        assert all(figure["unconfirmed"] for figure in grade["figures"])

    lines = re.findall(rf"^{GO4EXPORT} \| (.+?) \| (\S+) \| \"(.+)\"$", notes, re.M)
    labels = [label for label, _url, _quote in lines]
    expected = [
        *filled,
        *(f"themes {slug}" for slug in record["themes"]),
        *(f"instruments {slug}" for slug in record["instruments"]),
        f"evidence level {grade['level']}",
        *(f"figure {figure['metric']}" for figure in grade["figures"]),
    ]
    for label in expected:
        assert any(re.match(rf"{label}( |$)", found) for found in labels), label
    sources = {source["url"] for source in record["sources"]}
    assert BRIEF_URL in sources  # the brief that names it stays a source
    for label, url, quote in lines:
        assert url in sources, (label, url)
        assert len(quote.split()) <= 20, label


BRIEF_URL = (
    "https://www.interregeurope.eu/find-policy-solutions/policy-briefs/"
    "internationalisation-of-smes"
)


def test_go4export_is_shown_in_overijssel_with_its_facts_marked(catalogue):
    go4export = practice(GO4EXPORT)
    assert [r.code for r in go4export.regions.all()] == ["NL21"]
    assert [c.code for c in go4export.countries.all()] == ["NL"]
    assert go4export.publication_gaps() == []
    assert go4export.grade.level == 1 and go4export.grade.unconfirmed
    assert {"places", "evidence", "summary"} <= set(go4export.uncertain_fields)
