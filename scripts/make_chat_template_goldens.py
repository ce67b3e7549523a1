#!/usr/bin/env python3
"""Renders every chat template in tests/fixtures/chat_templates with Python
jinja2 in Hugging Face's environment, over a fixed set of conversations, and
writes tests/fixtures/chat_templates/goldens.json. The C++ renderer must match
byte for byte (or raise where jinja2 raises). Run from the repo root; needs
jinja2 (3.1.x). The outputs are committed, so tests do not need Python.
"""
import datetime
import json
import os

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

DIR = "tests/fixtures/chat_templates"
PINNED = datetime.datetime(2026, 11, 26, 12, 0, 0)


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: PINNED.strftime(fmt)
    return env


WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather for a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "days": {"type": "integer", "description": "Forecast days"}},
        "required": ["city"]}}}
SEARCH_TOOL = {"type": "function", "function": {
    "name": "search", "description": "Search the web for café prices",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}

CASES = [
    {"name": "user_only", "messages": [{"role": "user", "content": "Hello!"}]},
    {"name": "system_user", "messages": [{"role": "system", "content": "You are terse."},
                                         {"role": "user", "content": "What is 2+2?"}]},
    {"name": "multi_turn", "messages": [{"role": "user", "content": "Hi"},
                                        {"role": "assistant", "content": "Hello! How can I help?"},
                                        {"role": "user", "content": "Tell me a joke about naïve cafés 🌍."}]},
    {"name": "no_generation_prompt", "add_generation_prompt": False,
     "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey."}]},
    {"name": "tools_call_and_response", "tools": [WEATHER_TOOL, SEARCH_TOOL],
     "messages": [{"role": "user", "content": "Weather in Paris for 3 days?"},
                  {"role": "assistant", "content": "",
                   "tool_calls": [{"type": "function", "id": "call_1",
                                   "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}}]},
                  {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21}"},
                  {"role": "assistant", "content": "It is 21 degrees."},
                  {"role": "user", "content": "Thanks"}]},
    {"name": "tools_only_user", "tools": [WEATHER_TOOL], "messages": [{"role": "user", "content": "Weather?"}]},
    {"name": "two_tool_responses", "tools": [WEATHER_TOOL],
     "messages": [{"role": "user", "content": "Paris and Rome?"},
                  {"role": "assistant", "content": "Checking.",
                   "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                                  {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]},
                  {"role": "tool", "content": "sunny"}, {"role": "tool", "content": "rainy"}]},
    {"name": "reasoning_content", "messages": [{"role": "user", "content": "Think then answer: 3*3?"},
                                               {"role": "assistant", "content": "9", "reasoning_content": "3 times 3 is 9."},
                                               {"role": "user", "content": "And 4*4?"}]},
    {"name": "think_in_content", "messages": [{"role": "user", "content": "Q1"},
                                              {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nA1"},
                                              {"role": "user", "content": "Q2"}]},
    {"name": "enable_thinking_false", "kwargs": {"enable_thinking": False},
     "messages": [{"role": "user", "content": "Quick answer please."}]},
]


def main():
    env = environment()
    specials = json.load(open(os.path.join(DIR, "special_tokens.json")))
    goldens = []
    for name in sorted(os.listdir(DIR)):
        if not name.endswith(".jinja"):
            continue
        source = open(os.path.join(DIR, name), encoding="utf-8").read()
        template = env.from_string(source)
        tokens = {k: v for k, v in specials.get(name, {}).items() if v is not None}
        for case in CASES:
            kwargs = dict(tokens)
            kwargs.update(case.get("kwargs", {}))
            entry = {"template": name, "case": case["name"]}
            try:
                entry["output"] = template.render(messages=case["messages"], tools=case.get("tools"),
                                                  add_generation_prompt=case.get("add_generation_prompt", True),
                                                  **kwargs)
            except Exception as e:  # the C++ renderer must fail too
                entry["error"] = f"{type(e).__name__}: {e}"
            goldens.append(entry)
    out = {"jinja2": jinja2.__version__, "pinned_date": PINNED.isoformat(), "cases": CASES, "goldens": goldens}
    with open(os.path.join(DIR, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"wrote {len(goldens)} goldens ({sum('error' in g for g in goldens)} errors)")


main()
