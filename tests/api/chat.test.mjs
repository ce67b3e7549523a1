// /v1/chat/completions through the official openai SDK against `arle serve`
// on the qwen3-tiny fixture (the real Qwen3 tokenizer and chat template).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fixtures } from './server.mjs';

let server;
const model = 'qwen3-tiny';
before(async () => {
  server = await startServer(['--model-path', `${fixtures}/models/qwen3-tiny`, '--max-model-len', '2048']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

test('a chat completion, streamed and not, agree', async () => {
  const body = {
    model,
    messages: [
      { role: 'developer', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: 'Hello! ' }, { type: 'text', text: 'Who are you?' }] },
    ],
    max_tokens: 12,
    temperature: 0,
    chat_template_kwargs: { enable_thinking: false },
  };
  const whole = await server.client.chat.completions.create(body);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices[0].message.role, 'assistant');
  assert.equal(whole.usage.completion_tokens, 12);
  const stream = await server.client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  let content = '';
  let reasoning = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      content += c.delta.content ?? '';
      reasoning += c.delta.reasoning_content ?? '';
      finish = c.finish_reason ?? finish;
    }
    usage = chunk.usage ?? usage;
  }
  assert.equal(content, whole.choices[0].message.content ?? '');
  assert.equal(reasoning, whole.choices[0].message.reasoning_content ?? '');
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, 12);
});

test('n, seeds, logprobs', async () => {
  const r = await server.client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Tell me a story.' }],
    max_tokens: 8,
    n: 3,
    seed: 5,
    temperature: 1,
    logprobs: true,
    top_logprobs: 2,
  });
  assert.equal(r.choices.length, 3);
  for (const c of r.choices) {
    assert.equal(c.logprobs.content.length, 8);
    assert.equal(c.logprobs.content[0].top_logprobs.length, 2);
  }
});

test('the next turn reuses the cached conversation', async () => {
  const messages = [
    { role: 'system', content: 'You are a helpful assistant. Answer briefly, in one plain sentence, without lists.' },
    { role: 'user', content: 'What is the capital of France?' },
  ];
  const first = await server.client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
  messages.push({ role: 'assistant', content: first.choices[0].message.content ?? '' });
  messages.push({ role: 'user', content: 'And of Italy?' });
  const second = await server.client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
  assert.ok(second.usage.prompt_tokens_details.cached_tokens >= 16, JSON.stringify(second.usage));
});

test('bad chat requests are 400s naming the parameter', async () => {
  const cases = [
    [{ model, messages: [] }, 'messages'],
    [{ model, messages: [{ role: 'wizard', content: 'hi' }] }, 'messages'],
    [{ model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages'],
    [{ model, messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } }, 'response_format'],
    [{ model, messages: [{ role: 'user', content: 'hi' }], tool_choice: 'required', tools: [] }, 'tool_choice'],
    [{ model, messages: [{ role: 'user', content: 'hi' }], top_logprobs: 50, logprobs: true }, 'top_logprobs'],
    [{ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5000 }, 'max_tokens'],
  ];
  for (const [body, param] of cases) {
    await assert.rejects(server.client.chat.completions.create(body), (e) => e.status === 400 && e.error?.param === param,
      JSON.stringify(body));
  }
});
