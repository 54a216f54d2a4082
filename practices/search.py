"""Full-text search over practices.

Every practice keeps a derived index, rebuilt by `refresh_search_index` once per
transaction as it commits (practices/signals.py):
- `search_text`: all searchable text, accent-folded and lower-cased, which SQLite
  searches (every word must appear somewhere);
- `search_vector` (PostgreSQL): a weighted tsvector (English stemming) of the same
  folded text, GIN-indexed, queried with web-search syntax ("phrases", `or`,
  `-exclusion`) and ranked with ts_rank.
The text is folded in Python because SQLite cannot strip accents.
"""

import operator
import re
import unicodedata
from collections import defaultdict
from functools import reduce

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


def fold(text):
    """Lower-case and strip accents: 'Económica' -> 'economica'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def refresh_search_index(ids, model=Practice, using="default"):
    """Rebuild the search index of these practices (ids may be any iterable)."""
    ids = list(ids)
    on_postgres = connections[using].vendor == "postgresql"
    for start in range(0, len(ids), 500):
        batch = model.objects.using(using).filter(pk__in=ids[start : start + 500])
        texts = {
            row["pk"]: [(row[name], weight) for name, weight in FIELDS]
            for row in batch.values("pk", *(name for name, _ in FIELDS))
        }
        for relation, weight in RELATED:
            names = defaultdict(list)
            linked = batch.exclude(**{f"{relation}__isnull": True})
            for pk, name in linked.values_list("pk", relation):
                names[pk].append(name)
            for pk, parts in texts.items():
                parts.append((" ".join(names[pk]), weight))
        for pk, parts in texts.items():
            parts = [(fold(text), weight) for text, weight in parts]
            values = {"search_text": "\n".join(text for text, _ in parts if text)}
            if on_postgres:
                vectors = [
                    SearchVector(Value(text), weight=weight, config=CONFIG)
                    for text, weight in parts
                ]
                values["search_vector"] = reduce(operator.add, vectors)
            model.objects.using(using).filter(pk=pk).update(**values)


def query_terms(query):
    """The folded words of a query, wanted and excluded ("-murcia"), for the
    SQLite fallback and the snippets."""
    folded = fold(query)
    words = [w for w in re.findall(r"\w[\w'-]*", folded) if w not in {"or", "and"}]
    minus = set(re.findall(r"(?:^|\s)-(\w+)", folded))
    return [w for w in words if w not in minus], [w for w in words if w in minus]


def search(queryset, query):
    """Filter to matches of `query` and annotate `rank` (higher is better)."""
    if connections[queryset.db].vendor == "postgresql":
        ts_query = SearchQuery(fold(query), search_type="websearch", config=CONFIG)
        return queryset.filter(search_vector=ts_query).annotate(
            rank=SearchRank(F("search_vector"), ts_query)
        )
    wanted, excluded = query_terms(query)
    for term in excluded:
        queryset = queryset.exclude(search_text__contains=term)
    # Simple relevance: a match in the title counts most, then the summary.
    rank = Value(0)
    for term in wanted:
        queryset = queryset.filter(search_text__contains=term)
        rank = rank + Case(
            When(Q(title__icontains=term), then=Value(4)),
            When(Q(summary__icontains=term), then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
    return queryset.annotate(rank=rank)


def snippet(practice, query, width=28):
    """(label, highlighted HTML) of the first field where the query matched, or
    None; the practice carries its card terms (practices.cards.attach_card_terms)."""
    wanted, _excluded = query_terms(query)
    if not wanted:
        return None
    # A crude stem so "consortium" finds "consortia": the word minus its last
    # three letters, never shorter than four letters.
    stems = [term[: max(4, len(term) - 3)] for term in wanted]
    pattern = re.compile("|".join(re.escape(stem) for stem in stems))
    fields = [(name, getattr(practice, name)) for name, _ in FIELDS]
    fields += [
        (name, ", ".join(getattr(practice.terms, name)))
        for name in ("countries", "regions", "themes", "instruments")
    ]
    for name, text in fields:
        words = (text or "").split()
        for index, word in enumerate(words):
            if pattern.search(fold(word)):
                start = max(0, index - width // 3)
                html = " ".join(
                    f"<mark>{escape(w)}</mark>"
                    if pattern.search(fold(w))
                    else escape(w)
                    for w in words[start : start + width]
                )
                prefix = "… " if start else ""
                suffix = " …" if start + width < len(words) else ""
                label = (
                    "Place"
                    if name in ("city", "countries", "regions")
                    else Practice.field_label(name)
                )
                return label, mark_safe(f"{prefix}{html}{suffix}")
    return None
