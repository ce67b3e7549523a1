// Reasoning and tool-call responses end to end, on the qwen3-tiny fixture
// (real Qwen3 tokenizer and chat template) with scripted model output: the
// prompt's "<<<TEXT>>>" is what greedy decoding emits (see server.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startScriptedServer, fixtures } from './server.mjs';

let server;
const model = 'qwen3-tiny';
before(async () => {
  server = await startScriptedServer(['--model-path', `${fixtures}/models/qwen3-tiny`, '--max-model-len', '4096']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  { type: 'function', function: { name: 'get_time', description: 'The time now', parameters: { type: 'object', properties: {} } } },
];

const say = (script) => [{ role: 'user', content: `Please answer. <<<${script}>>>` }];

async function streamed(body) {
  const stream = await server.client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  const out = { content: '', reasoning: '', calls: [], finish: null, usage: null };
  for await (const chunk of stream) {
    out.usage = chunk.usage ?? out.usage;
    for (const c of chunk.choices) {
      out.content += c.delta.content ?? '';
      out.reasoning += c.delta.reasoning_content ?? '';
      for (const call of c.delta.tool_calls ?? []) {
        out.calls[call.index] ??= { id: '', name: '', arguments: '' };
        out.calls[call.index].id += call.id ?? '';
        out.calls[call.index].name += call.function?.name ?? '';
        out.calls[call.index].arguments += call.function?.arguments ?? '';
      }
      out.finish = c.finish_reason ?? out.finish;
    }
  }
  return out;
}

test('the script reaches the client verbatim', async () => {
  const r = await server.client.chat.completions.create({
    model, messages: say('Plain words, nothing else.'), chat_template_kwargs: { enable_thinking: false }, max_tokens: 50,
  });
  assert.equal(r.choices[0].message.content, 'Plain words, nothing else.');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.reasoning_content, undefined);
});

test('thinking is returned as reasoning_content, streamed and not', async () => {
  const body = { model, messages: say('<think>\nSix times seven.\n</think>\n\nIt is 42.'), max_tokens: 50 };
  const r = await server.client.chat.completions.create(body);
  assert.equal(r.choices[0].message.reasoning_content, 'Six times seven.');
  assert.equal(r.choices[0].message.content, 'It is 42.');
  const s = await streamed(body);
  assert.equal(s.reasoning, r.choices[0].message.reasoning_content);
  assert.equal(s.content, 'It is 42.');
  assert.equal(s.finish, 'stop');
  assert.equal(s.usage.completion_tokens, r.usage.completion_tokens);
});

test('a tool call ends with finish_reason tool_calls, streamed and not', async () => {
  const script = '<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
  const body = { model, messages: say(script), tools, max_tokens: 100 };
  const r = await server.client.chat.completions.create(body);
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(m.content, null);
  assert.equal(m.reasoning_content, 'The user wants weather.');
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.tool_calls[0].type, 'function');
  assert.match(m.tool_calls[0].id, /^call/);
  assert.equal(m.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(m.tool_calls[0].function.arguments), { city: 'Paris' });

  const s = await streamed(body);
  assert.equal(s.finish, 'tool_calls');
  assert.equal(s.content, '');
  assert.equal(s.calls.length, 1);
  assert.equal(s.calls[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(s.calls[0].arguments), { city: 'Paris' });
});

test('parallel tool calls keep their order and indices', async () => {
  const script =
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n' +
    '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>';
  const body = { model, messages: say(script), tools, chat_template_kwargs: { enable_thinking: false }, max_tokens: 100 };
  const r = await server.client.chat.completions.create(body);
  const calls = r.choices[0].message.tool_calls;
  assert.deepEqual(calls.map((c) => c.function.name), ['get_weather', 'get_time']);
  assert.notEqual(calls[0].id, calls[1].id);
  const s = await streamed(body);
  assert.deepEqual(s.calls.map((c) => c.name), ['get_weather', 'get_time']);
  assert.deepEqual(JSON.parse(s.calls[1].arguments), {});
});

test('without tools, tool-call text stays content', async () => {
  const script = '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>';
  const r = await server.client.chat.completions.create({
    model, messages: say(script), chat_template_kwargs: { enable_thinking: false }, max_tokens: 100,
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.match(r.choices[0].message.content, /get_time/);
});

test('tool_choice none hides the tools; a malformed call stays content', async () => {
  const r = await server.client.chat.completions.create({
    model, messages: say('<tool_call>\n{"name": "get_time", "argu'), tools, tool_choice: 'none',
    chat_template_kwargs: { enable_thinking: false }, max_tokens: 100,
  });
  assert.equal(r.choices[0].message.tool_calls, undefined);
  const broken = await server.client.chat.completions.create({
    model, messages: say('<tool_call>\n{"name": "get_time", "argu'), tools,
    chat_template_kwargs: { enable_thinking: false }, max_tokens: 100,
  });
  assert.equal(broken.choices[0].finish_reason, 'stop');
  assert.equal(broken.choices[0].message.tool_calls, undefined);
  assert.match(broken.choices[0].message.content, /get_time/);
});

test('a named tool_choice forces that function; the model writes the arguments', async () => {
  // The server writes '<tool_call>\n{"name": "get_weather", "arguments": ' itself.
  const body = {
    model, messages: say('{"city": "Rome"}}\n</tool_call>\nand more text'), tools,
    tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 100,
  };
  const r = await server.client.chat.completions.create(body);
  const m = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(m.tool_calls.length, 1);
  assert.equal(m.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(m.tool_calls[0].function.arguments), { city: 'Rome' });
  assert.equal(m.content, null);
  const s = await streamed(body);
  assert.equal(s.finish, 'tool_calls');
  assert.deepEqual(s.calls.map((c) => c.name), ['get_weather']);
  assert.deepEqual(JSON.parse(s.calls[0].arguments), { city: 'Rome' });
});

test('tool_choice required makes the model call one of the tools', async () => {
  // The server writes '<tool_call>\n{"name": "'; the model picks the function.
  const script = 'get_time", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Lima"}}\n</tool_call>';
  const one = await server.client.chat.completions.create({
    model, messages: say(script), tools, tool_choice: 'required', parallel_tool_calls: false, max_tokens: 100,
  });
  assert.deepEqual(one.choices[0].message.tool_calls.map((c) => c.function.name), ['get_time']);
  assert.equal(one.choices[0].finish_reason, 'tool_calls');
  const many = await server.client.chat.completions.create({
    model, messages: say(script), tools, tool_choice: 'required', max_tokens: 100,
  });
  assert.deepEqual(many.choices[0].message.tool_calls.map((c) => c.function.name), ['get_time', 'get_weather']);
});

test('a conversation with tool results continues', async () => {
  const messages = [
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant', content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"sky": "clear"} <<<It is clear in Paris.>>>' },
  ];
  const r = await server.client.chat.completions.create({
    model, messages, tools, chat_template_kwargs: { enable_thinking: false }, max_tokens: 50,
  });
  assert.equal(r.choices[0].message.content, 'It is clear in Paris.');
  assert.equal(r.choices[0].finish_reason, 'stop');
});

test('bad tool_choice values are 400s', async () => {
  const cases = [
    { tools, tool_choice: 'sometimes' },
    { tools, tool_choice: { type: 'function', function: { name: 'no_such_tool' } } },
    { tools, tool_choice: { type: 'function' } },
    { tool_choice: 'required' },
    { tools: 'get_weather' },
  ];
  for (const extra of cases) {
    await assert.rejects(
      server.client.chat.completions.create({ model, messages: say('x'), max_tokens: 4, ...extra }),
      (e) => e.status === 400 && ['tool_choice', 'tools'].includes(e.error?.param),
      JSON.stringify(extra),
    );
  }
});
