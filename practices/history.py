"""Change history (django-simple-history) with many-to-many fields that may be
changed from either side.

simple-history records a version when a tracked m2m relation changes, but only
from the forward side (`practice.themes.add(theme)`); from the reverse side
(`theme.practices.add(practice)`) it fails with AttributeError (upstream issue
django-commons/django-simple-history#1048). Here the reverse side records a
version of each practice whose links changed instead.
"""

from simple_history.models import HistoricalRecords


class HistoricalRecordsWithReverseM2M(HistoricalRecords):
    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        if not reverse:
            super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
            return
        model = kwargs["model"]  # from the reverse side: the history's own model
        if action == "pre_clear":
            # post_clear gives no ids: note which rows are about to be unlinked.
            linked = model._base_manager.filter(**{attr: instance})
            instance._history_clearing = list(linked.values_list("pk", flat=True))
        elif action == "post_clear":
            pk_set = instance.__dict__.pop("_history_clearing", ())
        if action in ("post_add", "post_remove", "post_clear"):
            for changed in model._base_manager.filter(pk__in=pk_set or ()):
                super().m2m_changed(changed, action, attr, pk_set, False, **kwargs)
