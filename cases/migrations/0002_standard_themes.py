from django.db import migrations

# The standard themes of DOMAIN.md. Names are the English labels; pages show standard themes in
# the reader's language from cases.models.STANDARD_THEMES by code.
THEMES = [
    ("bullying", "Bullying"),
    ("sexual_harassment", "Sexual harassment"),
    ("aggression_violence", "Aggression and violence"),
    ("threats", "Threats"),
    ("discrimination", "Discrimination"),
    ("intimidation", "Intimidation"),
    ("work_pressure", "Work pressure and stress"),
    ("conflict", "Conflict"),
    ("integrity", "Integrity (abuse of power, theft, corruption, extortion)"),
    ("other", "Other"),
]


def add_themes(apps, schema_editor):
    Theme = apps.get_model("cases", "Theme")
    for position, (code, name) in enumerate(THEMES, start=1):
        Theme.objects.update_or_create(
            code=code, defaults={"name": name, "is_standard": True, "position": position * 10}
        )


def remove_themes(apps, schema_editor):
    Theme = apps.get_model("cases", "Theme")
    Theme.objects.filter(code__in=[code for code, _name in THEMES], is_standard=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(add_themes, remove_themes)]
