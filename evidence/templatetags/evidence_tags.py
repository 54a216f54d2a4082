from django import template

from evidence.models import TOP_LEVEL, cost_per_firm, grade_of

register = template.Library()


@register.inclusion_tag("evidence/includes/badge.html")
def evidence_badge(practice):
    """A card's compact badge (needs the grade: Practice.for_listing reads it)."""
    return {"grade": grade_of(practice), "top_level": TOP_LEVEL}


@register.inclusion_tag("evidence/includes/practice_evidence.html")
def practice_evidence(practice):
    """A practice page's grade and figures (for_detail() loaded them)."""
    figures = list(practice.figures.all())
    return {
        "practice": practice,
        "grade": grade_of(practice),
        "top_level": TOP_LEVEL,
        "figures": figures,
        "costs": cost_per_firm(figures),
    }
