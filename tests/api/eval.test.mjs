// `arle eval` against `arle serve` (the remote path, as lm-evaluation-
// harness's local-completions asks) and in process (the local path) on the
// bundled stories260K: the same per-question log-likelihoods, predictions
// and completions; a server that rejects the requests leaves a partial
// report and a non-zero exit; no server at all is a clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, binary } from './server.mjs';

const bundled = new URL('../../assets/models/stories260K', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'arle-eval-'));
let server;
before(async () => {
  server = await startServer(['--model-path', bundled]);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

// Runs arle without blocking the event loop (the stand-in server below lives in it).
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(binary, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function evaluate(name, args) {
  const output = join(dir, `${name}.json`);
  const r = await run(['--log-level', 'warn', 'eval', ...args, '--output', output]);
  return { ...r, report: r.status <= 1 ? JSON.parse(readFileSync(output, 'utf8')) : null };
}

async function both(task, args) {
  const local = await evaluate(`${task}-local`, [task, '--model-path', bundled, ...args]);
  const remote = await evaluate(`${task}-remote`, [task, '--base-url', `${server.url}/v1`, '--model', 'stories260K', ...args]);
  assert.equal(local.status, 0, local.stderr);
  assert.equal(remote.status, 0, remote.stderr);
  return { local: local.report, remote: remote.report };
}

test('mmlu: local and remote give the same log-likelihoods', async () => {
  const { local, remote } = await both('mmlu', ['--subjects', 'astronomy,virology', '--limit', '2', '--num-fewshot', '1']);
  assert.equal(local.records.length, 4);
  assert.equal(remote.records.length, 4);
  for (let i = 0; i < 4; ++i) {
    assert.equal(local.records[i].prompt_hash, remote.records[i].prompt_hash);
    assert.deepEqual(local.records[i].loglikelihoods, remote.records[i].loglikelihoods, `question ${i}`);
    assert.equal(local.records[i].prediction, remote.records[i].prediction);
  }
  assert.deepEqual(local.metrics.acc, remote.metrics.acc);
  assert.ok(local.timing.prefix_cache.hit_rate > 0.5, 'the local path reuses the shared context');
  assert.match(local.config.backend, /^local /);
  assert.match(remote.config.backend, /^remote /);
});

test('hellaswag and gsm8k: local and remote agree', async () => {
  const h = await both('hellaswag', ['--limit', '3']);
  for (let i = 0; i < 3; ++i) assert.deepEqual(h.local.records[i].loglikelihoods, h.remote.records[i].loglikelihoods);
  assert.deepEqual(h.local.metrics.acc_norm, h.remote.metrics.acc_norm);
  const g = await both('gsm8k', ['--limit', '2', '--num-fewshot', '1', '--max-gen-tokens', '16']);
  for (let i = 0; i < 2; ++i) assert.equal(g.local.records[i].completion, g.remote.records[i].completion);
});

test('a server that rejects every request leaves a partial report', async () => {
  const r = await evaluate('rejected', ['mmlu', '--base-url', `${server.url}/v1`, '--model', 'no-such-model',
    '--subjects', 'virology', '--limit', '2', '--num-fewshot', '0']);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.report.metrics.errors, 2);
  assert.match(r.report.records[0].error, /HTTP 404/);
  assert.match(r.stdout, /failed requests\s+2/);
});

test('no server is a clear error', async () => {
  const r = await run(['eval', 'mmlu', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--limit', '1',
    '--retries', '1']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tokenize.*no answer/);
});

// A stand-in OpenAI server: one token per character, every echoed token at
// -1 nats. Its first two answers to each completion are 503 (Retry-After
// 0.05 s); prompts of the virology subject never get an answer.
async function startMock() {
  const { createServer } = await import('node:http');
  const tries = new Map();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const json = JSON.parse(body || '{}');
      if (req.url === '/tokenize') {
        const tokens = [...json.prompt].map((c) => c.codePointAt(0));
        res.end(JSON.stringify({ tokens, count: tokens.length, max_model_len: 100000 }));
        return;
      }
      const prompt = json.prompt;
      const text = String.fromCodePoint(...prompt);
      if (text.includes('virology')) return;  // hang
      const key = prompt.join(',');
      tries.set(key, (tries.get(key) ?? 0) + 1);
      if (tries.get(key) <= 2) {
        res.writeHead(503, { 'Retry-After': '0.05' });
        res.end(JSON.stringify({ error: { message: 'busy' } }));
        return;
      }
      const tokens = [...text, 'x'];
      const logprobs = {
        tokens,
        token_logprobs: tokens.map((_, i) => (i === 0 ? null : -1)),
        top_logprobs: tokens.map((t, i) => (i === 0 ? null : { [t]: -1 })),
      };
      res.end(JSON.stringify({ choices: [{ index: 0, text: 'x', logprobs, finish_reason: 'length' }] }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, tries, close: () => server.close() };
}

test('503 answers are retried; a server that never answers times out into a partial report', async () => {
  const mock = await startMock();
  try {
    const ok = await evaluate('retried', ['mmlu', '--base-url', `${mock.url}/v1`, '--model', 'm', '--subjects', 'astronomy',
      '--limit', '1', '--num-fewshot', '0']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.report.metrics.errors, 0);
    for (const n of mock.tries.values()) assert.equal(n, 3, 'two 503s, then the answer');
    // " A" is two characters: -2 nats for each choice.
    assert.deepEqual(ok.report.records[0].loglikelihoods, [-2, -2, -2, -2]);
    const hung = await evaluate('hung', ['mmlu', '--base-url', `${mock.url}/v1`, '--model', 'm', '--subjects',
      'astronomy,virology', '--limit', '1', '--num-fewshot', '0', '--timeout', '0.3', '--retries', '1']);
    assert.equal(hung.status, 1, hung.stderr);
    assert.equal(hung.report.metrics.errors, 1);
    assert.equal(hung.report.metrics.acc.n, 1);
    assert.match(hung.report.records[1].error, /no answer after 2 tries/);
  } finally {
    mock.close();
  }
});
