from datetime import date

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from .forms import FeedbackForm

# Update both when the statement is reviewed (at least once a year).
PREPARED_ON = date(2026, 11, 26)
LAST_REVIEWED_ON = date(2026, 11, 26)

# The European Commission's list of the bodies each member state has named to
# monitor and enforce Directive (EU) 2016/2102.
EU_ENFORCEMENT_BODIES_URL = (
    "https://digital-strategy.ec.europa.eu/en/policies/web-accessibility-monitoring"
)
PAGE_PARAM_MAX_LENGTH = 500


def render_statement(request, form, status=200):
    context = {
        "form": form,
        "prepared_on": PREPARED_ON,
        "last_reviewed_on": LAST_REVIEWED_ON,
        "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
        "enforcement_body_name": settings.ACCESSIBILITY_ENFORCEMENT_BODY_NAME,
        "enforcement_body_url": settings.ACCESSIBILITY_ENFORCEMENT_BODY_URL,
        "eu_enforcement_bodies_url": EU_ENFORCEMENT_BODIES_URL,
    }
    return render(request, "accessibility/statement.html", context, status=status)


def page_from_query(request):
    """The page a "report a problem with this page" link came from: a local path
    only, so the form never echoes an arbitrary address back as if it were ours."""
    page = request.GET.get("page", "")
    if page.startswith("/") and not page.startswith("//"):
        return page[:PAGE_PARAM_MAX_LENGTH]
    return ""


class StatementView(View):
    """The accessibility statement, in the model of Implementing Decision (EU)
    2018/1523, with the feedback form it links to."""

    def get(self, request):
        form = FeedbackForm(initial={"page_url": page_from_query(request)})
        return render_statement(request, form)


class FeedbackView(View):
    """Receives the feedback form: saves a valid report and redirects (POST/redirect/
    GET); re-renders the statement with the errors and a 400 otherwise."""

    def get(self, request):
        return redirect(reverse("accessibility:statement") + "#feedback")

    def post(self, request):
        form = FeedbackForm(request.POST)
        if form.is_valid():
            form.save()
            messages.success(
                request,
                "Thank you: your report has been sent to the Practice Atlas curators.",
            )
            return redirect("accessibility:statement")
        messages.error(
            request,
            "Your report was not sent. Please correct the problems shown in the form.",
        )
        return render_statement(request, form, status=400)
