#include "nslab/parse.hpp"

#include <gtest/gtest.h>

#include "nslab/errors.hpp"

using namespace nslab;

TEST(ParseSize, Units) {
    EXPECT_EQ(parse::size("--memory", "4096"), 4096u);
    EXPECT_EQ(parse::size("--memory", "512K"), 512u << 10);
    EXPECT_EQ(parse::size("--memory", "64M"), 64u << 20);
    EXPECT_EQ(parse::size("--memory", "1G"), 1ull << 30);
}

TEST(ParseSize, RefusesBadSizes) {
    for (const char* bad : {"", "0", "-1", "12Q", "M", "1.5G", "99999999999999999999", "20000000T"})
        EXPECT_THROW(parse::size("--memory", bad), UsageError) << bad;
    try {
        parse::size("--memory", "-5M");
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "invalid value '-5M' for --memory: a size cannot be negative");
    }
}

TEST(ParseIdMap, Good) {
    EXPECT_EQ(parse::id_map("--uid-map", "0:1000:1"), (IdMapEntry{0, 1000, 1}));
    EXPECT_EQ(parse::id_map("--uid-map", "1:100000:65536"), (IdMapEntry{1, 100000, 65536}));
}

TEST(ParseIdMap, Bad) {
    for (const char* bad : {"", "0:1000", "0:1000:0", "a:b:c", "0:1000:1:2", "-1:0:1",
                            "0:4294967295:1", "4294967290:0:10"})
        EXPECT_THROW(parse::id_map("--uid-map", bad), UsageError) << bad;
}

TEST(ParseCidr, GoodAndBad) {
    EXPECT_EQ(parse::to_string(parse::cidr("--ip", "10.88.0.2/16")), "10.88.0.2/16");
    for (const char* bad :
         {"10.88.0.2", "10.88.0.300/16", "10.88.0.2/0", "10.88.0.2/33", "x/8", "/8"})
        EXPECT_THROW(parse::cidr("--ip", bad), UsageError) << bad;
}

TEST(ParseHostname, Rules) {
    EXPECT_EQ(parse::hostname("--hostname", "web-1.example"), "web-1.example");
    for (const char* bad : {"", "-a", "a-", "a..b", "a b", "caf\xc3\xa9", ".a"})
        EXPECT_THROW(parse::hostname("--hostname", bad), UsageError) << bad;
    EXPECT_THROW(parse::hostname("--hostname", std::string(65, 'a')), UsageError);
    EXPECT_NO_THROW(parse::hostname("--hostname", std::string(64, 'a')));
}

TEST(ParseNumbers, SecondsAndDecimals) {
    EXPECT_EQ(parse::seconds("--boottime-offset", "-3600"), -3600);
    EXPECT_THROW(parse::seconds("--boottime-offset", "1h"), UsageError);
    EXPECT_DOUBLE_EQ(parse::positive_decimal("--cpus", "0.5"), 0.5);
    for (const char* bad : {"0", "-1", "abc", "nan", "inf", ""})
        EXPECT_THROW(parse::positive_decimal("--cpus", bad), UsageError) << bad;
    EXPECT_EQ(parse::positive("--pids", "10"), 10u);
    for (const char* bad : {"0", "-3", "3x"})
        EXPECT_THROW(parse::positive("--pids", bad), UsageError);
}
