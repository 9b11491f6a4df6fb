# The RTMS connector as a container: docs/operations.md explains how to run it (compose.yaml
# runs three replicas behind nginx with Redis). Configuration is the ZM_RTMS_* environment
# (docs/configuration.md); secrets come from the environment, never from the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid/gid so that a mounted output volume can be prepared for it on the host.
RUN groupadd --system --gid 10001 rtms \
    && useradd --system --uid 10001 --gid rtms --home-dir /home/rtms --create-home --shell /usr/sbin/nologin rtms

# Only the connector package goes into the image (.dockerignore lets nothing else in).
WORKDIR /tmp/src
COPY pyproject.toml README.md ./
COPY connector ./connector
RUN pip install . \
    && cd / && rm -rf /tmp/src

RUN mkdir -p /data/rtms-output && chown -R rtms:rtms /data
WORKDIR /data
USER rtms:rtms

# Listen on every interface of the container (the connector's own default is 127.0.0.1),
# write under the volume, log JSON lines for the log collector.
ENV ZM_RTMS_HOST=0.0.0.0 \
    ZM_RTMS_PORT=8080 \
    ZM_RTMS_OUTPUT=/data/rtms-output \
    ZM_RTMS_LOG_FORMAT=json
VOLUME ["/data/rtms-output"]
EXPOSE 8080

# Liveness: /healthz answers 200 while the event loop turns; urlopen raises (exit 1) on
# anything else, including a timeout when the loop is blocked.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ZM_RTMS_PORT', '8080'), timeout=2)"]

# SIGTERM starts the graceful shutdown (docs/operations.md); give it time to finish:
# docker stop -t / compose stop_grace_period / Kubernetes terminationGracePeriodSeconds.
STOPSIGNAL SIGTERM
CMD ["rtms-connector"]
