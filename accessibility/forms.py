from django import forms
from django.core.exceptions import ValidationError

from .models import DESCRIPTION_MAX_LENGTH, Feedback

HONEYPOT_FIELD = "website"


def too_long(what):
    return {
        "max_length": f"Keep {what} to %(limit_value)d characters or fewer "
        "(it has %(show_value)d)."
    }


class FeedbackForm(forms.ModelForm):
    """The accessibility feedback form. `website` is a honeypot: the page hides it
    from people (and from assistive technology); a bot that fills in every field
    fills it in too, and the report is refused."""

    # The template writes its input itself (hidden, autocomplete off, no tab stop).
    website = forms.CharField(required=False, label="Leave this field empty")

    class Meta:
        model = Feedback
        fields = ["page_url", "description", "name", "email"]
        labels = {
            "page_url": "Page address (optional)",
            "description": "Describe the problem",
            "name": "Your name (optional)",
            "email": "Your email address (optional)",
        }
        help_texts = {
            "page_url": (
                "Copy it from your browser's address bar, or describe the page."
            ),
            "description": (
                "What were you trying to do and what went wrong? If you are happy "
                "to, tell us which browser and assistive technology you use. "
                f"Up to {DESCRIPTION_MAX_LENGTH:,} characters."
            ),
            "email": "Only if you would like a reply. We use it for nothing else.",
        }
        widgets = {
            "page_url": forms.TextInput(
                attrs={"inputmode": "url", "autocomplete": "url", "spellcheck": "false"}
            ),
            "description": forms.Textarea(attrs={"rows": 8, "cols": 60}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(
                attrs={"autocomplete": "email", "spellcheck": "false"}
            ),
        }
        error_messages = {
            "page_url": too_long("the page address"),
            "description": {
                "required": "Describe the problem you met.",
                **too_long("the description"),
            },
            "name": too_long("your name"),
            "email": {
                "invalid": (
                    "Enter an email address such as name@example.org, "
                    "or leave the field empty."
                ),
            },
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get(HONEYPOT_FIELD):
            raise ValidationError(
                "Your report was not sent, because a field that must stay empty was "
                "filled in (automatic form filling can do this). Check your report "
                "and send it again.",
                code="honeypot",
            )
        return cleaned_data
