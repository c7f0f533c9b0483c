# shellcheck shell=bash
# shellcheck disable=SC2154 # modules_wanted, tag, work, qemu: the caller's (below)
# Sourced by tests/vm/run and tests/debian/run: Debian's cloud kernel, found
# or unpacked into its cache and checked complete, and whether KVM runs it.
# The one place for these facts (tests/vm/README.md, "What is inside the VM").
#
# The caller defines: die MESSAGE (exits), tag (prefix of the lines printed),
# modules_wanted (the modules its guest loads), qemu, work (a scratch
# directory), and clears qemu_pid and unpack_stage in its EXIT trap (a
# running probe qemu is killed, a half unpack removed).
#   vm_kernel   sets kernel, kver, moddir, module_order (modules_wanted and
#               their dependencies, in load order), or dies naming the gap
#   copy_modules ROOT  the modules of module_order, uncompressed (busybox's
#               insmod takes no .xz), into ROOT/lib/modules/VERSION; sets
#               guest_modules, their paths there, in load order
#   vm_accel    turns accel=auto into kvm when KVM boots the kernel, else
#               tcg, and says which and why

# An installed cloud kernel, else Debian's package unpacked (not installed)
# into a cache, so a student's VM never gets a second kernel in its boot
# menu; the cloud kernel lacks drivers a desktop hypervisor needs. A kernel
# is usable when ROOT/boot/vmlinuz-V is a kernel image, its modules directory
# has modules.dep (depmod writes it when a kernel is installed: the package
# has none) and every module in modules_wanted is built in or is there, with
# its dependencies, each a module of version V (a truncated file is not).
declare -A module_seen=()
module_order=()
add_module() { # $1: path relative to $moddir, as in modules.dep; or sets why
    local rel=$1 deps i
    if [[ -n ${module_seen[$rel]:-} ]]; then return 0; fi
    module_seen[$rel]=1
    if [[ $(modinfo -F vermagic "$moddir/$rel" 2>/dev/null) != "$kver "* ]]; then
        why="$moddir/$rel is missing or not a module of $kver"
        return 1
    fi
    read -r -a deps < <(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep")
    # modules.dep lists a module's dependencies so that the last loads first.
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_module "${deps[i]}" || return 1; done
    module_order+=("$rel")
}
kernel_usable() { # $1: a root ("" or a cache), $2: version; sets kernel kver moddir module_order, or why
    local name rel
    kernel=$1/boot/vmlinuz-$2 kver=$2 moddir=$1/lib/modules/$2 module_order=() why=""
    module_seen=()
    [[ -d $moddir ]] || moddir=$1/usr/lib/modules/$2
    if [[ ! -r $kernel ]]; then
        why="$kernel is missing or not readable (run as root)"
    elif [[ $(dd if="$kernel" bs=1 skip=514 count=4 2>/dev/null) != HdrS ]]; then
        why="$kernel is not a kernel image"
    elif [[ ! -d $moddir ]]; then
        why="$1/lib/modules/$2 is missing"
    elif [[ ! -s $moddir/modules.dep ]]; then
        why="$moddir/modules.dep is missing"
    fi
    [[ -z $why ]] || return 1
    for name in "${modules_wanted[@]}"; do
        if grep -qE "/$name\.ko(\.[a-z]+)?\$" "$moddir/modules.builtin" 2>/dev/null; then
            continue
        fi
        rel=$(awk -v n="$name" '{ f = $1; sub(/:$/, "", f); b = f; sub(/.*\//, "", b); sub(/\.ko.*/, "", b)
            if (b == n) { print f; exit } }' "$moddir/modules.dep")
        if [[ -z $rel ]]; then
            why="kernel $2 has no module $name (neither built in nor in modules.dep)"
            return 1
        fi
        add_module "$rel" || return 1
    done
}
versions_in() { # $1: a root; its cloud kernels' versions, newest first
    compgen -G "$1/boot/vmlinuz-*-cloud-amd64" | sed "s|^$1/boot/vmlinuz-||" | sort -rV || true
}
find_kernel() { # $1: a root; the newest usable kernel in it, or why none is
    local version first_why=""
    while IFS= read -r version; do
        kernel_usable "$1" "$version" && return 0
        first_why=${first_why:-$why}
    done < <(versions_in "$1")
    why=${first_why:-"no $1/boot/vmlinuz-*-cloud-amd64"}
    return 1
}
cloud_kernel_package() { # the versioned package the metapackage depends on
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1
}
# apt-get download + dpkg-deb -x (no install) + depmod into a stage beside the
# cache, then renamed into place: a run killed half way leaves a stage, never
# a half cache. Called with the cache's lock held, so any stage left is stale.
unpack_kernel() { # $1: the cache; or sets why
    local cache=$1 package version
    package=$(cloud_kernel_package)
    if [[ -z $package ]]; then
        apt-get update -q >/dev/null 2>&1 || true
        package=$(cloud_kernel_package)
    fi
    if [[ -z $package ]]; then
        why="apt-cache knows no linux-image-cloud-amd64"
        return 1
    fi
    version=${package#linux-image-}
    rm -rf "$cache".unpack-*
    unpack_stage=$(mktemp -d "$cache.unpack-XXXXXX")
    if ! (cd "$unpack_stage" && apt-get download -q "$package" >/dev/null 2>&1); then
        why="apt-get download $package failed"
        return 1
    fi
    why=""
    if ! dpkg-deb -x "$unpack_stage"/*.deb "$unpack_stage/root" ||
        ! depmod -b "$unpack_stage/root" "$version" ||
        ! kernel_usable "$unpack_stage/root" "$version"; then
        why="$package did not unpack into a usable kernel${why:+: $why}"
        return 1
    fi
    chmod 755 "$unpack_stage/root"
    if [[ -e $cache ]]; then mv -T "$cache" "$unpack_stage/incomplete"; fi
    mv -T "$unpack_stage/root" "$cache"
    rm -rf "$unpack_stage"
    unpack_stage=""
    kernel_usable "$cache" "$version"
}
vm_kernel() {
    local boot_root=${NSLAB_VM_BOOT_ROOT-}  # "" is the host's /boot; the selftest points it elsewhere
    local kernel_cache=${NSLAB_VM_KERNEL_CACHE:-/var/cache/nslab/vm-kernel} cache_lock cache_why version
    kernel_cache=${kernel_cache%/}
    [[ $kernel_cache == /?* ]] || die "NSLAB_VM_KERNEL_CACHE must be an absolute path, not '${NSLAB_VM_KERNEL_CACHE:-}'"
    if ! find_kernel "$boot_root"; then
        [[ -z $(versions_in "$boot_root") ]] || echo "$tag: not using the installed kernel: $why"
        mkdir -p "$(dirname "$kernel_cache")"
        # One run at a time looks at, repairs or fills the cache; the others wait.
        exec {cache_lock}<"$(dirname "$kernel_cache")"
        flock "$cache_lock"
        if ! find_kernel "$kernel_cache" && [[ $why == */modules.dep\ is\ missing ]]; then
            # Unpacked by an older tests/vm/run, which did not run depmod.
            echo "$tag: $why; running depmod on $kernel_cache"
            while IFS= read -r version; do
                depmod -b "$kernel_cache" "$version" || true
            done < <(versions_in "$kernel_cache")
            find_kernel "$kernel_cache" || true
        fi
        if [[ -n $why ]]; then
            cache_why=""
            if [[ -e $kernel_cache ]]; then
                cache_why="$why; "
                echo "$tag: $kernel_cache is incomplete ($why): unpacking the kernel again"
            else
                echo "$tag: unpacking Debian's cloud kernel into $kernel_cache (not installed)"
            fi
            unpack_kernel "$kernel_cache" ||
                die "no usable cloud kernel in $kernel_cache: $cache_why$why; fix: make 'apt-get download linux-image-cloud-amd64' work here (apt-get update), then rerun"
        fi
        exec {cache_lock}<&-
    fi
}

