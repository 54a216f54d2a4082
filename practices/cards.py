"""What a practice card shows besides the practice's own columns: the names of its
countries, regions, themes and instrument types, read for a whole page of cards in
one query (four prefetches cost four round trips and a related manager per card)."""

from dataclasses import dataclass, field

from django.db.models import CharField, F, Value

from .models import Practice

RELATIONS = [
    ("countries", "country__name"),
    ("regions", "region__name"),
    ("themes", "theme__name"),
    ("instruments", "instrumenttype__name"),
]


@dataclass
class CardTerms:
    countries: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    themes: list = field(default_factory=list)
    instruments: list = field(default_factory=list)


def attach_card_terms(practices):
    """Set `practice.terms` (CardTerms, names sorted) on each practice; return them."""
    practices = list(practices)
    by_pk = {practice.pk: practice for practice in practices}
    for practice in practices:
        practice.terms = CardTerms()
    if not by_pk:
        return practices
    parts = [
        getattr(Practice, relation)
        .through.objects.filter(practice_id__in=by_pk)
        .annotate(kind=Value(relation, output_field=CharField()), label=F(name))
        .values_list("practice_id", "kind", "label")
        .order_by()
        for relation, name in RELATIONS
    ]
    for pk, kind, label in parts[0].union(*parts[1:], all=True):
        getattr(by_pk[pk].terms, kind).append(label)
    for practice in practices:
        for relation, _name in RELATIONS:
            getattr(practice.terms, relation).sort()
    return practices
