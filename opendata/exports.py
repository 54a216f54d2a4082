"""Streamed CSV and JSON exports of practice records, public (views.py) or the admin's
"export selected": a chunk read at a time, so memory does not grow with the export."""

import csv
import json
from functools import partial
from itertools import batched

from django.http import StreamingHttpResponse

from .discovery import absolute_uri
from .records import CSV_COLUMNS, csv_row, practice_record

CHUNK_SIZE = 500  # practices read per query (plus one query per relation)


def iter_practices(queryset, ids, chunk_size=None):
    """The practices of `queryset` with these ids, in their order, ready for export;
    ids no longer in it (deleted or unpublished meanwhile) are skipped."""
    for chunk in batched(ids, chunk_size or CHUNK_SIZE):
        found = queryset.for_export().in_bulk(chunk)
        yield from (found[pk] for pk in chunk if pk in found)
        # Prefetched relations point back at their practice: cycles Python's
        # collector frees late. Breaking them frees each chunk once written.
        for practice in found.values():
            practice._prefetched_objects_cache = {}


class _Echo:
    """A file-like object that hands back what the csv writer writes."""

    def write(self, value):
        return value


def csv_chunks(practices, absolute_url):
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(CSV_COLUMNS)
    for practice in practices:
        yield writer.writerow(csv_row(practice_record(practice, absolute_url)))


def json_chunks(practices, absolute_url, metadata):
    """{"metadata": {...}, "practices": [...]}, a record per line (so a file is
    easy to diff, and an import can name the line of a bad record)."""
    yield f'{{"metadata": {json.dumps(metadata, ensure_ascii=False)},\n"practices": ['
    separator = "\n"
    for practice in practices:
        record = practice_record(practice, absolute_url)
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def export_response(fmt, practices, request, filename, metadata=None):
    """A streamed download of `practices` as "csv" or "json" (with `metadata`)."""
    absolute_url = partial(absolute_uri, request)
    if fmt == "csv":
        chunks, media_type = csv_chunks(practices, absolute_url), "text/csv"
    else:
        chunks = json_chunks(practices, absolute_url, metadata or {})
        media_type = "application/json"
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in chunks),
        content_type=f"{media_type}; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
