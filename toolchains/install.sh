#!/usr/bin/env bash
# Install what edgec needs to build and run generated C: the Arm bare-metal GCC with newlib,
# QEMU's Arm system emulator, the RISC-V bare-metal GCC with picolibc and QEMU's RISC-V emulator
# (Debian's qemu-system-misc), make, cmake and the host gcc (Debian/Ubuntu, apt).
#
# Idempotent: checks each piece first; runs `apt-get update` and `apt-get install` only when
# something is missing. As root it runs apt-get directly, otherwise through sudo.
#   bash toolchains/install.sh          install what is missing
#   bash toolchains/install.sh --check  only report; exit 1 if something is missing
set -euo pipefail

check_only=0
if [[ "${1:-}" == "--check" ]]; then
    check_only=1
fi

missing=()

have_cmd() { command -v "$1" >/dev/null 2>&1; }

# newlib for arm-none-eabi: the rdimon (semihosting) specs file must be found by the compiler.
have_newlib() {
    have_cmd arm-none-eabi-gcc || return 1
    local specs
    specs="$(arm-none-eabi-gcc -print-file-name=rdimon.specs 2>/dev/null)" || return 1
    [[ "$specs" == /* && -f "$specs" ]]
}

# picolibc for riscv64-unknown-elf (it serves rv32 too): its specs file must be found by the compiler.
have_picolibc() {
    have_cmd riscv64-unknown-elf-gcc || return 1
    local specs
    specs="$(riscv64-unknown-elf-gcc -print-file-name=picolibc.specs 2>/dev/null)" || return 1
    [[ "$specs" == /* && -f "$specs" ]]
}

have_cmd arm-none-eabi-gcc || missing+=(gcc-arm-none-eabi)
have_newlib || missing+=(libnewlib-arm-none-eabi)
have_cmd qemu-system-arm || missing+=(qemu-system-arm)
have_cmd riscv64-unknown-elf-gcc || missing+=(gcc-riscv64-unknown-elf)
have_picolibc || missing+=(picolibc-riscv64-unknown-elf)
have_cmd qemu-system-riscv32 || missing+=(qemu-system-misc)
have_cmd make || missing+=(make)
have_cmd cmake || missing+=(cmake)
have_cmd gcc || missing+=(gcc)

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "edgec toolchain: all present ($(arm-none-eabi-gcc -dumpversion 2>/dev/null | head -n1) arm-none-eabi-gcc," \
         "$(riscv64-unknown-elf-gcc -dumpversion 2>/dev/null | head -n1) riscv64-unknown-elf-gcc," \
         "$(qemu-system-arm --version | head -n1))"
    exit 0
fi

echo "edgec toolchain: missing packages: ${missing[*]}"
if [[ $check_only -eq 1 ]]; then
    exit 1
fi

if ! have_cmd apt-get; then
    echo "apt-get not found: install these with your system's package manager: ${missing[*]}" >&2
    exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif have_cmd sudo; then
    as_root=(sudo)
else
    echo "not root and sudo not found: run as root, or install: ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
echo "edgec toolchain: installed ${missing[*]}"
