// Tokenizer benchmark: tokenizer.json load time and single-threaded encode
// throughput (MB/s of UTF-8 input) on real evaluation text (MMLU CSVs and
// GSM8K JSONL). Prints a table; never part of CI.
//
//   tokenizer_bench --tokenizer DIR --data EVAL_DIR [--repeat N]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json_file.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One document per line (a CSV row or a JSONL record), as a server would see prompts.
std::vector<std::string> load_lines(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == extension) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> lines;
  for (const auto& f : files) {
    std::istringstream in(arle::read_text_file(f));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  return lines;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer_dir, data_dir;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--tokenizer") tokenizer_dir = argv[i + 1];
    if (flag == "--data") data_dir = argv[i + 1];
    if (flag == "--repeat") repeat = std::max(1, std::stoi(argv[i + 1]));
  }
  if (tokenizer_dir.empty() || data_dir.empty()) {
    fmt::print(stderr, "usage: tokenizer_bench --tokenizer DIR --data EVAL_DIR [--repeat N]\n");
    return 1;
  }
  try {
    std::vector<double> loads;
    std::unique_ptr<arle::text::Tokenizer> tok;
    for (int i = 0; i < 5; ++i) {
      auto t = Clock::now();
      tok = arle::text::Tokenizer::load(tokenizer_dir);
      loads.push_back(seconds_since(t));
    }
    fmt::print("| tokenizer | {} |\n| load (median of 5) | {:.0f} ms |\n", tokenizer_dir, median(loads) * 1000);
    fmt::print("\n| corpus | docs | MB | tokens | cold MB/s | warm MB/s (median of {}) | tokens/s |\n|---|---|---|---|---|---|---|\n",
               repeat);
    struct Corpus {
      const char* name;
      fs::path dir;
      const char* extension;
    };
    for (const Corpus& c : {Corpus{"mmlu", fs::path(data_dir) / "mmlu", ".csv"},
                            Corpus{"gsm8k", fs::path(data_dir) / "gsm8k", ".jsonl"}}) {
      auto docs = load_lines(c.dir, c.extension);
      std::size_t bytes = 0;
      for (const auto& d : docs) bytes += d.size();
      auto fresh = arle::text::Tokenizer::load(tokenizer_dir);  // empty word cache
      std::size_t tokens = 0;
      auto t = Clock::now();
      for (const auto& d : docs) tokens += fresh->encode(d, false).size();
      double cold = seconds_since(t);
      std::vector<double> warm;
      for (int r = 0; r < repeat; ++r) {
        t = Clock::now();
        for (const auto& d : docs) fresh->encode(d, false);
        warm.push_back(seconds_since(t));
      }
      double mb = static_cast<double>(bytes) / 1e6;
      fmt::print("| {} | {} | {:.2f} | {} | {:.1f} | {:.1f} | {:.2f}M |\n", c.name, docs.size(), mb, tokens, mb / cold,
                 mb / median(warm), static_cast<double>(tokens) / median(warm) / 1e6);
    }
  } catch (const arle::Error& e) {
    fmt::print(stderr, "tokenizer_bench: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
