# The kg image: `kg schedule` (inbox -> graph), `kg explore` (web page) and `kg serve` (live service) in compose.yaml.
# Builds from this repository alone: docker build -t kg:local .
# Stage 1 installs kg and its dependencies (CPU build of torch) into a virtual environment;
# stage 2 copies only that environment into a slim image that runs as a non-root user.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/kg
ENV PATH=/opt/kg/bin:$PATH
# torch first, from PyTorch's CPU index, at the version constraints-cpu.txt pins (no CUDA wheels)
COPY constraints-cpu.txt ./
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
        "$(grep -E '^torch==' constraints-cpu.txt)"
COPY pyproject.toml README.md ./
COPY kg ./kg
COPY ingest ./ingest
COPY embeddings ./embeddings
COPY cypher ./cypher
# the extras the two services use: kg schedule ingests events, products and reviews (any language) and keeps
# profiles current (profiles pulls embeddings: torch, PyKEEN); kg explore serves the web page; kg serve the API
RUN pip install --no-cache-dir --constraint constraints-cpu.txt ".[reviews,languages,profiles,explore,serve]" \
    && kg --version

FROM python:3.11-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="kg" \
      org.opencontainers.image.description="User-interest knowledge graphs for shops: scheduled ingest and the graph explorer" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 kg \
    && useradd --system --uid 10001 --gid kg --home-dir /home/kg --create-home --shell /usr/sbin/nologin kg \
    && mkdir -p /data/inbox /data/kg \
    && chown -R kg:kg /data
COPY --from=build /opt/kg /opt/kg
ENV PATH=/opt/kg/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    KG_HOME=/data/kg
USER 10001:10001
WORKDIR /home/kg
VOLUME ["/data/inbox", "/data/kg"]
EXPOSE 7475
ENTRYPOINT ["kg"]
CMD ["--help"]
