"""Streamed CSV and JSON exports of practice records, public (views.py) or the admin's
"export selected": a chunk read at a time, so memory does not grow with the export."""

import csv
import json
from functools import partial
from itertools import batched
from types import SimpleNamespace

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


def csv_chunks(records):
    # writerow() returns what the file's write() returns: here, the line itself.
    writer = csv.writer(SimpleNamespace(write=lambda line: line), lineterminator="\r\n")
    yield writer.writerow(CSV_COLUMNS)
    for record in records:
        yield writer.writerow(csv_row(record))


def json_chunks(records, metadata):
    """{"metadata": {...}, "practices": [...]}, a record per line (so a file is
    easy to diff, and an import can name the line of a bad record)."""
    yield f'{{"metadata": {json.dumps(metadata, ensure_ascii=False)},\n"practices": ['
    separator = "\n"
    for record in records:
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def export_response(fmt, queryset, ids, request, filename, metadata):
    """A streamed download of the practices of `queryset` with these ids (see
    iter_practices), as "csv" or "json" (with `metadata`), saved as `filename`."""
    absolute_url = partial(absolute_uri, request)
    records = (practice_record(p, absolute_url) for p in iter_practices(queryset, ids))
    if fmt == "csv":
        chunks, media_type = csv_chunks(records), "text/csv"
    else:
        chunks, media_type = json_chunks(records, metadata), "application/json"
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in chunks),
        content_type=f"{media_type}; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
