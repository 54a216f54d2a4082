from django import template

register = template.Library()


@register.filter
def figure(value):
    """A Decimal as the source gives it, with thousands grouped: 2,149,805; 3.5."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"
