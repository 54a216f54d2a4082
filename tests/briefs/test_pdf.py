"""The brief as PDF (briefing/pdf.py): its page as it prints, tagged."""

import io

import pypdf
import pytest

from briefs.models import Brief

pytestmark = pytest.mark.django_db


def test_the_brief_is_offered_as_a_tagged_pdf_of_its_page(client, catalogue):
    brief = Brief.objects.get(slug="internationalisation-of-smes")
    page = client.get(brief.get_absolute_url()).text
    assert f'href="/briefs/{brief.slug}/pdf/"' in page
    response = client.get(f"/briefs/{brief.slug}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert reader.metadata.title.startswith(brief.title)
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    text = " ".join(reader.pages[0].extract_text().split())
    assert " ".join(brief.title.split()) in text
    assert client.get("/briefs/no-such-brief/pdf/").status_code == 404
