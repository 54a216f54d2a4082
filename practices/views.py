import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView, ListView, TemplateView

from briefs.models import Brief
from publishing.views import StaffPreviewMixin

from . import compare, facts
from .caching import private_preview, public_page
from .cards import attach_card_terms
from .listing import OVERDUE_LAST, SORT_LABELS, list_practices
from .models import Country, InstrumentType, Practice, Region, Status, Theme
from .search import snippet

PAGE_SIZE = 20
SLUG = re.compile(r"[-\w]{1,120}")


@method_decorator(public_page, name="dispatch")
class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        published = Practice.objects.published()
        return super().get_context_data(
            holdings=facts.holdings(published),
            briefs=Brief.objects.published()[:3],
            countries=Country.objects.with_practice_counts().filter(
                practice_count__gt=0
            ),
            themes=Theme.objects.with_practice_counts(),
            instruments=InstrumentType.objects.with_practice_counts(),
            latest_practices=attach_card_terms(
                published.for_listing().order_by("-published_on", "-pk")[:6]
            ),
            **kwargs,
        )


@method_decorator(public_page, name="dispatch")
class PracticeListView(ListView):
    """The catalogue with facets, search, sorting and pagination. Every state lives
    in the query string, so any view of it can be shared as a link. The practices
    and facet counts come from list_practices (practices/listing.py), shared with
    the exports and the feed."""

    template_name = "practices/practice_list.html"
    context_object_name = "practices"
    paginate_by = PAGE_SIZE
    max_per_page = 100

    def get(self, request, *args, **kwargs):
        self.listing = list_practices(request.GET)
        self.object_list = self.listing.ids
        context = self.get_context_data(filter=self.listing.filterset)
        response = self.render_to_response(context)
        if not self.listing.valid:
            response.status_code = 400  # the page explains which value is wrong
        return response

    def paginate_queryset(self, queryset, page_size):
        # Pages of ids first: ordering the narrow rows (an index-only scan on
        # PostgreSQL) and reading only the page's practices in full.
        paginator, page, ids, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        ids = list(ids)
        found = Practice.objects.published().for_listing().in_bulk(ids)
        page.object_list = attach_card_terms(found[pk] for pk in ids if pk in found)
        return paginator, page, page.object_list, is_paginated

    def get_paginate_by(self, queryset):
        try:
            per_page = int(self.request.GET.get("per_page", self.paginate_by))
        except ValueError:
            return self.paginate_by
        return min(max(per_page, 1), self.max_per_page)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["facets"] = (
            self.listing.facets(self.request.GET) if self.listing.valid else []
        )
        query, sort = self.listing.query, self.listing.sort
        if query:
            for practice in context["practices"]:
                practice.match = snippet(practice, query)
        context["sort"] = sort
        context["sort_label"] = SORT_LABELS[sort]
        context["sorts"] = [
            (key, label)
            for key, label in SORT_LABELS.items()
            if key != "relevance" or query
        ]
        return context


@method_decorator(public_page, name="dispatch")
class PracticeCompareView(TemplateView):
    """Two to four practices side by side on the same fields."""

    template_name = "practices/practice_compare.html"

    def get(self, request, *args, **kwargs):
        slugs = list(dict.fromkeys(request.GET.getlist("p")))  # keep order, no repeats
        problems = []
        if len(slugs) > compare.MAX_ITEMS:
            problems.append(
                f"You asked to compare {len(slugs)} practices; the comparison holds "
                f"at most {compare.MAX_ITEMS}. The first {compare.MAX_ITEMS} are shown."
            )
            slugs = slugs[: compare.MAX_ITEMS]
        wellformed = [s for s in slugs if SLUG.fullmatch(s)]
        found = (
            Practice.objects.published()
            .for_detail()
            .in_bulk(wellformed, field_name="slug")
        )
        unknown = [s for s in slugs if s not in found]
        if unknown:
            problems.append(
                "No published practice has the address "
                + ", ".join(f"“{s[:80]}”" for s in unknown)
                + "; it is left out."
            )
        practices = [found[s] for s in slugs if s in found]
        context = self.get_context_data(
            practices=practices,
            problems=problems,
            too_few=len(practices) < 2,
            remove_urls={
                p.slug: compare.compare_url([q.slug for q in practices if q != p])
                for p in practices
            },
        )
        response = self.render_to_response(context)
        if problems:
            response.status_code = 400
        return response


