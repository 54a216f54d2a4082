from django.apps import AppConfig


class BriefingConfig(AppConfig):
    """Meeting-ready outputs: a reader's shortlist and briefing packs (HTML, PDF
    and CSV) of any selection of practices."""

    name = "briefing"
