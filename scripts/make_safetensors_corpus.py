#!/usr/bin/env python3
"""Writes the broken (and a few valid) safetensors files that tests and the
fuzzer's seed corpus use, plus manifest.json: for each file, the substring the
arle::Error message must contain ("" = the file is valid).

Run from the repository root: python3 scripts/make_safetensors_corpus.py
Standard library only; the outputs are committed so tests need no Python.
"""
import json
import os
import struct

OUT = os.path.join("tests", "fixtures", "safetensors_corpus")
cases = []


def header_bytes(header):
    return header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()


def write(name, expect, raw):
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(raw)
    cases.append({"file": name + ".safetensors", "expect": expect})


def file_with(name, expect, header, data=b"", length=None):
    h = header_bytes(header)
    n = len(h) if length is None else length
    write(name, expect, struct.pack("<Q", n) + h + data)


def f32s(*values):
    return struct.pack("<%df" % len(values), *values)


t = lambda dtype, shape, begin, end: {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}

# Valid files: they must load.
file_with("valid_two_tensors", "", {"a": t("F32", [2], 0, 8), "b": t("BF16", [2, 2], 8, 16)}, f32s(1, 2) + bytes(8))
file_with("valid_metadata", "", {"__metadata__": {"format": "pt"}, "a": t("F32", [1], 0, 4)}, f32s(3))
file_with("valid_empty", "", {}, b"")
file_with("valid_zero_size_tensor", "", {"z": t("F32", [0, 4], 0, 0), "a": t("I64", [1], 0, 8)}, bytes(8))
file_with("valid_padded_header", "", b'{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}     ', b"xyz")
file_with("valid_scalar", "", {"s": t("F32", [], 0, 4)}, f32s(7))

# Broken length prefix and truncation.
write("empty_file", "shorter than the 8-byte header length", b"")
write("short_file", "shorter than the 8-byte header length", b"\x01\x02\x03")
write("zero_header_length", "header length is 0", struct.pack("<Q", 0) + b"{}")
file_with("header_length_huge", "exceeds the", {"a": t("F32", [1], 0, 4)}, f32s(1), length=1 << 40)
file_with("header_length_past_eof", "runs past the end", {"a": t("F32", [1], 0, 4)}, b"", length=500)
file_with("truncated_data", "truncated", {"a": t("F32", [4], 0, 16)}, f32s(1, 2))
file_with("offsets_far_past_eof", "truncated", {"a": t("U8", [1 << 40], 0, 1 << 40)}, b"")

# Header text that is not a JSON object of valid UTF-8.
file_with("bad_utf8", "not valid UTF-8", b'{"a\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32s(1))
file_with("overlong_utf8", "not valid UTF-8", b'{"a\xc0\xaf":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32s(1))
file_with("not_json", "not valid JSON", b"this is not json", b"")
file_with("json_truncated", "not valid JSON", b'{"a":{"dtype":"F32","shape":[1],', b"")
file_with("json_array", "not an object", [1, 2, 3], b"")
file_with("deep_nesting", "nests deeper", b"[" * 100000 + b"]" * 100000, b"")
file_with("deep_nesting_in_metadata", "nests deeper", b'{"__metadata__":' + b'{"x":' * 5000 + b"1" + b"}" * 5001, b"")

# Structurally wrong entries.
file_with("duplicate_tensor", "twice", b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
          b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32s(1, 2))
file_with("duplicate_field", "twice", b'{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}', f32s(1))
file_with("entry_not_object", "is not an object", {"a": [1, 2]}, b"")
file_with("missing_dtype", "no dtype", {"a": {"shape": [1], "data_offsets": [0, 4]}}, f32s(1))
file_with("unknown_dtype", "does not support", {"a": t("Q4_K", [1], 0, 4)}, f32s(1))
file_with("f64_dtype", "does not support", {"a": t("F64", [1], 0, 8)}, bytes(8))
file_with("missing_shape", "no shape", {"a": {"dtype": "F32", "data_offsets": [0, 4]}}, f32s(1))
file_with("negative_dim", "non-negative integer", {"a": t("F32", [-1], 0, 4)}, f32s(1))
file_with("float_dim", "non-negative integer", {"a": t("F32", [1.5], 0, 4)}, f32s(1))
file_with("string_dim", "non-negative integer", {"a": t("F32", ["4"], 0, 4)}, f32s(1))
file_with("nested_dim", "non-negative integer", {"a": t("F32", [[1]], 0, 4)}, f32s(1))
file_with("missing_offsets", "data_offsets [begin, end]", {"a": {"dtype": "F32", "shape": [1]}}, f32s(1))
file_with("three_offsets", "data_offsets [begin, end]", {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, f32s(1))
file_with("negative_offset", "non-negative integer", {"a": t("F32", [1], -4, 0)}, f32s(1))
file_with("offsets_reversed", "before it begins", {"a": t("F32", [1], 4, 0)}, f32s(1))
file_with("unknown_field", "unknown field", {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}, f32s(1))
file_with("metadata_not_object", "__metadata__ is not an object", {"__metadata__": "pt"}, b"")

# Sizes and ranges that do not add up.
file_with("wrong_size", "data_offsets span", {"a": t("F32", [3], 0, 8)}, f32s(1, 2))
file_with("huge_shape_overflow", "overflows 64 bits", {"a": t("F32", [1 << 32, 1 << 32], 0, 4)}, f32s(1))
file_with("huge_shape_bytes_overflow", "overflows 64 bits", {"a": t("F32", [1 << 62], 0, 4)}, f32s(1))
file_with("huge_dim", "non-negative integer", b'{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}', f32s(1))
file_with("overlap", "overlap", {"a": t("F32", [2], 0, 8), "b": t("F32", [2], 4, 12)}, f32s(1, 2, 3))
file_with("same_range", "overlap", {"a": t("F32", [1], 0, 4), "b": t("F32", [1], 0, 4)}, f32s(1))
file_with("gap", "belong to no tensor", {"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}, f32s(1, 2, 3))
file_with("leading_gap", "belong to no tensor", {"a": t("F32", [1], 4, 8)}, f32s(1, 2))
file_with("trailing_bytes", "cover only", {"a": t("F32", [1], 0, 4)}, f32s(1, 2))
file_with("no_tensors_but_data", "cover only", {}, f32s(1))

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} files to {OUT}")
