#include "eval/eval_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>
#include <unordered_map>

#include "common/error.h"
#include "common/log.h"
#include "eval/eval_data.h"
#include "eval/eval_tasks.h"

namespace arle::eval {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::string hash_hex(std::string_view s) {  // FNV-1a 64
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

std::int64_t codepoints(std::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

int default_shots(const std::string& task) { return task == "hellaswag" ? 0 : 5; }

struct TextPair {
  std::string context, continuation;
};

// Requests of a task, built from the backend's tokens: lm-evaluation-
// harness's pair encoding (the context's trailing spaces move to the
// continuation; the continuation is the whole text's tokens past the
// context's) and its left truncation to the model's length. Each call
// tokenizes its texts as one batch, every distinct text once (a question's
// choices share their context).
class RequestBuilder {
 public:
  explicit RequestBuilder(EvalBackend& backend) : backend_(backend) {}

  // The requests of each question's choices.
  std::vector<std::vector<LoglikelihoodRequest>> pairs(const std::vector<std::vector<TextPair>>& questions) {
    std::vector<std::vector<std::pair<std::size_t, std::size_t>>> ids;  // (context, whole) text ids
    for (const std::vector<TextPair>& choices : questions) {
      auto& out = ids.emplace_back();
      for (const TextPair& p : choices) {
        const std::size_t kept = p.context.find_last_not_of(" \t\n\r");
        const std::size_t cut = kept == std::string::npos ? 0 : kept + 1;
        const std::string context = p.context.substr(0, cut);
        out.emplace_back(text_id(context), text_id(context + p.context.substr(cut) + p.continuation));
      }
    }
    const std::vector<std::vector<std::int32_t>> tokens = tokenize_all();
    // The engine samples one token after the prompt: the prompt takes at most max_length - 1.
    const auto room = static_cast<std::size_t>(std::max<std::int64_t>(1, backend_.max_length() - 1));
    std::vector<std::vector<LoglikelihoodRequest>> requests;
    for (const auto& question : ids) {
      auto& out = requests.emplace_back();
      for (const auto& [context_id, whole_id] : question) {
        LoglikelihoodRequest& r = out.emplace_back();
        r.context = tokens[context_id];
        const std::vector<std::int32_t>& whole = tokens[whole_id];
        r.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(std::min(r.context.size(), whole.size())),
                              whole.end());
        const std::size_t total = r.context.size() + r.continuation.size();
        if (total > room) {
          const std::size_t drop = std::min(total - room, r.context.size());
          r.context.erase(r.context.begin(), r.context.begin() + static_cast<std::ptrdiff_t>(drop));
          ++truncated_;
        }
      }
    }
    return requests;
  }

  std::vector<GenerationRequest> generations(const std::vector<std::string>& prompts,
                                             const std::vector<std::string>& stop, std::int64_t max_tokens) {
    std::vector<std::size_t> ids;
    for (const std::string& p : prompts) ids.push_back(text_id(p));
    const std::vector<std::vector<std::int32_t>> tokens = tokenize_all();
    const auto room = static_cast<std::size_t>(std::max<std::int64_t>(1, backend_.max_length() - max_tokens));
    std::vector<GenerationRequest> requests;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      GenerationRequest& g = requests.emplace_back();
      g.prompt = tokens[ids[i]];
      g.stop = stop;
      g.max_tokens = max_tokens;
      if (g.prompt.size() > room) {
        g.prompt.erase(g.prompt.begin(), g.prompt.end() - static_cast<std::ptrdiff_t>(room));
        ++truncated_;
      }
    }
    return requests;
  }

  std::int64_t truncated() const { return truncated_; }

