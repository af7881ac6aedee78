"""Django settings of the Bots EDI deployment (ConfigMap bots-config-settings, mounted at /etc/bots).

Everything is in the image's botsedi.settings; database and secret key come from the Secret
bots-edidb-secret (DB_NAME, DB_USER, DB_PASSWORD, DB_HOST, DB_PORT, DJANGO_SECRET_KEY).
Override site settings below.
"""

from botsedi.settings import *  # noqa: F401,F403

TIME_ZONE = "UTC"  # must match the database server's clock (Bots stores naive local times)
