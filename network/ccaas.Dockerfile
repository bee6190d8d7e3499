# Container image for running one of this repository's chaincodes as a service (CCaaS) on a Docker-based
# Fabric network such as fabric-samples' test-network. Build from the repository root:
#
#   docker build -f network/ccaas.Dockerfile --build-arg CC_DIR=test/chaincode/smoke -t smoke_ccaas_image:latest .
#
# The chaincode reads CHAINCODE_ID (package ID) and CHAINCODE_SERVER_ADDRESS (listen address) at start.
# Not exercised by the project's tests (no Docker engine on the CI machines); see network/README.md.
FROM golang:1.26 AS build
ARG CC_DIR
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN test -n "$CC_DIR" && CGO_ENABLED=0 go build -trimpath -o /chaincode "./$CC_DIR"

FROM alpine:3.20
ARG CC_SERVER_PORT=9999
ENV CHAINCODE_SERVER_ADDRESS=0.0.0.0:${CC_SERVER_PORT}
COPY --from=build /chaincode /usr/local/bin/chaincode
USER 1000
EXPOSE ${CC_SERVER_PORT}
ENTRYPOINT ["/usr/local/bin/chaincode"]
