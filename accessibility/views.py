from django.conf import settings
from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import CreateView

from .forms import FeedbackForm


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

    def form_invalid(self, form):
        messages.error(
            self.request,
            "Your report was not sent. Please correct the problems shown in the form.",
        )
        return self.render_to_response(self.get_context_data(form=form), status=400)
