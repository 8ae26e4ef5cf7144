"""`python -m bench run [--smoke] [--scenario NAME]`."""

import sys

from bench.run import main

sys.exit(main())
