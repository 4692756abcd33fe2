# nnplay in one container: docker build -t nnplay . && docker run -p 8000:8000 nnplay
ARG BASE=python:3.12-slim
FROM ${BASE}

ENV PYTHONUNBUFFERED=1

WORKDIR /app

# Runtime dependencies first, read from pyproject.toml alone (no test extras), so this layer is
# rebuilt only when pyproject.toml changes, not on every code edit.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && python -m pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
        -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The app user, and the volume that holds its MNIST cache and saved models.
RUN groupadd --system --gid 10001 nnplay \
 && useradd --system --uid 10001 --gid nnplay --no-log-init --create-home --home-dir /home/nnplay nnplay \
 && mkdir -p /data/mnist /data/models \
 && chown -R nnplay:nnplay /data

# The code, the page assets and the pretrained digit model, owned by root. COPY keeps the checkout's
# file modes (a model file written 0600 would be unreadable to the app user), hence the chmod.
COPY engine/ engine/
COPY app/ app/
COPY static/ static/
COPY templates/ templates/
RUN chmod -R a+rX /app

ENV NNPLAY_HOST=0.0.0.0 \
    PORT=8000 \
    NNPLAY_DATA_DIR=/data/mnist \
    NNPLAY_MODELS_DIR=/data/models
VOLUME /data
USER 10001:10001
EXPOSE 8000

# No proxy for the check itself, even when the container inherits HTTP_PROXY from Docker's config.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]

# Exec form: python is PID 1 and gets docker stop's SIGTERM itself; uvicorn shuts down on it.
CMD ["python", "-m", "app", "serve"]
