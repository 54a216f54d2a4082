import math

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.generic import CreateView

from config.rate_limits import count_this_hour

from .forms import FeedbackForm
from .models import daily_cap_reached_at, local_midnight


class StatementView(CreateView):
    """The accessibility statement, in the model of Implementing Decision (EU)
    2018/1523, with the feedback form it links to."""

    template_name = "accessibility/statement.html"
    form_class = FeedbackForm
    http_method_names = ["get", "head", "options"]

    def get_initial(self):
        # The page a "report a problem" link came from: a local path only, so the
        # form never echoes an arbitrary address back as if it were ours.
        page = self.request.GET.get("page", "")
        local = page.startswith("/") and not page.startswith("//")
        return {"page_url": page[:500] if local else ""}  # page_url's max_length

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            contact_email=settings.ACCESSIBILITY_CONTACT_EMAIL,
            enforcement_body_name=settings.ACCESSIBILITY_ENFORCEMENT_BODY_NAME,
            enforcement_body_url=settings.ACCESSIBILITY_ENFORCEMENT_BODY_URL,
            **kwargs,
        )


class FeedbackView(SuccessMessageMixin, StatementView):
    """Receives the feedback form: saves a valid report and redirects (POST/redirect/
    GET); re-renders the statement with the errors and a 400 otherwise."""

    http_method_names = ["get", "head", "post", "options"]
    success_url = reverse_lazy("accessibility:statement")
    success_message = (
        "Thank you: your report has been sent to the Practice Atlas curators."
    )

    def get(self, request):
        return redirect(f"{self.success_url}#feedback")

    def form_valid(self, form):
        """Saves the report unless its sender's address has reached the hourly
        limit, or everyone together today's cap. Only valid reports count, so
        correcting a mistake in the form costs nothing."""
        # Per client address and clock hour; when the cache cannot count, the
        # daily cap still holds.
        sent, rest_of_hour = count_this_hour(self.request, "feedback-sent")
        limit = settings.FEEDBACK_CLIENT_HOURLY_LIMIT
        if sent > limit:
            return self.refused(form, rest_of_hour, limit=limit)
        if daily_cap_reached_at():
            until_midnight = (local_midnight(days=1) - timezone.now()).total_seconds()
            return self.refused(form, until_midnight, cap=settings.FEEDBACK_DAILY_CAP)
        return super().form_valid(form)

    def refused(self, form, retry_after, **context):
        """The 429 page: why the report was not sent, when to send it again, and
        what the sender wrote, to copy."""
        return TemplateResponse(
            self.request,
            "accessibility/feedback_refused.html",
            {
                "form": form,
                "retry_minutes": math.ceil(retry_after / 60),
                "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
                **context,
            },
            status=429,
            headers={"Retry-After": str(math.ceil(retry_after))},
        )

    def form_invalid(self, form):
        messages.error(
            self.request,
            "Your report was not sent. Please correct the problems shown in the form.",
        )
        return self.render_to_response(self.get_context_data(form=form), status=400)
