#pragma once

#include <cstdint>

namespace arle::text {

using TokenId = std::int32_t;

}  // namespace arle::text
