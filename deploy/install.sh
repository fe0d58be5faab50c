#!/usr/bin/env bash
# Install signage on a Debian 12+ / Ubuntu 24.04+ mini PC (Python 3.11 or newer), from a checkout of the repository.
# Idempotent: run it again after `git pull` to update code and units; your config is kept.
#
#   sudo deploy/install.sh --role hub                 # the hall's hub (one per hall)
#   sudo deploy/install.sh --role display --hub-url ws://10.0.0.5:8765/
#   sudo deploy/install.sh --role both                # hub and board on one machine
#   sudo deploy/install.sh --role announcer --hub-url ws://10.0.0.5:8765/   # headless voice for the PA
#   sudo deploy/install.sh --role printer --hub-url ws://10.0.0.5:8765/     # the kiosk PC's ticket printer
#   deploy/install.sh --role both --dry-run           # print what it would do, change nothing
#
# Layout:  /opt/signage/src (code), /opt/signage/venv, /etc/signage/config.yaml (+ display.env),
#          /var/lib/signage (journal), systemd units signage-hub (system) / signage-display (user).
# See deploy/KIOSK.md for what this sets up and how to check it.
set -euo pipefail

PREFIX=/opt/signage
ETC=/etc/signage
STATE=/var/lib/signage
VENV=$PREFIX/venv
# The distribution's Python, never one found first on PATH (a pyenv under /root would leave a
# venv the signage and kiosk users can't execute).
PYTHON=/usr/bin/python3
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MARK="# managed by signage deploy/install.sh"

ROLE=""
WANT_ANNOUNCER=0
WANT_PRINTER=0
HUB_URL=""
KIOSK_USER=kiosk
AUTOLOGIN=1
DRY_RUN=0

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
Options:
  --role hub|display|both|announcer|printer   what this machine runs (required)
  --hub-url URL             display: the hub's websocket address (written to /etc/signage/display.env)
  --kiosk-user NAME         display: the autologin user that runs the board (default: kiosk)
  --no-autologin            display: don't set up tty1 autologin + startx
  --dry-run                 print the steps instead of running them (no root needed)
EOF
}

die() { echo "install.sh: $*" >&2; exit 2; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --role) ROLE=${2:-}; shift 2 ;;
        --role=*) ROLE=${1#*=}; shift ;;
        --hub-url) HUB_URL=${2:-}; shift 2 ;;
        --hub-url=*) HUB_URL=${1#*=}; shift ;;
        --kiosk-user) KIOSK_USER=${2:-}; shift 2 ;;
        --kiosk-user=*) KIOSK_USER=${1#*=}; shift ;;
        --no-autologin) AUTOLOGIN=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

case "$ROLE" in
    hub) WANT_HUB=1; WANT_DISPLAY=0 ;;
    display) WANT_HUB=0; WANT_DISPLAY=1 ;;
    both) WANT_HUB=1; WANT_DISPLAY=1 ;;
    announcer) WANT_HUB=0; WANT_DISPLAY=0; WANT_ANNOUNCER=1 ;;
    printer) WANT_HUB=0; WANT_DISPLAY=0; WANT_PRINTER=1 ;;
    *) usage >&2; die "--role must be hub, display, both, announcer or printer (got '${ROLE}')" ;;
