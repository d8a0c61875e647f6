#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds everything into $SHOPSTREAM_BUILD_DIR with warnings as errors.
# Extra arguments go to cmake's configure step (e.g. -DSHOPSTREAM_SANITIZE=address,undefined).
set -euo pipefail
. "$(dirname "$0")/env.sh"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
[ -f "$SHOPSTREAM_BUILD_DIR/CMakeCache.txt" ] && gen=()
cmake -S "$SHOPSTREAM_REPO" -B "$SHOPSTREAM_BUILD_DIR" "${gen[@]}" -DSHOPSTREAM_WERROR=ON "$@" >/dev/null
cmake --build "$SHOPSTREAM_BUILD_DIR" -j "$(nproc)"
