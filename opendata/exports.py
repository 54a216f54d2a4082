"""CSV and JSON exports of practice records, streamed: the practices are read from
the database a chunk at a time and each record is written as soon as it is read, so
memory does not grow with the number of practices exported.

Used by the public exports (views.py: the list's filters decide the practices) and
by the admin's "export selected" action (any status, for staff).
"""

import csv
import json
from functools import partial
from itertools import islice

from django.http import StreamingHttpResponse

from .discovery import absolute_uri
from .records import CSV_COLUMNS, csv_row, practice_record

CHUNK_SIZE = 500  # practices read per query (plus one query per relation)

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
}


def iter_practices(queryset, ids, chunk_size=CHUNK_SIZE):
    """The practices of `queryset` with these ids, in the order of `ids`, read
    `chunk_size` at a time with everything a record holds. Ids no longer in the
    queryset (deleted or unpublished meanwhile) are skipped."""
    ids = iter(ids)
    while chunk := list(islice(ids, chunk_size)):
        found = queryset.for_export().in_bulk(chunk)
        for pk in chunk:
            if pk in found:
                yield found[pk]
        # Prefetched relations point back at their practice: reference cycles that
        # Python's collector frees late, so memory would grow with the export.
        # Breaking them frees each chunk as soon as it is written.
        for practice in found.values():
            practice._prefetched_objects_cache = {}


class _Echo:
    """A file-like object that hands back what the csv writer writes."""

    def write(self, value):
        return value


def csv_chunks(practices, absolute_url):
    """The CSV file, a line (one record) at a time: a header row with the stable
    column names of records.CSV_COLUMNS, then one row per practice."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(CSV_COLUMNS)
    for practice in practices:
        yield writer.writerow(csv_row(practice_record(practice, absolute_url)))


def json_chunks(practices, absolute_url, metadata):
    """The JSON document {"metadata": {...}, "practices": [...]}, a record per line
    (so a file is easy to diff, and an import can name the line of a bad record)."""
    yield (
        '{"metadata": ' + json.dumps(metadata, ensure_ascii=False) + ',\n"practices": ['
    )
    separator = "\n"
    for practice in practices:
        record = practice_record(practice, absolute_url)
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def export_response(fmt, practices, request, filename, metadata=None):
    """A streamed download of `practices` (an iterable, e.g. iter_practices) as
    `fmt` ("csv" or "json"); `metadata` is the JSON file's metadata block."""
    absolute_url = partial(absolute_uri, request)  # SITE_URL when set
    if fmt == "csv":
        chunks = csv_chunks(practices, absolute_url)
    else:
        chunks = json_chunks(practices, absolute_url, metadata or {})
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in chunks), content_type=CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
