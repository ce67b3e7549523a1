#!/usr/bin/env bash
# The agent's terminal surfaces end to end. The REPL is driven through tmux
# (send-keys, capture-pane) on the bundled stories260K: a prompt and its
# streamed answer (the same text `arle generate` gives), /stats with the
# prefix cache serving the second message, /reset, Ctrl-C at the prompt and
# during an answer, Ctrl-D, the history file. Then, with forced replies on
# qwen3-tiny (arle_agent_harness): a tool call asked about and run, dimmed
# reasoning, a declined call, /save and /load, Ctrl-C stopping a running
# tool; and `arle run` with --json, --trace and its --approve rule.
#
#   repl_tmux_test.sh ARLE HARNESS FIXTURES SCRIPTED_SERVE
#
# Last, `arle run --base-url` against arle_scripted_serve (the API tests'
# server, whose model emits the prompt's last "<<<...>>>"): the first reply
# calls the shell tool, whose output carries the second reply.
set -euo pipefail
ARLE=$1
HARNESS=$2
FIXTURES=$3
SCRIPTED_SERVE=$4
command -v tmux >/dev/null || { echo "FAIL: tmux is not installed (scripts/install_deps.sh installs it)"; exit 1; }

SOCK=""
sessions=0
WORK=$(mktemp -d)
export HOME="$WORK/home"
mkdir -p "$HOME"
export NO_COLOR=
cleanup() {
  if [[ -n "$SOCK" ]]; then tmux -L "$SOCK" kill-server 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

screen() { tmux -L "$SOCK" capture-pane -p -J -S - -t arle 2>/dev/null || true; }
fail() {
  echo "FAIL: $*"
  echo "--- screen ---"
  screen
  exit 1
}
start() {  # each session on its own tmux server
  [[ -n "$SOCK" ]] && { tmux -L "$SOCK" kill-server 2>/dev/null || true; }
  sessions=$((sessions + 1))
  SOCK="arle_repl_test_$$_$sessions"
  tmux -L "$SOCK" new-session -d -s arle -x 220 -y 50 "$*; echo EXITED:\$?; sleep 120"
}
wait_for() {  # TEXT [SECONDS]
  local deadline=$((SECONDS + ${2:-30}))
  until screen | grep -qF -- "$1"; do
    ((SECONDS < deadline)) || fail "timed out waiting for '$1'"
    sleep 0.1
  done
}
keys() { tmux -L "$SOCK" send-keys -t arle "$@"; }
pass() { echo "ok: $*"; }

# --- The REPL on the bundled model ---------------------------------------
expected=$("$ARLE" generate --prompt "Once upon a time" --max-tokens 40 --temperature 0 2>/dev/null | head -n 1)
[[ -n "$expected" ]] || fail "arle generate printed nothing"
start "$ARLE --log-level warn --max-tokens 40"
wait_for "/help lists commands"
wait_for "no chat template: plain text"
keys "Once upon a time" Enter
wait_for "$expected"
wait_for "[5 prompt tokens (0 cached), 40 generated"
pass "a prompt streams the same text arle generate gives"

keys "/stats" Enter
wait_for "tokens: 5 prompt, 40 generated"
wait_for "messages: 1 sent, 1 model turns"
keys "The dog" Enter
wait_for "messages: 1 sent" 5
deadline=$((SECONDS + 30))
until screen | grep -qE '^\[[0-9]+ prompt tokens \([1-9][0-9]* cached\), 40 generated'; do
  ((SECONDS < deadline)) || fail "the second message was not served from the prefix cache"
  sleep 0.1
done
keys "/stats" Enter
wait_for "1 of 2 turns extended the previous prompt token for token"
screen | grep -qE 'engine: prefix cache hit [1-9][0-9]* of' || fail "/stats shows no prefix-cache hits"
pass "/stats shows the second message reusing the first one's tokens"

keys "/reset" Enter
wait_for "[conversation cleared]"
keys "/nonsense" Enter
wait_for "unknown command /nonsense; /help lists them"
keys "typed but abandoned"
sleep 0.3
keys C-c
sleep 0.3
keys "/stats" Enter
wait_for "messages: 2 sent, 2 model turns"
keys "/help" Enter
wait_for "/save FILE"
keys C-d
wait_for "EXITED:0"
# libedit's format: a header line, then entries with spaces as \040.
grep -qxF 'Once\040upon\040a\040time' "$HOME/.arle_history" || fail "~/.arle_history lacks the prompt"
grep -qx "/stats" "$HOME/.arle_history" || fail "~/.arle_history lacks /stats"
pass "/reset, unknown commands, Ctrl-C at the prompt, Ctrl-D and the history file"

# --- Ctrl-C during an answer ---------------------------------------------
start "$HARNESS --model-path $FIXTURES/models/stories260K --slow-ms 40 --max-tokens 400"
wait_for "/help lists commands"
keys Up
wait_for "> /help"
keys C-u
pass "a new session starts with the history of the last"
keys "Once upon a time" Enter
wait_for ", there was"
keys C-c
wait_for "[stopped]" 10
stopped=$(screen | grep -oE '^\[5 prompt tokens \(0 cached\), [0-9]+ generated' | grep -oE '[0-9]+ generated' | grep -oE '[0-9]+')
[[ -n "$stopped" && "$stopped" -lt 400 ]] || fail "Ctrl-C did not stop the answer early ($stopped tokens)"
keys "/stats" Enter
wait_for "messages: 1 sent, 1 model turns"
keys "/exit" Enter
wait_for "EXITED:0"
pass "Ctrl-C stopped an answer after $stopped of 400 tokens and the session went on"

# --- Tools in the REPL (forced replies on qwen3-tiny) --------------------
mkdir -p "$WORK/wd"
cat >"$WORK/replies.json" <<'JSON'
["<think>\nI will run it.\n</think>\n\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"echo tool-ran > proof.txt; echo wrote-proof\"}}\n</tool_call>",
 "<think>\nIt worked.\n</think>\n\nAll done: proof.txt exists.",
 "<think>\nAgain.\n</think>\n\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"touch declined.txt\"}}\n</tool_call>",
 "<think>\nNot allowed.\n</think>\n\nYou declined.",
 "<think>\nWait.\n</think>\n\n<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"sleep 30\"}}\n</tool_call>"]
JSON
start "TERM=xterm-256color $HARNESS --model-path $FIXTURES/models/qwen3-tiny --replies $WORK/replies.json --workdir $WORK/wd"
wait_for "tools: shell, python; asks before each call"
keys "Make the proof file." Enter
wait_for "run shell: echo tool-ran > proof.txt; echo wrote-proof? [y/N/a(lways)]"
[[ -e "$WORK/wd/proof.txt" ]] && fail "the tool ran before it was approved"
keys "y" Enter
wait_for "All done: proof.txt exists."
wait_for "ok, exit 0 in"
wait_for "| wrote-proof"
[[ "$(cat "$WORK/wd/proof.txt")" == "tool-ran" ]] || fail "the approved tool did not run in the workdir"
tmux -L "$SOCK" capture-pane -p -e -J -S - -t arle | grep -F $'\e[2mI will run it.' >/dev/null ||
  fail "the reasoning is not dimmed"
pass "a tool call is asked about, runs in the workdir, and reasoning is dimmed"

keys "Again." Enter
wait_for "run shell: touch declined.txt?"
keys "n" Enter
wait_for "You declined."
[[ -e "$WORK/wd/declined.txt" ]] && fail "a declined tool call ran"
keys "/save $WORK/conversation.json" Enter
wait_for "[saved 8 messages to $WORK/conversation.json]"
python3 - "$WORK/conversation.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert [x["role"] for x in m] == ["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"][:len(m)] or True
roles = [x["role"] for x in m]
assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"], roles
assert m[2]["tool_call_id"] == m[1]["tool_calls"][0]["id"]
assert m[6]["content"] == "not run: the user declined this tool call", m[6]
PY
keys "/reset" Enter
keys "/load $WORK/conversation.json" Enter
wait_for "[loaded 8 messages]"
keys "Sleep." Enter
wait_for "run shell: sleep 30?"
keys "y" Enter
wait_for "> shell: sleep 30"
sleep 0.5
keys C-c
wait_for "failed: stopped by the user" 10
wait_for "[stopped]"
keys "/stats" Enter
wait_for "tool calls"
keys C-d
wait_for "EXITED:0"
pass "declining, /save and /load, Ctrl-C stopping a running tool"

# --- arle run ------------------------------------------------------------
set +e
"$HARNESS" --model-path "$FIXTURES/models/qwen3-tiny" --replies "$WORK/replies.json" run --prompt "x" >"$WORK/out" 2>"$WORK/err"
code=$?
set -e
[[ $code -eq 2 ]] || fail "arle run with tools but no --approve exited $code"
grep -q "approve auto" "$WORK/err" || fail "arle run did not say to pass --approve auto: $(cat "$WORK/err")"
"$HARNESS" --model-path "$FIXTURES/models/qwen3-tiny" --replies "$WORK/replies.json" run --prompt "Make it." \
  --approve auto --json --workdir "$WORK/wd2" --trace "$WORK/trace.jsonl" >"$WORK/run.json" 2>"$WORK/err"
python3 - "$WORK/run.json" "$WORK/trace.jsonl" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["final"] == "All done: proof.txt exists.", r
assert r["stop_reason"] == "answer"
assert len(r["turns"]) == 2 and r["turns"][0]["reasoning"] == "I will run it."
assert r["tool_calls"][0]["output"] == "wrote-proof\n" and r["tool_calls"][0]["ok"]
assert r["usage"]["prompt_tokens"] == r["turns"][0]["usage"]["prompt_tokens"] + r["turns"][1]["usage"]["prompt_tokens"]
assert r["turns"][1]["usage"]["cached_tokens"] > 0
types = [json.loads(line)["type"] for line in open(sys.argv[2])]
assert types == ["user", "turn", "tool_result", "turn", "end"], types
PY
[[ -e "$WORK/wd2/proof.txt" ]] || fail "arle run --approve auto did not run the tool"
echo "Once upon a time" | "$ARLE" --log-level warn run --stdin --max-tokens 10 >"$WORK/plain" 2>/dev/null
[[ "$(head -c 11 "$WORK/plain")" == ", there was" ]] || fail "arle run --stdin printed '$(cat "$WORK/plain")'"
pass "arle run: --approve rule, --json, --trace, --stdin"

# --- arle run --base-url --------------------------------------------------
"$SCRIPTED_SERVE" --model-path "$FIXTURES/models/qwen3-tiny" --port 0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true; cleanup' EXIT
deadline=$((SECONDS + 60))
until grep -q "listening on" "$WORK/serve.out"; do
  ((SECONDS < deadline)) || fail "arle_scripted_serve did not start: $(cat "$WORK/serve.err")"
  sleep 0.1
done
url="$(grep -o 'http://[0-9.:]*' "$WORK/serve.out")/v1"
# The tool's printf writes the second reply's markers, which the first
# reply's text must not contain.
python3 - "$WORK/remote_prompt.txt" <<'PY'
import json, sys
command = "printf '" + "\\x3c" * 3 + "The server said done." + "\\x3e" * 3 + "'"
call = json.dumps({"name": "shell", "arguments": {"command": command}})
open(sys.argv[1], "w").write("Go. <<<<think>\nRun it.\n</think>\n\n<tool_call>\n" + call + "\n</tool_call>>>>")
PY
"$ARLE" --log-level warn run --base-url "$url" --approve auto --json --workdir "$WORK/wd3" \
  --prompt "$(cat "$WORK/remote_prompt.txt")" >"$WORK/remote.json" 2>"$WORK/err" || fail "arle run --base-url: $(cat "$WORK/err")"
python3 - "$WORK/remote.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["stop_reason"] == "answer", r
assert r["final"] == "The server said done.", r["final"]
assert r["turns"][0]["reasoning"] == "Run it.", r["turns"][0]
assert r["tool_calls"][0]["name"] == "shell" and r["tool_calls"][0]["ok"], r["tool_calls"]
assert r["tool_calls"][0]["output"] == "<<<The server said done.>>>", r["tool_calls"][0]["output"]
assert r["usage"]["completion_tokens"] > 0
PY
set +e
"$ARLE" --log-level warn run --base-url "http://127.0.0.1:1/v1" --model m --no-tools --prompt hi >/dev/null 2>"$WORK/err"
code=$?
set -e
[[ $code -eq 1 ]] && grep -q "127.0.0.1:1" "$WORK/err" || fail "an unreachable server gave exit $code: $(cat "$WORK/err")"
pass "arle run --base-url: a tool loop through an OpenAI-compatible server, and a clear error without one"
echo "all REPL and run tests passed"
