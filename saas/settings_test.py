"""The test run's settings: the same settings module, with the testing flag set in the environment."""

import os

os.environ.setdefault("VERTROUWD_TESTING", "1")

from saas.settings import *  # noqa: F403
