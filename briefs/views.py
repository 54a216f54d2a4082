from django.db.models import Prefetch
from django.utils.decorators import method_decorator
from django.views.generic import DetailView, ListView

from briefing import pdf
from practices.caching import private_preview, public_page
from practices.cards import attach_card_terms
from practices.listing import FILE_PREFIX
from practices.models import InstrumentType, Practice, Theme
from publishing.models import Status
from publishing.views import StaffPreviewMixin

from .models import Brief, RecommendationPractice


@method_decorator(public_page, name="dispatch")
class BriefListView(ListView):
    context_object_name = "briefs"

    def get_queryset(self):
        return Brief.objects.published()


class BriefPage(DetailView):
    """A brief on its page: only its published practices show and count."""

    model = Brief

    def get_queryset(self):
        return super().get_queryset().prefetch_related("sections")

    def get_context_data(self, **kwargs):
        featured = Practice.objects.published().filter(featured_in__brief=self.object)
        # Its featured practices a reader may see, in order, ready for cards.
        features = list(
            self.object.featured.of_published_practices()
            .select_related("section")
            .prefetch_related(Prefetch("practice", Practice.objects.for_listing()))
        )
        attach_card_terms(feature.practice for feature in features)
        # Its recommendations, each with the published practices that illustrate
        # it (`shown`): two queries however many there are.
        shown = RecommendationPractice.objects.of_published_practices()
        recommendations = list(
            self.object.recommendations.prefetch_related(
                Prefetch(
                    "illustrations",
                    shown.select_related("practice").only(
                        "recommendation_id", "note", "practice__slug", "practice__title"
                    ),
                    to_attr="shown",
                )
            )
        )
        return super().get_context_data(
            archived=self.object.status == Status.ARCHIVED,
            features=features,
            recommendations=recommendations,
            atlas_recommendations=any(r.by_the_atlas for r in recommendations),
            # What the brief's text may link to by name: never a draft.
            linked_practices=[feature.practice for feature in features],
            # The brief's practices in figures, counted by the database.
            instruments=InstrumentType.objects.in_use(featured),
            themes=Theme.objects.in_use(featured),
            pdf_unavailable=pdf.unavailable(),
            **kwargs,
        )


@method_decorator(public_page, name="dispatch")
class BriefDetailView(BriefPage):
    """Published and archived briefs (under a banner); the rest are 404 here."""

    def get_queryset(self):
        return super().get_queryset().reachable()


class BriefPdfView(pdf.PdfResponseMixin, BriefDetailView):
    """The brief as a tagged PDF, made from its page as it prints."""

    def print_url(self):
        return self.object.get_absolute_url()

    def pdf_name(self):
        return f"{FILE_PREFIX}_{self.object.slug}.pdf"


@method_decorator(private_preview, name="dispatch")
class BriefPreviewView(StaffPreviewMixin, BriefPage):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Featured practices readers would not see: the preview says how many.
        hidden = self.object.featured.count() - len(context["features"])
        return {**context, "hidden_features": hidden}
