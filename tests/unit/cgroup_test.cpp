// The cgroup plans (cgroup_plan.hpp): mode decision, /proc/PID/cgroup, the
// limit files and their texts. No root, no cgroup file system needed.
#include <linux/magic.h>

#include <cstring>

#include <gtest/gtest.h>

#include "nslab/cgroup_plan.hpp"
#include "nslab/errors.hpp"
#include "nslab/kernel.hpp"

using namespace nslab;
using namespace nslab::cgroupfs;

TEST(CgroupMode, FromStatfs) {
    EXPECT_EQ(decide_mode(CGROUP2_SUPER_MAGIC, std::nullopt), Mode::unified);
    EXPECT_EQ(decide_mode(TMPFS_MAGIC, CGROUP2_SUPER_MAGIC), Mode::hybrid);
    EXPECT_EQ(decide_mode(TMPFS_MAGIC, std::nullopt), Mode::legacy);
    // An ordinary directory named unified/ does not make a hybrid.
    EXPECT_EQ(decide_mode(TMPFS_MAGIC, TMPFS_MAGIC), Mode::legacy);
}

TEST(CgroupProcFile, V2) {
    auto lines = parse_proc_cgroup("0::/nslab/ab12cd34-77\n");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], (ProcCgroupLine{0, {}, "/nslab/ab12cd34-77"}));
}

TEST(CgroupProcFile, V1HybridWithCoMountedAndNamedHierarchies) {
    auto lines =
        parse_proc_cgroup("9:name=systemd:/\n4:memory:/nslab/x-1\n2:cpu,cpuacct:/a:b\n0::/\n");
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].controllers, std::vector<std::string>{"name=systemd"});
    EXPECT_EQ(lines[1], (ProcCgroupLine{4, {"memory"}, "/nslab/x-1"}));
    EXPECT_EQ(lines[2].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
    EXPECT_EQ(lines[2].path, "/a:b") << "a path may hold ':'";
    EXPECT_EQ(lines[3], (ProcCgroupLine{0, {}, "/"}));
    // Outside the reader's cgroup namespace root, paths climb with "..".
    EXPECT_EQ(parse_proc_cgroup("0::/../../nslab/y-2")[0].path, "/../../nslab/y-2");
}

TEST(CgroupProcFile, RefusesGarbage) {
    EXPECT_THROW(parse_proc_cgroup("memory:/x\n"), std::runtime_error);
    EXPECT_THROW(parse_proc_cgroup("x:memory:/\n"), std::runtime_error);
}

