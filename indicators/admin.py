from django.contrib import admin

from .models import IndicatorValue


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin):
    """Eurostat's figures, to correct one by hand; whole refreshes come from
    `manage.py import_eurostat`."""

    list_display = ["nuts_code", "indicator", "year", "value", "flags", "nuts_version"]
    list_filter = ["indicator", "year", "nuts_version"]
    search_fields = ["nuts_code"]
    ordering = ["nuts_code", "indicator", "-year"]
