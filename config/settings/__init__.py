"""Settings by environment (cookiecutter-django's shape): base.py, then development.py, test.py or
production.py on top. config.environment.settings_module() picks one from DJANGO_ENV; unset means
production."""
