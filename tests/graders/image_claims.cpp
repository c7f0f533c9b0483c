// Lab 10's claims: the container's root is an overlay of the image's layers
// (top first), its writes stay in its own upper directory, which is gone at
// exit (or kept with --keep-changes), and no layer is ever written; an OCI
// image (saved by podman, or a layout written here) runs with its config,
// its whiteouts hide what they delete, and a blob that does not match its
// digest is refused.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness.hpp"
#include "nslab/image_store.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

void write_file(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

// Two layers above a private copy of the rootfs: "a" (lower) and "b" (upper),
// each with its own /etc/layer-id; only a has /only-a.
struct Image {
    TempDir rootfs{TempDir::Holding::rootfs};
    TempDir layers;
    std::string a = layers.path() + "/a", b = layers.path() + "/b";
    Image() {
        write_file(a + "/etc/layer-id", "a\n");
        write_file(a + "/only-a", "from a\n");
        write_file(b + "/etc/layer-id", "b\n");
    }
    std::vector<std::string> options(std::vector<std::string> more = {}) const {
        std::vector<std::string> all = {"--net",   "none", "--rootfs", rootfs.path(),
                                        "--layer", a,      "--layer",  b};
        all.insert(all.end(), more.begin(), more.end());
        return all;
    }
    // Every name, size and mode under the rootfs and the layers, and the
    // contents of the files the claims write to: what "never written" compares.
    std::string listing() const {
        return run_host("cd " + rootfs.path() + " && find . " + layers.path() +
                        " -printf '%p %s %m %y\\n' | sort; cat " + rootfs.path() + "/etc/passwd " +
                        a + "/etc/layer-id " + b + "/etc/layer-id");
    }
};

// The mount options of "/" in a mountinfo text.
std::string root_options(const std::string& mountinfo) {
    std::istringstream lines(mountinfo);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (mount_point != "/") continue;
        size_t dash = line.find(" - ");
        return dash == std::string::npos ? "" : line.substr(dash + 3);
    }
    return "";
}

// A command's output as one line of a note: its lines joined with "; ".
std::string one_line(std::string text) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at))
        text.replace(at, 1, "; ");
    return text.empty() ? "(nothing)" : text;
}

// The first line where two listings differ, for a note.
std::string first_difference(const std::string& before, const std::string& after) {
    std::istringstream a(before), b(after);
    std::string was, is;
    while (true) {
        const bool more_before = static_cast<bool>(std::getline(a, was));
        const bool more_after = static_cast<bool>(std::getline(b, is));
        if (!more_before && !more_after) return "no difference";
        if (!more_before) was = "(no line)";
        if (!more_after) is = "(no line)";
        if (was != is) return "'" + was + "' became '" + is + "'";
    }
}

// Writes an OCI image layout at `dir`: each of `layers` (directories,
// lowest first) tarred (busybox's tar and sha256sum do: tests/vm's guest
// has no other), then the config, the manifest, index.json.
// Returns the digest of the last layer.
std::string write_layout(const std::string& dir, const std::vector<std::string>& layers,
                         const std::string& config = "{}") {
    std::string script = "set -e; d=" + dir +
                         "; mkdir -p $d/blobs/sha256; layers=''; "
                         "blob() { h=$(sha256sum \"$1\" | cut -d' ' -f1); mv \"$1\" "
                         "$d/blobs/sha256/$h; echo $h; }; ";
    for (const std::string& layer : layers)
        script += "tar -C " + layer +
                  " -cf $d/l.tar .; "
                  "h=$(blob $d/l.tar); layers=\"$layers${layers:+,}{\\\"mediaType\\\":"
                  "\\\"application/vnd.oci.image.layer.v1.tar\\\",\\\"digest\\\":"
                  "\\\"sha256:$h\\\"}\"; last=$h; ";
    script += "printf '%s' '{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":" + config +
              "}' > $d/c.json; c=$(blob $d/c.json); "
              "printf '{\"schemaVersion\":2,\"config\":{\"mediaType\":"
              "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\"},"
              "\"layers\":[%s]}' $c \"$layers\" > $d/m.json; m=$(blob $d/m.json); "
              "printf '{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
              "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\"}]}' "
              "$m > $d/index.json; echo '{\"imageLayoutVersion\":\"1.0.0\"}' > $d/oci-layout; "
              "echo $last";
    std::string last = run_host(script);
    while (!last.empty() && last.back() == '\n') last.pop_back();
    return last;
}