 private:
  // Texts waiting for tokenize_all, each once; its index in the batch.
  std::size_t text_id(const std::string& text) {
    const auto [it, added] = ids_.emplace(text, texts_.size());
    if (added) texts_.push_back(text);
    return it->second;
  }
  std::vector<std::vector<std::int32_t>> tokenize_all() {
    const auto start = Clock::now();
    std::vector<std::vector<std::int32_t>> tokens = backend_.tokenize(texts_);
    log::info("tokenized {} texts in {:.2f} s", texts_.size(),
              std::chrono::duration<double>(Clock::now() - start).count());
    texts_.clear();
    ids_.clear();
    return tokens;
  }

  EvalBackend& backend_;
  std::unordered_map<std::string, std::size_t> ids_;
  std::vector<std::string> texts_;
  std::int64_t truncated_ = 0;
};

Json metric(const std::vector<double>& xs) {
  const MeanStderr m = mean_stderr(xs);
  return {{"value", m.mean}, {"stderr", m.standard_error}, {"n", m.n}};
}

// Index of the largest score (the first on ties, as numpy's argmax).
int argmax(const std::vector<double>& xs) {
  return static_cast<int>(std::max_element(xs.begin(), xs.end()) - xs.begin());
}

// Shared by the multiple-choice tasks: the requests of every question in
// order (choices adjacent), their results back per question.
struct ChoiceResults {
  std::vector<std::vector<LoglikelihoodResult>> per_question;
};
ChoiceResults score_choices(EvalBackend& backend, const std::vector<std::vector<LoglikelihoodRequest>>& questions,
                            const std::function<void()>& done) {
  std::vector<LoglikelihoodRequest> flat;
  for (const auto& q : questions) flat.insert(flat.end(), q.begin(), q.end());
  std::vector<LoglikelihoodResult> results = backend.loglikelihood(flat, done);
  ChoiceResults out;
  std::size_t at = 0;
  for (const auto& q : questions) {
    out.per_question.emplace_back(results.begin() + static_cast<std::ptrdiff_t>(at),
                                  results.begin() + static_cast<std::ptrdiff_t>(at + q.size()));
    at += q.size();
  }
  return out;
}

// Each choice's [context, continuation] token ids, for --record-tokens.
Json request_tokens(const std::vector<LoglikelihoodRequest>& choices) {
  Json out = Json::array();
  for (const LoglikelihoodRequest& r : choices) out.push_back(Json::array({r.context, r.continuation}));
  return out;
}

std::string first_error(const std::vector<LoglikelihoodResult>& rs) {
  for (const LoglikelihoodResult& r : rs) {
    if (!r.error.empty()) return r.error;
  }
  return {};
}

struct TaskRun {
  Json metrics, records = Json::array();
  std::int64_t questions = 0, requests = 0, errors = 0;
};

TaskRun run_mmlu(EvalBackend& backend, const EvalOptions& o, RequestBuilder& build, const std::function<void()>& done,
                 const std::function<void(std::int64_t)>& set_total) {
  const MmluData data = load_mmlu(o.data_dir / "mmlu");
  std::vector<std::string> subjects = o.subjects;
  if (subjects.empty()) {
    for (const auto& [name, questions] : data.test) subjects.push_back(name);
  }
  for (const std::string& s : subjects) {
    if (!data.test.count(s)) throw_error(ErrorCode::kInvalidArgument, "--subjects: no MMLU subject '{}'", s);
  }
  const int shots = o.num_fewshot < 0 ? 5 : o.num_fewshot;
  std::vector<const MmluQuestion*> questions;
  for (const std::string& s : subjects) {
    const auto& all = data.test.at(s);
    if (shots > static_cast<int>(data.dev.at(s).size())) {
      throw_error(ErrorCode::kInvalidArgument, "--num-fewshot {}: MMLU's dev split has {} examples for {}", shots,
                  data.dev.at(s).size(), s);
    }
    const std::size_t n =
        o.limit > 0 ? std::min<std::size_t>(all.size(), static_cast<std::size_t>(o.limit)) : all.size();
    for (std::size_t i = 0; i < n; ++i) questions.push_back(&all[i]);
  }
  TaskRun run;
  run.questions = static_cast<std::int64_t>(questions.size());
  std::map<std::string, std::vector<double>> by_subject;
  std::vector<double> all;
  const bool generate = o.mode == "generate";
  std::vector<std::string> prompts;
  for (const MmluQuestion* q : questions) prompts.push_back(mmlu_prompt(data.dev.at(q->subject), shots, *q));
  std::int64_t invalid = 0;
  if (generate) {
    const std::vector<GenerationRequest> requests = build.generations(prompts, {"\n"}, 8);
    run.requests = static_cast<std::int64_t>(requests.size());
    set_total(run.requests);
    const std::vector<GenerationResult> results = backend.generate(requests, done);
    for (std::size_t i = 0; i < questions.size(); ++i) {
      const MmluQuestion& q = *questions[i];
      Json record{{"subject", q.subject},
                  {"prompt_hash", hash_hex(prompts[i])},
                  {"gold", std::string(1, kMmluLetters[q.answer])}};
      if (o.record_tokens) record["prompt_tokens"] = requests[i].prompt;
      if (!results[i].error.empty()) {
        record["error"] = results[i].error;
        ++run.errors;
      } else {
        const std::optional<int> letter = mmlu_answer_letter(results[i].text);
        record["completion"] = results[i].text;
        record["prediction"] = letter ? Json(std::string(1, kMmluLetters[*letter])) : Json(nullptr);
        const bool correct = letter && *letter == q.answer;
        if (!letter) ++invalid;
        record["correct"] = correct;
        by_subject[q.subject].push_back(correct ? 1.0 : 0.0);
        all.push_back(correct ? 1.0 : 0.0);
      }
      run.records.push_back(std::move(record));
    }
  } else {
    std::vector<std::vector<TextPair>> texts;
    for (const std::string& p : prompts) {
      std::vector<TextPair>& choices = texts.emplace_back();
      for (int c = 0; c < 4; ++c) choices.push_back({p, std::string(" ") + kMmluLetters[c]});
    }
    const std::vector<std::vector<LoglikelihoodRequest>> requests = build.pairs(texts);
    run.requests = static_cast<std::int64_t>(requests.size()) * 4;
    set_total(run.requests);
    const ChoiceResults scored = score_choices(backend, requests, done);
    for (std::size_t i = 0; i < questions.size(); ++i) {
      const MmluQuestion& q = *questions[i];
      const auto& rs = scored.per_question[i];
      Json record{{"subject", q.subject},
                  {"prompt_hash", hash_hex(prompts[i])},
                  {"gold", std::string(1, kMmluLetters[q.answer])}};
      if (o.record_tokens) record["tokens"] = request_tokens(requests[i]);
      if (const std::string error = first_error(rs); !error.empty()) {
        record["error"] = error;
        ++run.errors;
      } else {
        std::vector<double> lls;
        for (const LoglikelihoodResult& r : rs) lls.push_back(r.logprob);
        const int pick = argmax(lls);
        record["loglikelihoods"] = lls;
        record["prediction"] = std::string(1, kMmluLetters[pick]);
        record["correct"] = pick == q.answer;
        by_subject[q.subject].push_back(pick == q.answer ? 1.0 : 0.0);
        all.push_back(pick == q.answer ? 1.0 : 0.0);
      }
      run.records.push_back(std::move(record));
    }
  }
  Json per_subject = Json::object();
  std::vector<double> subject_means;
  for (const auto& [subject, xs] : by_subject) {
    per_subject[subject] = {{"acc", metric(xs)}};
    subject_means.push_back(mean_stderr(xs).mean);
  }
  run.metrics = {{"acc", metric(all)}, {"acc_subject_mean", mean_stderr(subject_means).mean}};
  if (generate) run.metrics["invalid_answers"] = invalid;
  run.metrics["subjects"] = per_subject;
  return run;
}

TaskRun run_hellaswag(EvalBackend& backend, const EvalOptions& o, RequestBuilder& build,
                      const std::function<void()>& done, const std::function<void(std::int64_t)>& set_total) {
  std::vector<HellaswagItem> items = load_hellaswag(o.data_dir / "hellaswag" / "hellaswag_val_1000.jsonl");
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < items.size()) items.resize(static_cast<std::size_t>(o.limit));
  TaskRun run;
  run.questions = static_cast<std::int64_t>(items.size());
  std::vector<std::vector<TextPair>> texts;
  std::vector<std::vector<std::string>> endings;
  std::vector<std::string> queries;
  for (const HellaswagItem& item : items) {
    const std::string& query = queries.emplace_back(hellaswag_query(item));
    std::vector<TextPair>& choices = texts.emplace_back();
    std::vector<std::string>& processed = endings.emplace_back();
    for (const std::string& e : item.endings) {
      processed.push_back(hellaswag_preprocess(e));
      choices.push_back({query, " " + processed.back()});
    }
    run.requests += static_cast<std::int64_t>(choices.size());
  }
  const std::vector<std::vector<LoglikelihoodRequest>> requests = build.pairs(texts);
  set_total(run.requests);
  const ChoiceResults scored = score_choices(backend, requests, done);
  std::vector<double> acc, acc_norm;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& rs = scored.per_question[i];
    Json record{{"prompt_hash", hash_hex(queries[i])}, {"gold", items[i].label}};
    if (o.record_tokens) record["tokens"] = request_tokens(requests[i]);
    if (const std::string error = first_error(rs); !error.empty()) {
      record["error"] = error;
      ++run.errors;
    } else {
      std::vector<double> lls, normalized;
      for (std::size_t c = 0; c < rs.size(); ++c) {
        lls.push_back(rs[c].logprob);
        // The harness divides by the ending's length in characters.
        normalized.push_back(rs[c].logprob / static_cast<double>(std::max<std::int64_t>(1, codepoints(endings[i][c]))));
      }
      const int pick = argmax(lls), pick_norm = argmax(normalized);
      record["loglikelihoods"] = lls;
      record["prediction"] = pick;
      record["prediction_norm"] = pick_norm;
      acc.push_back(pick == items[i].label ? 1.0 : 0.0);
      acc_norm.push_back(pick_norm == items[i].label ? 1.0 : 0.0);
    }
    run.records.push_back(std::move(record));
  }
  run.metrics = {{"acc", metric(acc)}, {"acc_norm", metric(acc_norm)}};
  return run;
}

