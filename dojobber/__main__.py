"""``python -m dojobber``: the same command line as the ``dojobber`` script."""

import sys

from .cli import main

sys.exit(main())
