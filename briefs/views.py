from django.views.generic import DetailView, ListView

from .models import Brief


class BriefListView(ListView):
    template_name = "briefs/brief_list.html"
    context_object_name = "briefs"

    def get_queryset(self):
        return Brief.objects.published()


class BriefDetailView(DetailView):
    template_name = "briefs/brief_detail.html"
    context_object_name = "brief"

    def get_queryset(self):
        return Brief.objects.published().prefetch_related("sections")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            features=self.object.published_features(), **kwargs
        )
