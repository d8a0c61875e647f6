#!/bin/bash
# SPDX-License-Identifier: MIT
# The images' HEALTHCHECK: GET http://127.0.0.1:PORT/PATH with bash's /dev/tcp and
# exit 0 on a 200. debian:12-slim has bash but no curl or wget; this needs no package
# and no binary of ours (Docker's --timeout bounds a peer that never answers).
# Usage: shopstream-healthcheck PORT [PATH]   (PATH defaults to /healthz)
port=${1:?usage: shopstream-healthcheck PORT [PATH]}
path=${2:-/healthz}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS=' ' read -r _ status _ <&3 || exit 1
[ "$status" = 200 ]
