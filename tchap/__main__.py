"""`python -m tchap`: Bienvenue's Matrix account (run by scripts/run.sh when TCHAP_* variables are set)."""

import asyncio

from tchap.client import main

asyncio.run(main())