TaskRun run_gsm8k(EvalBackend& backend, const EvalOptions& o, RequestBuilder& build, const std::function<void()>& done,
                  const std::function<void(std::int64_t)>& set_total) {
  const int shots = o.num_fewshot < 0 ? 5 : o.num_fewshot;
  const std::vector<Gsm8kItem> train =
      shots > 0 ? load_gsm8k(o.data_dir / "gsm8k" / "train.jsonl") : std::vector<Gsm8kItem>{};
  if (shots > static_cast<int>(train.size()) && shots > 0) {
    throw_error(ErrorCode::kInvalidArgument, "--num-fewshot {}: GSM8K's train split has {} examples", shots,
                train.size());
  }
  std::vector<Gsm8kItem> items = load_gsm8k(o.data_dir / "gsm8k" / "test.jsonl");
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < items.size()) items.resize(static_cast<std::size_t>(o.limit));
  TaskRun run;
  run.questions = run.requests = static_cast<std::int64_t>(items.size());
  std::vector<std::string> prompts;
  for (const Gsm8kItem& item : items) prompts.push_back(gsm8k_prompt(train, shots, item));
  const std::vector<GenerationRequest> requests = build.generations(prompts, gsm8k_stops(), o.max_gen_tokens);
  set_total(run.requests);
  const std::vector<GenerationResult> results = backend.generate(requests, done);
  std::vector<double> flexible, strict;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string reference = gsm8k_reference(items[i].answer);
    Json record{{"prompt_hash", hash_hex(prompts[i])}, {"gold", reference}};
    if (o.record_tokens) record["prompt_tokens"] = requests[i].prompt;
    if (!results[i].error.empty()) {
      record["error"] = results[i].error;
      ++run.errors;
    } else {
      const std::optional<std::string> last = gsm8k_last_number(results[i].text);
      const std::optional<std::string> marked = gsm8k_strict_answer(results[i].text);
      record["completion"] = results[i].text;
      record["prediction"] = last ? Json(*last) : Json(nullptr);
      record["prediction_strict"] = marked ? Json(*marked) : Json(nullptr);
      record["correct"] = last && *last == reference;
      flexible.push_back(last && *last == reference ? 1.0 : 0.0);
      strict.push_back(marked && *marked == reference ? 1.0 : 0.0);
    }
    run.records.push_back(std::move(record));
  }
  run.metrics = {{"exact_match", metric(flexible)}, {"exact_match_strict", metric(strict)}};
  return run;
}

}  // namespace

