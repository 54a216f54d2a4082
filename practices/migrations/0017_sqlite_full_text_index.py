"""SQLite's full-text index of practices (practices/search.py): an FTS5 table of
each practice's folded title, summary and search_text, keyed by its id and written
by refresh_search_index. PostgreSQL searches its tsvector (0002) instead.
"""

from django.db import OperationalError, migrations

from practices.search import fold

TABLE = "practices_practice_fts"


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    try:
        # prefix='1': a one-letter word (an initial) would otherwise have to merge
        # the lists of every indexed word that starts with that letter.
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
            "title, summary, search_text, prefix='1')"
        )
    except OperationalError as error:  # "no such module: fts5"
        raise RuntimeError(
            f"The catalogue's search needs SQLite's FTS5, which this Python's "
            f"sqlite3 lacks ({error}): use a Python built with it (Debian's and "
            f"python.org's are), or PostgreSQL through DATABASE_URL."
        ) from error
    # Index the practices already there, from their stored search_text.
    Practice = apps.get_model("practices", "Practice")
    practices = Practice.objects.using(connection.alias).values_list(
        "pk", "title", "summary", "search_text"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (rowid, title, summary, search_text)"
            " VALUES (%s, %s, %s, %s)",
            [
                (pk, fold(title), fold(summary), text)
                for pk, title, summary, text in practices
            ],
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("practices", "0016_facet_values"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
