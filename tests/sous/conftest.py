import io

import pytest

from sous import logs


@pytest.fixture
def log_stream():
    """configure(format): the root logger set up by sous.logs, as settings.LOGGING sets it up,
    writing onto a buffer the test reads."""
    from django.conf import settings

    def configure(log_format: str) -> io.StringIO:
        stream = io.StringIO()
        config = logs.config(log_format, "INFO")
        config["handlers"]["console"]["stream"] = stream
        logs.configure(config)
        return stream

    yield configure
    logs.configure(settings.LOGGING)
