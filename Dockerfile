# Mirrors the README's install: a non-editable install of the package, nothing by hand.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY src ./src
COPY templates ./templates
COPY widgets ./widgets
COPY alembic ./alembic
RUN pip install --no-cache-dir . && useradd --create-home resume
USER resume
WORKDIR /home/resume
ENV RESUME_DATABASE_URL=sqlite+aiosqlite:////home/resume/resume.db
EXPOSE 8000
CMD ["resume", "serve", "--host", "0.0.0.0", "--port", "8000"]
