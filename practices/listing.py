"""Which practices a list query string selects, in which order.

One code path for every surface that takes the list page's filters: the HTML list,
the CSV and JSON exports and the Atom feed. So an export or a feed holds exactly
the practices the list shows for the same query string, by construction.
"""

from dataclasses import dataclass, field

from .facets import OVERDUE_LAST, current_index, selections_from
from .filters import PracticeFilterSet
from .models import Practice
from .search import search

SORT_LABELS = {
    "relevance": "Relevance",
    "title": "Title (A–Z)",
    "newest": "Newest in the catalogue",
    "start": "Start year (latest first)",
}


@dataclass
class Listing:
    filterset: PracticeFilterSet
    query: str = ""  # the validated search text
    sort: str = "title"  # a key of SORT_LABELS
    # Practice ids in order (facets.Results: a length and slices); empty if invalid.
    ids: object = field(default_factory=list)
    index: object = None  # the facet index the ids come from (None if invalid)
    selections: dict = field(default_factory=dict)
    text_mask: int = 0

    @property
    def valid(self):
        return not self.filterset.is_bound or self.filterset.is_valid()

    @property
    def errors(self):
        """["Label: message", ...] for each invalid filter value."""
        return [
            f"{bound.label}: {error}"
            for bound in self.filterset.form
            for error in bound.errors
        ]

    @property
    def filters(self):
        """{name: value(s)} of the filters in effect (validated, non-empty)."""
        if not self.filterset.is_bound or not self.valid:
            return {}
        return {
            name: value
            for name, value in self.filterset.form.cleaned_data.items()
            if value not in (None, "", [])
        }


def list_practices(data, sort=None):
    """The published practices the list's query string `data` (a QueryDict)
    selects. `sort` overrides the query string's own `sort`."""
    filterset = PracticeFilterSet(data or None, queryset=Practice.objects.published())
    listing = Listing(filterset=filterset)
    if not listing.valid:
        return listing
    cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
    listing.query = (cleaned.get("q") or "").strip()
    wanted = sort or (data.get("sort", "") if data else "")
    listing.sort = pick_sort(wanted, listing.query)
    index = current_index()
    text_mask, ranked = index.all, None
    if listing.query:
        ranked = list(
            search(Practice.objects.published(), listing.query)
            .order_by("-rank", OVERDUE_LAST, "title", "pk")
            .values_list("pk", flat=True)
        )
        text_mask = index.mask_of_ids(ranked)
    selections = selections_from(cleaned)
    matching = index.matching(selections, text_mask)
    order = ranked if listing.sort == "relevance" else listing.sort
    listing.ids = index.results(matching, order)
    listing.index, listing.selections, listing.text_mask = index, selections, text_mask
    return listing


def pick_sort(wanted, query):
    """The requested order if known (relevance needs a search), else the default."""
    if wanted in SORT_LABELS and (wanted != "relevance" or query):
        return wanted
    return "relevance" if query else "title"
