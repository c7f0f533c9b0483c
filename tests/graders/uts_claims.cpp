// Lab 03's claims: the UTS namespace. They run against every later lab too.
//
// A runtime that calls sethostname(2) without CLONE_NEWUTS renames THIS
// machine. So the host's names are saved when the grader starts and put
// back after every test of the program (not only this suite's: the earlier
// layers' claims run this lab's executable too), and at its end.
#include <unistd.h>

#include <cctype>

#include "harness.hpp"
#include "nslab/sys.hpp"

using namespace grader;

namespace {

std::string domainname() {
    char name[256] = {};
    ::getdomainname(name, sizeof name - 1);
    return name;
}

class HostNamesKeeper : public testing::EmptyTestEventListener {
  public:
    void OnTestEnd(const testing::TestInfo&) override { restore(); }
    void OnTestProgramEnd(const testing::UnitTest&) override { restore(); }

    const std::string hostname = nslab::sys::gethostname();
    const std::string domain = domainname();

  private:
    void restore() const {
        if (nslab::sys::gethostname() != hostname) ::sethostname(hostname.data(), hostname.size());
        if (domainname() != domain) ::setdomainname(domain.data(), domain.size());
    }
};

// Made before main() runs any test; the listener list owns it.
const HostNamesKeeper& keeper = []() -> const HostNamesKeeper& {
    auto* k = new HostNamesKeeper;
    testing::UnitTest::GetInstance()->listeners().Append(k);
    return *k;
}();

}  // namespace

TEST(Uts, HostnameInsideIsTheGivenName) {
    claim(3, "lab03 step 2 (sethostname)");
    Result r = run(lab(), {"--hostname", "nslab-given"},
                   {"/bin/sh", "-c", "hostname && " + probe_path(lab()) + " hostname"});
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "nslab-given") << "busybox hostname inside";
    EXPECT_EQ(key_values(r.out)["hostname"], "nslab-given") << "uname(2) inside (the probe)";
}

TEST(Uts, DefaultHostnameIsTheContainerId) {
    claim(1, "lab03 step 2 (default: the container id)");
    Result a = run(lab(), {}, probe({"hostname"}));
    Result b = run(lab(), {}, probe({"hostname"}));
    ASSERT_EQ(a.status, 0) << ran(a, 0);
    ASSERT_EQ(b.status, 0) << ran(b, 0);
    std::string name = key_values(a.out)["hostname"];
    EXPECT_EQ(name.size(), 8u) << "expected an 8-digit hex container id, observed '" << name << "'";
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), ::isxdigit))
        << "the default hostname is hex" << note("8 hex digits", name);
    EXPECT_NE(name, keeper.hostname) << "without --hostname the container is named by its id";
    EXPECT_NE(name, key_values(b.out)["hostname"]) << "two containers, two ids";
}

TEST(Uts, DomainNameIsSet) {
    claim(1, "lab03 step 2 (setdomainname)");
    Result r = run(lab(), {"--domainname", "lab.example"}, probe({"hostname"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    EXPECT_EQ(key_values(r.out)["domainname"], "lab.example") << "getdomainname(2) inside";
    EXPECT_EQ(domainname(), keeper.domain) << "the host's domain name must not change";
}

TEST(Uts, HostHostnameUnchanged) {
    claim(3, "lab03 step 1 (CLONE_NEWUTS)");
    auto c = Running::start(lab(), {"--hostname", "nslab-not-the-host"}, probe({"hold"}));
    EXPECT_EQ(nslab::sys::gethostname(), keeper.hostname)
        << "while the container runs, the host's hostname changed: sethostname without a new "
           "UTS namespace renames the host (this grader puts the name back)";
    expect_ends(c, 0, "the container ends with its command");
    EXPECT_EQ(nslab::sys::gethostname(), keeper.hostname) << "after the container ended";
    EXPECT_EQ(nslab::sys::read_file("/proc/sys/kernel/hostname"), keeper.hostname + "\n")
        << "/proc/sys/kernel/hostname is the host's"
        << note(keeper.hostname, nslab::sys::read_file("/proc/sys/kernel/hostname"));
}

TEST(Uts, UtsNamespaceIsNew) {
    claim(1, "lab03 step 1 (CLONE_NEWUTS)");
    // From inside: the probe stats its own /proc/self/ns/uts.
    Result r = run(lab(), {}, probe({"ns"}));
    ASSERT_EQ(r.status, 0) << ran(r, 0);
    std::string inside = key_values(r.out)["uts"];
    std::string host = std::to_string(namespaces_of(::getpid())["uts"]);
    EXPECT_NE(inside, "") << "the probe reads /proc/self/ns/uts" << note("uts: INODE", r.out);
    EXPECT_NE(inside, host) << "inside, /proc/self/ns/uts is the host's UTS namespace"
                            << note("a new uts namespace (not uts:[" + host + "], the host's)",
                                    "uts:[" + inside + "]");
}

TEST(Uts, ChangeInsideStaysInside) {
    claim(2, "lab03 handout: whose hostname");
    auto c =
        Running::start(lab(), with({"--hostname", "nslab-before"}, unconfined(lab())),
                       {"/bin/sh", "-c",
                        "hostname nslab-after && hostname && exec " + probe_path(lab()) + " hold"});
    EXPECT_EQ(c.first_line(), "nslab-after") << "hostname NAME inside renames the container";
    EXPECT_EQ(nslab::sys::gethostname(), keeper.hostname)
        << "a hostname set inside the container reached the host";
    expect_ends(c, 0, "the container ends with its command");
}

TEST(Uts, BadHostnameGivesOneClearLine) {
    claim(1, "lab03 handout: valid names");
    for (const std::string& bad :
         {std::string("bad name"), std::string("-dash"), std::string(65, 'a')}) {
        Result r = run(lab(), {"--hostname", bad}, {"/bin/true"});
        EXPECT_EQ(r.status, 2) << "--hostname '" << bad << "' is a bad command line: " << r.err;
        EXPECT_NE(r.err.find("--hostname"), std::string::npos)
            << "the error names the option" << says(r, "--hostname");
    }
    const std::string longest(64, 'a');
    Result r = run(lab(), {"--hostname", longest}, probe({"hostname"}));
    ASSERT_EQ(r.status, 0) << "64 characters is the longest name: " << r.err;
    EXPECT_EQ(key_values(r.out)["hostname"], longest)
        << "a 64-character name is kept whole" << note(longest, key_values(r.out)["hostname"]);
}
