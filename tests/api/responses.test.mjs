// POST /v1/responses through the official SDK (create, stream, raw events)
// on the qwen3-tiny fixture, with scripted output where the test needs to
// know the text (see server.mjs).
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

test('a response with reasoning, whole and streamed', async () => {
  const body = { model, input: 'Answer this. <<<<think>\nEasy one.\n</think>\n\nThe answer is 7.>>>', max_output_tokens: 64 };
  const r = await server.client.responses.create(body);
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp/);
  assert.equal(r.status, 'completed');
  assert.equal(r.output_text, 'The answer is 7.');
  assert.deepEqual(r.output.map((o) => o.type), ['reasoning', 'message']);
  assert.equal(r.output[0].content[0].text, 'Easy one.');
  assert.equal(r.output[1].role, 'assistant');
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  assert.ok(r.usage.output_tokens_details.reasoning_tokens > 0);
  assert.ok(r.usage.output_tokens_details.reasoning_tokens < r.usage.output_tokens);
  assert.equal(r.usage.input_tokens_details.cached_tokens, 0);  // the scripted server runs without the prefix cache

  // The SDK's stream helper rebuilds the response from the events.
  const stream = server.client.responses.stream(body);
  const types = [];
  let deltas = '';
  stream.on('event', (e) => types.push(e.type));
  stream.on('response.output_text.delta', (e) => (deltas += e.delta));
  const final = await stream.finalResponse();
  assert.equal(final.output_text, 'The answer is 7.');
  assert.equal(deltas, 'The answer is 7.');
  assert.equal(final.output[0].content[0].text, 'Easy one.');
  assert.deepEqual(final.usage, r.usage);
  assert.equal(types[0], 'response.created');
  assert.equal(types[1], 'response.in_progress');
  assert.equal(types.at(-1), 'response.completed');
  for (const t of ['response.output_item.added', 'response.content_part.added', 'response.reasoning_text.delta',
    'response.output_text.delta', 'response.output_text.done', 'response.output_item.done']) {
    assert.ok(types.includes(t), `no ${t} event`);
  }
});

test('raw events carry increasing sequence numbers and no [DONE]', async () => {
  const res = await fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    body: JSON.stringify({ model, input: 'Go. <<<Hello there.>>>', stream: true, chat_template_kwargs: { enable_thinking: false } }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const text = await res.text();
  assert.ok(!text.includes('[DONE]'));
  const events = text.split('\n\n').filter((b) => b).map((block) => {
    const [eventLine, dataLine] = block.split('\n');
    const data = JSON.parse(dataLine.slice('data: '.length));
    assert.equal(eventLine, `event: ${data.type}`);
    return data;
  });
  events.forEach((e, i) => assert.equal(e.sequence_number, i));
  assert.equal(events.at(-1).type, 'response.completed');
  assert.equal(events.at(-1).response.output_text ?? events.at(-1).response.output[0].content[0].text, 'Hello there.');
});

test('messages, instructions and a token limit', async () => {
  const body = {
    model,
    instructions: 'Be brief.',
    input: [
      { role: 'user', content: 'Hi' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello!' }] },
      { role: 'developer', content: 'Stay on topic.' },
      { role: 'user', content: [{ type: 'input_text', text: 'Count. <<<one two three four five six seven eight>>>' }] },
    ],
    max_output_tokens: 3,
    chat_template_kwargs: { enable_thinking: false },
  };
  const r = await server.client.responses.create(body);
  assert.equal(r.status, 'incomplete');
  assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(r.usage.output_tokens, 3);
  assert.equal(r.instructions, 'Be brief.');
  assert.equal(r.max_output_tokens, 3);
  assert.equal(r.output_text, 'one two three');
  const events = [];
  for await (const e of await server.client.responses.create({ ...body, stream: true })) events.push(e);
  assert.equal(events.at(-1).type, 'response.incomplete');
  assert.equal(events.at(-1).response.status, 'incomplete');
});

test('a greedy response equals the greedy chat completion', async () => {
  const messages = [{ role: 'user', content: 'What is a cat?' }];
  const kwargs = { chat_template_kwargs: { enable_thinking: false } };
  const chat = await server.client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0, ...kwargs });
  const r = await server.client.responses.create({ model, input: messages, max_output_tokens: 12, temperature: 0, ...kwargs });
  assert.equal(r.output_text, chat.choices[0].message.content);
  assert.equal(r.usage.input_tokens, chat.usage.prompt_tokens);
});

test('unsupported and bad fields are 400s naming the parameter', async () => {
  const cases = [
    [{ input: 'hi', tools: [{ type: 'function', name: 'f', parameters: {} }] }, 'tools'],
    [{ input: 'hi', previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ input: 'hi', text: { format: { type: 'json_object' } } }, 'text.format'],
    [{}, 'input'],
    [{ input: [] }, 'input'],
    [{ input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] }, 'input'],
    [{ input: [{ role: 'wizard', content: 'hi' }] }, 'input'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }] }, 'input'],
    [{ input: 'hi', instructions: 5 }, 'instructions'],
    [{ input: 'hi', max_output_tokens: 100000 }, 'max_output_tokens'],
    [{ input: 'hi', temperature: -1 }, 'temperature'],
  ];
  for (const [body, param] of cases) {
    await assert.rejects(server.client.responses.create({ model, ...body }),
      (e) => e.status === 400 && e.error?.param === param, JSON.stringify(body));
  }
});
