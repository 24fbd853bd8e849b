FROM python:3.11-slim-bookworm
WORKDIR /app
# WeasyPrint's system libraries and fonts: the "run" set of system-packages.txt
# (the "test" set is for the tests only).
COPY system-packages.txt ./
COPY scripts/provision scripts/
RUN scripts/provision run && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md constraints.txt ./
# With the s3 extra, so AWS_STORAGE_BUCKET_NAME can move uploads to S3.
RUN pip install --no-cache-dir -c constraints.txt ".[s3]"
COPY . .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "caisi_portal.wsgi:application", "--bind", "0.0.0.0:8000"]
