#pragma once
// Files that ship with arle (the default model, the evaluation data) are
// found the same way wherever the binary runs: installed beside it
// (PREFIX/bin/arle with PREFIX/share/arle/...), in a build tree or a copy of
// the repository (assets/... in a folder above the binary), or in the source
// tree it was built from.

#include <filesystem>
#include <functional>
#include <optional>

namespace arle {

// The first of those places holding `relative` (a path under assets/, e.g.
// "models/stories260K") for which `usable` says yes, if any.
std::optional<std::filesystem::path> find_bundled_asset(
    const std::filesystem::path& relative, const std::function<bool(const std::filesystem::path&)>& usable);

}  // namespace arle
