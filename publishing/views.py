from django.http import Http404

from .workflow import Status, perm


class StaffPreviewMixin:
    """A record of any status on its public template, under a "Preview" banner,
    for staff who may view it in the admin. Everyone else gets a 404, not a
    redirect to the login page, which would say that the record exists."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_staff and user.has_perm(perm(self.model, "view"))):
            raise Http404("Previews are for staff.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        record = self.object
        reachable = self.model.objects.reachable().filter(pk=record.pk).exists()
        scheduled = record.status == Status.PUBLISHED and not reachable
        preview = {"reachable": reachable, "scheduled": scheduled}
        return super().get_context_data(preview=preview, **kwargs)
