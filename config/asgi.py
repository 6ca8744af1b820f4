from django.core.asgi import get_asgi_application

from config.environment import use_environment_settings

use_environment_settings()
application = get_asgi_application()
