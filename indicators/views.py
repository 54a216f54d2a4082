import csv

from django.http import HttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView

from opendata.records import guard_cell
from practices.caching import public_page

from . import peers
from .loading import LONG_COLUMNS
from .models import INDICATORS, IndicatorValue


@method_decorator(public_page, name="dispatch")
class PeersMethodView(TemplateView):
    """How "regions like this one" are found, from the constants that find them."""

    template_name = "indicators/peers_method.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            measures=[(INDICATORS[m.indicator], m) for m in peers.MEASURES],
            peer_count=peers.PEERS,
            similar=peers.SIMILAR,
            min_shared=peers.MIN_SHARED,
            eu=sorted(peers.EU27),
            **kwargs,
        )


FIGURES_COLUMNS = [*LONG_COLUMNS, "flags"]  # our file's columns, then the flags


@method_decorator(public_page, name="dispatch")
class FiguresCsvView(View):
    """Every figure the region pages show, in our file's columns (the format
    `manage.py load_indicators` reads), with its flags."""

    http_method_names = ["get", "head"]

    def get(self, request):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"practice-atlas_regional-figures_{timezone.localdate()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        writer.writerow(FIGURES_COLUMNS)
        for figure in IndicatorValue.objects.order_by("nuts_code", "indicator", "year"):
            writer.writerow(
                [
                    figure.nuts_code,
                    figure.nuts_version,
                    figure.indicator,
                    figure.year,
                    format(figure.value.normalize(), "f"),
                    guard_cell(figure.unit),
                    guard_cell(figure.source_dataset),
                    guard_cell(figure.source_url),
                    figure.flags,
                ]
            )
        return response
