// Narrow float codecs against an independent reference: decoding by the
// textbook formula in double precision, encoding by searching the sorted list
// of every representable value. Every 8- and 16-bit pattern is covered.
#include "tensor/float_convert.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "common/error.h"

namespace arle {
namespace {

struct Codec {
  const char* name;
  int exp_bits, man_bits;
  bool ieee;  // top exponent = inf/NaN; otherwise only all-ones is NaN (e4m3fn)
  std::function<std::uint32_t(float)> encode;
  std::function<float(std::uint32_t)> decode;
  DType dtype;

  int bits() const { return 1 + exp_bits + man_bits; }
  std::uint32_t patterns() const { return 1u << bits(); }
  std::uint32_t sign_bit() const { return 1u << (bits() - 1); }
  int bias() const { return (1 << (exp_bits - 1)) - 1; }

  bool ref_is_nan(std::uint32_t p) const {
    std::uint32_t e = (p >> man_bits) & ((1u << exp_bits) - 1), m = p & ((1u << man_bits) - 1);
    if (ieee) return e == (1u << exp_bits) - 1 && m != 0;
    return e == (1u << exp_bits) - 1 && m == (1u << man_bits) - 1;
  }
  bool ref_is_inf(std::uint32_t p) const {
    std::uint32_t e = (p >> man_bits) & ((1u << exp_bits) - 1), m = p & ((1u << man_bits) - 1);
    return ieee && e == (1u << exp_bits) - 1 && m == 0;
  }
  // (-1)^s * 2^(1-bias) * m/2^M for denormals, (-1)^s * 2^(e-bias) * (1 + m/2^M) otherwise.
  double ref_decode(std::uint32_t p) const {
    std::uint32_t e = (p >> man_bits) & ((1u << exp_bits) - 1), m = p & ((1u << man_bits) - 1);
    double sign = (p & sign_bit()) ? -1.0 : 1.0;
    if (ref_is_nan(p)) return std::numeric_limits<double>::quiet_NaN();
    if (ref_is_inf(p)) return sign * std::numeric_limits<double>::infinity();
    if (e == 0) return sign * std::ldexp(static_cast<double>(m) / std::ldexp(1.0, man_bits), 1 - bias());
    return sign * std::ldexp(1.0 + static_cast<double>(m) / std::ldexp(1.0, man_bits), static_cast<int>(e) - bias());
  }
  std::uint32_t overflow_pattern() const {  // magnitude pattern of +inf, or NaN for e4m3fn
    std::uint32_t all_exp = ((1u << exp_bits) - 1) << man_bits;
    return ieee ? all_exp : all_exp | ((1u << man_bits) - 1);
  }
};

void PrintTo(const Codec& c, std::ostream* os) { *os << c.name; }

std::vector<Codec> codecs() {
  return {
      {"bf16", 8, 7, true, [](float x) { return std::uint32_t{f32_to_bf16(x)}; },
       [](std::uint32_t p) { return bf16_to_f32(static_cast<std::uint16_t>(p)); }, DType::kBF16},
      {"f16", 5, 10, true, [](float x) { return std::uint32_t{f32_to_f16(x)}; },
       [](std::uint32_t p) { return f16_to_f32(static_cast<std::uint16_t>(p)); }, DType::kF16},
      {"f8e4m3", 4, 3, false, [](float x) { return std::uint32_t{f32_to_f8e4m3(x)}; },
       [](std::uint32_t p) { return f8e4m3_to_f32(static_cast<std::uint8_t>(p)); }, DType::kF8E4M3},
      {"f8e5m2", 5, 2, true, [](float x) { return std::uint32_t{f32_to_f8e5m2(x)}; },
       [](std::uint32_t p) { return f8e5m2_to_f32(static_cast<std::uint8_t>(p)); }, DType::kF8E5M2},
  };
}

// Every non-negative finite value of the format with its pattern, ascending.
std::vector<std::pair<double, std::uint32_t>> positive_values(const Codec& c) {
  std::vector<std::pair<double, std::uint32_t>> v;
  for (std::uint32_t p = 0; p < c.sign_bit(); ++p) {
    if (!c.ref_is_nan(p) && !c.ref_is_inf(p)) v.emplace_back(c.ref_decode(p), p);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// Reference encoder: nearest representable value, ties to the even pattern,
// overflow past max + half an ulp (ties by the same rule) to inf / NaN.
std::uint32_t ref_encode(const Codec& c, const std::vector<std::pair<double, std::uint32_t>>& values, float x) {
  if (std::isnan(x)) return 0xFFFFFFFFu;  // any NaN; checked separately
  std::uint32_t sign = std::signbit(x) ? c.sign_bit() : 0;
  if (std::isinf(x)) return sign | c.overflow_pattern();
  double ax = std::fabs(static_cast<double>(x));
  const auto& top = values.back();
  double threshold = top.first + (top.first - values[values.size() - 2].first) / 2;
  if (ax > threshold || (ax == threshold && (top.second & 1u))) return sign | c.overflow_pattern();
  auto hi = std::lower_bound(values.begin(), values.end(), std::make_pair(ax, 0u),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
  if (hi == values.end()) return sign | top.second;
  if (hi->first == ax || hi == values.begin()) return sign | hi->second;
  auto lo = hi - 1;
  double dlo = ax - lo->first, dhi = hi->first - ax;
  if (dlo < dhi) return sign | lo->second;
  if (dhi < dlo) return sign | hi->second;
  return sign | ((lo->second & 1u) ? hi->second : lo->second);
}

bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

class FloatConvert : public ::testing::TestWithParam<Codec> {};

TEST_P(FloatConvert, DecodeMatchesFormulaForEveryPattern) {
  const Codec& c = GetParam();
  for (std::uint32_t p = 0; p < c.patterns(); ++p) {
    float got = c.decode(p);
    double want = c.ref_decode(p);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << c.name << " pattern " << p;
      ASSERT_EQ(std::signbit(got), (p & c.sign_bit()) != 0) << c.name << " NaN sign, pattern " << p;
      continue;
    }
    ASSERT_TRUE(same_float(got, static_cast<float>(want))) << c.name << " pattern " << p << " got " << got;
    ASSERT_EQ(static_cast<double>(got), want) << c.name << " pattern " << p;  // exact widening
  }
}

TEST_P(FloatConvert, EncodeOfDecodeRoundTripsEveryPattern) {
  const Codec& c = GetParam();
  for (std::uint32_t p = 0; p < c.patterns(); ++p) {
    if (c.ref_is_nan(p)) {
      std::uint32_t back = c.encode(c.decode(p));
      ASSERT_TRUE(c.ref_is_nan(back)) << c.name << " NaN pattern " << p << " re-encoded as " << back;
      ASSERT_EQ(back & c.sign_bit(), p & c.sign_bit());
      continue;
    }
    ASSERT_EQ(c.encode(c.decode(p)), p) << c.name << " pattern " << p;
  }
}

// Between every two neighbouring values: the exact midpoint goes to the even
// pattern, the floats just beside it to the nearer neighbour.
TEST_P(FloatConvert, MidpointsBetweenEveryNeighbourPairRoundToEven) {
  const Codec& c = GetParam();
  auto values = positive_values(c);
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    auto [a, pa] = values[i];
    auto [b, pb] = values[i + 1];
    double mid = (a + b) / 2;
    auto midf = static_cast<float>(mid);
    if (static_cast<double>(midf) != mid) continue;  // bf16's smallest gaps sit below f32's denormals
    for (float sign : {1.0f, -1.0f}) {
      std::uint32_t s = sign < 0 ? c.sign_bit() : 0;
      float m = sign * midf;
      ASSERT_EQ(c.encode(m), s | ((pa & 1u) ? pb : pa)) << c.name << " midpoint " << m;
      ASSERT_EQ(c.encode(std::nextafter(m, sign * INFINITY)), s | pb) << c.name << " above midpoint " << m;
      ASSERT_EQ(c.encode(std::nextafter(m, 0.0f)), s | pa) << c.name << " below midpoint " << m;
    }
  }
}

TEST_P(FloatConvert, OverflowInfinityAndNan) {
  const Codec& c = GetParam();
  auto values = positive_values(c);
  const auto& top = values.back();
  double ulp = top.first - values[values.size() - 2].first;
  auto threshold = static_cast<float>(top.first + ulp / 2);
  EXPECT_EQ(c.encode(static_cast<float>(top.first)), top.second);
  EXPECT_EQ(c.encode(std::nextafter(threshold, 0.0f)), top.second);
  EXPECT_EQ(c.encode(std::nextafter(threshold, INFINITY)), c.overflow_pattern());
  EXPECT_EQ(c.encode(-std::nextafter(threshold, INFINITY)), c.sign_bit() | c.overflow_pattern());
  EXPECT_EQ(c.encode(std::numeric_limits<float>::max()), c.overflow_pattern());
  EXPECT_EQ(c.encode(INFINITY), c.overflow_pattern());
  EXPECT_EQ(c.encode(-INFINITY), c.sign_bit() | c.overflow_pattern());
  for (std::uint32_t payload : {0x7fc00000u, 0x7f800001u, 0x7fbfffffu, 0x7fffffffu, 0x7fa00000u}) {
    for (std::uint32_t sign : {0u, 0x80000000u}) {
      std::uint32_t p = c.encode(std::bit_cast<float>(payload | sign));
      EXPECT_TRUE(c.ref_is_nan(p)) << c.name << " NaN " << std::hex << (payload | sign) << " -> " << p;
      EXPECT_EQ((p & c.sign_bit()) != 0, sign != 0);
    }
  }
  EXPECT_EQ(c.encode(0.0f), 0u);
  EXPECT_EQ(c.encode(-0.0f), c.sign_bit());
  EXPECT_EQ(c.encode(std::numeric_limits<float>::denorm_min()), 0u);
  EXPECT_EQ(c.encode(-std::numeric_limits<float>::denorm_min()), c.sign_bit());
}

TEST_P(FloatConvert, RandomFloatsMatchReferenceEncoder) {
  const Codec& c = GetParam();
  auto values = positive_values(c);
  std::mt19937 rng(1234);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  const double top = values.back().first;
  std::uniform_real_distribution<double> log_magnitude(-160, std::log2(top) + 2);
  for (int i = 0; i < 200000; ++i) {
    // Half uniform over all f32 bit patterns, half log-uniform around the format's range.
    float x = (i % 2) ? std::bit_cast<float>(any_bits(rng))
                      : static_cast<float>(std::exp2(log_magnitude(rng))) * ((i % 4 == 0) ? -1.0f : 1.0f);
    if (std::isnan(x)) continue;
    ASSERT_EQ(c.encode(x), ref_encode(c, values, x)) << c.name << " x=" << x << " bits " << std::hex
                                                     << std::bit_cast<std::uint32_t>(x);
  }
}

TEST_P(FloatConvert, BulkConversionsMatchScalarOnes) {
  const Codec& c = GetParam();
  std::vector<float> src;
  for (std::uint32_t p = 0; p < c.patterns(); p += 7) src.push_back(c.decode(p) * 1.03f);
  std::vector<std::uint8_t> narrow(src.size() * dtype_size(c.dtype));
  convert_from_f32(src.data(), narrow.data(), c.dtype, src.size());
  std::vector<float> back(src.size());
  convert_to_f32(narrow.data(), c.dtype, back.data(), src.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    std::uint32_t p = dtype_size(c.dtype) == 1 ? narrow[i] : (narrow[2 * i] | (narrow[2 * i + 1] << 8));
    ASSERT_EQ(p, c.encode(src[i])) << c.name << " element " << i;
    ASSERT_TRUE(same_float(back[i], c.decode(p))) << c.name << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FloatConvert, ::testing::ValuesIn(codecs()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FloatConvertKnownValues, MatchPublishedEncodings) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_bf16(3.14159265f), 0x4049);
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);          // rounds up to infinity
  EXPECT_EQ(f32_to_f16(5.9604645e-8f), 0x0001);     // smallest denormal 2^-24
  EXPECT_EQ(f32_to_f16(2.9802322e-8f), 0x0000);     // 2^-25 ties to even (zero)
  EXPECT_EQ(f32_to_f8e4m3(1.0f), 0x38);
  EXPECT_EQ(f32_to_f8e4m3(448.0f), 0x7E);
  EXPECT_EQ(f32_to_f8e4m3(464.0f), 0x7E);           // tie between 448 and the NaN slot: even
  EXPECT_EQ(f32_to_f8e4m3(465.0f), 0x7F);           // beyond: NaN, as PyTorch
  EXPECT_EQ(f32_to_f8e4m3(0.001953125f), 0x01);     // 2^-9
  EXPECT_EQ(f32_to_f8e5m2(1.0f), 0x3C);
  EXPECT_EQ(f32_to_f8e5m2(57344.0f), 0x7B);
  EXPECT_EQ(f32_to_f8e5m2(61440.0f), 0x7C);         // tie at max + ulp/2 goes to infinity
  EXPECT_EQ(f8e4m3_to_f32(0x7E), 448.0f);
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0xFF)));
  EXPECT_EQ(f8e5m2_to_f32(0x7C), INFINITY);
  EXPECT_EQ(bf16_to_f32(0x0001), std::ldexp(1.0f, -133));  // bf16 denormal is an f32 denormal
}

