"""``python -m connector``: the same as the ``rtms-connector`` console script."""

import sys

from .cli import main

sys.exit(main())
