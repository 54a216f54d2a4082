"""Editors and Reviewers (practices 0008_curation_groups) curate a practice's
evidence grade and outcome figures with the practice, as they do its sources: they
may view, add, change and delete them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    f"{action}_{model}"
    for model in ("grade", "outcomefigure")
    for action in ("view", "add", "change", "delete")
]
GROUPS = ["Editors", "Reviewers"]


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("evidence")
    app_config.models_module = True  # create_permissions skips apps without
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    del app_config.models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="evidence", codename__in=CODENAMES
    )
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    using = schema_editor.connection.alias
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="evidence", codename__in=CODENAMES
    )
    for group in Group.objects.using(using).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0001_grades_and_outcome_figures"),
        ("practices", "0008_curation_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
