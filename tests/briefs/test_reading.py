"""A brief that reads finished (issue 20, part 4): practice names in its text link
to their pages (published ones only), each featured practice links back to the
section that discusses it, gaps sit in one note outside the sections, the brief's
date shows under its title, and links show their text, not their address."""

import re
from datetime import date

import pytest

from practices.models import Status
from tests.factories import make_brief, make_practice

pytestmark = pytest.mark.django_db


def part(pattern, text):
    """The first piece of the page matching `pattern` (the page must have it)."""
    found = re.search(pattern, text, re.S)
    assert found, pattern
    return found.group()


def sections(text):
    """{anchor: HTML} of the brief's own sections."""
    pattern = (
        r'<section class="brief-section" aria-labelledby="([^"]+)">(.*?)</section>'
    )
    return dict(re.findall(pattern, text, re.S))


def links(html):
    """[(href, text)] of the links in a piece of HTML."""
    return re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', html, re.S)


@pytest.fixture
def naming_brief(db):
    """A brief whose section names three of its practices: one as titled, one with
    other dashes and without the title's full stop, and a draft."""
    practices = [
        make_practice(title="Export Consortia", slug="export-consortia"),
        make_practice(title="Incentive to SMEs – Individual projects.", slug="incent"),
        make_practice(title="Trade & Grow", slug="trade-grow"),
        make_practice(title="Secret Voucher", slug="secret", status=Status.DRAFT),
    ]
    brief = make_brief(practices=practices)
    brief.sections.update(
        body="Firms may pool their efforts in export consortia.\n"
        "- Export Consortia (Cantabria): firms bid together; see also "
        "[Export Consortia abroad](https://example.org/ec).\n"
        "- Incentive to SMEs - Individual projects (Algarve) pays grants.\n"
        "- Trade & Grow (Malta) and Secret Voucher (nowhere yet)."
    )
    return brief


def test_practice_names_in_the_text_link_to_their_pages(client, naming_brief):
    text = client.get(naming_brief.get_absolute_url()).text
    assert links(sections(text)["why"]) == [
        ("/practices/export-consortia/", "Export Consortia"),
        ("https://example.org/ec", "Export Consortia abroad"),  # not linked twice
        ("/practices/incent/", "Incentive to SMEs - Individual projects"),
        ("/practices/trade-grow/", "Trade &amp; Grow"),  # escaped once
    ]
    # The kind of support, in lower case, is not the practice's name.
    assert "in export consortia." in sections(text)["why"]


def test_a_draft_named_in_the_text_is_never_linked(client, admin_client, naming_brief):
    for page in (naming_brief.get_absolute_url(), naming_brief.get_preview_url()):
        text = (admin_client if "preview" in page else client).get(page).text
        assert "Secret Voucher (nowhere yet)" in sections(text)["why"]
        assert "/practices/secret/" not in text


def test_gaps_are_one_headed_note_outside_the_sections(client):
    brief = make_brief(
        unconfirmed_note="- **Its date.** The original brief's page shows none."
    )
    text = client.get(brief.get_absolute_url()).text
    note = part(r'<section[^>]*aria-labelledby="not-confirmed">.*?</section>', text)
    assert '<h2 id="not-confirmed">What this summary could not confirm</h2>' in note
    assert "<strong>Its date.</strong> The original brief's page shows none." in note
    assert "shows none" not in "".join(sections(text).values())
    assert ("#not-confirmed", "What this summary could not confirm") in links(
        part(r'<nav class="toc".*?</nav>', text)
    )
    # Nothing to say, no note.
    plain = client.get(make_brief().get_absolute_url()).text
    assert "could not confirm" not in plain


def test_the_brief_s_date_shows_under_its_title(client):
    dated = make_brief(source_published_on=date(2021, 6, 1))
    header = part(
        r'<header class="page-header">.*?</header>',
        client.get(dated.get_absolute_url()).text,
    )
    assert '<time datetime="2021-06-01">1 June 2021</time>' in header
    undated = make_brief(published_on=date(2026, 11, 26))
    header = part(
        r'<header class="page-header">.*?</header>',
        client.get(undated.get_absolute_url()).text,
    )
    assert "date not recorded" in header
    assert '<time datetime="2026-11-26">26 November 2026</time>' in header  # ours


def test_links_show_their_text_not_their_address(client):
    brief = make_brief(source_url="https://example.org/the-original-brief")
    brief.sections.update(body="See [the Platform's news](https://example.org/news).")
    main = part(r"<main.*</main>", client.get(brief.get_absolute_url()).text)
    assert 'href="https://example.org/the-original-brief"' in main
    assert 'href="https://example.org/news"' in main
    visible = re.sub(r"<[^>]+>", " ", main)
    assert "example.org" not in visible


# --- from the practice back to the brief -----------------------------------------


def featured_in(text):
    return part(r'<section aria-labelledby="featured-in">.*?</section>', text)


def breadcrumbs(text):
    return part(r'<nav class="breadcrumbs" aria-label="Breadcrumb">.*?</nav>', text)


def test_a_featured_practice_links_back_to_its_section(client):
    practice = make_practice(title="Export Consortia")
    brief = make_brief(title="Going abroad", practices=[practice])
    text = client.get(practice.get_absolute_url()).text
    section = f"{brief.get_absolute_url()}#why"
    assert (section, "Going abroad: Why it matters") in links(featured_in(text))
    crumbs = breadcrumbs(text)
    assert links(crumbs) == [
        ("/", "Home"),
        ("/briefs/", "Briefs"),
        (brief.get_absolute_url(), "Going abroad"),
        (section, "Why it matters"),
    ]
    assert '<li aria-current="page">Export Consortia</li>' in crumbs


def test_a_practice_featured_outside_any_section_links_to_the_brief_s_list(client):
    practice = make_practice()
    brief = make_brief(practices=[practice])
    brief.featured.update(section=None)
    text = client.get(practice.get_absolute_url()).text
    listed = f"{brief.get_absolute_url()}#featured-practices"
    assert (listed, brief.title) in links(featured_in(text))
    assert (listed, "Featured good practices") in links(breadcrumbs(text))


def test_a_draft_brief_leads_nowhere_from_the_practice(client):
    practice = make_practice(title="Export Consortia")
    make_brief(title="Work in progress", status=Status.DRAFT, practices=[practice])
    text = client.get(practice.get_absolute_url()).text
    assert "Work in progress" not in text and "/briefs/brief-" not in text
    assert "No policy brief features this practice yet." in featured_in(text)
    assert links(breadcrumbs(text)) == [("/", "Home"), ("/practices/", "Practices")]


def test_a_title_without_words_links_nothing(client):
    odd, named = make_practice(title=" . "), make_practice(title="Export Consortia")
    brief = make_brief(practices=[odd, named])
    brief.sections.update(body="Dots . . . and Export Consortia.")
    html = sections(client.get(brief.get_absolute_url()).text)["why"]
    assert links(html) == [(named.get_absolute_url(), "Export Consortia")]
