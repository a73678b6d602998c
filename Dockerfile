# Mirrors the README's install: a non-editable install of the package, nothing by hand.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY src ./src
COPY templates ./templates
COPY widgets ./widgets
COPY alembic ./alembic
RUN pip install --no-cache-dir . && useradd --create-home resume \
    && mkdir /data && chown resume /data
USER resume
# The SQLite database, kept mail and (if RESUME_SECRET_KEYS is unset) the generated signing key
# live here: mount a volume, or every redeploy breaks the emailed links and loses the drafts.
# In production set RESUME_SECRET_KEYS, RESUME_BASE_URL and RESUME_SMTP_URL.
VOLUME ["/data"]
WORKDIR /data
ENV RESUME_DATABASE_URL=sqlite+aiosqlite:////data/resume.db
EXPOSE 8000
CMD ["resume", "serve", "--host", "0.0.0.0", "--port", "8000"]