def is_cross_site(request):
    """A POST sent by another site's page: the browser says so (Sec-Fetch-Site), or
    its Origin is not this site (nor one of CSRF_TRUSTED_ORIGINS)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False  # older browsers and non-browser clients send none
    return origin != f"{request.scheme}://{request.get_host()}" and (
        origin not in settings.CSRF_TRUSTED_ORIGINS
    )


# Not CSRF-protected with a token, on purpose: every practice card carries these
# forms, and a token in them would make each page personal, so no page could be
# cached (practices/caching.py). The basket is a reading aid kept in the session,
# not account data, and the session cookie is SameSite=Lax, so a POST from another
# site does not even carry it. Cross-site posts are refused explicitly all the same.
@method_decorator(csrf_exempt, name="dispatch")
class CompareBasketView(View):
    """POST: add a practice to the comparison basket, or remove it."""

    http_method_names = ["post"]
    action = "add"

    def post(self, request):
        if is_cross_site(request):
            return HttpResponseForbidden(
                "The comparison can only be changed from this site's own pages."
            )
        slug = request.POST.get("slug", "")
        practice = None
        if SLUG.fullmatch(slug):
            practice = Practice.objects.published().filter(slug=slug).first()
        if practice is None:
            return HttpResponseBadRequest(
                "That practice is not published or does not exist, so it cannot be "
                "added to or removed from the comparison."
            )
        slugs = compare.basket(request)
        if self.action == "add" and slug not in slugs:
            if len(slugs) >= compare.MAX_ITEMS:
                messages.warning(
                    request,
                    f"The comparison already holds {compare.MAX_ITEMS} practices: "
                    "remove one before adding another.",
                )
            else:
                slugs.append(slug)
                messages.success(
                    request,
                    f"Added “{practice.title}” to the comparison "
                    f"({len(slugs)} of {compare.MAX_ITEMS}).",
                )
        elif self.action == "remove" and slug in slugs:
            slugs.remove(slug)
            messages.success(
                request, f"Removed “{practice.title}” from the comparison."
            )
        compare.save_basket(request, slugs)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}
        ):
            back = practice.get_absolute_url()
        return redirect(back)


class PracticePage(DetailView):
    """A practice on its page; what it links to is always published()."""

    template_name = "practices/practice_detail.html"
    context_object_name = "practice"

    def get_context_data(self, **kwargs):
        practice = self.object
        published = Practice.objects.published().exclude(pk=practice.pk)
        country = next(iter(practice.countries.all()), None)
        return super().get_context_data(
            archived=practice.status == Status.ARCHIVED,
            briefs=Brief.objects.published()
            .filter(featured__practice=practice)
            .distinct(),
            related=published.related_to(practice),
            country=country,
            # With their flags: a practice whose place (project) is unconfirmed
            # is marked so in "More from" its country (project).
            more_from_country=published.filter(countries=country).only(
                "slug", "title", "uncertain_fields"
            )[:5]
            if country
            else [],
            more_from_project=published.filter(project=practice.project).only(
                "slug", "title", "uncertain_fields"
            )[:5]
            if practice.project
            else [],
            **kwargs,
        )


@method_decorator(public_page, name="dispatch")
class PracticeDetailView(PracticePage):
    """Published practices, and archived ones under an "archived" banner (kept
    for reference, out of every list); drafts, practices in review and scheduled
    ones are 404 here (staff preview them at PracticePreviewView)."""

    def get_queryset(self):
        return Practice.objects.reachable().for_detail().with_held_facts()


@method_decorator(private_preview, name="dispatch")
class PracticePreviewView(StaffPreviewMixin, PracticePage):
    model = Practice

    def get_queryset(self):
        return super().get_queryset().for_detail().with_held_facts()


# --- countries, themes, instruments ------------------------------------------


@method_decorator(public_page, name="dispatch")
class TermListView(ListView):
    """Index page of a taxonomy, with the number of published practices per term;
    its text is in the template, <app>/<model>_list.html."""

    context_object_name = "terms"

    def get_queryset(self):
        return self.model.objects.with_practice_counts()

    def get_context_data(self, **kwargs):
        heading = self.model._meta.verbose_name_plural.capitalize()
        return super().get_context_data(heading=heading, **kwargs)


class CountryListView(TermListView):
    model = Country

    def get_queryset(self):
        return super().get_queryset().filter(practice_count__gt=0)


@method_decorator(public_page, name="dispatch")
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
            .order_by(OVERDUE_LAST, "title", "pk")  # the list's default order
        )

    def paginate_queryset(self, queryset, page_size):
        paginator, page, practices, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        page.object_list = attach_card_terms(practices)
        return paginator, page, page.object_list, is_paginated

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
        return get_object_or_404(Country, code=self.kwargs["code"].upper())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["regions"] = (
            Region.objects.filter(country=self.term)
            .with_practice_counts()
            .filter(practice_count__gt=0)
        )
        return context
