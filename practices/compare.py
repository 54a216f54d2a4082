"""The comparison: up to four practices a reader puts side by side, and what is
compared. The basket lives in the session; the comparison itself is a plain,
shareable URL (/practices/compare/?p=<slug>&p=<slug>), also as CSV."""

import html
from dataclasses import dataclass
from operator import attrgetter
from urllib.parse import urlencode

from django.core.validators import slug_re
from django.urls import reverse
from django.utils.html import format_html, format_html_join, strip_tags

from evidence.models import Metric, cost_per_firm, grade_of

from . import facts
from .models import Practice
from .templatetags.practices_tags import (
    NOT_RECORDED,
    fact,
    markdown,
    place_names,
    years,
)

SESSION_KEY = "compare"
MAX_ITEMS = 4


def basket(request):
    """Empty without SessionMiddleware (StoredPages answers before it)."""
    return list(getattr(request, "session", {}).get(SESSION_KEY, []))


def compare_url(slugs, name="practices:compare"):
    return reverse(name) + "?" + urlencode([("p", s) for s in slugs])


def context(request):
    """Template context processor: the basket, for the header link and buttons."""
    slugs = basket(request)
    return {
        "compare_slugs": slugs,
        "compare_link": compare_url(slugs) if slugs else "",
    }


@dataclass
class Comparison:
    """What a comparison URL (?p=<slug>&p=<slug>…) asks for: the published
    practices found, in its order (at most MAX_ITEMS); how many it asked for; the
    slugs that name no published practice."""

    practices: list
    asked: int
    unknown: list

    @classmethod
    def of(cls, query):
        slugs = list(dict.fromkeys(query.getlist("p")))  # keep order, no repeats
        asked, slugs = len(slugs), slugs[:MAX_ITEMS]
        found = (
            Practice.objects.published()
            .for_export()
            .in_bulk([s for s in slugs if slug_re.match(s)], field_name="slug")
        )
        practices = [found[s] for s in slugs if s in found]
        return cls(practices, asked, [s[:80] for s in slugs if s not in found])

    @property
    def complete(self):
        """Whether it holds everything it asked for (else the answer is a 400)."""
        return not self.unknown and self.asked <= MAX_ITEMS

    @property
    def slugs(self):
        return [practice.slug for practice in self.practices]


@dataclass(frozen=True)
class Criterion:
    """A row of the comparison: its label and a practice's value as text.
    `fact`: the fact(s) whose certainty applies (practices.facts), "" for none;
    `markdown`: the text is curators' Markdown; `links`: the value is a list of
    (text, URL), shown as links (plain text in the CSV)."""

    label: str
    value: object  # practice -> str, or [(text, url)] for links
    fact: str = ""
    markdown: bool = False
    links: bool = False
    badge: object = None  # practice -> a badge's text after the value, or ""

    def html(self, practice):
        cell = self._html(practice, self.value(practice))
        if self.badge and (badge := self.badge(practice)):
            badge = format_html('<span class="badge badge-overdue">{}</span>', badge)
            return format_html("{} {}", cell, badge)
        return cell

    def _html(self, practice, value):
        if self.markdown:
            return fact(practice, self.fact, markdown(value), block=True)
        if self.fact:
            return fact(practice, self.fact, value)
        if not value:
            return NOT_RECORDED
        if self.links:
            items = format_html_join("", '<li><a href="{1}">{0}</a></li>', value)
            return format_html("<ul>{}</ul>", items)
        return value

    def text(self, practice):
        """The value as plain text, marked as the page marks it."""
        value = self.value(practice)
        if self.links:
            value = "\n".join(f"{text} <{url}>" for text, url in value)
        elif self.markdown:
            value = html.unescape(strip_tags(markdown(value))).strip()
        sureness = facts.certainty(practice, self.fact, value)
        if sureness == facts.Certainty.NOT_RECORDED:
            value = facts.Certainty.NOT_RECORDED.label
        elif sureness == facts.Certainty.DECLARED_NONE:
            value = facts.none_published(practice)
        elif sureness == facts.Certainty.UNCONFIRMED and self.fact:
            value = f"{value} ({facts.Certainty.UNCONFIRMED.label.lower()})"
        if self.badge and (badge := self.badge(practice)):
            value = f"{value} ({badge.lower()})"
        return value


def _names(relation):
    return lambda practice: ", ".join(map(str, getattr(practice, relation).all()))


def _last_verified(practice):
    verified = practice.last_verified_on
    return f"{verified:%-d %B %Y}" if verified else ""


def _review_overdue(practice):
    return "Review overdue" if practice.is_review_overdue else ""


def _evidence_level(practice):
    grade = grade_of(practice)
    if grade is None:
        return ""
    return f"{grade.on_scale} (unconfirmed)" if grade.unconfirmed else grade.on_scale


def _figures(metric):
    """A practice's figures of one metric (evidence.OutcomeFigure.summary)."""
    return lambda practice: "; ".join(
        figure.summary for figure in practice.figures.all() if figure.metric == metric
    )


def _costs_per_firm(practice):
    return "; ".join(cost.summary for cost in cost_per_firm(practice.figures.all()))


def _field(name, **kwargs):
    """The row of a practice field, labelled as on every page, with its certainty."""
    return Criterion(Practice.field_label(name), attrgetter(name), fact=name, **kwargs)


# What the comparison compares, in this order, on the page and in the CSV. The
# decision questions first (what, where, who benefits, what it takes), then the
# evidence, the transfer advice and the sources.
CRITERIA = [
    _field("summary"),
    Criterion("Place", place_names, fact="places"),
    _field("city"),
    Criterion(Practice.field_label("level"), lambda p: p.get_level_display(), "level"),
    _field("institution"),
    Criterion("Period", years, fact="start_year,end_year"),
    Criterion("Who benefits", attrgetter("beneficiaries"), "beneficiaries"),
    _field("budget"),
    Criterion(
        Practice.field_label("budget_scale"),
        lambda practice: practice.get_budget_scale_display(),
        "budget_scale",
    ),
    _field("funding_source"),
    _field("legal_basis"),
    _field("staff"),
    _field("resources", markdown=True),
    Criterion(
        Practice.field_label("instruments"), _names("instruments"), "instruments"
    ),
    Criterion(Practice.field_label("themes"), _names("themes"), "themes"),
    Criterion(
        Practice.field_label("project"),
        lambda practice: practice.project.acronym if practice.project else "",
        "project",
    ),
    Criterion("Last verified", _last_verified, badge=_review_overdue),
    _field("evidence", markdown=True),
    Criterion("Evidence level", _evidence_level),
    Criterion("Evidence basis", lambda p: getattr(grade_of(p), "basis", "")),
    *(Criterion(label, _figures(metric)) for metric, label in Metric.choices),
    Criterion("Public cost per firm supported", _costs_per_firm),
    _field("transfer", markdown=True),
    Criterion(
        "Sources",
        lambda practice: [(s.title or s.url, s.url) for s in practice.sources.all()],
        links=True,
    ),
    Criterion("Attribution", attrgetter("attribution")),
]
