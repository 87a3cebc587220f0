#!/bin/bash
# package.sh - build the Debian package: build-pkg/cistern_<version>_<arch>.deb
# (installs what building needs first, like tools/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake -S . -B build-pkg -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCISTERN_BUILD_TESTS=OFF >/dev/null
cmake --build build-pkg --target cistern
(cd build-pkg && cpack -G DEB >/dev/null)
ls -1 "$PWD"/build-pkg/cistern_*.deb
