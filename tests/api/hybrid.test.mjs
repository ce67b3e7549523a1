// `arle serve` on the hybrid qwen3.5-tiny fixture (Gated DeltaNet layers with
// a recurrent state), given the released Qwen3.5 chat template: a
// three-turn conversation through the official openai SDK resumes each turn
// from a state snapshot in the prefix cache, as /metrics and usage show, and
// answers what a server without the prefix cache answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, fixtures } from './server.mjs';

const model = 'qwen3.5-tiny';
let dir, warm, cold;
before(async () => {
  // The fixture's 512-token tokenizer has no template of its own.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arle-hybrid-'));
  const src = `${fixtures}/models/qwen3.5-tiny`;
  for (const f of fs.readdirSync(src)) fs.symlinkSync(path.join(src, f), path.join(dir, f));
  fs.copyFileSync(`${fixtures}/chat_templates/Qwen--Qwen3.5-0.8B.jinja`, path.join(dir, 'chat_template.jinja'));
  const args = ['--model-path', dir, '--served-model-name', model];
  [warm, cold] = await Promise.all([startServer(args), startServer([...args, '--no-prefix-cache'])]);
});
after(async () => {
  assert.equal(await warm.stop(), 0);
  assert.equal(await cold.stop(), 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  assert.ok(line, `no ${name} in /metrics`);
  return Number(line.split(' ').pop());
}

test('each turn of a conversation resumes from the last one and answers as a cold server does', async () => {
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Tell me a story about a cat.' },
  ];
  const body = () => ({ model, messages, max_tokens: 24, temperature: 0, chat_template_kwargs: { enable_thinking: false } });
  for (let turn = 0; turn < 3; ++turn) {
    const got = await warm.client.chat.completions.create(body());
    const want = await cold.client.chat.completions.create(body());
    assert.equal(got.choices[0].message.content, want.choices[0].message.content, `turn ${turn}`);
    assert.equal(want.usage.prompt_tokens_details.cached_tokens, 0);
    const cached = got.usage.prompt_tokens_details.cached_tokens;
    if (turn > 0) {
      // At least up to the last page boundary of the previous prompt.
      assert.ok(cached >= 16 && cached < got.usage.prompt_tokens, JSON.stringify(got.usage));
    }
    messages.push({ role: 'assistant', content: got.choices[0].message.content ?? '' });
    messages.push({ role: 'user', content: `And then, part ${turn + 2}?` });
  }
  assert.equal(await metric(warm, 'arle:state_snapshot_hits_total'), 2);
  assert.ok((await metric(warm, 'arle:prefix_cache_hits_total')) >= 32);
  assert.ok((await metric(warm, 'arle:state_snapshots')) > 0);
  assert.equal(await metric(cold, 'arle:state_snapshots'), 0);
});
