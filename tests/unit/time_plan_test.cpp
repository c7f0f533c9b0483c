#include "nslab/time_plan.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "nslab/errors.hpp"

using namespace nslab;

TEST(TimePlan, OffsetsTextIsOneWrite) {
    EXPECT_EQ(time_plan::offsets_text(0, 0), "monotonic 0 0\nboottime 0 0\n");
    EXPECT_EQ(time_plan::offsets_text(3600, -60), "monotonic 3600 0\nboottime -60 0\n");
}

TEST(TimePlan, LimitIsHalfOfKtimeSecMax) {
    EXPECT_EQ(time_plan::max_clock_seconds, 4611686018);
}

TEST(TimePlan, OffsetsWithinTheClockRangeAreTaken) {
    EXPECT_NO_THROW(time_plan::check_offset("--boottime-offset", 0, 1000));
    EXPECT_NO_THROW(time_plan::check_offset("--boottime-offset", -1000, 1000));
    EXPECT_NO_THROW(time_plan::check_offset("--boottime-offset", 86400 * 365, 1000));
    EXPECT_NO_THROW(
        time_plan::check_offset("--monotonic-offset", time_plan::max_clock_seconds - 1000, 1000));
}

TEST(TimePlan, ClockBeforeBootIsRefusedNamingTheOption) {
    try {
        time_plan::check_offset("--boottime-offset", -1001, 1000);
        FAIL() << "an offset taking the clock below 0 must be refused";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(),
                     "invalid value '-1001' for --boottime-offset: the clock would go before boot "
                     "(it reads 1000 s now, so the offset must be at least -1000)");
    }
}

TEST(TimePlan, ClockPastTheKernelLimitIsRefused) {
    EXPECT_THROW(
        time_plan::check_offset("--monotonic-offset", time_plan::max_clock_seconds - 999, 1000),
        UsageError);
    EXPECT_THROW(time_plan::check_offset("--monotonic-offset", INT64_MAX, 1000), UsageError);
    EXPECT_THROW(time_plan::check_offset("--monotonic-offset", INT64_MIN, 1000), UsageError);
}

TEST(TimePlan, KernelWithoutTimeNamespacesIsNamed) {
    auto dir = std::filesystem::temp_directory_path() / ("nslab-ns-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    try {
        time_plan::require_time_namespaces(dir.string());
        FAIL() << "a directory without a time link means no time namespaces";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no time namespaces"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("CONFIG_TIME_NS"), std::string::npos) << e.what();
    }
    std::filesystem::create_symlink("time:[4026531834]", dir / "time");
    EXPECT_NO_THROW(time_plan::require_time_namespaces(dir.string()));
    std::filesystem::remove_all(dir);
}
