# The sparring and intake outboxes' sweepers are gone (mail.tasks.email_sweep sends for both).
# The database beat scheduler installs entries from CELERY_BEAT_SCHEDULE but never removes
# them, so without this it would keep queueing tasks that no longer exist.

from django.db import migrations
from django.utils import timezone

RETIRED = ["sparring.tasks.outbox_sweep", "intake.tasks.notice_sweep"]


def retire(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(task__in=RETIRED).delete()[0]:
        # Tell a running beat to read its schedule again (what the model's signals would do).
        PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(retire, migrations.RunPython.noop)]
