"""The real brief, as `make run` loads it, reads finished (issue 20, part 4): no
editorial note inside its sections, every featured practice it names is a link,
and every featured practice's page leads back to its section."""

import re

import pytest

from briefs.models import Brief
from tests.briefs.test_reading import breadcrumbs, featured_in, links, part, sections

# What an editor's note to self sounds like; none of it belongs in the text.
EDITORIAL = re.compile(
    r"could not be (confirmed|read|found)|not (be )?confirmed|unconfirmed"
    r"|not among the sources|not restated|no description|was found"
    r"|not placed in any group|place unconfirmed",
    re.I,
)


# The sections that name no featured practice.
UNNAMED = {"why-it-matters", "lessons-learnt", "sources"}


@pytest.fixture
def brief(catalogue):
    return Brief.objects.get(slug="internationalisation-of-smes")


@pytest.fixture
def brief_page(client, brief):
    return client.get(brief.get_absolute_url()).text


def test_no_editorial_note_inside_the_brief_s_sections(brief_page, brief):
    for anchor, html in sections(brief_page).items():
        assert not EDITORIAL.search(html), (anchor, EDITORIAL.search(html).group())
    for feature in brief.featured.all():
        assert not EDITORIAL.search(feature.note), feature


def test_the_gaps_are_kept_in_one_note(brief_page):
    note = part(
        r'<section[^>]*aria-labelledby="not-confirmed">.*?</section>', brief_page
    )
    # What the sections used to say about their gaps, each said here instead.
    for gap in (
        "20 May 2021",  # the original's date
        "Lessons learnt",  # its own list of lessons
        "GO4EXPORT - Interactive development",  # its identification unconfirmed
        "Export Development Program",
        "SME INSTRUMENT DONOSTIA INN",
        "Kent International Business",
        "Profitnet",
    ):
        assert gap in note, gap


def test_every_featured_practice_is_linked_from_its_section(brief_page, brief):
    text = sections(brief_page)
    for feature in brief.featured.select_related("practice", "section"):
        if feature.section:
            url = feature.practice.get_absolute_url()
            assert url in dict(links(text[feature.section.anchor])), feature


def test_every_practice_named_in_the_text_is_a_link(brief_page, brief):
    names = [f.practice.title.rstrip(".") for f in brief.featured.all()]
    for anchor, html in sections(brief_page).items():
        linked = {text for _href, text in links(html)}
        plain = re.sub(r"<a [^>]*>.*?</a>", "", html)  # the text outside links
        for name in names:
            if name in plain:  # a second mention may stay plain, not the first
                assert name in linked, (anchor, name)
        assert any(name in html for name in names) or anchor in UNNAMED, anchor


def test_every_featured_practice_leads_back_to_its_section(client, brief):
    anchors = set(
        re.findall(r'<h2 id="([^"]+)"', client.get(brief.get_absolute_url()).text)
    )
    for feature in brief.featured.select_related("practice", "section"):
        text = client.get(feature.practice.get_absolute_url()).text
        anchor = feature.section.anchor if feature.section else "featured-practices"
        assert anchor in anchors
        target = f"{brief.get_absolute_url()}#{anchor}"
        assert target in dict(links(featured_in(text))), feature
        assert target in dict(links(breadcrumbs(text))), feature


def test_the_brief_says_its_date_is_not_recorded(brief_page, brief):
    assert brief.source_published_on is None  # no source gives it
    header = part(r'<header class="page-header">.*?</header>', brief_page)
    assert "date not recorded" in header
