// Errors and limits: the API key, body and header limits, connection limit,
// idle connections, and out-of-range values; the server keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI from 'openai';
import { startServer } from './server.mjs';

let server;
const key = 'sk-test-key';
before(async () => {
  server = await startServer(['--api-key', key, '--max-connections', '8', '--idle-timeout', '1']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

const post = (path, body, headers = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });

test('the API key guards /v1 and the tokenizer routes, not /health or /metrics', async () => {
  for (const [path, body] of [['/v1/completions', { prompt: 'x' }], ['/tokenize', { prompt: 'x' }]]) {
    const none = await post(path, body);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, 401);
    assert.equal((await post(path, body, { Authorization: 'Bearer wrong' })).status, 401);
  }
  assert.equal((await fetch(`${server.url}/v1/models`)).status, 401);
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
  assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
  const r = await client.completions.create({ model: 'stories260K', prompt: 'Once', max_tokens: 2 });
  assert.equal(r.usage.completion_tokens, 2);
  await assert.rejects(server.client.models.list(), (e) => e.status === 401);
});

test('huge and mistyped values are 400s naming the parameter', async () => {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
  const cases = [
    [{ n: 1000000 }, 'n'],
    [{ max_tokens: 1e12 }, 'max_tokens'],
    [{ max_tokens: -1 }, 'max_tokens'],
    [{ logprobs: 1000 }, 'logprobs'],
    [{ n: 'three' }, 'n'],
    [{ temperature: 'hot' }, 'temperature'],
    [{ top_p: 0 }, 'top_p'],
    [{ stop: [1, 2] }, 'stop'],
    [{ seed: 1.5 }, 'seed'],
    [{ logit_bias: { nope: 1 } }, 'logit_bias'],
    [{ stream: 'yes' }, 'stream'],
  ];
  for (const [extra, param] of cases) {
    await assert.rejects(client.completions.create({ model: 'stories260K', prompt: 'Once', max_tokens: 2, ...extra }),
      (e) => e.status === 400 && e.error?.param === param, JSON.stringify(extra));
  }
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 400 && /chat template/.test(e.message));
});

test('bodies and headers over the limits are 413s', async () => {
  const auth = { Authorization: `Bearer ${key}` };
  const big = await post('/v1/completions', `{"prompt": "${'a'.repeat(33 << 20)}"}`, auth);
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, 413);
  const headers = await post('/v1/completions', { prompt: 'x' }, { ...auth, 'X-Padding': 'p'.repeat(70 << 10) });
  assert.equal(headers.status, 413);
  assert.equal((await post('/tokenize', { prompt: 'fine' }, auth)).status, 200);
});

// Opens a raw connection; resolves once connected.
const connect = () =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    const s = net.connect(Number(port), hostname, () => resolve(s));
    s.on('error', reject);
  });

// One request on a new connection; resolves with the raw response text.
const rawGet = async (path) => {
  const s = await connect();
  let text = '';
  s.on('data', (d) => (text += d));
  s.write(`GET ${path} HTTP/1.1\r\nHost: arle\r\n\r\n`);
  await new Promise((resolve) => s.on('close', resolve));
  return text;
};

test('connections over the limit get 503, and idle ones are closed', async () => {
  await new Promise((resolve) => setTimeout(resolve, 1500));  // the SDK's pooled connections time out
  const idle = await Promise.all(Array.from({ length: 8 }, connect));
  const refused = await rawGet('/health');
  assert.match(refused, /^HTTP\/1.1 503 /);
  assert.match(refused, /"code":503/);
  // The idle connections are closed by the server after --idle-timeout.
  await Promise.all(idle.map((s) => new Promise((resolve) => s.on('close', resolve))));
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});
