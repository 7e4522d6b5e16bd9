# evacase: a slim, non-root image. Needs DATABASE_URL (no embedded PostgreSQL in the image) and a configured
# EVACASE_JWT_SECRET or EVACASE_JWT_PUBLIC_KEY for anything but a try-out. See README, "Deployment".
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md schema.sql ./
COPY evacase ./evacase
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/evacase-*.whl

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/evacase --create-home evacase
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheels evacase && rm -rf /tmp/wheels
USER 10001:10001
ENV EVACASE_HOME=/var/lib/evacase \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/lib/evacase
EXPOSE 8000
# Readiness: the database answers and holds this version's schema (README, "Operating it").
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
CMD ["evacase", "serve", "--host", "0.0.0.0", "--port", "8000"]
