from django.contrib import messages
from django.contrib.auth.views import RedirectURLMixin
from django.core.validators import slug_re
from django.http import HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView, ListView, TemplateView

from briefs.models import Brief
from config.security import is_cross_site
from indicators.context import COUNTRY_CONTEXT, figures_of, region_figures
from indicators.fit import fit_check
from indicators.peers import missing_measures, region_peers
from publishing.views import StaffPreviewMixin

from . import compare, places
from .caching import catalogue_version, private_preview, public_page
from .cards import attach_card_terms
from .listing import (
    OVERDUE_LAST,
    SORT_LABELS,
    catalogue_holdings,
    list_practices,
    with_catalogue_counts,
)
from .models import Country, InstrumentType, Practice, Region, Status, Theme
from .search import MAX_TERMS, cut, snippet
from .ways_out import ways_out

PAGE_SIZE = 20
PER_PAGE_CHOICES = [PAGE_SIZE, 50, 100]  # offered on the list; it takes 1 to 100


@method_decorator(public_page, name="dispatch")
class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        published = Practice.objects.published()
        version = catalogue_version(self.request)
        countries = with_catalogue_counts(Country.objects.all(), version)
        return super().get_context_data(
            holdings=catalogue_holdings(version),
            briefs=Brief.objects.published()[:3],
            countries=[country for country in countries if country.practice_count],
            themes=with_catalogue_counts(Theme.objects.all(), version),
            instruments=with_catalogue_counts(InstrumentType.objects.all(), version),
            latest_practices=attach_card_terms(
                published.for_listing().order_by("-published_on", "-pk")[:6]
            ),
            **kwargs,
        )


@method_decorator(public_page, name="dispatch")
class PracticeListView(ListView):
    """The catalogue: every state lives in the query string, so it can be shared as
    a link. Practices and facet counts come from practices/listing.py."""

    template_name = "practices/practice_list.html"
    context_object_name = "practices"
    paginate_by = PAGE_SIZE
    max_per_page = PER_PAGE_CHOICES[-1]

    def get(self, request, *args, **kwargs):
        self.listing = list_practices(request.GET, version=catalogue_version(request))
        self.object_list = self.listing.ids
        status = 200 if self.listing.valid else 400  # the page says what is wrong
        return self.render_to_response(self.get_context_data(), status=status)

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        # Counted with the facets, which get_context_data builds before the
        # page: no COUNT query. Without facets (a bad query), Django counts.
        if self.listing.total is not None:
            paginator.count = self.listing.total
        return paginator

    def paginate_queryset(self, queryset, page_size):
        # Pages of ids first: ordering the narrow rows (an index-only scan on
        # PostgreSQL) and reading only the page's practices in full.
        paginator, page, ids, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        ids = list(ids)
        found = Practice.objects.published().for_listing().in_bulk(ids)
        page.object_list = attach_card_terms(found[pk] for pk in ids if pk in found)
        if query := self.listing.query:
            for practice in page.object_list:
                practice.match = snippet(practice, query)
        return paginator, page, page.object_list, is_paginated

    def get_paginate_by(self, queryset):
        try:
            per_page = int(self.request.GET.get("per_page", self.paginate_by))
        except ValueError:
            return self.paginate_by
        return min(max(per_page, 1), self.max_per_page)

    def get_context_data(self, **kwargs):
        listing, version = self.listing, catalogue_version(self.request)
        context = super().get_context_data(
            filter=listing.filterset,
            listing=listing,
            chips=listing.chips(),
            facets=listing.facets(self.request.GET, version) if listing.valid else [],
            per_page_choices=PER_PAGE_CHOICES,
            sort=listing.sort,
            sort_label=SORT_LABELS[listing.sort],
            sorts=[
                (key, label)
                for key, label in SORT_LABELS.items()
                if key != "relevance" or listing.query
            ],
            search_cut=MAX_TERMS if cut(listing.query)[1] else None,
            **kwargs,
        )
        if listing.valid and not context["paginator"].count:
            # "No practices in Niedersachsen yet", and where there are some.
            context["empty_places"] = places.empty_places(listing.filters)
            # Each filter or word dropped, and values named like the search.
            context["ways_out"] = ways_out(listing)
            # "Lower Saxony", "Niedersachsen": a region's practices, or ways out.
            context["named_regions"] = places.named_regions(listing.query, version)
        return context


