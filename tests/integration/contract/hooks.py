# SPDX-License-Identifier: MIT
"""schemathesis hooks of the contract test (SCHEMATHESIS_HOOKS, run.sh).

schemathesis knows no serializer for application/x-protobuf, so it would skip that body of
POST /v1/events. Sent like application/octet-stream, the bytes it generates for the
document's `format: binary` schema go out as they are: the live edge's protobuf decoder is
fuzzed too (every answer must still conform: 400 problems for what does not decode).
"""
import schemathesis

schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")
