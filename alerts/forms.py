from django import forms

from .models import Frequency


class AlertForm(forms.Form):
    """The sign-up on the follow page: an address and how often. The list is the
    page's own query string (alerts.views.AlertSignupView)."""

    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,  # the longest address SMTP carries (RFC 5321)
        help_text="We send a link to it to confirm first. It is used for these "
        "e-mails only, never shown or published.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": "Enter your e-mail address.",
            "invalid": "Enter an e-mail address such as name@example.org.",
            "max_length": "An e-mail address has at most %(limit_value)d characters "
            "(this one has %(show_value)d).",
        },
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=Frequency,
        initial=Frequency.WEEKLY,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how often: weekly or monthly.",
            "invalid_choice": "Choose how often: weekly or monthly.",
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "alert-%s")  # the section itself is #email
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_email(self):
        # One spelling per address, for the limits and the unique constraint.
        return self.cleaned_data["email"].lower()