void check_eval_options(const EvalOptions& o) {
  static const std::set<std::string> tasks = {"mmlu", "gsm8k", "hellaswag"};
  if (!tasks.count(o.task))
    throw_error(ErrorCode::kInvalidArgument, "unknown task '{}': mmlu, gsm8k or hellaswag", o.task);
  if (o.mode != "loglikelihood" && o.mode != "generate") {
    throw_error(ErrorCode::kInvalidArgument, "--mode {}: loglikelihood or generate", o.mode);
  }
  if (o.mode == "generate" && o.task == "hellaswag") {
    throw_error(ErrorCode::kInvalidArgument, "hellaswag is scored by log-likelihood only");
  }
  if (o.task == "hellaswag" && o.num_fewshot > 0) {
    throw_error(ErrorCode::kInvalidArgument,
                "--num-fewshot {}: hellaswag runs 0-shot here (its train split, the harness's shots, is not bundled)",
                o.num_fewshot);
  }
  if (!o.subjects.empty() && o.task != "mmlu") throw_error(ErrorCode::kInvalidArgument, "--subjects is for mmlu");
  if (o.num_fewshot < -1) throw_error(ErrorCode::kInvalidArgument, "--num-fewshot must be >= 0");
  if (o.limit < 0) throw_error(ErrorCode::kInvalidArgument, "--limit must be >= 0");
  if (o.max_gen_tokens < 1) throw_error(ErrorCode::kInvalidArgument, "--max-gen-tokens must be >= 1");
}

