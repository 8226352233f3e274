import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_full = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after setup)

from kabinet.core.machine_requests import MachineRequestsDispatch, MachineRequestsHandler  # noqa: E402

# Machine-to-machine paths skip the browser's middleware (kabinet/core/machine_requests.py).
application = MachineRequestsDispatch(_full, MachineRequestsHandler(), settings.MACHINE_PATH_PREFIXES)
