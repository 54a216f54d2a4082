"""SQLite's full-text index with English stemming: FTS5's own `porter` tokenizer
over unicode61 stems each indexed word and each query word alike, so "vouchers"
finds "voucher" and "exporters" finds "exporting", as PostgreSQL's `english`
configuration does. The table of 0017 is rebuilt with it and filled again from
each practice's stored search text.
"""

from django.db import migrations

from practices.search import fold

TABLE = "practices_practice_fts"
STEMMED = "porter unicode61 remove_diacritics 2"
UNSTEMMED = "unicode61"  # 0017's (FTS5's default)


def rebuild(tokenize):
    def operation(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        schema_editor.execute(f"DROP TABLE {TABLE}")
        # prefix='1' as in 0017: a one-letter word need not merge every word's list.
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
            f"title, summary, search_text, prefix='1', tokenize='{tokenize}')"
        )
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
                    for pk, title, summary, text in practices.iterator()
                ],
            )

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("practices", "0019_title_index"),
    ]

    operations = [
        migrations.RunPython(rebuild(STEMMED), rebuild(UNSTEMMED)),
    ]
