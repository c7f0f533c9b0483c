// Lab 12's given reader of a bundle's config.json (the OCI runtime spec's
// config.md and config-linux.md): the same Config that labs 01-11 fill from
// their command line, so the same layers build the container. A field
// nslab cannot honour is refused with one line naming it, never dropped: a
// container must not run less confined than its config asks. Annotations
// and fields the spec does not define (vendors' own) are set aside.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "nslab/config.hpp"

namespace nslab::oci_config {

// "config.json: FIELD: WHY": what create prints, and exits 1 with.
class Refused : public std::runtime_error {
  public:
    Refused(const std::string& field, const std::string& why)
        : std::runtime_error("config.json: " + field + ": " + why), field_(field) {}
    const std::string& field() const { return field_; }

  private:
    std::string field_;
};

struct Bundle {
    Config config;                                   // what the layers take
    std::map<std::string, std::string> annotations;  // for `state`
};

// The config in `text` of the bundle at `bundle_dir` applied to `base` (the
// lab, program and id already set). `exists` says whether a host path
// exists: a bind of a missing source is refused before anything is made.
// Throws Refused.
Bundle read(const std::string& text, const std::string& bundle_dir, const Config& base,
            const std::function<bool(const std::string&)>& exists);

// `features` (the runtime spec's features.md): what this reader takes, as
// JSON, from the reader's own tables.
std::string features();

}  // namespace nslab::oci_config
