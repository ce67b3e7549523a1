// Serving load: many concurrent streaming clients (time to first token,
// inter-token latency, throughput, errors) and resident memory across many
// sequential requests. Run as a script it starts `arle serve` itself:
//
//   node bench/serve_load.mjs [--binary build/release/bin/arle] [--model-path DIR]
//        [--clients 256] [--max-tokens 100] [--sequential 10000] [--rounds 3]
//        [--serve-args "--max-num-seqs 256"]
//
// tests/api/load.test.mjs runs the same functions at CI sizes.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

// One streamed /v1/completions request read with fetch (no SDK overhead in
// the client): arrival times of its token chunks, relative to the request.
async function streamOnce(url, body) {
  const start = performance.now();
  const res = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const times = [];
  let done = false;
  let pending = '';
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    const now = performance.now() - start;
    pending += decoder.decode(bytes, { stream: true });
    let cut;
    while ((cut = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, cut);
      pending = pending.slice(cut + 2);
      if (event === 'data: [DONE]') done = true;
      else if (event.startsWith('data: ')) {
        const chunk = JSON.parse(event.slice(6));
        if (chunk.error) throw new Error(chunk.error.message);
        if (chunk.choices.length && chunk.choices[0].text !== '') times.push(now);
      }
    }
  }
  if (!done) throw new Error('stream ended without [DONE]');
  return times;
}

// `clients` streaming requests at once. Returns latencies in milliseconds.
export async function concurrentStreams(url, { clients = 256, maxTokens = 100, prompt = 'Once upon a time' } = {}) {
  const ttft = [];
  const itl = [];
  const errors = [];
  let tokens = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      try {
        const times = await streamOnce(url, {
          prompt: `${prompt} ${i}`, max_tokens: maxTokens, ignore_eos: true, temperature: 0.8, seed: i,
        });
        if (times.length) ttft.push(times[0]);
        for (let k = 1; k < times.length; ++k) itl.push(times[k] - times[k - 1]);
        tokens += times.length;
      } catch (e) {
        errors.push(String(e));
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  return {
    clients, maxTokens, wallSeconds: wall, errors, chunks: tokens, chunksPerSecond: tokens / wall,
    ttftMs: { p50: percentile(ttft, 0.5), p99: percentile(ttft, 0.99) },
    itlMs: { p50: percentile(itl, 0.5), p99: percentile(itl, 0.99) },
  };
}

export function residentKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m[1]);
}

// `requests` whole completions one after another, sampling the server's
// resident memory every `every` requests.
export async function sequentialRss(url, pid, { requests = 10000, every = 1000, maxTokens = 8 } = {}) {
  const samples = [{ requests: 0, rssKiB: residentKiB(pid) }];
  let errors = 0;
  const t0 = performance.now();
  for (let i = 1; i <= requests; ++i) {
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ prompt: `Once upon a time ${i % 97}`, max_tokens: maxTokens, temperature: 0.8, seed: i }),
    });
    if (res.status !== 200) errors += 1;
    await res.arrayBuffer();
    if (i % every === 0) samples.push({ requests: i, rssKiB: residentKiB(pid) });
  }
  return { requests, errors, seconds: (performance.now() - t0) / 1000, samples };
}

function cpuName() {
  const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
  return m ? m[1] : os.arch();
}

async function main() {
  const { values } = parseArgs({
    options: {
      binary: { type: 'string', default: new URL('../build/release/bin/arle', import.meta.url).pathname },
      'model-path': { type: 'string' },
      clients: { type: 'string', default: '256' },
      'max-tokens': { type: 'string', default: '100' },
      sequential: { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '3' },
      'serve-args': { type: 'string', default: '' },
    },
  });
  process.env.ARLE_BINARY = values.binary;
  const { startServer } = await import('../tests/api/server.mjs');
  const args = values['serve-args'].split(' ').filter((a) => a !== '');
  if (values['model-path']) args.push('--model-path', values['model-path']);
  const server = await startServer(args);
  const model = (await (await fetch(`${server.url}/v1/models`)).json()).data[0].id;
  console.log(`arle serve ${model} ${args.join(' ')} on ${cpuName()}, ${os.cpus().length} CPUs`);
  try {
    for (let round = 1; round <= Number(values.rounds); ++round) {
      const r = await concurrentStreams(server.url, { clients: Number(values.clients), maxTokens: Number(values['max-tokens']) });
      console.log(
        `round ${round}: ${r.clients} streaming clients x ${r.maxTokens} tokens: ${r.wallSeconds.toFixed(2)} s, ` +
          `${r.errors.length} errors, ${r.chunksPerSecond.toFixed(0)} tokens/s, ` +
          `TTFT p50 ${r.ttftMs.p50.toFixed(1)} ms p99 ${r.ttftMs.p99.toFixed(1)} ms, ` +
          `ITL p50 ${r.itlMs.p50.toFixed(2)} ms p99 ${r.itlMs.p99.toFixed(2)} ms`,
      );
      if (r.errors.length) console.log(`  first error: ${r.errors[0]}`);
    }
    const s = await sequentialRss(server.url, server.pid, { requests: Number(values.sequential) });
    console.log(
      `${s.requests} sequential requests in ${s.seconds.toFixed(1)} s, ${s.errors} errors; resident MiB: ` +
        s.samples.map((x) => `${x.requests}:${(x.rssKiB / 1024).toFixed(1)}`).join(' '),
    );
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