Json run_eval(EvalBackend& backend, const EvalOptions& o, const EvalProgress& progress) {
  check_eval_options(o);
  RequestBuilder build(backend);
  std::int64_t done_count = 0, total = 0;
  const auto done = [&] {
    ++done_count;
    if (progress) progress(done_count, total);
  };
  const auto set_total = [&](std::int64_t n) { total = n; };
  const std::optional<EngineCounters> before = backend.engine_counters();
  const auto start = Clock::now();
  TaskRun run;
  if (o.task == "mmlu") {
    run = run_mmlu(backend, o, build, done, set_total);
  } else if (o.task == "hellaswag") {
    run = run_hellaswag(backend, o, build, done, set_total);
  } else {
    run = run_gsm8k(backend, o, build, done, set_total);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Json timing{{"seconds", seconds},
              {"questions", run.questions},
              {"requests", run.requests},
              {"questions_per_second", seconds > 0 ? static_cast<double>(run.questions) / seconds : 0.0}};
  if (const std::optional<EngineCounters> after = backend.engine_counters(); after && before) {
    const std::int64_t queried = after->queried - before->queried, hit = after->hit - before->hit;
    timing["prefix_cache"] = {
        {"queried_tokens", queried},
        {"hit_tokens", hit},
        {"hit_rate", queried > 0 ? static_cast<double>(hit) / static_cast<double>(queried) : 0.0}};
    timing["engine"] = {{"steps", after->steps - before->steps},
                        {"rows", after->rows - before->rows},
                        {"schedule_seconds", after->schedule_seconds - before->schedule_seconds},
                        {"model_seconds", after->model_seconds - before->model_seconds},
                        {"output_seconds", after->output_seconds - before->output_seconds}};
  }
  Json config{{"task", o.task},
              {"backend", backend.describe()},
              {"num_fewshot", o.num_fewshot < 0 ? default_shots(o.task) : o.num_fewshot},
              {"limit", o.limit},
              {"mode", o.task == "gsm8k" ? std::string("generate") : o.mode},
              {"seed", o.seed},
              {"data_dir", o.data_dir.string()}};
  if (o.task == "mmlu") config["subjects"] = o.subjects;
  if (o.task == "gsm8k") config["max_gen_tokens"] = o.max_gen_tokens;
  run.metrics["errors"] = run.errors;
  run.metrics["truncated_requests"] = build.truncated();
  return Json{{"config", config}, {"metrics", run.metrics}, {"timing", timing}, {"records", run.records}};
}

std::string summary_table(const Json& report) {
  std::string out = fmt::format("{:<44} {:>8} {:>8} {:>6}\n", "metric", "value", "stderr", "n");
  auto row = [&](const std::string& name, const Json& m) {
    out += fmt::format("{:<44} {:>8.4f} {:>8.4f} {:>6}\n", name, m.at("value").get<double>(),
                       m.at("stderr").get<double>(), m.at("n").get<std::int64_t>());
  };
  const Json& metrics = report.at("metrics");
  const std::string task = report.at("config").at("task").get<std::string>();
  if (metrics.contains("subjects")) {
    for (const auto& [subject, m] : metrics.at("subjects").items()) row("  " + subject + " acc", m.at("acc"));
  }
  for (const auto& [name, m] : metrics.items()) {
    if (m.is_object() && m.contains("value")) row(task + " " + name, m);
  }
  if (metrics.contains("acc_subject_mean")) {
    out += fmt::format("{:<44} {:>8.4f}\n", task + " acc (mean of subjects)",
                       metrics.at("acc_subject_mean").get<double>());
  }
  if (metrics.contains("invalid_answers")) {
    out += fmt::format("{:<44} {:>8}\n", "invalid answers", metrics.at("invalid_answers").get<std::int64_t>());
  }
  out += fmt::format("{:<44} {:>8}\n", "failed requests", metrics.at("errors").get<std::int64_t>());
  out += fmt::format("{:<44} {:>8}\n", "contexts cut to fit the model",
                     metrics.at("truncated_requests").get<std::int64_t>());
  const Json& t = report.at("timing");
  out += fmt::format("{} questions in {:.1f} s: {:.2f} questions/s", t.at("questions").get<std::int64_t>(),
                     t.at("seconds").get<double>(), t.at("questions_per_second").get<double>());
  if (t.contains("prefix_cache")) {
    out += fmt::format("; prefix cache hit rate {:.1f}%", 100.0 * t.at("prefix_cache").at("hit_rate").get<double>());
  }
  if (t.contains("engine")) {
    const Json& e = t.at("engine");
    out += fmt::format("\nengine: {} steps, {} rows; model {:.1f} s, scheduling {:.1f} s, outputs {:.1f} s",
                       e.at("steps").get<std::int64_t>(), e.at("rows").get<std::int64_t>(),
                       e.at("model_seconds").get<double>(), e.at("schedule_seconds").get<double>(),
                       e.at("output_seconds").get<double>());
  }
  return out + "\n";
}

}  // namespace arle::eval