@method_decorator(public_page, name="dispatch")
class PracticeCompareView(TemplateView):
    """Two to four practices side by side; the page explains what it left out."""

    template_name = "practices/practice_compare.html"

    def get(self, request, *args, **kwargs):
        comparison = compare.Comparison.of(request.GET)
        practices = comparison.practices
        for practice in practices:
            others = [other.slug for other in practices if other != practice]
            practice.remove_url = compare.compare_url(others)
        context = self.get_context_data(
            comparison=comparison,
            practices=practices,
            rows=[
                (criterion, [(p, criterion.html(p)) for p in practices])
                for criterion in compare.CRITERIA
            ],
            csv_url=compare.compare_url(comparison.slugs, "opendata:compare-csv"),
            pack_url=compare.compare_url(comparison.slugs, "briefing:pack"),
            max_items=compare.MAX_ITEMS,
        )
        status = 200 if comparison.complete else 400
        return self.render_to_response(context, status=status)


# Not CSRF-protected with a token, on purpose: every practice card carries these
# forms, and a token in them would make each page personal, so no page could be
# cached (practices/caching.py). The basket is a reading aid kept in the session,
# not account data, and the session cookie is SameSite=Lax, so a POST from another
# site does not even carry it. Cross-site posts are refused explicitly all the same.
@method_decorator(csrf_exempt, name="dispatch")
class CompareBasketView(RedirectURLMixin, View):
    """POST: add a practice to the comparison basket, or remove it."""

    http_method_names = ["post"]
    action = "add"

    def post(self, request):
        if is_cross_site(request):
            return HttpResponseForbidden(
                "The comparison can only be changed from this site's own pages."
            )
        slug = request.POST.get("slug", "")
        published = Practice.objects.published()
        practice = published.filter(slug=slug).first() if slug_re.match(slug) else None
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
        request.session[compare.SESSION_KEY] = slugs
        return redirect(self.get_redirect_url() or practice)  # a safe "next" only


class PracticePage(DetailView):
    """A practice on its page; what it links to is always published()."""

    model = Practice

    def get_queryset(self):
        return super().get_queryset().for_detail().with_held_facts()

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        fit = response.context_data["fit"]
        if fit is not None and fit.yours is None:  # the page says what is wrong
            response.status_code = 400
        return response

    def get_context_data(self, **kwargs):
        practice = self.object
        asked = self.request.GET.get("fit")
        published = Practice.objects.published()
        # With their flags: a practice whose place (project) is unconfirmed is
        # marked so in "More from" its country (project).
        more_from = published.exclude(pk=practice.pk).only(
            "slug", "title", "uncertain_fields"
        )
        country = next(iter(practice.countries.all()), None)
        return super().get_context_data(
            archived=practice.status == Status.ARCHIVED,
            # Where published briefs discuss it, the first also its breadcrumbs.
            features=list(
                practice.featured_in.in_published_briefs()
                .select_related("brief", "section")
                .order_by("-brief__published_on", "brief__title")  # as /briefs/
            ),
            # The recommendations of published briefs that it illustrates.
            illustrations=list(
                practice.illustrations.in_published_briefs()
                .select_related("recommendation__brief")
                .order_by(
                    "-recommendation__brief__published_on",
                    "recommendation__brief__title",
                    "recommendation__number",
                )
            ),
            related=published.related_to(practice),  # never the practice itself
            # "Will it fit your region?": the reader's region beside its own.
            fit=fit_check(practice, asked) if asked is not None else None,
            country=country,
            more_from_country=more_from.filter(countries=country)[:5]
            if country
            else [],
            more_from_project=more_from.filter(project=practice.project)[:5]
            if practice.project
            else [],
            **kwargs,
        )


@method_decorator(public_page, name="dispatch")
class PracticeDetailView(PracticePage):
    """Published and archived practices (under a banner); the rest are 404 here."""

    def get_queryset(self):
        return super().get_queryset().reachable()


@method_decorator(private_preview, name="dispatch")
class PracticePreviewView(StaffPreviewMixin, PracticePage):
    """Any status, for staff only (publishing.views.StaffPreviewMixin)."""


# --- countries, themes, instruments ------------------------------------------