esac
[[ "$KIOSK_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--kiosk-user: not a valid user name: '$KIOSK_USER'"
if [ -n "$HUB_URL" ] && ! [[ "$HUB_URL" =~ ^wss?://[^[:space:]]+$ ]]; then
    die "--hub-url: expected ws://HOST:PORT/, got '$HUB_URL'"
fi
if [ ! -f "$SRC/pyproject.toml" ] || [ ! -f "$SRC/config.yaml" ]; then
    die "run me from a signage checkout ($SRC has no pyproject.toml/config.yaml)"
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    die "$PYTHON is missing or older than 3.11 (signage needs 3.11+: Debian 12, Ubuntu 24.04 or newer)"
fi
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "needs root (sudo $0 ...), or --dry-run to see the steps"
fi

# ---------------------------------------------------------------- helpers: every change goes through these

run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf '+ %s\n' "$*"
    else
        "$@"
    fi
}

# put_file DEST MODE OWNER:GROUP < content — writes only when the content differs.
put_file() {
    local dest=$1 mode=$2 owner=$3 tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
        [ "$DRY_RUN" = 1 ] || { chmod "$mode" "$dest"; chown "$owner" "$dest"; }
        return 0
    fi
    if [ "$DRY_RUN" = 1 ]; then
        printf '+ write %s (mode %s, owner %s, %s lines)\n' "$dest" "$mode" "$owner" "$(wc -l <"$tmp")"
        rm -f "$tmp"
        return 0
    fi
    install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest"
    rm -f "$tmp"
    echo "    wrote $dest"
}

# ---------------------------------------------------------------- 1. system packages

PACKAGES=(python3 python3-venv fonts-dejavu-core curl ca-certificates)
if [ "$WANT_ANNOUNCER" = 1 ]; then
    PACKAGES+=(espeak-ng libespeak-ng1 alsa-utils)
fi
if [ "$WANT_DISPLAY" = 1 ]; then
    # Board: espeak-ng speaks Indonesian; a bare X session with openbox; xset for blanking.
    PACKAGES+=(espeak-ng libespeak-ng1 xserver-xorg xinit openbox x11-xserver-utils alsa-utils)
    # PipeWire where the release packages it as one (Debian 12, Ubuntu 23.04+), else PulseAudio.
    if apt-cache show pipewire-audio >/dev/null 2>&1; then
        PACKAGES+=(pipewire-audio wireplumber)
    else
        PACKAGES+=(pulseaudio)
    fi
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "apt: installing ${missing[*]}"
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "apt: all packages present"
fi

# ---------------------------------------------------------------- 2. the signage user and group

if ! getent group signage >/dev/null; then
    run groupadd --system signage
fi
if ! id signage >/dev/null 2>&1; then
    run useradd --system --gid signage --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin signage
fi

# ---------------------------------------------------------------- 3. code and virtualenv

say "code: $SRC -> $PREFIX/src, venv $VENV"
run mkdir -p "$PREFIX"
# Copy the tree without the developer's venv, git data, journal or caches; swap it in at once.
run rm -rf "$PREFIX/src.new"
run mkdir -p "$PREFIX/src.new"
if [ "$DRY_RUN" = 1 ]; then
    echo "+ tar -C $SRC ... | tar -C $PREFIX/src.new -x"
else
    tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./var --exclude=./build \
        --exclude='*.egg-info' --exclude='__pycache__' --exclude=.pytest_cache --exclude=./demo-frames \
        -cf - . | tar -C "$PREFIX/src.new" -xf -
fi
run rm -rf "$PREFIX/src.old"
if [ -d "$PREFIX/src" ]; then
    run mv "$PREFIX/src" "$PREFIX/src.old"
fi
run mv "$PREFIX/src.new" "$PREFIX/src"
run rm -rf "$PREFIX/src.old"

if [ ! -x "$VENV/bin/python" ] || [ "$(readlink -f "$VENV/bin/python")" != "$(readlink -f "$PYTHON")" ]; then
    run rm -rf "$VENV"
    run "$PYTHON" -m venv "$VENV"
fi
run "$VENV/bin/python" -m pip install -q --upgrade pip
run "$VENV/bin/python" -m pip install -q "$PREFIX/src"
# Same version number, new code: reinstall the package itself (dependencies stay).
run "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$PREFIX/src"

# ---------------------------------------------------------------- 4. config

run install -d -m 0750 -o root -g signage "$ETC"
run install -d -m 0750 -o signage -g signage "$STATE"
if [ -f "$ETC/config.yaml" ]; then
    say "config: keeping $ETC/config.yaml"
else
    say "config: $ETC/config.yaml from the repository's example (relative paths made absolute)"
    sed -e "s#^\(\s*journal:\s*\)var/journal.sqlite#\1$STATE/journal.sqlite#" \
        -e "s#^\(\s*chime:\s*\)assets/#\1$PREFIX/src/assets/#" \
        -e "s#^\(\s*logo:\s*\)assets/#\1$PREFIX/src/assets/#" \
        "$SRC/config.yaml" | put_file "$ETC/config.yaml" 0640 root:signage
fi
if [ "$DRY_RUN" = 0 ]; then
    # As the service user: proves the file is readable by the hub, and valid. It prints a
    # warning: line for each token still a shipped sample or short (--strict refuses them).
    run runuser -u signage -- "$VENV/bin/signage" check-config "$ETC/config.yaml"
fi

# ---------------------------------------------------------------- 5. hub

hub_port() {
    if [ ! -f "$ETC/config.yaml" ] || [ ! -x "$VENV/bin/python" ]; then  # only in --dry-run
        echo 8765
        return
    fi
    "$VENV/bin/python" -c 'import sys; from signage.config import load_config; print(load_config(sys.argv[1]).hub.port)' \
        "$ETC/config.yaml"
}

if [ "$WANT_HUB" = 1 ]; then
    say "hub: systemd unit signage-hub.service"
    put_file /etc/systemd/system/signage-hub.service 0644 root:root <"$SRC/deploy/signage-hub.service"
    run systemctl daemon-reload
    run systemctl enable signage-hub.service
    run systemctl restart signage-hub.service
    if [ "$DRY_RUN" = 0 ]; then
        port=$(hub_port)
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
            sleep 1
        done
        if curl -fsS "http://127.0.0.1:$port/healthz"; then
            echo
        else
            echo "    WARNING: hub not answering on port $port: journalctl -u signage-hub -n 50" >&2
        fi
    fi
fi

# ---------------------------------------------------------------- 6. display (kiosk user, X session, board)

if [ "$WANT_DISPLAY" = 1 ]; then
    say "display: kiosk user $KIOSK_USER, user unit signage-display.service"
    if ! id "$KIOSK_USER" >/dev/null 2>&1; then
        run useradd --create-home --user-group --shell /bin/bash "$KIOSK_USER"
    fi
    groups=(signage audio video)
    if getent group render >/dev/null; then groups+=(render); fi
    run usermod -aG "$(IFS=,; echo "${groups[*]}")" "$KIOSK_USER"
    put_file /etc/systemd/user/signage-display.service 0644 root:root <"$SRC/deploy/signage-display.service"

    if [ -z "$HUB_URL" ] && [ "$WANT_HUB" = 1 ]; then
        HUB_URL="ws://127.0.0.1:$(hub_port)/"
    fi
    env_file=$ETC/display.env
    if [ ! -f "$env_file" ]; then
        {
            echo "$MARK: read by signage-display.service (user unit of $KIOSK_USER)."
            echo "# The hub this board follows (default: hub.host:hub.port from config.yaml)."
            if [ -n "$HUB_URL" ]; then echo "SIGNAGE_HUB=$HUB_URL"; else echo "#SIGNAGE_HUB=ws://HUB-ADDRESS:8765/"; fi
            echo "# This screen's display token (default: the first display token in config.yaml)."
            echo "#SIGNAGE_TOKEN="
            echo "# Audio output, see deploy/KIOSK.md: pipewire, pulseaudio or alsa (+ AUDIODEV=hdmi:CARD=PCH,DEV=0)."
            echo "#SDL_AUDIODRIVER=pipewire"
            echo "#AUDIODEV="
        } | put_file "$env_file" 0640 "root:signage"
    elif [ -n "$HUB_URL" ]; then
        if grep -q '^SIGNAGE_HUB=' "$env_file"; then
            run sed -i "s#^SIGNAGE_HUB=.*#SIGNAGE_HUB=$HUB_URL#" "$env_file"
        else
            run sed -i "1a SIGNAGE_HUB=$HUB_URL" "$env_file"
        fi
    fi

    if ! grep -qs '^SIGNAGE_HUB=' "$env_file" && [ -z "$HUB_URL" ]; then
        echo "    NOTE: no hub address yet: pass --hub-url ws://HUB:8765/ (or set SIGNAGE_HUB in $env_file)" >&2
    fi
    if [ "$WANT_HUB" = 0 ]; then
        echo "    NOTE: copy the hall's config from the hub to $ETC/config.yaml (same file on every machine)" >&2
    fi

    home=$(getent passwd "$KIOSK_USER" | cut -d: -f6 || true)
    home=${home:-/home/$KIOSK_USER}
    xinitrc=$home/.xinitrc
    if [ -f "$xinitrc" ] && ! grep -qF "$MARK" "$xinitrc"; then
        echo "    keeping $xinitrc (not ours); see KIOSK.md for the lines the board needs" >&2
    else
        put_file "$xinitrc" 0644 "$KIOSK_USER:$KIOSK_USER" <<EOF
#!/bin/sh
$MARK
# The kiosk session: no blanking, no power saving, the board as a user service, openbox as WM.
xset s off -dpms s noblank
systemctl --user import-environment DISPLAY XAUTHORITY
systemctl --user restart signage-display.service
exec openbox
EOF
    fi

    if [ "$AUTOLOGIN" = 1 ]; then
        put_file /etc/systemd/system/getty@tty1.service.d/autologin.conf 0644 root:root <<EOF
$MARK
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin $KIOSK_USER --noclear %I \$TERM
EOF
        profile=$home/.bash_profile
        if ! grep -qF ">>> signage kiosk >>>" "$profile" 2>/dev/null; then
            if [ "$DRY_RUN" = 1 ]; then
                echo "+ append startx-on-tty1 block to $profile"
            else
                cat >>"$profile" <<'EOF'
# >>> signage kiosk >>> (deploy/install.sh): start X on tty1 after autologin; -nocursor hides the pointer
if [ -z "${DISPLAY:-}" ] && [ "$(tty)" = /dev/tty1 ]; then
    exec startx -- -nocursor
fi
# <<< signage kiosk <<<
EOF
                chown "$KIOSK_USER:$KIOSK_USER" "$profile"
            fi
        fi
        run systemctl daemon-reload
    fi
fi

# ---------------------------------------------------------------- 7. announcer (headless voice, docs/voice.md)

if [ "$WANT_ANNOUNCER" = 1 ]; then
    say "announcer: system unit signage-announcer.service"
    put_file /etc/systemd/system/signage-announcer.service 0644 root:root <"$SRC/deploy/signage-announcer.service"
    env_file=$ETC/announcer.env
    if [ ! -f "$env_file" ]; then
        {
            echo "$MARK: read by signage-announcer.service."
            if [ -n "$HUB_URL" ]; then echo "SIGNAGE_HUB=$HUB_URL"; else echo "#SIGNAGE_HUB=ws://HUB-ADDRESS:8765/"; fi
            echo "# A display token allowed to speak in the zone (audio_zones[].speakers)."
            echo "#SIGNAGE_TOKEN="
            echo "# The audio zone and this announcer's name in /healthz (default: the first zone)."
            echo "#SIGNAGE_ANNOUNCER_ARGS=--zone hall --name pa-1"
            echo "# ALSA device of the amplifier output (aplay -L)."
            echo "#AUDIODEV="
        } | put_file "$env_file" 0640 "root:signage"
    fi
    run systemctl daemon-reload
    run systemctl enable signage-announcer.service
    run systemctl restart signage-announcer.service
fi

# ---------------------------------------------------------------- 8. ticket printer (docs/fleet.md)

if [ "$WANT_PRINTER" = 1 ]; then
    say "printer: system unit signage-printer.service, udev rule for USB printers"
    put_file /etc/systemd/system/signage-printer.service 0644 root:root <"$SRC/deploy/signage-printer.service"
    # usb://VID:PID talks to the device through libusb: give USB printer-class devices to group lp.
    put_file /etc/udev/rules.d/60-signage-printer.rules 0644 root:root <<'EOF'
# managed by signage deploy/install.sh: USB printer-class devices (interface 07:01) to group lp, for signage printer
ACTION=="add", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ENV{ID_USB_INTERFACES}=="*:0701*", MODE="0660", GROUP="lp"
EOF
    run udevadm control --reload-rules
    env_file=$ETC/printer.env
    if [ ! -f "$env_file" ]; then
        {
            echo "$MARK: read by signage-printer.service."
            if [ -n "$HUB_URL" ]; then echo "SIGNAGE_HUB=$HUB_URL"; else echo "#SIGNAGE_HUB=ws://HUB-ADDRESS:8765/"; fi
            echo "# The kiosk's own token (the printer agent prints that kiosk's tickets)."
            echo "#SIGNAGE_TOKEN="
            echo "# Which kiosk and which printer: usb://VID:PID (lsusb), tcp://HOST:9100, serial:///dev/ttyUSB0"
            echo "# or file:///dev/usb/lp0; --paper 58 for 58 mm rolls."
            echo "#SIGNAGE_PRINTER_ARGS=--kiosk anjungan-1 --device usb://04b8:0e15"
        } | put_file "$env_file" 0640 "root:signage"
    fi
    run systemctl daemon-reload
    run systemctl enable signage-printer.service
    run systemctl restart signage-printer.service
fi

# ---------------------------------------------------------------- done

say "done (role $ROLE)."
if [ "$WANT_HUB" = 1 ]; then
    echo "    hub:     systemctl status signage-hub; curl http://127.0.0.1:$(hub_port)/healthz"
fi
if [ "$WANT_DISPLAY" = 1 ]; then
    echo "    display: reboot; the kiosk logs in on tty1, starts X and the board"
    echo "             (as $KIOSK_USER: systemctl --user status signage-display; journalctl --user -u signage-display)"
fi
if [ "$WANT_PRINTER" = 1 ]; then
    echo "    printer: set SIGNAGE_TOKEN and SIGNAGE_PRINTER_ARGS in $ETC/printer.env, then"
    echo "             systemctl restart signage-printer; journalctl -u signage-printer; it shows on /status"
fi
