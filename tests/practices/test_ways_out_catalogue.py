"""The searches of issue 20 on the real catalogue, on either database: the plural
finds what the singular finds, and "quantum voucher", which no practice
matches as a whole, leads to the voucher practices."""

import re
from html import unescape

import pytest

pytestmark = pytest.mark.django_db


def slugs(client, query):
    response = client.get("/practices/", query)
    assert response.status_code == 200
    return {practice.slug for practice in response.context["practices"]}


def test_vouchers_finds_the_voucher_practices(client, catalogue):
    found = slugs(client, {"q": "vouchers", "per_page": 100})
    assert found and found == slugs(client, {"q": "voucher", "per_page": 100})
    assert found >= slugs(client, {"instrument": "voucher", "per_page": 100})


def test_innovation_voucher_leads_to_the_voucher_practices(client, catalogue):
    # ("innovation voucher" was this search until three practices matched it.)
    response = client.get("/practices/", {"q": "quantum voucher"})
    assert response.status_code == 200
    links = {
        unescape(text): (unescape(href), int(count))
        for href, text, count in re.findall(
            r'<li><a href="([^"]*)">(.*?)</a> · (\d+) practices?</li>',
            response.text,
        )
    }
    voucher_search = links["Without “quantum”: search “voucher”"]
    voucher_instrument = links["Voucher (instrument type)"]
    assert voucher_search[0] == "?q=voucher"
    assert voucher_instrument[0] == "?instrument=voucher"
    for href, count in (voucher_search, voucher_instrument):
        per_page = {"per_page": 100}
        assert len(slugs(client, {**dict([href[1:].split("=")]), **per_page})) == count
