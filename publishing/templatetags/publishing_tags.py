from django import template
from django.contrib import admin

from publishing.admin import WorkflowAdmin

register = template.Library()


@register.inclusion_tag("admin/workflow/work_queue.html", takes_context=True)
def work_queue(context):
    """The admin index's work queue: for each workflow model in the user's app
    list (so only those they may view), its queues with counts and links."""
    request = context["request"]
    queues = []
    for app in context.get("app_list", []):
        for model in app["models"]:
            model_admin = admin.site.get_model_admin(model["model"])
            if isinstance(model_admin, WorkflowAdmin):
                queues.append((model["name"], model_admin.work_queue(request)))
    return {"queues": queues}
