#include "common/error.h"

#include <gtest/gtest.h>

#include <set>

namespace arle {
namespace {

TEST(Error, ThrowErrorFormatsMessageAndKeepsCode) {
  try {
    throw_error(ErrorCode::kNotFound, "no tensor '{}' in {}", "w", "x.safetensors");
    FAIL() << "throw_error returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_STREQ(e.what(), "no tensor 'w' in x.safetensors");
  }
}

TEST(Error, EveryCodeHasADistinctName) {
  const ErrorCode codes[] = {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kInvalidModel,
                             ErrorCode::kUnsupported,     ErrorCode::kIo,       ErrorCode::kOutOfMemory,
                             ErrorCode::kInternal};
  std::set<std::string_view> names;
  for (ErrorCode c : codes) names.insert(error_code_name(c));
  EXPECT_EQ(names.size(), std::size(codes));
  EXPECT_EQ(error_code_name(ErrorCode::kInvalidModel), "invalid_model");
}

}  // namespace
}  // namespace arle
