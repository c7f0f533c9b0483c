#include "nslab/image_store.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "nslab/cli.hpp"
#include "nslab/errors.hpp"

using namespace nslab;

namespace {

Config lab10(std::vector<std::string> layers = {}) {
    Config cfg;
    cfg.lab = 10;
    cfg.id = "c0ffee00";
    cfg.rootfs = "/srv/rootfs";
    cfg.layers = std::move(layers);
    return cfg;
}

std::string refusal(const Config& cfg) {
    try {
        image_store::check(cfg);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(ImageStore, PlanStacksTheRootfsLowestAndUsesTheContainersOwnDirectory) {
    auto overlay = image_store::plan(lab10({"/l/a", "/l/b"}));
    EXPECT_EQ(overlay.layers, (std::vector<std::string>{"/srv/rootfs", "/l/a", "/l/b"}));
    EXPECT_EQ(overlay.dir, std::string(image_store::state_root) + "/c0ffee00");
    EXPECT_EQ(overlay.upper, overlay.dir + "/upper");
    EXPECT_EQ(overlay.work, overlay.dir + "/work");
    EXPECT_EQ(overlay.merged, overlay.dir + "/merged");
}

TEST(ImageStore, OnlyLab10TakesLayers) {
    // The orchestrator calls image_store only where the lab has the layer;
    // elsewhere its options are not on the command line at all.
    const char* argv[] = {"lab08_ipc", "--layer", "/a", "--", "/bin/true"};
    EXPECT_THROW(parse_command_line(8, 5, argv), UsageError);
    EXPECT_FALSE(lab_has(9, Layer::image));
    EXPECT_FALSE(lab_has(8, Layer::image));
}

TEST(ImageStore, RefusesWhatOverlayfsCannotTake) {
    EXPECT_EQ(refusal(lab10({"/nonexistent"})), "--layer /nonexistent: No such file or directory");
    EXPECT_EQ(refusal(lab10({"/etc/passwd"})), "--layer /etc/passwd: not a directory");
    Config cfg = lab10();
    cfg.rootfs = "/srv/a:b";
    EXPECT_EQ(refusal(cfg),
              "layer /srv/a:b: a path with ',', ':' or '\\' cannot be an overlayfs layer");
    cfg = lab10();
    cfg.keep_changes = "/";
    EXPECT_EQ(refusal(cfg),
              "--keep-changes /: exists already (a new layer goes to a new directory)");
}

TEST(ImageStore, CommandLine) {
    const char* argv[] = {"lab10_image",    "--layer", "/a", "--layer",  "/b",
                          "--keep-changes", "/k",      "--", "/bin/true"};
    Config cfg = parse_command_line(10, 9, argv).config;
    EXPECT_EQ(cfg.layers, (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(cfg.keep_changes, "/k");
    EXPECT_TRUE(cfg.has(Layer::image) && cfg.has(Layer::ipc) && cfg.has(Layer::user));
}
