from django import template
from django.urls import reverse

from opendata.views import filter_query, with_query

register = template.Library()


@register.simple_tag(takes_context=True)
def filtered_url(context, url_name):
    """The URL `url_name` with the current list's filters, search and sort (its
    query string without the paging): built from request.GET, no query."""
    return with_query(reverse(url_name), filter_query(context["request"].GET))
