"""The two curation roles as groups (README, "Curation"):

- Editors write: they create and edit practices (with their sources), briefs (with
  their sections and featured practices) and projects, and submit them for review.
  Places and taxonomies are theirs to read and pick from.
- Reviewers have everything Editors have, and decide: publish, send back, archive
  (and unpublish / reinstate, which need the publish permission); they also keep
  the theme and instrument-type vocabularies and handle accessibility feedback.

Neither group deletes practices or briefs: published work is archived, so its
address keeps working; deleting is left to superusers. Both see the change history;
reverting is an edit, so it needs the change permission, which both have.

The permissions are created here first (they are otherwise created only after all
migrations ran). Running it again gives each group exactly these permissions;
reversing it removes the two groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = {
    "practices": [
        "view_practice",
        "add_practice",
        "change_practice",
        "submit_practice",
        "view_practicesource",
        "add_practicesource",
        "change_practicesource",
        "delete_practicesource",
        "view_project",
        "add_project",
        "change_project",
        "view_country",
        "view_region",
        "view_theme",
        "view_instrumenttype",
        "view_linkcheck",
    ],
    "briefs": [
        "view_brief",
        "add_brief",
        "change_brief",
        "submit_brief",
        "view_briefsection",
        "add_briefsection",
        "change_briefsection",
        "delete_briefsection",
        "view_featuredpractice",
        "add_featuredpractice",
        "change_featuredpractice",
        "delete_featuredpractice",
    ],
}

REVIEWERS_ALSO = {
    "practices": [
        "publish_practice",
        "send_back_practice",
        "archive_practice",
        "add_theme",
        "change_theme",
        "add_instrumenttype",
        "change_instrumenttype",
    ],
    "briefs": ["publish_brief", "send_back_brief", "archive_brief"],
    "accessibility": ["view_feedback", "change_feedback"],
}

GROUPS = {
    "Editors": EDITORS,
    "Reviewers": {
        app: EDITORS.get(app, []) + REVIEWERS_ALSO.get(app, [])
        for app in EDITORS.keys() | REVIEWERS_ALSO.keys()
    },
}


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    for label in ("practices", "briefs", "accessibility"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # create_permissions skips apps without
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        del app_config.models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames_by_app in GROUPS.items():
        permissions = [
            Permission.objects.using(using).get(
                content_type__app_label=app, codename=codename
            )
            for app, codenames in codenames_by_app.items()
            for codename in codenames
        ]
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    Group.objects.using(using).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accessibility", "0001_initial"),
        ("briefs", "0003_workflow_permissions"),
        ("practices", "0007_workflow_permissions"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
