"""Will it fit here? A practice's region and the reader's side by side on the same
Eurostat figures. The reader names a NUTS 2 region by code or name (`?fit=` on the
practice page, so the comparison can be shared)."""

from dataclasses import dataclass, field

from django.db.models import Q

from practices.models import Region

from .context import COUNTRY_CONTEXT, REGION_CONTEXT, figures_of

MAX_ASKED = 100  # characters: longer is not a region's name
MAX_CANDIDATES = 10


@dataclass
class Fit:
    asked: str
    yours: Region = None
    error: str = ""
    candidates: list = field(default_factory=list)  # when a name fits several
    places: list = field(default_factory=list)  # [the practice's, yours] Figures
    rows: list = field(default_factory=list)  # (Indicator, its value, yours)
    national: bool = False  # compared country with country


def find_region(asked):
    """(the NUTS 2 region meant, [candidates], error): a code in either case (a
    NUTS 3 unit's stands for its NUTS 2 region), or a part of a name."""
    text = " ".join(asked.split())
    if not text:
        return None, [], "Type your region's name or its NUTS 2 code, e.g. DE92."
    if len(text) > MAX_ASKED:
        return None, [], f"A region's name is at most {MAX_ASKED} characters."
    regions = Region.objects.select_related("country")
    region = regions.filter(code=text.upper()).first()
    if region is not None and region.level == 2:
        return region, [], ""
    if region is not None and region.level == 3:
        return regions.get(code=region.code[:4]), [], ""
    if region is not None:  # NUTS 1: one of the regions inside it
        inside = list(regions.filter(level=2, code__startswith=region.code))
        return None, inside, f"{region.label} is a NUTS 1 region: pick one inside it."
    named = regions.filter(level=2).filter(
        Q(name__icontains=text) | Q(name_en__icontains=text)
    )
    found = list(named.order_by("code")[: MAX_CANDIDATES + 1])
    if len(found) == 1:
        return found[0], [], ""
    if found:
        return None, found[:MAX_CANDIDATES], f"Several NUTS 2 regions match “{text}”."
    return None, [], f"No NUTS 2 region is called or coded “{text}”."


def practice_place(practice):
    """The NUTS 2 region a practice names (the first; a NUTS 3 unit's region), or
    None when it names none (national practices, or NUTS 1 regions only)."""
    for region in practice.regions.all():
        if region.level >= 2:
            return region.code[:4], region.label if region.level == 2 else None
    return None, None


def fit_check(practice, asked):
    fit = Fit(asked=asked)
    fit.yours, fit.candidates, fit.error = find_region(asked)
    if fit.yours is None:
        return fit
    code, label = practice_place(practice)
    if code is not None:
        if label is None:
            label = Region.objects.get(code=code).label
        places = [(code, label, REGION_CONTEXT)]
        places.append((fit.yours.code, fit.yours.label, REGION_CONTEXT))
    else:
        country = next(iter(practice.countries.all()), None)
        if country is None:
            fit.error = "This practice's place is not recorded: nothing to compare."
            return fit
        fit.national = True
        yours = fit.yours.country
        places = [(country.nuts_code, country.name, COUNTRY_CONTEXT)]
        places.append((yours.nuts_code, yours.name, COUNTRY_CONTEXT))
    fit.places = figures_of(places)
    theirs, mine = fit.places
    fit.rows = [
        (indicator, their_value, my_value)
        for (_, indicator, their_value), (_, _, my_value) in zip(
            theirs.rows, mine.rows, strict=True
        )
    ]
    return fit
