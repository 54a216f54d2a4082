"""Reading indicator values: our long-format file (fixtures/indicators/) and
Eurostat's own downloads, TSV and SDMX-CSV, so that a curator can refresh them.
Every row is checked before anything is written; a file with one bad row changes
nothing."""

import csv
import io
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction

from practices.models import Country
from practices.signals import refresh_on_commit

from .models import FLAGS, INDICATORS, NUTS_VERSIONS, IndicatorValue

DATASET_URL = "https://ec.europa.eu/eurostat/databrowser/view/{}/default/table?lang=en"
LONG_COLUMNS = [
    "nuts_code",
    "nuts_version",
    "indicator",
    "year",
    "value",
    "unit",
    "source_dataset",
    "source_url",
]
# SDMX-CSV columns that are not dimensions of the data.
SDMX_META = {"DATAFLOW", "STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION"}
SDMX_META |= {"LAST UPDATE", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS", "TIME_PERIOD"}
# A value and its flags, as Eurostat writes them: "1234.5 p", ": c" (none), "12 ".
OBSERVATION = re.compile(
    r"^\s*(?P<value>:|-?[0-9]+(?:\.[0-9]+)?)\s*(?P<flags>[a-z]*)\s*$"
)
NUTS_CODE = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")


class IndicatorFileError(ValueError):
    """A file that cannot be read as indicator values; the message says why."""


def read_long(text, name):
    """Our own file: one value a row, with its unit and source (LONG_COLUMNS)."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != LONG_COLUMNS:
        raise IndicatorFileError(
            f"{name}: the columns must be {', '.join(LONG_COLUMNS)}; "
            f"found {', '.join(reader.fieldnames or [])}"
        )
    rows = []
    for line, row in enumerate(reader, start=2):
        where = f"{name}, line {line}"
        rows.append(
            {
                "nuts_code": _code(row["nuts_code"], where),
                "nuts_version": _version(row["nuts_version"], where),
                "indicator": _indicator(row["indicator"], where),
                "year": _year(row["year"], where),
                "value": _number(row["value"], where),
                "flags": "",
                "unit": _required(row["unit"], "unit", where),
                "source_dataset": _required(row["source_dataset"], "dataset", where),
                "source_url": _required(row["source_url"], "source URL", where),
            }
        )
    return rows


def read_eurostat(text, name, indicator, where=None, dataset=None, unit=None,
                  nuts_version=2021):  # fmt: skip
    """The values of one series of a Eurostat download (TSV or SDMX-CSV): the one
    that the dimension values `where` ({"sex": "T", …}) select, as `indicator`.
    Codes that are not NUTS units (EU27_2020, extra-regio ..ZZ) are left out."""
    indicator = _indicator(indicator, name)
    if nuts_version not in NUTS_VERSIONS:
        raise IndicatorFileError(f"NUTS version {nuts_version} is not one of ours")
    first = text.split("\n", 1)[0]
    if "\t" in first:
        observations, found_dataset = _tsv(text, name), None
    elif "OBS_VALUE" in first:
        observations, found_dataset = _sdmx_csv(text, name)
    else:
        raise IndicatorFileError(
            f"{name}: not a Eurostat TSV (tab-separated, first column "
            "'…,geo\\TIME_PERIOD') or SDMX-CSV file (with an OBS_VALUE column)"
        )
    dataset = (dataset or found_dataset or "").lower()
    if not re.fullmatch(r"[a-z0-9_]+", dataset):
        raise IndicatorFileError(
            f"{name}: give the dataset code (--dataset, e.g. tgs00096): the file "
            "does not name it"
        )
    where = where or {}
    selected = {}
    varying = {}
    countries = set(Country.objects.values_list("nuts_code", flat=True))
    for dims, code, year, value, flags in observations:
        if unknown := set(where) - dims.keys():
            raise IndicatorFileError(
                f"{name}: no dimension {', '.join(sorted(unknown))} in the file "
                f"(it has {', '.join(sorted(dims))})"
            )
        if any(dims[key] != wanted for key, wanted in where.items()):
            continue
        if not _is_nuts_unit(code, countries) or value is None:
            continue
        key = (code, year)
        if key in selected and selected[key][0] != dims:
            for dim in dims:
                if dims[dim] != selected[key][0][dim]:
                    varying.setdefault(dim, set()).update(
                        {dims[dim], selected[key][0][dim]}
                    )
            continue
        selected[key] = (dims, value, flags)
    if varying:
        choices = "; ".join(
            f"{dim}: {', '.join(sorted(values))}" for dim, values in varying.items()
        )
        raise IndicatorFileError(
            f"{name} holds several series: choose one value of each of these "
            f"dimensions with --where (e.g. --where {next(iter(varying))}=…): {choices}"
        )
    if not selected:
        raise IndicatorFileError(f"{name}: no value of a NUTS unit in the file")
    if unit is None:
        fixed = ", ".join(
            f"{k}={v}" for k, v in next(iter(selected.values()))[0].items()
        )
        unit = f"{INDICATORS[indicator].unit} ({fixed})" if fixed else ""
    return [
        {
            "nuts_code": code,
            "nuts_version": nuts_version,
            "indicator": indicator,
            "year": year,
            "value": value,
            "flags": flags,
            "unit": unit or INDICATORS[indicator].unit,
            "source_dataset": dataset,
            "source_url": DATASET_URL.format(dataset),
        }
        for (code, year), (dims, value, flags) in sorted(selected.items())
    ]


def _tsv(text, name):
    """Eurostat's TSV: 'freq,unit,geo\\TIME_PERIOD', then a column a year; each
    cell a value and its flags."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0].split("\t")
    dims, _, time = header[0].partition("\\")
    dims = [dim.strip() for dim in dims.split(",")]
    if not time or "geo" not in dims:
        raise IndicatorFileError(
            f"{name}: the first column's header must name the dimensions and time, "
            "e.g. 'freq,unit,geo\\TIME_PERIOD'"
        )
    years = [_year(cell, f"{name}, line 1") for cell in header[1:]]
    for line_number, line in enumerate(lines[1:], start=2):
        where = f"{name}, line {line_number}"
        cells = line.split("\t")
        keys = [key.strip() for key in cells[0].split(",")]
        if len(keys) != len(dims) or len(cells) != len(header):
            raise IndicatorFileError(f"{where}: not as many cells as the header")
        labels = dict(zip(dims, keys, strict=True))
        code = labels.pop("geo")
        for year, cell in zip(years, cells[1:], strict=True):
            value, flags = _observation(cell, where)
            yield labels, code, year, value, flags


def _sdmx_csv(text, name):
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    if missing := {"geo", "TIME_PERIOD", "OBS_VALUE"} - set(columns):
        raise IndicatorFileError(f"{name}: no {', '.join(sorted(missing))} column")
    rows = list(reader)
    first = rows[0] if rows else {}
    flow = first.get("DATAFLOW") or first.get("STRUCTURE_ID") or ""
    # "ESTAT:TGS00096(1.0)": the dataset code between the agency and the version.
    found = re.fullmatch(r"(?:[A-Z_]+:)?([A-Za-z0-9_]+)(?:\(.*\))?", flow.strip())
    dims = [c for c in columns if c not in SDMX_META and c != "geo"]

    def observations():
        for line, row in enumerate(rows, start=2):
            where = f"{name}, line {line}"
            if None in row or None in row.values():  # cells missing or left over
                raise IndicatorFileError(f"{where}: not as many cells as the header")
            # Codes, or "code: label" when the file was saved with labels.
            labels = {dim: (row[dim] or "").split(":")[0].strip() for dim in dims}
            code = (row["geo"] or "").split(":")[0].strip()
            value, _ = _observation(row["OBS_VALUE"] or ":", where)
            flags = _flags(row.get("OBS_FLAG") or "", where)
            yield labels, code, _year(row["TIME_PERIOD"], where), value, flags

    return observations(), found[1] if found else None


def _observation(cell, where):
    if not (match := OBSERVATION.match(cell)):
        raise IndicatorFileError(f"{where}: '{cell.strip()}' is not a value")
    value = None if match["value"] == ":" else Decimal(match["value"])
    return value, _flags(match["flags"], where)


def _flags(flags, where):
    if unknown := set(flags.strip()) - FLAGS.keys():
        raise IndicatorFileError(f"{where}: unknown flag {''.join(sorted(unknown))}")
    return flags.strip()


def _is_nuts_unit(code, countries):
    """A NUTS code of a country we hold, not an aggregate (EU27_2020, EA19) nor
    an extra-regio or not-regionalised unit (FRZZ, HUXX)."""
    rest = code[2:]
    return (
        NUTS_CODE.match(code) is not None
        and code[:2] in countries
        and not (rest and set(rest) <= {"Z"})
        and not (rest and set(rest) <= {"X"})
    )


def _code(text, where):
    if not NUTS_CODE.match(text):
        raise IndicatorFileError(f"{where}: '{text}' is not a NUTS code")
    return text


def _version(text, where):
    if not text.isdigit() or int(text) not in NUTS_VERSIONS:
        raise IndicatorFileError(f"{where}: NUTS version '{text}' is not one of ours")
    return int(text)


def _indicator(text, where):
    if text not in INDICATORS:
        raise IndicatorFileError(
            f"{where}: unknown indicator '{text}' (known: {', '.join(INDICATORS)})"
        )
    return text


def _year(text, where):
    text = str(text).strip()
    if not re.fullmatch(r"(19[5-9][0-9]|20[0-9]{2}|2100)", text):
        raise IndicatorFileError(
            f"{where}: '{text}' is not a year (only annual data, e.g. 2019)"
        )
    return int(text)


def _number(text, where):
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) >= 10**14:
        raise IndicatorFileError(f"{where}: '{text}' is not a number")
    return value


