"""nnplay's web server: ``create_app(settings)`` in app.main, the ``nnplay`` command in app.cli."""

__version__ = "0.1.0"  # the one place the version is written: pyproject.toml, the CLI and the API read it
