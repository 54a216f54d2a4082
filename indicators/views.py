from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from practices.caching import public_page

from . import peers
from .models import INDICATORS


@method_decorator(public_page, name="dispatch")
class PeersMethodView(TemplateView):
    """How "regions like this one" are found, from the constants that find them."""

    template_name = "indicators/peers_method.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            measures=[(INDICATORS[m.indicator], m) for m in peers.MEASURES],
            peer_count=peers.PEERS,
            similar=peers.SIMILAR,
            min_shared=peers.MIN_SHARED,
            eu=sorted(peers.EU27),
            **kwargs,
        )
