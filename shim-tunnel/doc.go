// Package shimtunnel is the slasa tunneling shim: a small HTTP service on loopback that the enclave host calls
// to fetch a log batch from the local IPFS (kubo) node by CID, and nothing else.
//
// # Endpoints
//
//	GET /v1/batches/{cid}  the raw bytes of the CIDv1 batch (application/octet-stream)
//	GET /healthz           200 {"status":"ok",...} when kubo answers, else 503 {"status":"degraded","reasons":[...],...}
//	GET /metrics           Prometheus text format (github.com/prometheus/client_golang, per-server registry)
//
// Every other path or method is answered with a JSON error. Errors have the body
// {"error": "...", "kind": "...", "retryable": bool}: 400 bad_request (CID syntax), 404 not_found (kubo does not
// hold the content), 413 too_large (over the size limit), 502 upstream (kubo refused the request or served
// inconsistent data), 503 unavailable (kubo unreachable or timing out after the retries; retryable is true and a
// Retry-After header is set).
//
// # Trust
//
// The shim is UNTRUSTED by design. It runs outside the enclave, next to an IPFS node that may be faulty or
// compromised, and a proxy between them may lie. Nothing it returns is believed by the enclave: the enclave
// recomputes the CID of the returned bytes with package github.com/slasa/slasa/ipfs/cidverify (see
// shimclient.Client.FetchVerified) and rejects any mismatch. The shim's own checks (CID syntax, size limit,
// optional block-by-block verification with the "blocks" backend) only make failures earlier and clearer.
package shimtunnel
