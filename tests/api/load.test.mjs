// Load at CI sizes (bench/serve_load.mjs has the full run): 256 concurrent
// streaming clients all finish without error, and resident memory stays flat
// across sequential requests once warm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { concurrentStreams, sequentialRss } from '../../bench/serve_load.mjs';

let server;
before(async () => {
  // Under AddressSanitizer freed memory sits in a quarantine that grows
  // resident memory by design; keep it small so a real leak stands out.
  process.env.ASAN_OPTIONS = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4', 'thread_local_quarantine_size_kb=64']
    .filter(Boolean).join(':');
  server = await startServer(['--max-num-seqs', '256']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

test('256 concurrent streaming clients all complete', async () => {
  const r = await concurrentStreams(server.url, { clients: 256, maxTokens: 16 });
  assert.deepEqual(r.errors, []);
  assert.equal(r.chunks, 256 * 16);
  console.log(`# 256 clients x 16 tokens: ${r.wallSeconds.toFixed(2)} s, TTFT p50 ${r.ttftMs.p50.toFixed(1)} ms ` +
    `p99 ${r.ttftMs.p99.toFixed(1)} ms, ITL p50 ${r.itlMs.p50.toFixed(2)} ms p99 ${r.itlMs.p99.toFixed(2)} ms`);
});

test('resident memory stays flat across 10,000 sequential requests', async () => {
  const s = await sequentialRss(server.url, server.pid, { requests: 10000, every: 1000, maxTokens: 4 });
  assert.equal(s.errors, 0);
  const warm = s.samples.find((x) => x.requests === 2000).rssKiB;
  const last = s.samples.at(-1).rssKiB;
  console.log(`# resident KiB: ${s.samples.map((x) => `${x.requests}:${x.rssKiB}`).join(' ')}`);
  // 8000 requests after warm-up may not grow memory by 8 MiB (a leak of
  // 1 KiB a request would).
  assert.ok(last - warm < 8 * 1024, `resident memory grew from ${warm} to ${last} KiB`);
});
