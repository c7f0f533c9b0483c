// The thin apply of nat_plan's text: libnftables (nft's own library) in the
// caller's network namespace, no `nft` or `iptables` process. It is loaded
// with dlopen(3) when a container first needs it, so a lab that never
// touches the firewall (--net none, lab 01..03) loads no extra shared
// object at its start (issue #11's start-up cost).
#pragma once

#include <string>

namespace nslab::nftables {

class Context {
  public:
    Context();  // throws std::runtime_error when libnftables cannot be loaded
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // Runs the commands in `text` as one transaction (all or nothing).
    // Throws std::runtime_error with nftables' own first error line.
    void run(const std::string& text);
    // What `text` prints in JSON (libnftables-json(5)); nothing ("") when
    // it fails, as listing a table that does not exist does.
    std::string json_of(const std::string& text);

  private:
    void* ctx_ = nullptr;
};

}  // namespace nslab::nftables
