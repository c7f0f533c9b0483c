#include "nslab/sync_pipe.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>

#include "nslab/errors.hpp"
#include "nslab/sys.hpp"

namespace nslab {

namespace {

// One report is one write(2) below PIPE_BUF, so it arrives whole.
struct Wire {
    std::uint8_t kind;
    std::int32_t error;
    std::uint16_t length;
    char what[400];
};

bool read_all(int fd, void* buffer, size_t size) {
    auto* p = static_cast<char*>(buffer);
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::read(fd, p + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

SyncPipe::SyncPipe() {
    std::tie(to_child_read_, to_child_write_) = sys::pipe2(0);
    std::tie(to_parent_read_, to_parent_write_) = sys::pipe2(0);
}

void SyncPipe::become_parent() {
    to_child_read_.reset();
    to_parent_write_.reset();
}

void SyncPipe::become_child() {
    to_child_write_.reset();
    to_parent_read_.reset();
}

void SyncPipe::let_child_go() {
    const char go = 'g';
    sys::check(::write(to_child_write_.get(), &go, 1), "write(sync pipe)");
}

SyncPipe::Report SyncPipe::wait_child() {
    Wire wire{};
    const size_t header = offsetof(Wire, what);
    if (!read_all(to_parent_read_.get(), &wire, header)) return {Report::Kind::exec_done, 0, {}};
    Report report;
    report.kind = static_cast<Report::Kind>(wire.kind);
    report.error = wire.error;
    if (wire.length > 0 && read_all(to_parent_read_.get(), wire.what, wire.length))
        report.what.assign(wire.what, wire.length);
    return report;
}

void SyncPipe::wait_parent() {
    char go = 0;
    if (!read_all(to_child_read_.get(), &go, 1)) ::_exit(exit_status::runtime_failed);
}

void SyncPipe::report_ready(std::string_view timings) {
    if (!send(Report::Kind::ready, 0, timings)) sys::fail("write(sync pipe)");
}

void SyncPipe::report_error(int error, std::string_view what) noexcept {
    send(Report::Kind::error, error, what);
}

void SyncPipe::report_exec_failed(int error, std::string_view what) noexcept {
    send(Report::Kind::exec_failed, error, what);
}

bool SyncPipe::send(Report::Kind kind, int error, std::string_view what) noexcept {
    Wire wire{};
    wire.kind = static_cast<std::uint8_t>(kind);
    wire.error = error;
    wire.length = static_cast<std::uint16_t>(std::min(what.size(), sizeof wire.what));
    std::memcpy(wire.what, what.data(), wire.length);
    return ::write(to_parent_write_.get(), &wire, offsetof(Wire, what) + wire.length) >= 0;
}

void SyncPipe::close_child_side() {
    to_child_read_.reset();
    to_parent_write_.reset();
}

}  // namespace nslab
