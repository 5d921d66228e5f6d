"""`python -m bot.cli`: the `policybot` command."""

import sys

from bot.cli.main import main

sys.exit(main())
