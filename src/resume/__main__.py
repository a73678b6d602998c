"""`python -m resume` is the `resume` command."""

import sys

from resume.cli import main

sys.exit(main())
