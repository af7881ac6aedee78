"""Imported from botsedi.pth at interpreter start: puts the Bots environment dir on sys.path.

Bots imports its config dir and usersys as Python modules (`config.settings`, `usersys.grammars...`), so
/home/bots/.bots/env/$BOTSENV must be importable for every process of the image, also for
`kubectl exec ... bots-engine` or `bots-job2queue bots-engine`, which never pass through the entrypoint.
"""

import sys

from botsedi.paths import ENV_DIR

if ENV_DIR not in sys.path:
    sys.path.append(ENV_DIR)
