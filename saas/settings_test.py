"""The test run's settings: the same settings module, with the testing flag set in the environment."""

import os

os.environ.setdefault("VERTROUWD_TESTING", "1")
# No ready schemas made behind the tests' backs (a refill after every committed creation);
# tests/test_tenants_schema_pool.py turns the pool on where it tests it.
os.environ.setdefault("SCHEMA_POOL_SIZE", "0")
# Against a Citus coordinator (tests/citus.py): the whole run uses it instead of DATABASE_URL.
# Taken out of the environment, so that a process a test starts with a DATABASE_URL of its
# own (another database) is not sent to the coordinator too.
_citus_url = os.environ.pop("CITUS_URL", "")
if _citus_url:
    os.environ["DATABASE_URL"] = _citus_url

from saas.settings import *  # noqa: E402, F403

CITUS_URL = _citus_url
