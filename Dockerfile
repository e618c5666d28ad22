# The dialer image: every service in docker-compose.yml runs a `dialer` command from it.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dialer ./dialer
COPY campaigns ./campaigns
COPY workers ./workers
RUN pip install --no-cache-dir ".[monitoring]" && useradd --create-home dialer
USER dialer
ENTRYPOINT ["dialer"]
CMD ["--help"]
