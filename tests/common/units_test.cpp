#include "common/units.h"

#include <gtest/gtest.h>

namespace arle {
namespace {

TEST(Units, HumanCount) {
  EXPECT_EQ(human_count(0), "0");
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_count(260032), "260.03K");
  EXPECT_EQ(human_count(596049920), "596.05M");
  EXPECT_EQ(human_count(8.2e9), "8.20B");
}

TEST(Units, HumanBytes) {
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1040128), "1015.75 KiB");
  EXPECT_EQ(human_bytes(1.5 * (1ull << 30)), "1.50 GiB");
}

}  // namespace
}  // namespace arle
