"""The WSGI entry point the server imports: the app built from FILMLD_* settings."""

from filmld.web import create_app

application = create_app()
