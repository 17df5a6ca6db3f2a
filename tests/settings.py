"""The studio's settings with the developer tools installed: some tests run the benchmarks
and the seeder, and the processes the tests start inherit the variable."""

import os

os.environ["STUDIO_DEV_TOOLS"] = "true"

from studio.settings import *  # noqa: E402, F403
