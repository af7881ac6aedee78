"""Site settings of one Bots environment. Database and secret key come from the environment."""

from botsedi.settings import *  # noqa: F401,F403