// GCC's _Float16 conversions are an independent implementation of IEEE f16.
TEST(FloatConvertKnownValues, F16AgreesWithCompilerFloat16) {
  for (std::uint32_t p = 0; p < 65536; ++p) {
    auto bits = static_cast<std::uint16_t>(p);
    _Float16 h = std::bit_cast<_Float16>(bits);
    ASSERT_TRUE(same_float(f16_to_f32(bits), static_cast<float>(h))) << p;
  }
  std::mt19937 rng(99);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  for (int i = 0; i < 300000; ++i) {
    float x = std::bit_cast<float>(any_bits(rng));
    if (i % 2) x = std::ldexp(static_cast<float>(any_bits(rng) % 1000000) / 1000000.0f, static_cast<int>(i % 40) - 28);
    if (std::isnan(x)) continue;
    auto want = std::bit_cast<std::uint16_t>(static_cast<_Float16>(x));
    ASSERT_EQ(f32_to_f16(x), want) << x;
  }
}

TEST(FloatConvertKnownValues, NonFloatDtypesAreRejected) {
  float f = 0;
  std::int32_t i = 0;
  EXPECT_THROW(convert_to_f32(&i, DType::kI32, &f, 1), Error);
  EXPECT_THROW(convert_from_f32(&f, &i, DType::kI32, 1), Error);
}

}  // namespace
}  // namespace arle
