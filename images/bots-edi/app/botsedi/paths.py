"""Where everything lives, from the environment: one place so entrypoint, manage.py and health agree."""

import os

BOTS_HOME = os.environ.get("BOTS_HOME", "/home/bots/.bots")
BOTSENV = os.environ.get("BOTSENV") or "production"
ENV_DIR = os.path.join(BOTS_HOME, "env", BOTSENV)
CONFIG_DIR = os.path.join(ENV_DIR, "config")
USERSYS_DIR = os.path.join(ENV_DIR, "usersys")
# botssys sits directly under BOTS_HOME so the runbook's paths (/home/bots/.bots/botssys/data) are real.
BOTSSYS_DIR = os.environ.get("BOTS_BOTSSYS", os.path.join(BOTS_HOME, "botssys"))
# mounted ConfigMaps (bots.ini, settings.py); the image's defaults are used for a file that is not there
CONFIG_SOURCE_DIR = os.environ.get("BOTS_CONFIG_SOURCE", "/etc/bots")
APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "defaults")
USERSYS_SEED_DIR = os.environ.get("BOTS_USERSYS_SEED", "/opt/bots/usersys")
STATIC_ROOT = os.environ.get("BOTS_STATIC_ROOT", "/opt/bots/static")

# the route of this image (usersys/ and botsedi/seed.py); files go to botssys/{infile,outfile}/ROUTE_ID
ROUTE_ID = "edifact_orders"

# the Bots tables the startup check wants before the app counts as started
REQUIRED_TABLES = ("channel", "routes", "ta", "mutex")
