# Shared set-up for the scripts: installs what is missing, idempotently.
# Sourced, not run. Works as root (apt-get) or with sudo; never prompts.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VENV="$ROOT/.venv"

_apt_updated=0
_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# ensure_apt PKG...: installs the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}" >&2
    if [ $_apt_updated = 0 ]; then
        _sudo apt-get update -qq >&2
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive _sudo apt-get install -y -qq "${missing[@]}" >&2
}

# ensure_kernel_toolchain: sets KERNEL_ROUTE, KERNEL_CARGO, KERNEL_RUSTC.
ensure_kernel_toolchain() {
    ensure_apt seabios  # kernel/build.rs takes the framebuffer console's font from its VGA ROM
    if command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-none; then
        KERNEL_ROUTE=rustup
        KERNEL_CARGO=$(rustup which cargo)
        KERNEL_RUSTC=$(rustup which rustc)
        return 0
    fi
    ensure_apt rustc-web cargo-web rust-web-src binutils
    KERNEL_ROUTE=debian
    KERNEL_CARGO=/usr/bin/cargo
    KERNEL_RUSTC=/usr/bin/rustc
}

# ensure_kernel_clippy: sets KERNEL_CLIPPY, a command that runs `cargo clippy` with the
# kernel toolchain (Debian's rust-web-clippy on the Debian route), or returns 1.
ensure_kernel_clippy() {
    ensure_kernel_toolchain
    if [ "$KERNEL_ROUTE" = rustup ]; then
        rustup component list --installed 2>/dev/null | grep -q '^clippy' || return 1
        KERNEL_CLIPPY="$KERNEL_CARGO clippy"
        return 0
    fi
    ensure_apt rust-web-clippy
    KERNEL_CLIPPY="/usr/bin/cargo-clippy clippy"
}

# kernel_cargo_args: the arguments after `cargo build` / `cargo clippy` for the kernel of
# manifest $1, in KERNEL_ARGS (and RUSTC_BOOTSTRAP exported on the Debian route).
kernel_cargo_args() {
    KERNEL_ARGS=(--manifest-path "$1" -p rustos --target x86_64-unknown-none --locked)
    [ "${RUSTOS_PROFILE:-release}" = release ] && KERNEL_ARGS+=(--release)
    if [ "$KERNEL_ROUTE" = debian ]; then
        KERNEL_ARGS+=(-Z build-std=core,alloc,compiler_builtins -Z build-std-features=compiler-builtins-mem)
        export RUSTC_BOOTSTRAP=1
    fi
}

# ensure_host_cargo: sets HOST_CARGO, a cargo that builds for the host.
ensure_host_cargo() {
    if command -v cargo >/dev/null 2>&1; then
        HOST_CARGO=$(command -v cargo)
    else
        ensure_kernel_toolchain
        HOST_CARGO=$KERNEL_CARGO
    fi
}

# ensure_venv: the project's virtual environment with the package and its test extras, and
# the C compiler that builds the emulator's dirty-page helper (rustos_dbg/machine/native/).
ensure_venv() {
    ensure_apt gcc libc6-dev
    if [ ! -x "$VENV/bin/python" ]; then
        ensure_apt python3-venv
        python3 -m venv "$VENV" >&2
    fi
    local stamp="$VENV/.rustos-installed"
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        echo "setup: installing Python packages into .venv" >&2
        "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[test]" >&2
        touch "$stamp"
    fi
}

ensure_qemu() { ensure_apt qemu-system-x86 seabios; }  # seabios: the VGA ROM font of screenshots
ensure_gdb() { ensure_apt gdb; }
ensure_tmux() { ensure_apt tmux; }  # the terminal tests drive rustos-dbg run in tmux
ensure_lcov() { ensure_apt lcov; }  # genhtml checks the --coverage tracefile