def _required(text, what, where):
    if not text.strip():
        raise IndicatorFileError(f"{where}: no {what}")
    return text.strip()


FIELDS = [f for f in LONG_COLUMNS if f not in ("nuts_code", "indicator", "year")]


@transaction.atomic
def store(rows, replace):
    """Write the rows; a value already stored for the same unit, indicator and
    year is replaced (a refresh) or, with replace=False, kept as it is. Returns
    (added, replaced)."""
    keys = {(r["nuts_code"], r["indicator"], r["year"]) for r in rows}
    if len(keys) != len(rows):
        raise IndicatorFileError("the file gives some value twice")
    stored = {
        (v.nuts_code, v.indicator, v.year)
        for v in IndicatorValue.objects.filter(
            nuts_code__in={r["nuts_code"] for r in rows},
            indicator__in={r["indicator"] for r in rows},
        )
    }
    new = [
        IndicatorValue(**r)
        for r in rows
        if (r["nuts_code"], r["indicator"], r["year"]) not in stored
    ]
    IndicatorValue.objects.bulk_create(new, batch_size=500)
    old = [r for r in rows if (r["nuts_code"], r["indicator"], r["year"]) in stored]
    if replace and old:
        IndicatorValue.objects.bulk_create(
            [IndicatorValue(**r) for r in old],
            update_conflicts=True,
            unique_fields=["nuts_code", "indicator", "year"],
            update_fields=[*FIELDS, "flags"],
            batch_size=500,
        )
    if new or (replace and old):  # bulk writes send no signal
        refresh_on_commit()
    return len(new), len(old) if replace else 0
