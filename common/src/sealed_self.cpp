#include "nslab/sealed_self.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nslab/fd.hpp"
#include "nslab/sys.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux >= 6.3: executable even under vm.memfd_noexec=1
#endif

extern char** environ;

namespace nslab {

namespace {

// How much of the ELF file `fd` exec(2) needs: up to the end of its last
// loaded segment. What follows (debug information, the section headers:
// three quarters of a RelWithDebInfo lab) is never mapped, so the copy
// leaves it out. The whole file when it does not parse as ELF64.
off_t loaded_size(const Fd& fd, off_t file_size) {
    Elf64_Ehdr header{};
    if (::pread(fd.get(), &header, sizeof header, 0) != sizeof header ||
        std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr))
        return file_size;
    off_t end = static_cast<off_t>(header.e_phoff + header.e_phnum * sizeof(Elf64_Phdr));
    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment{};
        const auto at = static_cast<off_t>(header.e_phoff + i * sizeof segment);
        if (::pread(fd.get(), &segment, sizeof segment, at) != sizeof segment) return file_size;
        end = std::max(end, static_cast<off_t>(segment.p_offset + segment.p_filesz));
    }
    return std::min(end, file_size);
}

}  // namespace

int sealed_copy_seals() {
    return F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
}

void run_from_sealed_copy(const char* name, char** argv) {
    Fd self = sys::open("/proc/self/exe", O_RDONLY);
    const int seals = ::fcntl(self.get(), F_GET_SEALS);
    if (seals != -1 && (seals & sealed_copy_seals()) == sealed_copy_seals()) return;

    int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd == -1 && errno == EINVAL) fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    Fd copy(sys::check(fd, "memfd_create(a sealed copy of the runtime)"));
    struct stat st {};
    sys::check(::fstat(self.get(), &st), "fstat(/proc/self/exe)");
    const off_t size = loaded_size(self, st.st_size);
    for (off_t done = 0; done < size;) {
        ssize_t n =
            sys::check(::sendfile(copy.get(), self.get(), &done, static_cast<size_t>(size - done)),
                       "sendfile(the runtime into its sealed copy)");
        if (n == 0) break;  // the file shrank under us: the exec below fails
    }
    // F_SEAL_WRITE is refused (EBUSY) while a page of the copy holds a
    // reference beyond the page cache's (fcntl(2), memfd_create(2)). No
    // mapping of ours does; a reference the kernel holds a moment longer
    // than its own wait may. Seen once, under a whole suite's load, and not
    // reproduced: so it is tried again, for about 2 s, before it is an error.
    int sealed = -1;
    for (int attempt = 0; attempt < 20; ++attempt) {
        sealed = ::fcntl(copy.get(), F_ADD_SEALS, sealed_copy_seals());
        if (sealed == 0 || errno != EBUSY) break;
        ::usleep(10000 * (attempt + 1));
    }
    sys::check(sealed, "fcntl(F_ADD_SEALS)");
    ::execveat(copy.get(), "", argv, environ, AT_EMPTY_PATH);
    sys::fail("execveat(the sealed copy of the runtime)");
}

}  // namespace nslab
