# The dialer image: every service in docker-compose.yml runs a `dialer` command from it.
# The base image is pinned to an exact version (docs/security.md: how to pin its digest too);
# every Python package comes from requirements.lock, checked against its hashes.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY workers ./workers
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && useradd --create-home dialer
USER dialer
ENTRYPOINT ["dialer"]
CMD ["--help"]