# /dev/kvm can exist and still not run a guest (nested virtualisation without
# the needed support just spins), so boot the kernel without a root file
# system and call KVM usable if it gets as far as the expected panic.
kvm_works() {
    local plog=$work/kvm-probe.log deadline=$((SECONDS + 10))
    kvm_why="/dev/kvm is not usable by $(id -un)"
    [[ -r /dev/kvm && -w /dev/kvm ]] || return 1
    "$qemu" -accel kvm -M q35 -m 256 -smp 1 -nodefaults -nic none -display none -no-reboot \
        -serial "file:$plog" -kernel "$kernel" -append "console=ttyS0 panic=-1" \
        </dev/null >"$work/kvm-probe.err" 2>&1 &
    qemu_pid=$!
    kvm_why="kvm did not boot the kernel within 10 s"
    while ((SECONDS < deadline)); do
        if grep -q 'Kernel panic' "$plog" 2>/dev/null; then
            kill -KILL "$qemu_pid" 2>/dev/null || true
            wait "$qemu_pid" 2>/dev/null || true
            qemu_pid=""
            return 0
        fi
        if ! kill -0 "$qemu_pid" 2>/dev/null; then
            kvm_why="qemu -accel kvm failed: $(grep -m1 -v warning "$work/kvm-probe.err" || echo "no message")"
            break
        fi
        sleep 0.2
    done
    kill -KILL "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
    return 1
}
vm_accel() {
    case "$accel" in
    auto)
        if kvm_works; then
            accel=kvm && echo "$tag: accel kvm"
        else
            accel=tcg && echo "$tag: accel tcg ($kvm_why)"
        fi
        ;;
    *) echo "$tag: accel $accel (forced)" ;;
    esac
}

copy_modules() { # $1: the guest's root
    local rel dest guest_moddir=/lib/modules/$kver
    guest_modules=()
    for rel in "${module_order[@]}"; do
        dest=$rel
        mkdir -p "$1$guest_moddir/$(dirname "$rel")"
        case "$rel" in
        *.ko.xz) dest=${rel%.xz} && xz -dc "$moddir/$rel" >"$1$guest_moddir/$dest" ;;
        *.ko.zst) dest=${rel%.zst} && zstd -qdc "$moddir/$rel" >"$1$guest_moddir/$dest" ;;
        *.ko.gz) dest=${rel%.gz} && gzip -dc "$moddir/$rel" >"$1$guest_moddir/$dest" ;;
        *) cp "$moddir/$rel" "$1$guest_moddir/$dest" ;;
        esac
        guest_modules+=("$dest")
    done
}
