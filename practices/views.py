from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, ListView, TemplateView
from django_filters.views import FilterView

from briefs.models import Brief

from .filters import PracticeFilterSet
from .models import Country, InstrumentType, Practice, Region, Theme

PAGE_SIZE = 20


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        published = Practice.objects.published()
        return super().get_context_data(
            practice_count=published.count(),
            briefs=Brief.objects.published()[:3],
            countries=Country.objects.with_practice_counts().filter(
                practice_count__gt=0
            ),
            themes=Theme.objects.with_practice_counts(),
            instruments=InstrumentType.objects.with_practice_counts(),
            latest_practices=published.for_listing().order_by(
                "-published_on", "-created_at"
            )[:6],
            **kwargs,
        )


class PracticeListView(FilterView):
    filterset_class = PracticeFilterSet
    template_name = "practices/practice_list.html"
    context_object_name = "practices"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Practice.objects.published().for_listing()

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if self.filterset.is_bound and not self.filterset.is_valid():
            response.status_code = 400  # the page explains which value is wrong
        return response


class PracticeDetailView(DetailView):
    template_name = "practices/practice_detail.html"
    context_object_name = "practice"

    def get_queryset(self):
        return Practice.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            briefs=Brief.objects.published()
            .filter(featured__practice=self.object)
            .distinct(),
            **kwargs,
        )


# --- countries, themes, instruments ------------------------------------------


class TermListView(ListView):
    """Index page of a taxonomy, with the number of published practices per term."""

    template_name = "practices/term_list.html"
    context_object_name = "terms"
    model = None
    heading = ""
    intro = ""
    hide_empty = False

    def get_queryset(self):
        terms = self.model.objects.with_practice_counts()
        return terms.filter(practice_count__gt=0) if self.hide_empty else terms

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            heading=self.heading, intro=self.intro, **kwargs
        )


class TermDetailView(ListView):
    """One country, theme or instrument type and its published practices."""

    template_name = "practices/term_detail.html"
    context_object_name = "practices"
    paginate_by = PAGE_SIZE
    model = None
    filter_field = ""  # the practice relation this term lives in
    filter_param = ""  # the list page's query-string name for the same filter
    term_key = "slug"  # the term's value in that query string

    def get_term(self):
        return get_object_or_404(self.model, slug=self.kwargs["slug"])

    def get_queryset(self):
        self.term = self.get_term()
        return (
            Practice.objects.published()
            .for_listing()
            .filter(**{self.filter_field: self.term})
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            term=self.term,
            term_kind=self.model._meta.verbose_name,
            index_label=self.model._meta.verbose_name_plural.capitalize(),
            index_url=reverse(f"{self.request.resolver_match.namespace}:list"),
            filter_param=self.filter_param,
            filter_value=getattr(self.term, self.term_key),
            **kwargs,
        )


class CountryDetailView(TermDetailView):
    model = Country
    filter_field = "countries"
    filter_param = "country"
    term_key = "code"
    template_name = "practices/country_detail.html"

    def get_term(self):
        code = self.kwargs["code"]
        if len(code) != 2:
            raise Http404("Country codes have two letters.")
        return get_object_or_404(Country, code=code.upper())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["regions"] = (
            Region.objects.filter(country=self.term, practices__in=self.object_list)
            .distinct()
            .order_by("code")
        )
        return context
