from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class BriefsConfig(AppConfig):
    name = "briefs"
    verbose_name = "Policy briefs"

    def ready(self):
        # Briefs are public pages too: every change to a brief, its sections, its
        # featured practices or its recommendations (and the practices that
        # illustrate them: practice pages show those) bumps the catalogue version
        # when it commits.
        from practices.signals import bump_only

        for name in (
            "Brief",
            "BriefSection",
            "FeaturedPractice",
            "Recommendation",
            "RecommendationPractice",
        ):
            post_save.connect(bump_only, sender=self.get_model(name))
            post_delete.connect(bump_only, sender=self.get_model(name))
