"""What a practice card shows besides the practice's own columns: the names of its
countries, regions, themes and instrument types, read for a whole page of cards in
one query (four prefetches cost four round trips and a related manager per card)."""

from types import SimpleNamespace

from django.db.models import F, Value

from .models import Practice, region_label

RELATIONS = [
    ("countries", "country__name"),
    ("regions", region_label("region__")),
    ("themes", "theme__name"),
    ("instruments", "instrumenttype__name"),
]


def attach_card_terms(practices):
    """Set `practice.terms` (.countries, .regions, .themes, .instruments: sorted
    names) on each practice, and `practice.match` (what a search matched, which
    the list sets) to None; return them."""
    practices = list(practices)
    by_pk = {practice.pk: practice for practice in practices}
    for practice in practices:
        practice.terms = SimpleNamespace(**{relation: [] for relation, _ in RELATIONS})
        # Set, so the card's {% if practice.match %} finds it: a missing attribute
        # costs the template engine a dir() of the model instance.
        practice.match = None
    if not by_pk:
        return practices
    parts = [
        getattr(Practice, relation)
        .through.objects.filter(practice_id__in=by_pk)
        .annotate(
            kind=Value(relation), label=F(name) if isinstance(name, str) else name
        )
        .values_list("practice_id", "kind", "label")
        .order_by()
        for relation, name in RELATIONS
    ]
    rows = parts[0].union(*parts[1:], all=True)
    for pk, kind, label in sorted(rows, key=lambda row: row[2]):  # names in order
        getattr(by_pk[pk].terms, kind).append(label)
    return practices
