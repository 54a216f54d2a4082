"""A practice's grade and outcome figures, edited inline on its admin form
(practices.admin.PracticeAdmin). Sources can only be chosen among the practice's
own, saved sources; the models' constraints give every other message."""

from django import forms
from django.contrib import admin

from practices.models import PracticeSource

from .models import Grade, OutcomeFigure

OWN_SOURCES_ONLY = (
    "Choose among this practice's own sources; a source added on this form can be "
    "chosen once the practice is saved."
)


class OwnSourcesInline:
    """Offers only the sources of the practice being edited (none on a new one)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        own = PracticeSource.objects.filter(practice=obj) if obj and obj.pk else None
        field = formset.form.base_fields[self.source_field]
        field.queryset = own if own is not None else PracticeSource.objects.none()
        field.error_messages["invalid_choice"] = OWN_SOURCES_ONLY
        field.error_messages["invalid_pk_value"] = OWN_SOURCES_ONLY
        return formset


class GradeInline(OwnSourcesInline, admin.StackedInline):
    model = Grade
    source_field = "sources"
    max_num = 1
    extra = 1
    fields = ["level", "basis", "sources", "assessed_by", "assessed_on", "unconfirmed"]
    formfield_overrides = {
        Grade._meta.get_field("sources").__class__: {
            "widget": forms.CheckboxSelectMultiple
        }
    }


class OutcomeFigureInline(OwnSourcesInline, admin.TabularInline):
    model = OutcomeFigure
    source_field = "source"
    extra = 0
    fields = [
        "position",
        "metric",
        "value",
        "currency",
        "period_start",
        "period_end",
        "source",
        "description",
        "evidence_line",
        "unconfirmed",
    ]
