"""The `markdown` filter's one rewrite of curators' text: a list written straight
after the line that introduces it is still a list."""

import pytest

from practices.templatetags.practices_tags import markdown


@pytest.mark.parametrize(
    "text, items",
    [
        ("Three steps:\n- plan\n- visit\n- sign", ["plan", "visit", "sign"]),
        ("Two ways:\n * fairs\n * missions", ["fairs", "missions"]),
        ("Plus signs:\n+ one", ["one"]),
        ("Already apart:\n\n- a\n- b", ["a", "b"]),
        ("- first\n- second", ["first", "second"]),  # items are not introductions
        (("A long line " * 400) + "\n- item", ["item"]),
    ],
)
def test_a_list_after_its_introduction_is_a_list(text, items):
    html = str(markdown(text))
    assert html.count("<ul>") == 1
    assert [f"<li>{item}</li>" in html for item in items] == [True] * len(items)


@pytest.mark.parametrize(
    "text",
    ["A dash - in a sentence\nand more", "Spaces only below\n   \nNo list", "a-b\n-c"],
)
def test_text_without_a_list_is_left_a_paragraph(text):
    assert "<ul>" not in str(markdown(text))
