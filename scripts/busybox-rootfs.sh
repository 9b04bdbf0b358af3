#!/usr/bin/env bash
# Builds the rootfs tar of a `busybox:latest`-like image, offline, from Debian's
# busybox-static: /bin/busybox plus one symlink per applet, /etc/passwd and /etc/group
# like docker's busybox image, and the usual empty dirs. No /etc/hosts, hostname or
# resolv.conf: the engine bind-mounts them.
#
# Usage: scripts/busybox-rootfs.sh OUT.tar
#   then: berth import OUT.tar busybox:latest
# The tar is reproducible (fixed mtimes, numeric root owners, sorted names): importing
# it twice yields the same layer.
set -euo pipefail

out=${1:?usage: $0 OUT.tar}
bb=/bin/busybox

is_static() {
    [ -x "$1" ] || return 1
    # A static binary has no program interpreter; ldd says so in one of two ways.
    local o
    o=$(LC_ALL=C ldd "$1" 2>&1 || true)
    case $o in
        *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
    esac
    return 1
}

if ! is_static "$bb"; then
    if [ "$(id -u)" != 0 ]; then
        echo "busybox-rootfs: $bb is missing or not static; run as root to install busybox-static" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >&2
    is_static "$bb" || { echo "busybox-rootfs: $bb is still not a static binary" >&2; exit 1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/busybox-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

mkdir -p "$root"/{bin,dev,etc,home,proc,root,sys,tmp,usr/sbin,var/spool/mail,var/www}
chmod 0755 "$root" "$root"/{bin,dev,etc,home,proc,sys,usr,usr/sbin,var,var/spool,var/spool/mail,var/www}
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

install -m 0755 "$bb" "$root/bin/busybox"
count=0
for applet in $("$bb" --list); do
    case $applet in
        busybox | */* | "") continue ;;
    esac
    ln -s busybox "$root/bin/$applet"
    count=$((count + 1))
done
# Scripts commonly use /bin/sh, and tools /usr/bin/env: make sure both exist.
[ -e "$root/bin/sh" ] || ln -s busybox "$root/bin/sh"
mkdir -p "$root/usr/bin"
chmod 0755 "$root/usr/bin"
ln -s ../../bin/env "$root/usr/bin/env"

# Users and groups of docker's busybox image.
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
GROUP
cat >"$root/etc/shadow" <<'SHADOW'
root:*:10933:0:99999:7:::
daemon:*:10933:0:99999:7:::
bin:*:10933:0:99999:7:::
sys:*:10933:0:99999:7:::
sync:*:10933:0:99999:7:::
mail:*:10933:0:99999:7:::
www-data:*:10933:0:99999:7:::
operator:*:10933:0:99999:7:::
nobody:*:10933:0:99999:7:::
SHADOW
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 0640 "$root/etc/shadow"

tmp_out="$out.tmp.$$"
tar --create --file="$tmp_out" --directory="$root" \
    --sort=name --numeric-owner --owner=0 --group=0 \
    --mtime='2024-01-01 00:00:00Z' --format=gnu \
    .
mv -f "$tmp_out" "$out"
echo "busybox-rootfs: wrote $out ($count applets)" >&2
