"""The real brief's recommendations, as the content files give them and as `make
run` loads them (issue 21 #3): each is labelled as Practice Atlas's synthesis,
rests on the brief's own sources with a note line for each, and is illustrated by
published catalogue practices whose pages link back to it."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from briefs.models import Brief, BriefSection, RecommendationOrigin
from practices.models import Practice
from tests.briefs.test_recommendations import items

CONTENT = Path(settings.BASE_DIR) / "fixtures" / "catalogue"
BRIEF_FILE = CONTENT / "brief-internationalisation-of-smes.json"


def entry():
    return json.loads(BRIEF_FILE.read_text(encoding="utf-8"))["briefs"][0]


RECOMMENDATIONS = entry()["recommendations"]
IDS = [r["anchor"] for r in RECOMMENDATIONS]


def practice_slugs():
    slugs = set()
    for name in ("featured-practices.json", "more-practices.json"):
        data = json.loads((CONTENT / name).read_text(encoding="utf-8"))
        slugs |= {p["slug"] for p in data["practices"]}
    return slugs


def test_five_to_eight_numbered_one_after_another_with_unique_anchors():
    assert 5 <= len(RECOMMENDATIONS) <= 8
    numbers = [r["number"] for r in RECOMMENDATIONS]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(set(IDS)) == len(IDS)
    sections = {s["anchor"] for s in entry()["sections"]}
    for anchor in IDS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", anchor)
        assert anchor not in sections | BriefSection.RESERVED_ANCHORS


@pytest.mark.parametrize("recommendation", RECOMMENDATIONS, ids=IDS)
def test_each_is_the_atlas_own_and_rests_on_the_brief_s_sources(recommendation):
    # The brief's own list could not be read: every one is ours, and says so.
    assert recommendation["origin"] == RecommendationOrigin.ATLAS
    brief = entry()
    sources = next(s for s in brief["sections"] if s["anchor"] == "sources")
    allowed = set(re.findall(r"\]\((https?://[^)]+)\)", sources["body"]))
    urls = re.findall(r"\]\((https?://[^)]+)\)", recommendation["basis"])
    fragments = re.findall(r"\]\(#([^)]+)\)", recommendation["basis"])
    assert urls and "lessons-learnt" in fragments
    # Its sources are among the brief's own ("Sources for this summary"), but for
    # EIS's page, which NOTES.md quotes for the tool the brief names.
    assert set(urls) - allowed <= {"https://www.interregeurope.eu/eis/"}
    assert set(fragments) <= {s["anchor"] for s in brief["sections"]}


@pytest.mark.parametrize("recommendation", RECOMMENDATIONS, ids=IDS)
def test_each_has_note_lines_quoting_its_sources(recommendation):
    notes = (CONTENT / "NOTES.md").read_text(encoding="utf-8")
    lines = [
        line.split(" | ", 3)
        for line in notes.split("## Issue 21 #3")[1].splitlines()
        if line.startswith(f"{recommendation['anchor']} | ")
    ]
    assert len(lines) >= 2
    for _anchor, _basis, url, quote in lines:
        assert url.startswith("http")
        assert re.fullmatch(r'"[^"]+"', quote) and len(quote.split()) <= 20
    # Every source the basis links has a quote (the INTRA document's stored copy
    # has a dot after the host).
    quoted = {url.replace("issuu.com./", "issuu.com/") for _, _, url, _ in lines}
    quoted = {url.split("?")[0] for url in quoted}
    for url in re.findall(r"\]\((https?://[^)]+)\)", recommendation["basis"]):
        assert url.split("?")[0] in quoted, url


@pytest.mark.parametrize("recommendation", RECOMMENDATIONS, ids=IDS)
def test_each_links_catalogue_practices_with_a_note(recommendation):
    slugs = [link["practice"] for link in recommendation["practices"]]
    assert slugs and len(set(slugs)) == len(slugs)
    assert set(slugs) <= practice_slugs()
    for link in recommendation["practices"]:
        assert 0 < len(link["note"]) <= 300, link


@pytest.fixture
def brief(catalogue):
    return Brief.objects.get(slug="internationalisation-of-smes")


def test_every_recommendation_loaded_links_at_least_one_published_practice(brief):
    assert list(brief.recommendations.values_list("anchor", flat=True)) == IDS
    published = Practice.objects.published()
    for recommendation in brief.recommendations.all():
        shown = recommendation.practices.filter(pk__in=published)
        assert shown.exists(), recommendation.anchor


def test_the_brief_page_lists_them_at_their_anchors_labelled_as_ours(client, brief):
    text = client.get(brief.get_absolute_url()).text
    listed = items(text)
    assert [(n, anchor) for n, anchor, _ in listed] == [
        (r["number"], r["anchor"]) for r in RECOMMENDATIONS
    ]
    for (_, _, html), recommendation in zip(listed, RECOMMENDATIONS, strict=True):
        assert "Practice Atlas&#x27;s own synthesis" in html
        for link in recommendation["practices"]:
            practice = Practice.objects.get(slug=link["practice"])
            assert f'href="{practice.get_absolute_url()}"' in html


def test_each_illustrating_practice_links_back_to_its_recommendation(client, brief):
    for recommendation in brief.recommendations.all():
        for practice in recommendation.practices.published():
            text = client.get(practice.get_absolute_url()).text
            link = (
                f'<a href="{brief.get_absolute_url()}#{recommendation.anchor}">'
                f"recommendation {recommendation.number} of {brief.title}</a>"
            )
            assert link in text, (practice.slug, recommendation.anchor)
