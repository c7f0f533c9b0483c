// Things the runtime owns are objects: a move-only file descriptor and a
// scope guard for undo steps. Cleanup is written once, where the resource is
// made, not repeated on every error path.
#pragma once

#include <unistd.h>

#include <functional>
#include <utility>

namespace nslab {

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

// Runs an undo step when the scope ends, unless dismissed.
class ScopeGuard {
  public:
    explicit ScopeGuard(std::function<void()> undo) : undo_(std::move(undo)) {}
    ScopeGuard(ScopeGuard&& other) noexcept : undo_(std::exchange(other.undo_, nullptr)) {}
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard& operator=(ScopeGuard&&) = delete;
    ~ScopeGuard() {
        if (undo_) try {
                undo_();
            } catch (...) {
                // An undo step must not throw out of a destructor; the
                // leftover is what `nslab cleanup` is for.
            }
    }
    void dismiss() { undo_ = nullptr; }

  private:
    std::function<void()> undo_;
};

}  // namespace nslab
