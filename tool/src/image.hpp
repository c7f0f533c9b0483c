// `nslab image build|ls|rm|save`: docker build in miniature, on lab 10.
//
// Given code, read by students but not edited. A Dockerfile of a small
// subset (FROM scratch|NAME, COPY, RUN, ENV, WORKDIR, CMD, ENTRYPOINT) is
// built into an OCI image layout, root's images_root/NAME
// (/var/lib/nslab/images): each COPY is a layer written from DIR, each RUN
// runs in a lab 10 container (the tree's own lab10_image) on the image so
// far, and what it wrote (its upper directory, kept with --keep-changes)
// is diffed into the next layer, its overlay whiteouts written as the OCI
// spec's .wh. entries. `podman load` takes what `nslab image save` writes.
#pragma once

#include <string>
#include <vector>

namespace tool {

// A Dockerfile's instructions, after comments, blank lines and line
// continuations: `line` is where each starts, `keyword` in capitals.
struct Instruction {
    int line = 0;
    std::string keyword;
    std::string arguments;  // the rest, trimmed
};

// Throws std::runtime_error "FILE:LINE: ..." for an instruction outside the
// subset, a missing argument, or a first instruction that is not FROM.
std::vector<Instruction> parse_dockerfile(const std::string& text, const std::string& file);

// JSON form (["a", "b"]) or shell form (["/bin/sh", "-c", text]), as RUN,
// CMD and ENTRYPOINT take them.
std::vector<std::string> command_form(const std::string& arguments);

// ENV's "A=1 B='two words'" or "A one value": NAME=VALUE each.
std::vector<std::string> env_pairs(const std::string& arguments, const std::string& where);

// Empty, "/" or ".." in it, over 128 bytes, or not [a-z0-9][a-z0-9._-]*:
// throws nslab::UsageError naming it.
void check_image_name(const std::string& name, const std::string& option);

// `nslab cleanup`: the temporary directories of builds (and removals) whose
// process is gone (SIGKILLed midway); returns what was removed.
std::vector<std::string> image_cleanup_stale(std::vector<std::string>* errors);

// nslab-tool image build|ls|rm|save ...: the exit status.
int image_command(const std::vector<std::string>& args);

}  // namespace tool
