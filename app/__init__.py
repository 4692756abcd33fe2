"""nnplay's web server: ``create_app(settings)`` in app.main, the ``nnplay`` command in app.cli."""
