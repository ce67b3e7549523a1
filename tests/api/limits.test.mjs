// Overload: with one running slot and one waiting place, the requests that
// find the queue full get a 503 OpenAI error with Retry-After, the accepted
// ones complete, and the server serves normally afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';

let server;
before(async () => {
  server = await startServer(['--max-num-seqs', '1', '--max-waiting-requests', '1']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

test('a full queue answers 503 and the rest complete', async () => {
  const body = JSON.stringify({ prompt: 'Once', max_tokens: 300, ignore_eos: true, stream: true });
  const responses = await Promise.all(
    Array.from({ length: 8 }, () => fetch(`${server.url}/v1/completions`, { method: 'POST', body })),
  );
  const refused = responses.filter((r) => r.status === 503);
  const accepted = responses.filter((r) => r.status === 200);
  assert.equal(refused.length + accepted.length, 8);
  assert.ok(refused.length >= 1 && accepted.length >= 1, `${accepted.length} accepted, ${refused.length} refused`);
  for (const r of refused) {
    assert.equal(r.headers.get('retry-after'), '1');
    const e = await r.json();
    assert.equal(e.error.code, 503);
    assert.equal(e.error.type, 'server_error');
  }
  for (const r of accepted) {
    const text = await r.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    assert.equal(text.split('\n').filter((l) => l.startsWith('data: {')).length, 300);
  }
  // Through the SDK, which retries 503s after Retry-After when asked to.
  const r = await server.client.completions.create({ prompt: 'Once', max_tokens: 4 }, { maxRetries: 3 });
  assert.equal(r.usage.completion_tokens, 4);
});
