from django.db import migrations

# The function lives in the tenant schema itself, so a schema is self-contained (export/import,
# cloning) and concurrent tenant migrations never fight over one shared function.
# One statement per string: Citus forwards each DDL string to the node holding the schema as a
# single command and refuses a string of several (docs/scaling.md).
APPEND_ONLY = [
    """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$
""",
    # On Citus the table is distributed (its schema lives on a worker), where triggers are refused
    # unless allowed. This one is safe there: it only raises, on the node that holds the row,
    # and touches no other table. On plain PostgreSQL the setting is an inert placeholder.
    "SET LOCAL citus.enable_unsafe_triggers = on",
    """
CREATE TRIGGER audit_accesslogentry_append_only
    BEFORE UPDATE OR DELETE ON audit_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
""",
    """
CREATE TRIGGER audit_accesslogentry_no_truncate
    BEFORE TRUNCATE ON audit_accesslogentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
""",
]

REMOVE = [
    "SET LOCAL citus.enable_unsafe_triggers = on",  # dropping one is refused too, as above
    "DROP TRIGGER IF EXISTS audit_accesslogentry_no_truncate ON audit_accesslogentry",
    "DROP TRIGGER IF EXISTS audit_accesslogentry_append_only ON audit_accesslogentry",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunSQL(APPEND_ONLY, REMOVE)]
