from django.db import migrations

# Like the access log of each client schema (audit/migrations/0002): the trail is history, and
# not even a bug or a compromised admin session in the application may rewrite it.
APPEND_ONLY = """
CREATE FUNCTION tenants_trail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER tenants_trailentry_append_only
    BEFORE UPDATE OR DELETE ON tenants_trailentry
    FOR EACH ROW EXECUTE FUNCTION tenants_trail_refuse_change();
CREATE TRIGGER tenants_trailentry_no_truncate
    BEFORE TRUNCATE ON tenants_trailentry
    FOR EACH STATEMENT EXECUTE FUNCTION tenants_trail_refuse_change();
"""

REMOVE = """
DROP TRIGGER IF EXISTS tenants_trailentry_no_truncate ON tenants_trailentry;
DROP TRIGGER IF EXISTS tenants_trailentry_append_only ON tenants_trailentry;
DROP FUNCTION IF EXISTS tenants_trail_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0007_insider_trust")]
    operations = [migrations.RunSQL(APPEND_ONLY, REMOVE)]
