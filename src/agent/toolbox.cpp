#include "agent/toolbox.h"

#include <fmt/format.h>

#include "common/utf8.h"

namespace arle::agent {
namespace {

using Json = nlohmann::ordered_json;

Json function_schema(const std::string& name, const std::string& description, const std::string& argument,
                     const std::string& argument_description) {
  return {{"type", "function"},
          {"function",
           {{"name", name},
            {"description", description},
            {"parameters",
             {{"type", "object"},
              {"properties", {{argument, {{"type", "string"}, {"description", argument_description}}}}},
              {"required", Json::array({argument})}}}}}};
}

ToolResult error_result(std::string message) {
  ToolResult r;
  r.content = "error: " + message;
  r.status = message;
  return r;
}

// The one string argument a tool takes, or an error for the model.
std::optional<std::string> string_argument(const std::string& arguments_json, const std::string& key,
                                           std::string& error) {
  Json args;
  try {
    args = Json::parse(arguments_json.empty() ? "{}" : arguments_json);
  } catch (const std::exception&) {
    error = fmt::format("the arguments are not JSON; send {{\"{}\": \"...\"}}", key);
    return std::nullopt;
  }
  if (!args.is_object() || !args.contains(key) || !args[key].is_string()) {
    error = fmt::format("the arguments need a string \"{}\"; send {{\"{}\": \"...\"}}", key, key);
    return std::nullopt;
  }
  return args[key].get<std::string>();
}

// Output, then how it ended when that was not plain success: the model
// needs both, and an empty output says so instead of being blank.
std::string model_text(const std::string& raw_output, bool ok, const std::string& status) {
  const std::string output = to_valid_utf8(raw_output);
  if (ok) return output.empty() ? "(no output)" : output;
  std::string text = output;
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text + "[" + status + "]";
}

}  // namespace

Toolbox::Toolbox(SandboxConfig sandbox) : sandbox_(sandbox), python_(std::move(sandbox)) {}

Json Toolbox::schemas() const {
  const std::string limits =
      fmt::format(" Runs in {} working directory{} with a {:g} s timeout; output beyond {} KiB is cut in the middle.",
                  "a private", runs_isolated(sandbox_) ? " (read-only system, no network)" : "",
                  sandbox_.limits.timeout_seconds, sandbox_.limits.output_bytes >> 10);
  return Json::array(
      {function_schema("shell", "Run a bash command and get its stdout, stderr and exit status." + limits, "command",
                       "the bash command line"),
       function_schema("python",
                       "Run Python 3 code. Variables, imports and functions persist between calls; the value of a "
                       "last bare expression is printed." +
                           limits,
                       "code", "the Python source to run")});
}

ToolResult Toolbox::call(const std::string& name, const std::string& arguments_json, const std::atomic<bool>* cancel) {
  std::string error;
  if (name == "shell") {
    const auto command = string_argument(arguments_json, "command", error);
    return command ? shell(*command, cancel) : error_result(error);
  }
  if (name == "python") {
    const auto code = string_argument(arguments_json, "code", error);
    return code ? python(*code, cancel) : error_result(error);
  }
  return error_result(fmt::format("there is no tool '{}'; the tools are shell and python", name));
}

ToolResult Toolbox::shell(const std::string& command, const std::atomic<bool>* cancel) {
  const SandboxResult r = run_sandboxed({"bash", "-c", command}, sandbox_, std::nullopt, cancel);
  ToolResult out;
  out.ok = r.exit_code == 0 && r.signal == 0 && !r.timed_out && !r.cancelled;
  out.status = r.status();
  out.seconds = r.seconds;
  out.isolated = r.isolated;
  out.output_bytes = r.output_bytes;
  out.content = model_text(r.output, out.ok, out.status);
  return out;
}

ToolResult Toolbox::python(const std::string& code, const std::atomic<bool>* cancel) {
  const CellResult r = python_.run(code, cancel);
  ToolResult out;
  out.ok = r.status == CellStatus::kOk;
  switch (r.status) {
    case CellStatus::kOk:
      out.status = "ok";
      break;
    case CellStatus::kException:
      out.status = "raised an exception";
      break;
    case CellStatus::kExit:
      out.status = "called exit; the session goes on";
      break;
    case CellStatus::kTimeout:
      out.status = r.note.empty() ? fmt::format("interrupted at the {:g} s timeout; variables kept",
                                                sandbox_.limits.timeout_seconds)
                                  : r.note;
      break;
    case CellStatus::kRestarted:
    case CellStatus::kCancelled:
    case CellStatus::kNotStarted:
      out.status = r.note;
      break;
  }
  out.seconds = r.seconds;
  out.isolated = r.isolated;
  out.output_bytes = r.output_bytes;
  out.content = model_text(r.output, out.ok, out.status);
  return out;
}

}  // namespace arle::agent
