// Starts `arle serve --port 0` for a test file and stops it afterwards.
import { spawn, spawnSync } from 'node:child_process';
import OpenAI from 'openai';

export const binary = process.env.ARLE_BINARY ?? new URL('../../build/release/bin/arle', import.meta.url).pathname;
// `arle serve` on a model whose output the prompt scripts: "<<<TEXT>>>" in the
// prompt makes greedy decoding emit TEXT (tests/api/scripted/scripted_model.h).
export const scriptedBinary =
  process.env.ARLE_SCRIPTED_BINARY ?? new URL('../../build/release/tests/arle_scripted_serve', import.meta.url).pathname;
export const fixtures = process.env.ARLE_TEST_FIXTURES ?? new URL('../fixtures', import.meta.url).pathname;

export function startServer(args = []) {
  return spawnServer(binary, ['--log-level', 'warn', 'serve', '--port', '0', ...args]);
}

export function startScriptedServer(args = []) {
  return spawnServer(scriptedBinary, ['--port', '0', ...args]);
}

async function spawnServer(program, args) {
  const child = spawn(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`${program} exited with ${code}: ${stderr}`)));
  });
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return {
    url,
    pid: child.pid,
    client,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

// `arle generate --json` for the same request, to compare with the server.
export function generate(args) {
  const r = spawnSync(binary, ['--log-level', 'off', 'generate', '--json', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
