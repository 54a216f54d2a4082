"""A featured practice's section belongs to the same brief: a guarantee in the
database (a trigger; a CHECK constraint cannot look at another table), on top of
FeaturedPractice.clean() and the admin offering only the brief's own sections.
Moving a section to another brief under its featured practices is refused too."""

from django.db import migrations

NAME = "featuredpractice_section_in_brief"
WRONG = (
    "NEW.section_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM briefs_briefsection s "
    "WHERE s.id = NEW.section_id AND s.brief_id = NEW.brief_id)"
)
MOVED = (
    "EXISTS (SELECT 1 FROM briefs_featuredpractice f "
    "WHERE f.section_id = NEW.id AND f.brief_id <> NEW.brief_id)"
)

MESSAGE = f"{NAME}: a featured practice''s section must belong to its brief"


def plpgsql(function, condition):
    return f"""CREATE FUNCTION {function}() RETURNS trigger AS $$
    BEGIN
      IF {condition} THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql"""


POSTGRESQL = [
    plpgsql(NAME, WRONG),
    plpgsql(f"{NAME}_moved", MOVED),
    f"CREATE TRIGGER {NAME} BEFORE INSERT OR UPDATE ON briefs_featuredpractice "
    f"FOR EACH ROW EXECUTE FUNCTION {NAME}()",
    f"CREATE TRIGGER {NAME}_moved BEFORE UPDATE OF brief_id ON briefs_briefsection "
    f"FOR EACH ROW EXECUTE FUNCTION {NAME}_moved()",
]
POSTGRESQL_UNDO = [
    f"DROP TRIGGER IF EXISTS {NAME}_moved ON briefs_briefsection",
    f"DROP TRIGGER IF EXISTS {NAME} ON briefs_featuredpractice",
    f"DROP FUNCTION IF EXISTS {NAME}_moved()",
    f"DROP FUNCTION IF EXISTS {NAME}()",
]
RAISE = f"SELECT RAISE(ABORT, '{MESSAGE}')"
SQLITE = [
    f"CREATE TRIGGER {NAME}_insert BEFORE INSERT ON briefs_featuredpractice "
    f"WHEN {WRONG} BEGIN {RAISE}; END",
    f"CREATE TRIGGER {NAME}_update BEFORE UPDATE ON briefs_featuredpractice "
    f"WHEN {WRONG} BEGIN {RAISE}; END",
    f"CREATE TRIGGER {NAME}_moved BEFORE UPDATE OF brief_id ON briefs_briefsection "
    f"WHEN {MOVED} BEGIN {RAISE}; END",
]
SQLITE_UNDO = [
    f"DROP TRIGGER IF EXISTS {NAME}_{suffix}" for suffix in ("insert", "update", "moved")
]


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("briefs", "0004_original_brief_date")]

    operations = [
        migrations.RunPython(
            run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            run({"postgresql": POSTGRESQL_UNDO, "sqlite": SQLITE_UNDO}),
        )
    ]
