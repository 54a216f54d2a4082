"""The DCAT description (/data/catalog.jsonld) conforms to DCAT-AP 3.0: validated
against the official SHACL shapes (fixtures/validators/) with pyshacl."""

from pathlib import Path

import pytest
from django.conf import settings
from pyshacl import validate
from rdflib import Graph

pytestmark = pytest.mark.django_db

SHAPES = Path(settings.BASE_DIR) / "fixtures" / "validators" / "dcat-ap-3.0.0-SHACL.ttl"


def test_the_dcat_description_conforms_to_dcat_ap_3(client, catalogue):
    data = Graph().parse(
        data=client.get("/data/catalog.jsonld").content, format="json-ld"
    )
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _graph, report = validate(data, shacl_graph=shapes)
    assert conforms, report
    assert len(data) > 100  # the description was read, not an empty graph
