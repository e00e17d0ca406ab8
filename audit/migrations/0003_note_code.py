from django.db import migrations, models

# New columns only: the table is append-only (migration 0002), so rows written before keep an
# empty code and are read by their phrase (audit.labels.note_label); ADD COLUMN rewrites no row
# and fires no row trigger.


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="note",
            field=models.CharField(blank=True, db_default="", default="", max_length=60),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="note_params",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
