from django.utils.decorators import method_decorator
from django.views.generic import DetailView, ListView

from practices.caching import public_page
from practices.models import InstrumentType, Practice, Theme

from .models import Brief


@method_decorator(public_page, name="dispatch")
class BriefListView(ListView):
    template_name = "briefs/brief_list.html"
    context_object_name = "briefs"

    def get_queryset(self):
        return Brief.objects.published()


@method_decorator(public_page, name="dispatch")
class BriefDetailView(DetailView):
    template_name = "briefs/brief_detail.html"
    context_object_name = "brief"

    def get_queryset(self):
        return Brief.objects.published().prefetch_related("sections")

    def get_context_data(self, **kwargs):
        featured = Practice.objects.published().filter(featured_in__brief=self.object)
        return super().get_context_data(
            features=self.object.published_features(),
            # The brief's practices in figures, counted by the database.
            instruments=InstrumentType.objects.with_practice_counts(featured).filter(
                practice_count__gt=0
            ),
            themes=Theme.objects.with_practice_counts(featured).filter(
                practice_count__gt=0
            ),
            **kwargs,
        )
