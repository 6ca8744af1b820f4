from django.core.wsgi import get_wsgi_application

from config.environment import use_environment_settings

use_environment_settings()
application = get_wsgi_application()
