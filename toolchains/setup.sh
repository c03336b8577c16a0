#!/usr/bin/env bash
# Set up everything edgec needs on a Debian machine, idempotently:
#   1. the Arm cross toolchain and QEMU (toolchains/install.sh),
#   2. a virtual environment .venv/ at the top of the checkout with edgec and its test tools.
# Re-running it only installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

bash "$here/install.sh"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: edgec needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  if ! "$python" -m venv "$root/.venv" 2>/dev/null; then
    # Debian splits venv out of the interpreter package.
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    rm -rf "$root/.venv"
    "$python" -m venv "$root/.venv"
  fi
fi
"$root/.venv/bin/python" -m pip install --quiet --upgrade pip
"$root/.venv/bin/python" -m pip install --quiet "$root[test]"
echo "setup: edgec $("$root/.venv/bin/edgec" --version | cut -d' ' -f2) installed in $root/.venv"
