"""Both curation groups (practices 0008_curation_groups) edit a brief's
recommendations and the practices that illustrate them, as they edit its sections
and featured practices. Reversing it takes the permissions away again."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    f"{action}_{model}"
    for model in ("recommendation", "recommendationpractice")
    for action in ("view", "add", "change", "delete")
]
GROUPS = ["Editors", "Reviewers"]


def _permissions(apps, using):
    app_config = apps.get_app_config("briefs")
    app_config.models_module = True  # create_permissions skips apps without
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    del app_config.models_module
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.using(using).filter(
        content_type__app_label="briefs", codename__in=CODENAMES
    )


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    permissions = list(_permissions(apps, using))
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    permissions = list(_permissions(apps, using))
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("briefs", "0010_recommendations"),
        ("practices", "0008_curation_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
