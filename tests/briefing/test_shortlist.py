"""A reader's shortlist (briefing/shortlist.py): up to 30 practices with notes, kept
in a signed cookie, shared as a link, taken to a comparison or a briefing pack."""

import pytest
from django.core import signing

from briefing import shortlist
from tests.factories import make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def desks():
    return [make_practice(title=f"Desk {n}", slug=f"desk-{n}") for n in range(3)]


def add(client, slug, note="", **headers):
    return client.post("/shortlist/add/", {"slug": slug, "note": note}, headers=headers)


def test_a_practice_added_with_a_note_is_on_the_shortlist(client, desks):
    response = add(client, "desk-0", "Ask the region  about\nstaff")
    assert response.status_code == 302
    page = client.get("/shortlist/")
    assert page.status_code == 200 and "no-cache" in page["Cache-Control"]
    assert "Desk 0" in page.text and "Ask the region about staff" in page.text
    assert 'href="/briefing/?list=' in page.text
    assert 'href="/briefing.pdf?list=' in page.text


def test_notes_change_practices_leave_and_the_list_survives_a_new_client(client, desks):
    for desk in desks:
        add(client, desk.slug)
    client.post("/shortlist/note/", {"slug": "desk-1", "note": "Budget too big"})
    client.post("/shortlist/remove/", {"slug": "desk-0"})
    token = client.cookies[shortlist.COOKIE].value
    assert [(i.slug, i.note) for i in shortlist.loads(token)] == [
        ("desk-1", "Budget too big"),
        ("desk-2", ""),
    ]
    # A browser (or server) restart: the cookie is all there is.
    other = type(client)()
    other.cookies[shortlist.COOKIE] = token
    assert "Budget too big" in other.get("/shortlist/").text
    client.post("/shortlist/clear/")
    assert "Your shortlist is empty" in client.get("/shortlist/").text


def test_a_shared_link_shows_the_list_and_can_be_kept(client, desks):
    token = shortlist.dumps([shortlist.Item("desk-2", "See the evaluation")])
    page = client.get("/shortlist/", {"list": token})
    assert "A shared shortlist" in page.text and "See the evaluation" in page.text
    client.post("/shortlist/keep/", {"list": token})
    assert "See the evaluation" in client.get("/shortlist/").text


def test_the_shortlist_compares_two_to_four_of_its_practices(client, desks):
    for desk in desks:
        add(client, desk.slug)
    page = client.get("/shortlist/").text
    assert 'action="/practices/compare/"' in page
    assert page.count('form="compare-picked" name="p"') == 3
    compared = client.get("/practices/compare/", {"p": ["desk-0", "desk-2"]})
    assert compared.status_code == 200


def test_the_pack_of_a_shortlist_carries_the_notes_in_its_order(client, desks):
    items = [shortlist.Item("desk-2", "First to discuss"), shortlist.Item("desk-0")]
    response = client.get("/briefing/", {"list": shortlist.dumps(items)})
    text = response.text
    assert "a shortlist of 2 practices" in text
    first, second = text.index('id="practice-1"'), text.index('id="practice-2"')
    assert "1. Desk 2" in text[first:second] and "2. Desk 0" in text[second:]
    assert first < text.index("First to discuss") < second


def test_at_most_30_practices_and_200_characters_a_note(client, db):
    items = [shortlist.Item(f"desk-{n}") for n in range(shortlist.MAX_ITEMS)]
    client.cookies[shortlist.COOKIE] = shortlist.dumps(items)
    make_practice(slug="one-more")
    response = add(client, "one-more")
    assert response.status_code == 400
    assert "already holds 30 practices" in response.text
    make_practice(slug="desk-0")
    client.cookies[shortlist.COOKIE] = shortlist.dumps(items[:1])
    response = client.post("/shortlist/note/", {"slug": "desk-0", "note": "x" * 201})
    assert response.status_code == 400 and "at most 200 characters" in response.text
    assert client.cookies[shortlist.COOKIE].value == shortlist.dumps(items[:1])


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        signing.dumps([["desk-0", "note"]], salt="another.salt"),
        signing.dumps({"not": "a list"}, salt=shortlist.SALT),
        signing.dumps([["../x", ""]], salt=shortlist.SALT),
        "x" * (shortlist.MAX_TOKEN + 1),
    ],
    ids=["forged", "another-salt", "not-a-list", "not-a-slug", "too-long"],
)
def test_a_forged_or_damaged_link_is_a_400_that_says_why(client, desks, token):
    response = client.get("/shortlist/", {"list": token})
    assert response.status_code == 400
    assert "shortlist link" in response.text
    assert client.post("/shortlist/keep/", {"list": token}).status_code == 400
    assert client.get("/briefing/", {"list": token}).status_code == 400


def test_a_damaged_cookie_reads_as_an_empty_shortlist(client, desks):
    client.cookies[shortlist.COOKIE] = "damaged"
    assert "Your shortlist is empty" in client.get("/shortlist/").text
    assert add(client, "desk-0").status_code == 302


@pytest.mark.parametrize("slug", ["nowhere", "../etc", ""])
def test_only_published_practices_can_be_added(client, db, slug):
    make_practice(slug="draft", status="draft")
    for asked in (slug, "draft"):
        response = add(client, asked)
        assert response.status_code == 400
        assert "not published or does not exist" in response.text


def test_changes_from_another_site_are_refused(client, desks):
    response = add(client, "desk-0", Origin="https://elsewhere.example")
    assert response.status_code == 403
    assert shortlist.COOKIE not in client.cookies


def test_the_practice_page_offers_the_shortlist_and_stays_cacheable(client, desks):
    response = client.get("/practices/desk-0/")
    assert 'action="/shortlist/add/"' in response.text
    assert "csrfmiddlewaretoken" not in response.text
    assert "private" not in response.get("Cache-Control", "")


def test_a_practice_no_longer_published_is_left_out_of_a_shared_list(client, desks):
    hidden = make_practice(title="Withdrawn desk", slug="withdrawn", status="draft")
    token = shortlist.dumps([shortlist.Item(hidden.slug), shortlist.Item("desk-0")])
    page = client.get("/shortlist/", {"list": token}).text
    assert "Desk 0" in page and "Withdrawn desk" not in page
    assert "no longer published and left out" in page
    pack = client.get("/briefing/", {"list": token}).text
    assert "Withdrawn desk" not in pack and "1. Desk 0" in pack
