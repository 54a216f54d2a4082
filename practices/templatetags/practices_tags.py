import markdown as md
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# What curators' Markdown may produce; everything else is stripped by nh3.
ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "h3",
    "h4",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


@register.filter
def markdown(text):
    """Render curator-written Markdown to sanitised HTML."""
    if not text:
        return ""
    html = md.markdown(text, output_format="html")
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
        )
    )


@register.filter
def is_uncertain(practice, field_name):
    """True when curators flagged this fact of the practice as unconfirmed."""
    return field_name in (practice.uncertain_fields or [])


@register.filter
def years(practice):
    """The practice's period in words, or "" when neither year is recorded."""
    start, end = practice.start_year, practice.end_year
    if start and end:
        return f"{start}–{end}" if start != end else str(start)
    if start:
        return f"Since {start}"
    if end:
        return f"Until {end}"
    return ""