TEST(CgroupFlatKeyed, MemoryEventsAndOomControl) {
    auto v2 = parse_flat_keyed("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
    EXPECT_EQ(v2["oom_kill"], 1u);
    EXPECT_EQ(v2["max"], 12u);
    auto v1 = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    EXPECT_EQ(v1["oom_kill"], 3u);
    auto stat = parse_flat_keyed("usage_usec 100\nnr_periods 20\nnr_throttled 19\n");
    EXPECT_EQ(stat["nr_throttled"], 19u);
    EXPECT_EQ(parse_flat_keyed("").count("oom_kill"), 0u);
}

TEST(CgroupCpu, QuotaFromCpus) {
    EXPECT_EQ(cpu_max(0.2), "20000 100000");
    EXPECT_EQ(cpu_max(0.5), "50000 100000");
    EXPECT_EQ(cpu_max(2), "200000 100000");
    EXPECT_EQ(cpu_max(1.0 / 3), "33333 100000");
    EXPECT_EQ(cpu_quota(0.01).quota_us, 1000u);
}

TEST(CgroupBytes, Human) {
    EXPECT_EQ(human_bytes(64ULL << 20), "64 MiB");
    EXPECT_EQ(human_bytes(1ULL << 30), "1 GiB");
    EXPECT_EQ(human_bytes(1536ULL << 10), "1536 KiB");
    EXPECT_EQ(human_bytes(1000), "1000 bytes");
}

TEST(CgroupLimits, OnlyWhatWasAsked) {
    Config cfg;
    EXPECT_TRUE(v2_limits(cfg).empty());
    EXPECT_TRUE(v1_limits(cfg).empty());
    EXPECT_TRUE(controllers_for(cfg).empty());
    EXPECT_EQ(subtree_control_line({}), "");
    cfg.pids = 20;
    EXPECT_EQ(v2_limits(cfg), (std::vector<LimitWrite>{{"pids", "pids.max", "20"}}));
    EXPECT_EQ(subtree_control_line(controllers_for(cfg)), "+pids");
}

TEST(CgroupLimits, EveryLimitV2AndV1) {
    Config cfg;
    cfg.memory = 64ULL << 20;
    cfg.pids = 20;
    cfg.cpus = 0.2;
    EXPECT_EQ(subtree_control_line(controllers_for(cfg)), "+memory +pids +cpu");
    EXPECT_EQ(v2_limits(cfg), (std::vector<LimitWrite>{
                                  {"memory", "memory.max", "67108864"},
                                  {"memory", "memory.swap.max", "0", true},
                                  {"pids", "pids.max", "20"},
                                  {"cpu", "cpu.max", "20000 100000"},
                              }));
    // v1: the memory limit before memsw (memsw may not be below it), the
    // period before the quota.
    EXPECT_EQ(v1_limits(cfg), (std::vector<LimitWrite>{
                                  {"memory", "memory.limit_in_bytes", "67108864"},
                                  {"memory", "memory.memsw.limit_in_bytes", "67108864", true},
                                  {"pids", "pids.max", "20"},
                                  {"cpu", "cpu.cfs_period_us", "100000"},
                                  {"cpu", "cpu.cfs_quota_us", "20000"},
                              }));
}

TEST(CgroupPaths, ContainerPathAndOwner) {
    EXPECT_EQ(container_path("ab12cd34", 4242), "/nslab/ab12cd34-4242");
    EXPECT_EQ(v2_directory("/nslab/ab12cd34-4242"), "/sys/fs/cgroup/nslab/ab12cd34-4242");
    EXPECT_EQ(owner_of("ab12cd34-4242"), 4242);
    EXPECT_EQ(owner_of("ab12cd34"), std::nullopt);
    EXPECT_EQ(owner_of("ab12cd34-"), std::nullopt);
    EXPECT_EQ(owner_of("ab12cd34-42x"), std::nullopt);
    EXPECT_EQ(owner_of("x-0"), std::nullopt);
}

TEST(CgroupPaths, AncestorsFromTheRootDown) {
    EXPECT_EQ(ancestors("/sys/fs/cgroup", "/nslab/x-1"),
              (std::vector<std::string>{"/sys/fs/cgroup", "/sys/fs/cgroup/nslab"}));
    EXPECT_EQ(ancestors("/r", "/a/b/c"), (std::vector<std::string>{"/r", "/r/a", "/r/a/b"}));
}

TEST(CgroupValidate, CpusAndControllers) {
    Host v2;
    v2.mode = Mode::unified;
    v2.controllers = {"cpu", "memory"};
    Config cfg;
    cfg.cpus = 3;
    try {
        validate(cfg, v2, 2);
        FAIL() << "3 CPUs on a 2-CPU machine";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "invalid value '3' for --cpus: this machine has 2 CPUs");
    }
    cfg.cpus = 0.001;
    EXPECT_THROW(validate(cfg, v2, 2), UsageError);
    cfg.cpus = 1.5;
    EXPECT_NO_THROW(validate(cfg, v2, 2));
    cfg.pids = 5;
    try {
        validate(cfg, v2, 2);
        FAIL() << "no pids controller";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("--pids needs the pids controller"), std::string::npos)
            << e.what();
    }
}

