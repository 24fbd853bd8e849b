FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango and fonts; poppler-utils is not needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
# With the s3 extra, so AWS_STORAGE_BUCKET_NAME can move uploads to S3.
RUN pip install --no-cache-dir ".[s3]"
COPY . .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "caisi_portal.wsgi:application", "--bind", "0.0.0.0:8000"]
