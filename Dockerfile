# Pitboss web image. The Celery worker and beat run from the same image with another command:
#   docker run IMAGE celery -A backoffice worker -Q default,compliance,reports
#   docker run IMAGE celery -A backoffice beat
# Docker does not run on the development machines; this file is kept conventional (see docs/DEPLOYMENT.md).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=backoffice.settings.production

WORKDIR /app
RUN useradd --system --uid 10001 --home /app pitboss

# WeasyPrint (the reports' PDF summaries) needs Pango and a font (the Makefile's pdflibs does the same locally).
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Runtime requirements only: everything above the development marker in requirements.txt.
COPY requirements.txt /tmp/requirements.txt
RUN sed '/^# --- development/,$d' /tmp/requirements.txt > /tmp/runtime.txt \
    && pip install --no-deps -r /tmp/runtime.txt \
    && pip check \
    && rm /tmp/requirements.txt /tmp/runtime.txt

COPY --chown=pitboss:pitboss manage.py ./
COPY --chown=pitboss:pitboss backoffice ./backoffice
COPY --chown=pitboss:pitboss apps ./apps
COPY --chown=pitboss:pitboss templates ./templates
COPY --chown=pitboss:pitboss static ./static

# collectstatic needs settings to import; these values exist only for this build step.
RUN SECRET_KEY=build-only IDENTITY_HASH_KEY=build-only AUDIT_HMAC_KEY=build-only-never-a-real-audit-key-0000 \
    METRICS_TOKEN=build-only ALLOWED_HOSTS=build DEMO_TOOLS=0 python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R pitboss:pitboss /app/var

USER pitboss
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["gunicorn", "backoffice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
