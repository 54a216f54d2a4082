"""Regional figures: our file loads exactly as written, and Eurostat's own
downloads (TSV, SDMX-CSV) import exactly as written; a file that cannot be read
says why and changes nothing."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.models import IndicatorValue
from tests.factories import make_country

pytestmark = pytest.mark.django_db

FILE = Path(settings.BASE_DIR) / "fixtures" / "indicators" / "regional-indicators.csv"

TSV = (
    "freq,unit,sex,geo\\TIME_PERIOD\t2018 \t2019 \n"
    "A,PC,T,AT11\t5.1 \t4.8 p\n"
    "A,PC,T,DE92\t:  \t3.5 \n"
    "A,PC,T,DEZZ\t1.0 \t1.0 \n"
    "A,PC,T,EU27_2020\t6.6 \t6.3 \n"
    "A,PC,F,AT11\t5.5 \t4.9 \n"
    "A,PC,M,AT11\t4.7 \t4.7 e\n"
)
SDMX = (
    "DATAFLOW,LAST UPDATE,freq,unit,sex,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
    "ESTAT:TGS00010(1.0),01/01/21 23:00:00,A,PC,T,AT11,2019,4.8,p\n"
    "ESTAT:TGS00010(1.0),01/01/21 23:00:00,A,PC,T,DE92,2019,3.5,\n"
    "ESTAT:TGS00010(1.0),01/01/21 23:00:00,A,PC,T,DE92,2018,,\n"
    "ESTAT:TGS00010(1.0),01/01/21 23:00:00,A,PC,F,DE92,2019,2.5,\n"
)


@pytest.fixture
def countries():
    make_country(code="AT", name="Austria")
    make_country(code="DE", name="Germany")


def stored():
    return {
        (v.nuts_code, v.year): (v.value, v.flags)
        for v in IndicatorValue.objects.filter(indicator="unemployment_rate")
    }


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_our_file_loads_exactly_as_written_and_only_once():
    call_command("load_indicators")
    with open(FILE, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    values = {(v.nuts_code, v.indicator): v for v in IndicatorValue.objects.order_by()}
    assert len(values) == len(rows) == IndicatorValue.objects.count()
    for row in rows:
        value = values[row["nuts_code"], row["indicator"]]
        assert value.value == Decimal(row["value"])
        assert (value.year, value.nuts_version) == (
            int(row["year"]),
            int(row["nuts_version"]),
        )
        assert (value.unit, value.source_dataset, value.source_url) == (
            row["unit"],
            row["source_dataset"],
            row["source_url"],
        )
    call_command("load_indicators")
    assert IndicatorValue.objects.count() == len(rows)


def test_loading_keeps_a_value_a_curator_corrected():
    call_command("load_indicators")
    value = IndicatorValue.objects.get(nuts_code="DE92", indicator="population_jan1")
    value.value = Decimal("2150000")
    value.save()
    call_command("load_indicators")
    value.refresh_from_db()
    assert value.value == Decimal("2150000")


@pytest.mark.parametrize("name, text", [("estat_tgs00010.tsv", TSV), ("u.csv", SDMX)])
def test_a_eurostat_download_imports_one_series_exactly(
    tmp_path, countries, name, text
):
    path = write(tmp_path, name, text)
    call_command(
        "import_eurostat", path, "--indicator", "unemployment_rate", "--where", "sex=T"
    )
    expected = {
        ("AT11", 2019): (Decimal("4.8"), "p"),
        ("DE92", 2019): (Decimal("3.5"), ""),
    }
    if name.endswith(".tsv"):
        expected[("AT11", 2018)] = (Decimal("5.1"), "")
    # ":" and empty cells are no value; EU27_2020 and DEZZ are not NUTS regions.
    assert stored() == expected
    value = IndicatorValue.objects.get(nuts_code="DE92", year=2019)
    assert value.source_dataset == "tgs00010"
    assert value.source_url.endswith("/view/tgs00010/default/table?lang=en")
    assert value.nuts_version == 2021


def test_a_refresh_replaces_the_same_years_and_keeps_the_others(tmp_path, countries):
    call_command("load_indicators")
    before = IndicatorValue.objects.get(nuts_code="AT11", indicator="unemployment_rate")
    path = write(tmp_path, "estat_tgs00010.tsv", TSV)
    call_command(
        "import_eurostat", path, "--indicator", "unemployment_rate", "--where", "sex=T"
    )
    after = IndicatorValue.objects.get(
        nuts_code="AT11", indicator="unemployment_rate", year=2019
    )
    assert (after.value, after.flags) == (Decimal("4.8"), "p")
    assert after.pk == before.pk  # the same row, refreshed
    other = IndicatorValue.objects.get(nuts_code="FR10", indicator="unemployment_rate")
    assert other.source_dataset == "tgs00010"  # not in the download: kept


BAD_FILES = [
    ("estat_tgs00010.tsv", TSV, [], "several series"),  # no --where sex=
    ("estat_tgs00010.tsv", TSV.replace("4.8 p", "4,8"), ["sex=T"], "not a value"),
    ("estat_tgs00010.tsv", TSV.replace("2019 ", "2019-Q1"), ["sex=T"], "not a year"),
    ("estat_tgs00010.tsv", TSV, ["age=Y15"], "no dimension age"),
    ("estat_tgs00010.tsv", TSV.replace("4.8 p", "4.8 q"), ["sex=T"], "unknown flag"),
    ("estat_tgs00010.tsv", TSV, ["sex"], "DIMENSION=VALUE"),
    ("data.tsv", TSV, ["sex=T"], "give the dataset code"),
    ("u.csv", "a,b\n1,2\n", ["sex=T"], "not a Eurostat TSV"),
    ("u.csv", SDMX.replace("OBS_VALUE", "OBS_VALUE,geo2"), ["sex=T"], "line"),
    ("u.csv", SDMX.replace(",T,", ",X,"), ["sex=T"], "no value of a NUTS unit"),
]


@pytest.mark.parametrize("name, text, where, message", BAD_FILES)
def test_a_file_that_cannot_be_read_says_why_and_changes_nothing(
    tmp_path, countries, name, text, where, message
):
    call_command("load_indicators")
    before = list(IndicatorValue.objects.values_list().order_by("pk"))
    path = write(tmp_path, name, text)
    arguments = [path, "--indicator", "unemployment_rate"]
    for item in where:
        arguments += ["--where", item]
    with pytest.raises(CommandError, match=message):
        call_command("import_eurostat", *arguments)
    assert list(IndicatorValue.objects.values_list().order_by("pk")) == before


def test_our_file_with_a_bad_row_loads_nothing(tmp_path):
    text = FILE.read_text(encoding="utf-8").replace(",2149805,", ",2.149.805,", 1)
    with pytest.raises(CommandError, match="line .*not a number"):
        call_command("load_indicators", write(tmp_path, "bad.csv", text))
    assert not IndicatorValue.objects.exists()


def test_the_download_holds_every_figure_in_the_format_load_indicators_reads(
    client, tmp_path
):
    call_command("load_indicators")
    response = client.get("/data/regional-figures.csv")
    assert response.status_code == 200
    assert "practice-atlas_regional-figures_" in response["Content-Disposition"]
    rows = list(csv.DictReader(response.text.splitlines()))
    with open(FILE, newline="", encoding="utf-8") as file:
        expected = list(csv.DictReader(file))

    def figures(rows):
        return {
            (r["nuts_code"], r["nuts_version"], r["indicator"], r["year"],
             Decimal(r["value"]), r["unit"], r["source_dataset"], r["source_url"])
            for r in rows
        }  # fmt: skip

    assert len(rows) == len(expected)
    assert figures(rows) == figures(expected)
    assert {row["flags"] for row in rows} == {""}  # our file has none
    # Read back into an empty table, the download gives the same figures.
    before = {
        (v.nuts_code, v.indicator, v.year): v.value
        for v in IndicatorValue.objects.all()
    }
    IndicatorValue.objects.all().delete()
    text = "\n".join(line.rsplit(",", 1)[0] for line in response.text.splitlines())
    call_command("load_indicators", write(tmp_path, "again.csv", text))
    after = {
        (v.nuts_code, v.indicator, v.year): v.value
        for v in IndicatorValue.objects.all()
    }
    assert after == before
