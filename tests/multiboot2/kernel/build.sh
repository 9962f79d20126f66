#!/bin/sh
# Builds the Multiboot2 test kernel: build.sh OUT.elf (gcc, as and ld of the machine).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags="-ffreestanding -fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small -O2 -g -Wall -Werror"
gcc $cflags -c "$here/boot.S" -o "$tmp/boot.o"
gcc $cflags -c "$here/kernel.c" -o "$tmp/kernel.o"
ld -nostdlib -static --no-warn-rwx-segments -z max-page-size=0x1000 --build-id=none -T "$here/linker.ld" -o "$out" "$tmp/boot.o" "$tmp/kernel.o"
