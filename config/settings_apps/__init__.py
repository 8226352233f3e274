"""Per-domain settings blocks; each module belongs to one app so changes do not collide."""

from config.settings_apps.billing import *  # noqa: F403
from config.settings_apps.identity import *  # noqa: F403
from config.settings_apps.payments import *  # noqa: F403
from config.settings_apps.portal import *  # noqa: F403
from config.settings_apps.subscriptions import *  # noqa: F403
