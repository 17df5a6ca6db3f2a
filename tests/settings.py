"""The studio's settings with the developer tools installed (some tests run the benchmarks and
the seeder) and a secret key; the processes the tests start inherit both variables."""

import os

os.environ["STUDIO_DEV_TOOLS"] = "true"
# A key of the tests' own (production settings refuse to start without one); the processes
# the tests start inherit it.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-" + "k" * 50)

from studio.settings import *  # noqa: E402, F403
