# Intake notices move to the mail outbox (mail.OutgoingEmail); pending ones go with them.

from django.db import migrations
from django.utils import timezone

KINDS = {"adviser": "intake.adviser", "reporter": "intake.reporter"}


def pending_to_mail(apps, schema_editor):
    IntakeNotice = apps.get_model("intake_public", "IntakeNotice")
    OutgoingEmail = apps.get_model("mail", "OutgoingEmail")
    now = timezone.now()
    OutgoingEmail.objects.bulk_create(
        [
            OutgoingEmail(
                kind=KINDS[notice.kind],
                key=f"{notice.contact_id}:{notice.pk}",
                recipient_id=notice.recipient_id,
                client_id=notice.client_id,
                params={"contact": str(notice.contact_id)},
                created_at=notice.created_at,
                next_attempt_at=now,
                attempts=notice.attempts,
                last_error=notice.last_error,
            )
            for notice in IntakeNotice.objects.filter(status="pending")
        ],
        ignore_conflicts=True,
    )
    # Check the copied rows' deferred foreign keys now: the schema changes below cannot run
    # with pending trigger events.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("intake_public", "0001_initial"),
        ("mail", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(pending_to_mail, migrations.RunPython.noop),
        migrations.DeleteModel(name="IntakeNotice"),
    ]
