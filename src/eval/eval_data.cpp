#include "eval/eval_data.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "common/bundled_asset.h"
#include "common/error.h"
#include "eval/csv_reader.h"

namespace arle::eval {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::kNotFound, "cannot read {}", path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<MmluQuestion> load_mmlu_file(const fs::path& path, const std::string& subject) {
  std::vector<MmluQuestion> out;
  const std::vector<CsvRecord> records = parse_csv(read_file(path), path.string());
  for (std::size_t r = 0; r < records.size(); ++r) {
    const CsvRecord& f = records[r];
    if (f.size() != 6) {
      throw_error(ErrorCode::kInvalidArgument, "{}: record {} has {} fields, expected 6 (question, A, B, C, D, answer)",
                  path.string(), r + 1, f.size());
    }
    if (f[5].size() != 1 || f[5][0] < 'A' || f[5][0] > 'D') {
      throw_error(ErrorCode::kInvalidArgument, "{}: record {}: answer '{}' is not one of A, B, C, D", path.string(),
                  r + 1, f[5]);
    }
    out.push_back({subject, f[0], {f[1], f[2], f[3], f[4]}, f[5][0] - 'A'});
  }
  if (out.empty()) throw_error(ErrorCode::kInvalidArgument, "{} holds no questions", path.string());
  return out;
}

// Each line of a JSON-lines file, parsed; blank lines are skipped.
template <typename Item, typename Parse>
std::vector<Item> load_json_lines(const fs::path& path, const Parse& parse) {
  std::ifstream in(path);
  if (!in) throw_error(ErrorCode::kNotFound, "cannot read {}", path.string());
  std::vector<Item> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      out.push_back(parse(nlohmann::json::parse(line)));
    } catch (const std::exception& e) {  // bad JSON, a missing or mistyped field, a bad label
      throw_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path.string(), n, e.what());
    }
  }
  if (out.empty()) throw_error(ErrorCode::kInvalidArgument, "{} holds no items", path.string());
  return out;
}

}  // namespace

MmluData load_mmlu(const fs::path& dir) {
  MmluData data;
  std::error_code ec;
  for (const char* split : {"dev", "test"}) {
    const fs::path folder = dir / split;
    if (!fs::is_directory(folder, ec)) throw_error(ErrorCode::kNotFound, "MMLU folder {} not found", folder.string());
    const std::string suffix = std::string("_") + split + ".csv";
    for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      const std::string subject = name.substr(0, name.size() - suffix.size());
      (std::string(split) == "dev" ? data.dev : data.test)[subject] = load_mmlu_file(e.path(), subject);
    }
  }
  if (data.test.empty()) throw_error(ErrorCode::kNotFound, "no MMLU test files (*_test.csv) in {}", dir.string());
  for (const auto& [subject, questions] : data.test) {
    if (!data.dev.count(subject)) {
      throw_error(ErrorCode::kNotFound, "MMLU subject {} has test questions but no {}/dev/{}_dev.csv", subject,
                  dir.string(), subject);
    }
  }
  return data;
}

std::vector<HellaswagItem> load_hellaswag(const fs::path& file) {
  return load_json_lines<HellaswagItem>(file, [](const nlohmann::json& j) {
    HellaswagItem item;
    item.activity_label = j.at("activity_label").get<std::string>();
    item.ctx_a = j.at("ctx_a").get<std::string>();
    item.ctx_b = j.at("ctx_b").get<std::string>();
    item.endings = j.at("endings").get<std::vector<std::string>>();
    const nlohmann::json& label = j.at("label");
    item.label = label.is_string() ? std::stoi(label.get<std::string>()) : label.get<int>();
    if (item.endings.size() < 2 || item.label < 0 || item.label >= static_cast<int>(item.endings.size())) {
      throw_error(ErrorCode::kInvalidArgument, "label {} does not pick one of {} endings", item.label,
                  item.endings.size());
    }
    return item;
  });
}

std::vector<Gsm8kItem> load_gsm8k(const fs::path& file) {
  return load_json_lines<Gsm8kItem>(file, [](const nlohmann::json& j) {
    Gsm8kItem item{j.at("question").get<std::string>(), j.at("answer").get<std::string>()};
    if (item.answer.find("####") == std::string::npos) {
      throw_error(ErrorCode::kInvalidArgument, "the answer has no '#### N' final line");
    }
    return item;
  });
}

std::optional<fs::path> find_bundled_eval_data() {
  return find_bundled_asset("eval", [](const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir / "mmlu", ec);
  });
}

}  // namespace arle::eval