@method_decorator(public_page, name="dispatch")
class TermListView(ListView):
    """A taxonomy's index; its text is in <app>/<model>_list.html."""

    context_object_name = "terms"

    def get_queryset(self):
        version = catalogue_version(self.request)
        return with_catalogue_counts(self.model.objects.all(), version)

    def get_template_names(self):  # a list of terms does not name its model
        return [f"{self.model._meta.app_label}/{self.model._meta.model_name}_list.html"]

    def get_context_data(self, **kwargs):
        heading = self.model._meta.verbose_name_plural.capitalize()
        return super().get_context_data(heading=heading, **kwargs)


class CountryListView(TermListView):
    """Every country the catalogue knows, with or without practices."""

    model = Country


@method_decorator(public_page, name="dispatch")
class TermDetailView(ListView):
    """One country, theme or instrument type and its published practices."""

    template_name = "practices/term_detail.html"
    context_object_name = "practices"
    paginate_by = PAGE_SIZE
    filter_param = ""  # the list page's filter for the term
    term_key = "slug"  # the term's value in that filter
    index_url_name = None  # the index it is listed on: <namespace>:list

    def get_term(self):
        return get_object_or_404(self.model, slug=self.kwargs["slug"])

    def get_queryset(self):
        self.term = self.get_term()
        practices = self.term.practices.published().for_listing()
        return practices.order_by(OVERDUE_LAST, "title", "pk")  # the list's default

    def get_context_data(self, **kwargs):
        namespace = self.request.resolver_match.namespace
        context = super().get_context_data(
            term=self.term,
            opts=self.model._meta,
            index_url=reverse(self.index_url_name or f"{namespace}:list"),
            # Slugs and codes need no escaping.
            filter_query=f"{self.filter_param}={getattr(self.term, self.term_key)}",
            **kwargs,
        )
        context["practices"] = attach_card_terms(context["practices"])
        return context


class CountryDetailView(TermDetailView):
    model = Country
    filter_param = "country"
    term_key = "code"
    template_name = "practices/country_detail.html"

    def get_term(self):
        return get_object_or_404(Country, code=self.kwargs["code"].upper())

    def get_context_data(self, **kwargs):
        country = self.term
        regions = places.regions_with_practices(country)
        figures = figures_of([(country.nuts_code, country.name, COUNTRY_CONTEXT)])
        return super().get_context_data(
            regions=regions, context_figures=figures, **kwargs
        )


class RegionDetailView(TermDetailView):
    """A NUTS 1-3 region: its practices (those of the regions inside it too), then
    those elsewhere in its NUTS 1 region and its country."""

    model = Region
    filter_param = "region"
    term_key = "code"
    index_url_name = "countries:list"
    template_name = "practices/region_detail.html"
    elsewhere_size = 5  # practices shown for each place around it

    def get_term(self):
        regions = Region.objects.select_related("country", "parent")
        return get_object_or_404(regions, code=self.kwargs["code"].upper())

    def get_queryset(self):
        self.term = self.get_term()
        practices = Practice.objects.published().found_by("region", [self.term.code])
        return practices.for_listing().order_by(OVERDUE_LAST, "title", "pk")

    def get_context_data(self, **kwargs):
        region = self.term
        around = places.Surroundings([region]).around(region)
        published = Practice.objects.published().only("slug", "title")
        for nearby in around:  # a few of its other practices: one query each
            facet = "country" if nearby.kind == "country" else "region"
            elsewhere = published.found_by(facet, [nearby.place.code])
            elsewhere = elsewhere.exclude(pk__in=self.object_list.values("pk"))
            nearby.practices = elsewhere.order_by("title", "pk")[: self.elsewhere_size]
        country = region.country
        version = catalogue_version(self.request)
        peers = region_peers(region, version) if region.level == 2 else None
        if peers:  # a few of their practices: what a region without any looks at
            codes = [peer.code for peer in peers]
            peer_practices = published.found_by("region", codes).order_by("title")
            peer_practices = peer_practices[: self.elsewhere_size]
        return super().get_context_data(
            around=around,
            context_figures=region_figures(region),
            peers=peers,
            peers_unrecorded=missing_measures(region.code, version) if peers else [],
            peer_practices=peer_practices if peers else [],
            breadcrumb_trail=[(country.get_absolute_url(), country.name)],
            **kwargs,
        )
