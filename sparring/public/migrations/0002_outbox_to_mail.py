# Sparring's e-mails move to the mail outbox (mail.OutgoingEmail). Every row is copied with its
# id, so digest notices keep their e-mail and links in e-mails already sent keep forwarding.

import django.db.models.deletion
from django.db import migrations, models

KINDS = {"message": "sparring.message", "digest": "sparring.digest"}


def outbox_to_mail(apps, schema_editor):
    OutboxEmail = apps.get_model("sparring_public", "OutboxEmail")
    OutgoingEmail = apps.get_model("mail", "OutgoingEmail")
    OutgoingEmail.objects.bulk_create(
        [
            OutgoingEmail(
                id=row.id,
                kind=KINDS[row.kind],
                key=f"moved:{row.id}",
                recipient_id=row.recipient_id,
                client_id=row.client_id,
                params={"thread": str(row.thread_id)} if row.thread_id else {},
                status=row.status,
                created_at=row.created_at,
                next_attempt_at=row.next_attempt_at,
                attempts=row.attempts,
                last_error=row.last_error,
                sent_at=row.sent_at,
            )
            for row in OutboxEmail.objects.all().iterator()
        ],
        batch_size=1000,
    )
    # Check the copied rows' deferred foreign keys now: the schema changes below cannot run
    # with pending trigger events.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0001_initial"),
        ("sparring_public", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(outbox_to_mail, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="digestnotice",
            name="email",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="mail.outgoingemail",
            ),
        ),
        migrations.DeleteModel(name="OutboxEmail"),
    ]
