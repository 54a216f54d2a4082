"""Full-text search over practices.

Every practice keeps a derived index, rebuilt by `refresh_search_index` whenever the
practice or a name it points at changes, once per transaction as it commits (see
practices/signals.py):
- `search_text`: all searchable text, accent-folded and lower-cased. SQLite searches
  it (every word must appear somewhere); it also feeds the result snippets.
- `search_vector` (PostgreSQL): a weighted tsvector (English stemming) over the same
  accent-folded fields, GIN-indexed, queried with web-search syntax ("phrases",
  `or`, `-exclusion`) and ranked with ts_rank.
"""

import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Practice

CONFIG = "english"

# (field, tsvector weight), in the order snippets prefer.
FIELDS = [
    ("title", "A"),
    ("summary", "B"),
    ("description", "C"),
    ("evidence", "C"),
    ("transfer", "C"),
    ("resources", "D"),
    ("institution", "B"),
    ("city", "B"),
]
# Names of related records, gathered per practice: (relation, weight).
RELATED = [
    ("countries__name", "B"),
    ("regions__name", "B"),
    ("themes__name", "B"),
    ("instruments__name", "B"),
    ("project__acronym", "B"),
]


def _label(name):
    """The label a snippet shows: the field's, but "Place" for all three places."""
    if name in ("city", "countries", "regions"):
        return "Place"
    return Practice.field_label(name)


def fold(text):
    """Lower-case and strip accents: 'Económica' -> 'economica'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _related_names(model, ids, using):
    names = {pk: {} for pk in ids}
    for relation, _weight in RELATED:
        rows = (
            model.objects.using(using)
            .filter(pk__in=ids)
            .exclude(**{f"{relation}__isnull": True})
            .values_list("pk", relation)
        )
        for pk, name in rows:
            names[pk].setdefault(relation, []).append(name)
    return names


def refresh_search_index(ids, model=Practice, using="default"):
    """Rebuild the search index of these practices (ids may be any iterable)."""
    ids = list(ids)
    on_postgres = connections[using].vendor == "postgresql"
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        related = _related_names(model, batch, using)
        rows = model.objects.using(using).filter(pk__in=batch)
        for row in rows.values("pk", *(name for name, _weight in FIELDS)):
            parts = [(fold(row[name]), weight) for name, weight in FIELDS]
            for relation, weight in RELATED:
                text = " ".join(related[row["pk"]].get(relation, []))
                parts.append((fold(text), weight))
            values = {"search_text": "\n".join(text for text, _ in parts if text)}
            if on_postgres:
                vector = None
                for text, weight in parts:
                    part = SearchVector(Value(text), weight=weight, config=CONFIG)
                    vector = part if vector is None else vector + part
                values["search_vector"] = vector
            model.objects.using(using).filter(pk=row["pk"]).update(**values)


def parse_terms(query):
    """The words of a query for the SQLite fallback and the snippets (folded)."""
    words = re.findall(r"[\w][\w'-]*", fold(query))
    return [w for w in words if w not in {"or", "and"}]


def excluded_terms(query):
    """Words the query excludes with a leading minus ("-murcia")."""
    return set(re.findall(r"(?:^|\s)-(\w+)", fold(query)))


def search(queryset, query):
    """Filter to matches of `query` and annotate `rank` (higher is better)."""
    if connections[queryset.db].vendor == "postgresql":
        ts_query = SearchQuery(fold(query), search_type="websearch", config=CONFIG)
        return queryset.filter(search_vector=ts_query).annotate(
            rank=SearchRank(F("search_vector"), ts_query)
        )
    terms = parse_terms(query)
    excluded = excluded_terms(query)
    for term in terms:
        if term in excluded:
            queryset = queryset.exclude(search_text__contains=term)
        else:
            queryset = queryset.filter(search_text__contains=term)
    wanted = [t for t in terms if t not in excluded]
    # Simple relevance: a match in the title counts most, then the summary.
    rank = Value(0)
    for term in wanted:
        rank = rank + Case(
            When(Q(title__icontains=term), then=Value(4)),
            When(Q(summary__icontains=term), then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
    return queryset.annotate(rank=rank)


def _stem(term):
    # A crude stem so "consortium" finds "consortia" in a snippet: the word minus
    # its last few letters, never shorter than four letters.
    return term[: max(4, len(term) - 3)] if len(term) > 4 else term


def snippet(practice, query, width=28):
    """(label, highlighted HTML) of the first field where the query matched; the
    practice carries its card terms (practices.cards.attach_card_terms)."""
    stems = [_stem(t) for t in parse_terms(query) if t not in excluded_terms(query)]
    if not stems:
        return None
    pattern = re.compile("|".join(re.escape(s) for s in stems))
    fields = [(getattr(practice, name), name) for name, _ in FIELDS]
    fields += [
        (", ".join(getattr(practice.terms, name)), name)
        for name in ("countries", "regions", "themes", "instruments")
    ]
    for text, name in fields:
        if not text:
            continue
        words = text.split()
        for index, word in enumerate(words):
            if pattern.search(fold(word)):
                start = max(0, index - width // 3)
                window = words[start : start + width]
                html = " ".join(
                    f"<mark>{escape(w)}</mark>"
                    if pattern.search(fold(w))
                    else escape(w)
                    for w in window
                )
                prefix = "… " if start else ""
                suffix = " …" if start + width < len(words) else ""
                return _label(name), mark_safe(f"{prefix}{html}{suffix}")
    return None