// An image of the rootfs and two layers above it: "b" deletes /gone with a
// whiteout and makes /dir opaque (only its own /dir/c shows).
struct WhiteoutImage {
    TempDir work;
    std::string layout = work.path() + "/layout";
    WhiteoutImage() {
        const std::string a = work.path() + "/a", b = work.path() + "/b";
        write_file(a + "/gone", "deleted above\n");
        write_file(a + "/kept", "kept\n");
        write_file(a + "/dir/lower", "lower\n");
        write_file(b + "/.wh.gone", "");
        write_file(b + "/dir/.wh..wh..opq", "");
        write_file(b + "/dir/c", "c\n");
        write_layout(layout, {rootfs_dir(), a, b});
    }
    // `shell` (an sh -c text) in a container of the image.
    Result run_in(const std::string& shell) const {
        return run(lab(), {"--net", "none", "--image", layout}, {"/bin/sh", "-c", shell});
    }
};

std::string option_value(const std::string& options, const std::string& name) {
    size_t at = options.find(name + "=");
    if (at == std::string::npos) return "";
    size_t start = at + name.size() + 1;
    return options.substr(start, options.find_first_of(", ", start) - start);
}

}  // namespace

TEST(Image, RootIsAnOverlayOfTheLayersTopFirst) {
    claim(3, "lab10 steps 1 and 2 (overlay options, mount)");
    Image image;
    Result r = run(
        lab(), image.options(),
        {"/bin/sh", "-c", "cat /etc/layer-id /only-a 2>&1; echo ---; cat /proc/self/mountinfo"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    const std::string options = root_options(r.out);
    EXPECT_EQ(options.rfind("overlay ", 0), 0u)
        << "/ inside should be an overlay file system (its line in /proc/self/mountinfo)"
        << note("overlay overlay ...", options);
    const std::string top_first = image.b + ":" + image.a + ":" + image.rootfs.path();
    EXPECT_EQ(option_value(options, "lowerdir"), top_first)
        << "lowerdir should list the layers top first (the last --layer, ..., the rootfs)"
        << note("lowerdir=" + top_first, "lowerdir=" + option_value(options, "lowerdir"));
    const std::string files = r.out.substr(0, r.out.find("---\n"));
    EXPECT_TRUE(files == "b\nfrom a\n")
        << "/etc/layer-id should come from the top layer (b) and /only-a from a"
        << note("b; from a", one_line(files));
}

TEST(Image, WritesNeverReachTheImage) {
    claim(3, "lab10 step 2 (the layers are lower, the writes go up)");
    Image image;
    const std::string before = image.listing();
    Result r = run(lab(), image.options(),
                   {"/bin/sh", "-c",
                    "echo new > /new-file && echo intruder >> /etc/passwd && "
                    "echo c > /etc/layer-id && rm /only-a && mkdir /new-dir && echo written"});
    ASSERT_EQ(r.status, 0) << "the container should be able to write anywhere in its root"
                           << ran(r, 0);
    EXPECT_TRUE(r.out == "written\n")
        << "every write inside succeeds" << note("written", one_line(r.out));
    const std::string after = image.listing();
    EXPECT_TRUE(after == before)
        << "the rootfs or a layer changed: a container's writes must stay in its own upper "
           "directory"
        << note("the rootfs and both layers as they were", first_difference(before, after));
}

TEST(Image, DeletedLowerFileStaysHidden) {
    claim(2, "lab10 step 2 (a whiteout in the upper directory)");
    Image image;
    Result r = run(lab(), image.options(),
                   {"/bin/sh", "-c",
                    "rm /only-a /etc/layer-id; test -e /only-a && echo only-a; "
                    "test -e /etc/layer-id && echo layer-id; ls / /etc | grep -x only-a; "
                    "echo done"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(r.out == "done\n") << "a deleted lower file must stay deleted inside (a "
                                      "whiteout in the upper directory hides it)"
                                   << note("no /only-a, no /etc/layer-id", one_line(r.out));
    EXPECT_TRUE(std::filesystem::exists(image.a + "/only-a")) << "the layer lost /only-a";
}

TEST(Image, SecondContainerSeesNoneOfTheFirstsWrites) {
    claim(3, "lab10 step 1 (an upper directory of its own)");
    Image image;
    auto first = Running::start(
        lab(), image.options(),
        {"/bin/sh", "-c", "echo first > /etc/layer-id && touch /marker && echo ready && cat"});
    Result second =
        run(lab(), image.options(),
            {"/bin/sh", "-c", "cat /etc/layer-id; test -e /marker && echo marker; echo done"});
    first.close_stdin();
    expect_ends(first, 0, "the first container ends with its command");
    ASSERT_EQ(second.status, 0) << ran(second, 0);
    EXPECT_TRUE(second.out == "b\ndone\n")
        << "a second container of the same image saw the first one's writes"
        << note("b (the image's /etc/layer-id); no /marker", one_line(second.out));
}

TEST(Image, UpperDirectoryIsGoneAtExit) {
    claim(2, "lab10 step 1 (upperdir and workdir in the container's own directory)");
    Image image;
    Result r = run(lab(), image.options(), {"/bin/sh", "-c", "touch /x; cat /proc/self/mountinfo"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    const std::string options = root_options(r.out);
    const std::string upper = option_value(options, "upperdir");
    const std::string work = option_value(options, "workdir");
    const std::string own =
        std::string(nslab::image_store::state_root) + "/";  // the grader runs as root
    EXPECT_TRUE(upper.rfind(own, 0) == 0 && work.rfind(own, 0) == 0 &&
                std::filesystem::path(upper).parent_path() ==
                    std::filesystem::path(work).parent_path())
        << "upperdir and workdir should be side by side in the container's directory"
        << note(own + "ID/upper, " + own + "ID/work", "upperdir=" + upper + ", workdir=" + work);
    EXPECT_FALSE(upper.empty() || std::filesystem::exists(upper))
        << "the upper directory is removed at the exit"
        << note("no " + upper, upper.empty() ? "no upperdir option" : upper + " is still there");
    EXPECT_FALSE(work.empty() || std::filesystem::exists(work))
        << "the work directory is removed at the exit"
        << note("no " + work, work.empty() ? "no workdir option" : work + " is still there");
}

TEST(Image, KeepChangesMakesALayer) {
    claim(2, "lab10 step 2 (--keep-changes: the upper directory is a layer)");
    Image image;
    const std::string kept = std::string(nslab::image_store::state_root) + "/../grader-kept-" +
                             std::to_string(::getpid());
    struct Remove {
        std::string path;
        ~Remove() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    } remove{kept};
    Result r = run(lab(), image.options({"--keep-changes", kept}),
                   {"/bin/sh", "-c", "echo kept > /kept && rm /only-a"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    ASSERT_TRUE(std::filesystem::is_directory(kept))
        << "--keep-changes DIR keeps the upper directory as DIR"
        << note("a directory " + kept, "no " + kept);
    Result next = run(lab(), image.options({"--layer", kept}),
                      {"/bin/sh", "-c", "cat /kept; test -e /only-a && echo only-a; echo done"});
    ASSERT_EQ(next.status, 0) << ran(next, 0);
    EXPECT_TRUE(next.out == "kept\ndone\n")
        << "a container on the kept layer should see its file, and not the file it deleted"
        << note("kept (its /kept); no /only-a", one_line(next.out));
}

TEST(Image, PodmanImageRunsWithItsConfig) {
    claim(3, "lab10 steps 1 to 3 (an image's layers as the root)");
    // Saved at build time (tests/make-podman-image), beside the rootfs.
    const std::string archive =
        std::filesystem::path(rootfs_dir()).parent_path().string() + "/images/podman-config.tar";
    ASSERT_TRUE(std::filesystem::exists(archive))
        << "the test image podman saves at build time is missing: podman was not installed "
           "(or failed) when this tree was built; sudo ./nslab setup, then build again"
        << note(archive, "no such file");
    Result r = run(lab(), {"--net", "none", "--image", archive}, {});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(r.out == "hello-from-the-image\n/srv/app\n1234\n2345\n")
        << "with no command, the image's Cmd runs with its Env, in its WorkingDir, as its User"
        << note("hello-from-the-image; /srv/app; 1234; 2345", one_line(r.out));
}

TEST(Image, WhiteoutHidesALowerFile) {
    claim(2, "lab10 step 3 (a .wh. entry becomes a whiteout)");
    Result r = WhiteoutImage().run_in("cat /kept; ls -a / | grep -e gone -e '^.wh.'; echo done");
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(r.out == "kept\ndone\n")
        << "a file an upper layer deletes (its .wh. entry) must be gone, and no .wh. file shown"
        << note("kept; done (no /gone, no /.wh.gone)", one_line(r.out));
}

TEST(Image, OpaqueDirectoryHidesTheLowerOne) {
    claim(2, "lab10 step 3 (.wh..wh..opq makes a directory opaque)");
    Result r = WhiteoutImage().run_in("ls -A /dir; echo done");
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(r.out == "c\ndone\n")
        << "a directory an upper layer marks opaque shows only that layer's files"
        << note("c; done (no lower, no .wh..wh..opq)", one_line(r.out));
}

TEST(Image, DigestMismatchIsRefused) {
    claim(2, "lab10 steps 1 to 3 (an image's layers as the root)");
    TempDir work;
    const std::string layer = work.path() + "/layer", layout = work.path() + "/layout";
    write_file(layer + "/unique", std::to_string(::getpid()) + " " + work.path() + "\n");
    const std::string hex = write_layout(layout, {rootfs_dir(), layer});
    const std::string blob = layout + "/blobs/sha256/" + hex;
    run_host("cp -a " + layout + " " + layout + "-good && printf x >> " + blob);
    Result good =
        run(lab(), {"--net", "none", "--image", layout + "-good"}, {"/bin/cat", "/unique"});
    ASSERT_EQ(good.status, 0) << "the image as written should run" << ran(good, 0);
    const std::string store = "/var/lib/nslab/layers";  // the grader runs as root
    const std::string stored = "ls -d " + store + "/*/sha256/" + hex + " 2>/dev/null";
    ASSERT_FALSE(run_host(stored).empty()) << "the good run should have unpacked the layer"
                                           << note(store + "/*/sha256/" + hex, "none");
    run_host("rm -rf " + store + "/*/sha256/" + hex);  // so the next run unpacks it again
    Result r = run(lab(), {"--net", "none", "--image", layout}, {"/bin/true"});
    EXPECT_EQ(r.status, 125) << "a layer whose blob does not match its digest is refused"
                             << ran(r, 125);
    EXPECT_HAS(r.err, "sha256:" + hex) << "the one line names the layer's digest";
    EXPECT_TRUE(run_host(stored).empty())
        << "nothing of the refused layer may be in the store"
        << note("no " + store + "/*/sha256/" + hex, one_line(run_host(stored)));
    const std::string left = run_host("ls " + store + "/tmp | grep " + hex);
    EXPECT_TRUE(left.empty()) << "no temporary directory of the refused layer is left in the store"
                              << note("none in " + store + "/tmp", one_line(left));
}

TEST(Image, BuiltImageRunsTheSameInPodman) {
    claim(3, "lab10 steps 1 to 3 (nslab image build runs each RUN on your lab 10)");
    ASSERT_FALSE(run_host("command -v podman").empty())
        << "podman is missing, and this claim compares with what podman runs: "
           "sudo ./nslab setup installs it"
        << note("podman on the PATH", "no podman");
    ImageBuilds builds;
    TempDir work;
    // The busybox rootfs as an image: FROM scratch, one COPY.
    const std::string base = builds.prefix + "-busybox", image = builds.prefix + "-built";
    write_file(work.path() + "/base/Dockerfile", "FROM scratch\nCOPY . /\n");
    std::string last;
    ASSERT_TRUE(built(builds.build(base, work.path() + "/base/Dockerfile", rootfs_dir()), &last))
        << "nslab image build of FROM scratch + COPY of the rootfs should succeed"
        << note("an image " + base, last);
    write_file(work.path() + "/app/hello.txt", "hello\n");
    write_file(work.path() + "/app/Dockerfile",
               "# a comment, and a continuation below\n"
               "FROM " +
                   base +
                   "\n"
                   "COPY hello.txt /srv/app/\n"
                   "ENV GREETING=\"hello from a build\"\n"
                   "WORKDIR /srv/app\n"
                   "RUN echo built > built.txt && mkdir dir && \\\n"
                   "    echo old > dir/old\n"
                   "RUN rm /etc/os-release && rm -r dir && mkdir dir && echo new > dir/new\n"
                   "CMD [\"/bin/sh\", \"-c\", \"echo $GREETING; pwd; cat hello.txt built.txt; "
                   "ls -A dir; ls -A /etc | grep -e os-release -e wh; echo end\"]\n");
    ASSERT_TRUE(
        built(builds.build(image, work.path() + "/app/Dockerfile", work.path() + "/app"), &last))
        << "nslab image build of a COPY, two RUN steps, ENV, WORKDIR and CMD should succeed "
           "(each RUN is a container of your lab 10)"
        << note("an image " + image, last);
    const std::string expected = "hello from a build\n/srv/app\nhello\nbuilt\nnew\nend\n";
    Result r = run(lab(), {"--net", "none", "--image", image}, {});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_TRUE(r.out == expected)
        << "the built image runs its Cmd with its Env in its WorkingDir; the file and the "
           "directory a RUN deleted are gone (a whiteout, an opaque directory)"
        << note(one_line(expected), one_line(r.out));
    const std::string failed = builds.load_into_podman(image, work.path() + "/image.tar");
    ASSERT_TRUE(failed.empty()) << "nslab image save writes an oci-archive that podman load takes"
                                << note("loaded", failed);
    const std::string podman_name = builds.podman_images.back();
    const std::string in_podman = run_host(
        "podman run --rm --runtime runc --network none --ulimit nofile=1024:1024 "
        "--ulimit nproc=4096:4096 " +
        podman_name + " 2>&1");
    EXPECT_TRUE(in_podman == r.out)
        << "podman runs the same image and prints the same as your lab 10 did"
        << note(one_line(r.out), one_line(in_podman));
}
