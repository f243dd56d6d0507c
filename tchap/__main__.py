"""`python -m tchap`: Bienvenue's Matrix account (started by scripts/run.sh when TCHAP_HOMESERVER is set).
`python -m tchap --check` only checks the TCHAP_* variables: run.sh calls it before starting anything."""

import os
import sys

from tchap.settings import Settings

if sys.argv[1:] == ["--check"]:
    problems = Settings.from_env(os.environ).problems
    if problems:
        sys.exit("[tchap] configuration incomplète : " + " ; ".join(problems))
    sys.exit(0)

import asyncio  # the client and matrix-nio are imported only to run

from tchap.client import main

asyncio.run(main())
