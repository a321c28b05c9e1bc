# The Dockyard controller image (deploy/kubernetes/deployment.yaml runs it):
#   docker build -t dockyard/controller:0.1.0 .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git serves pushes (receive-pack) for the builder.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /src

# A fixed, unprivileged uid, matching runAsUser in the Deployment.
RUN groupadd --system --gid 10001 dockyard \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/dockyard --create-home dockyard

USER 10001:10001
WORKDIR /var/lib/dockyard
ENV DOCKYARD_DATA_DIR=/var/lib/dockyard \
    DOCKYARD_HOST=0.0.0.0 \
    DOCKYARD_PORT=8000
EXPOSE 8000

CMD ["dockyard", "server", "--host", "0.0.0.0"]
