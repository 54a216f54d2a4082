"""Full-text search over practices.

Every practice keeps a derived index, rebuilt by `refresh_search_index` once per
transaction as it commits (practices/signals.py):
- `search_text`: all searchable text, accent-folded and lower-cased;
- `search_vector` (PostgreSQL): a weighted tsvector (English stemming) of the same
  folded text, GIN-indexed, queried with web-search syntax ("phrases", `or`,
  `-exclusion`) and ranked with ts_rank;
- on SQLite, a row of the FTS5 table FTS_TABLE (migrations 0017, 0020) with the
  folded title, summary and search_text, stemmed by FTS5's `porter` tokenizer
  (English, as on PostgreSQL), where every query word, stemmed alike, must start
  a stemmed word of the practice (so "vouchers" finds "voucher" and "export"
  finds "exporters"), and "-word" excludes.
The text is folded in Python because SQLite cannot strip accents.
"""

import operator
import re
import unicodedata
from collections import defaultdict
from functools import reduce
from itertools import batched, islice

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import Case, F, Func, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Practice

CONFIG = "english"
FTS_TABLE = "practices_practice_fts"

# (field, tsvector weight), in the order snippets prefer.
FIELDS = [
    ("title", "A"),
    ("summary", "B"),
    ("description", "C"),
    ("evidence", "C"),
    ("transfer", "C"),
    ("resources", "D"),
    ("funding_source", "D"),
    ("legal_basis", "D"),
    ("staff", "D"),
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
PLACES = {"city", "countries", "regions"}  # a snippet from them is labelled "Place"
# Words of a search that count: any search costs at most this many terms, and the
# list says when later words were left out.
MAX_TERMS = 32
WORD = re.compile(r"\w[\w'-]*")


def fold(text):
    """Lower-case and strip accents: 'Económica' -> 'economica'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def refresh_search_index(ids, model=Practice, using="default", full_text=True):
    """Rebuild the search index of these practices (ids may be any iterable; those
    of deleted practices drop out). `full_text=False` leaves SQLite's FTS table
    alone, for migration 0011, which runs before 0017 creates and fills it."""
    vendor = connections[using].vendor
    for batch_ids in batched(ids, 500):
        batch = model.objects.using(using).filter(pk__in=batch_ids)
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
        full_text_rows = []
        for pk, parts in texts.items():
            parts = [(fold(text), weight) for text, weight in parts]
            values = {"search_text": "\n".join(text for text, _ in parts if text)}
            if vendor == "postgresql":
                vectors = [
                    SearchVector(Value(text), weight=weight, config=CONFIG)
                    for text, weight in parts
                ]
                values["search_vector"] = reduce(operator.add, vectors)
            model.objects.using(using).filter(pk=pk).update(**values)
            # FIELDS starts with the title and the summary, which rank higher.
            full_text_rows.append((pk, parts[0][0], parts[1][0], values["search_text"]))
        if vendor == "sqlite" and full_text:
            with connections[using].cursor() as cursor:
                placeholders = ", ".join(["%s"] * len(batch_ids))
                cursor.execute(
                    f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({placeholders})",
                    batch_ids,
                )
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, title, summary, search_text)"
                    " VALUES (%s, %s, %s, %s)",
                    full_text_rows,
                )


def rebuild_search_index(using="default"):
    """Rebuild every practice's search index and return their ids. On SQLite, rows
    of practices deleted behind Django's back (raw SQL, a restore) go too."""
    ids = list(Practice.objects.using(using).values_list("pk", flat=True))
    if connections[using].vendor == "sqlite":
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FTS_TABLE}"
                f" WHERE rowid NOT IN (SELECT id FROM {Practice._meta.db_table})"
            )
    refresh_search_index(ids, using=using)
    return ids


def cut(query):
    """The folded `query` up to its MAX_TERMS-th word, and whether later words
    were left out."""
    folded = fold(query)
    words = list(islice(WORD.finditer(folded), MAX_TERMS + 1))
    if len(words) <= MAX_TERMS:
        return folded, False
    return folded[: words[MAX_TERMS].start()], True


def query_terms(query):
    """The folded words of a query, wanted and excluded ("-murcia"), for the
    SQLite fallback and the snippets."""
    folded, _ = cut(query)
    words = dict.fromkeys(WORD.findall(folded))  # each once
    words = [w for w in words if w not in {"or", "and"}]
    minus = set(re.findall(r"(?:^|\s)-(\w+)", folded))
    return [w for w in words if w not in minus], [w for w in words if w in minus]


def search(queryset, query):
    """Filter to matches of `query` and annotate `rank` (higher is better)."""
    if connections[queryset.db].vendor == "postgresql":
        ts_query = SearchQuery(cut(query)[0], search_type="websearch", config=CONFIG)
        return queryset.filter(search_vector=ts_query).annotate(
            rank=SearchRank(F("search_vector"), ts_query)
        )
    wanted, excluded = query_terms(query)
    if not (wanted or excluded):  # no words ("😀"): no match, as on PostgreSQL
        return queryset.none().annotate(rank=Value(0))
    if excluded:
        words = " OR ".join(prefix_query(word) for word in excluded)
        queryset = queryset.exclude(pk__in=full_text_matches(words))
    if wanted:
        words = " AND ".join(prefix_query(word) for word in wanted)
        queryset = queryset.filter(pk__in=full_text_matches(words))
    # Simple relevance: a word found in the title counts most, then the summary.
    # One flat sum ("0 + CASE … + CASE …"): nesting a "+" per word overflows
    # SQLite's parser stack.
    points = [
        Case(
            When(pk__in=full_text_matches(prefix_query(word, "title")), then=4),
            When(pk__in=full_text_matches(prefix_query(word, "summary")), then=2),
            default=1,
        )
        for word in wanted
    ]
    rank = Func(Value(0), *points, template="(%(expressions)s)", arg_joiner=" + ")
    return queryset.annotate(rank=rank)


def prefix_query(word, column=None):
    """The FTS5 query for words starting with `word` (in `column`, else anywhere),
    both stemmed by the table's tokenizer. The word is quoted, so no user input
    is ever read as FTS5 syntax."""
    quoted = '"' + word.replace('"', '""') + '"*'
    return f"{column} : {quoted}" if column else quoted


def full_text_matches(fts_query):
    """The ids of the practices whose FTS row matches `fts_query` (SQLite)."""
    return RawSQL(
        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [fts_query]
    )


def stem(word):
    """A crude stem of a folded word, for matching in Python what the index
    matched: the word minus its last three letters, never shorter than four
    letters ("consortium" and "consortia": "consor")."""
    return word[: max(4, len(word) - 3)]


def snippet(practice, query, width=28):
    """(label, highlighted HTML) of the first field where the query matched, or
    None; the practice carries its card terms (practices.cards.attach_card_terms)."""
    wanted, _excluded = query_terms(query)
    if not wanted:
        return None
    stems = [stem(term) for term in wanted]
    pattern = re.compile("|".join(re.escape(stem) for stem in stems))
    fields = [(name, getattr(practice, name)) for name, _ in FIELDS]
    fields += [(name, ", ".join(names)) for name, names in vars(practice.terms).items()]
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
                label = "Place" if name in PLACES else Practice.field_label(name)
                return label, mark_safe(f"{prefix}{html}{suffix}")
    return None
