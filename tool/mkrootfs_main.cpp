// nslab-mkrootfs DEST BUSYBOX PROBE
#include <cstdio>
#include <exception>

#include "nslab/rootfs.hpp"

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: nslab-mkrootfs DEST BUSYBOX PROBE\n");
        return 2;
    }
    try {
        nslab::rootfs::build(argv[1], {argv[2], argv[3]});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nslab-mkrootfs: %s\n", e.what());
        return 1;
    }
    return 0;
}
