from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from practices.caching import catalogue_version, public_page
from practices.listing import catalogue_counts
from practices.models import Practice

from .charts import costs_per_firm, levels_chart
from .models import LEVEL_EXPLANATIONS, TOP_LEVEL, EvidenceLevel


@method_decorator(public_page, name="dispatch")
class EvidenceScaleView(TemplateView):
    """The evidence scale in our words, and the catalogue on it."""

    template_name = "evidence/scale.html"

    def get_context_data(self, **kwargs):
        counts = catalogue_counts(catalogue_version(self.request))
        return super().get_context_data(
            levels=[
                (level, EvidenceLevel(level).label, text)
                for level, text in LEVEL_EXPLANATIONS.items()
            ],
            top_level=TOP_LEVEL,
            levels_chart=levels_chart(counts),
            costs=costs_per_firm(Practice.objects.published()),
            **kwargs,
        )