TEST(CgroupHost, HierarchiesAndDirectoriesOfControllers) {
    Host v1;
    v1.mode = Mode::hybrid;
    v1.v1_dirs = {{"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
                  {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"},
                  {"pids", "/sys/fs/cgroup/pids"}};
    EXPECT_EQ(v1.hierarchies_of({"pids", "cpu", "cpuacct", "memory"}),
              (std::vector<std::string>{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct"}));
    EXPECT_EQ(v1.directory("cpu", "/nslab/x-1"), "/sys/fs/cgroup/cpu,cpuacct/nslab/x-1");
    EXPECT_EQ(v1.directory("memory", "/nslab/x-1"), "");  // no such hierarchy
    Host v2;
    v2.mode = Mode::unified;
    EXPECT_EQ(v2.hierarchies_of({"pids", "memory"}), (std::vector<std::string>{"/sys/fs/cgroup"}));
    EXPECT_EQ(v2.directory("memory", "/nslab/x-1"), "/sys/fs/cgroup/nslab/x-1");
}

TEST(CgroupDevices, V1Lines) {
    auto writes = v1_device_limits(default_devices());
    ASSERT_GE(writes.size(), 2u);
    EXPECT_EQ(writes[0], (LimitWrite{"devices", "devices.deny", "a"})) << "deny all first";
    EXPECT_EQ(writes[1], (LimitWrite{"devices", "devices.allow", "c *:* m"}));
    EXPECT_EQ(device_line({'c', 136, -1, "rwm"}), "c 136:* rwm");
    EXPECT_EQ(device_line({'b', -1, -1, "m"}), "b *:* m");
    EXPECT_EQ(writes.size(), default_devices().size() + 1);
}

namespace {

// What the kernel would answer (1 allow, 0 EPERM): a small interpreter of
// the instructions device_program() uses, so the program is tested without
// root or a kernel. Anything else it meets fails the test.
int run_device_program(const std::vector<bpf_insn>& program, char type, int major, int minor,
                       std::uint32_t access) {
    std::uint64_t reg[11] = {};
    const bpf_cgroup_dev_ctx ctx{
        (access << 16) |
            static_cast<std::uint32_t>(type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
        static_cast<std::uint32_t>(major), static_cast<std::uint32_t>(minor)};
    for (size_t pc = 0, steps = 0; pc < program.size() && steps < 10000; ++pc, ++steps) {
        const bpf_insn& i = program[pc];
        auto& dst = reg[i.dst_reg];
        // The verifier's rule: a field an instruction does not use is 0
        // (else EINVAL, "uses reserved fields").
        const bool jump = BPF_CLASS(i.code) == BPF_JMP && BPF_OP(i.code) != BPF_EXIT;
        EXPECT_TRUE(jump || BPF_CLASS(i.code) == BPF_LDX || i.off == 0)
            << "off set on instruction " << pc;
        if (BPF_SRC(i.code) == BPF_X || BPF_CLASS(i.code) == BPF_LDX ||
            i.code == (BPF_JMP | BPF_EXIT))
            EXPECT_EQ(i.imm, 0) << "imm set on instruction " << pc;
        if (BPF_SRC(i.code) == BPF_K && BPF_CLASS(i.code) != BPF_LDX)
            EXPECT_EQ(i.src_reg, 0) << "src_reg set on instruction " << pc;
        switch (i.code) {
            case BPF_LDX | BPF_MEM | BPF_W:
                EXPECT_EQ(i.src_reg, 1) << "only the context is read";
                std::memcpy(&dst, reinterpret_cast<const char*>(&ctx) + i.off, 4);
                dst &= 0xffffffff;
                break;
            case BPF_ALU | BPF_AND | BPF_K:
                dst = static_cast<std::uint32_t>(dst) & static_cast<std::uint32_t>(i.imm);
                break;
            case BPF_ALU | BPF_RSH | BPF_K:
                dst = static_cast<std::uint32_t>(dst) >> i.imm;
                break;
            case BPF_ALU | BPF_MOV | BPF_X:
                dst = static_cast<std::uint32_t>(reg[i.src_reg]);
                break;
            case BPF_ALU64 | BPF_MOV | BPF_K:
                dst = static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm));
                break;
            case BPF_JMP | BPF_JNE | BPF_K:
                if (dst != static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm)))
                    pc += i.off;
                break;
            case BPF_JMP | BPF_JNE | BPF_X:
                if (dst != reg[i.src_reg]) pc += i.off;
                break;
            case BPF_JMP | BPF_EXIT:
                return static_cast<int>(reg[0]);
            default:
                ADD_FAILURE() << "unexpected instruction code " << int(i.code) << " at " << pc;
                return -1;
        }
    }
    ADD_FAILURE() << "the program ran off its end";
    return -1;
}

}  // namespace

TEST(CgroupDevices, V2ProgramAllowsDockersDevicesOnly) {
    const auto program = device_program(default_devices());
    const std::uint32_t rw = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
    for (auto [major, minor] : {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}})
        EXPECT_EQ(run_device_program(program, 'c', major, minor, rw), 1)
            << "c " << major << ":" << minor << " opens";
    EXPECT_EQ(run_device_program(program, 'c', 136, 7, rw), 1) << "any pts";
    EXPECT_EQ(run_device_program(program, 'b', 254, 0, BPF_DEVCG_ACC_READ), 0)
        << "the host's disk does not open";
    EXPECT_EQ(run_device_program(program, 'b', 254, 0, BPF_DEVCG_ACC_MKNOD), 1)
        << "but its node may be made (Docker's \"b *:* m\")";
    EXPECT_EQ(run_device_program(program, 'c', 1, 1, BPF_DEVCG_ACC_READ), 0) << "/dev/mem";
    EXPECT_EQ(run_device_program(program, 'c', 10, 200, rw), 0) << "/dev/net/tun";
    EXPECT_EQ(run_device_program(program, 'c', 1, 3, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ), 1);
    EXPECT_EQ(run_device_program(program, 'c', 4, 1, BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ), 0)
        << "mknod and read together ask more than \"m\"";
    EXPECT_EQ(run_device_program(device_program({}), 'c', 1, 3, rw), 0) << "no rule: deny";
    EXPECT_EQ(program.back().code, BPF_JMP | BPF_EXIT);
}

TEST(CgroupDevices, OnlyTheInitialUserNamespaceSetsThem) {
    EXPECT_TRUE(kernel::is_initial_uid_map("         0          0 4294967295\n"));
    EXPECT_FALSE(kernel::is_initial_uid_map("         0       1000          1\n"));
    EXPECT_FALSE(kernel::is_initial_uid_map("0 0 4294967295\n1 1 1\n")) << "one line only";
    EXPECT_FALSE(kernel::is_initial_uid_map(""));
}
