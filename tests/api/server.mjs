// Starts `arle serve --port 0` for a test file and stops it afterwards.
import { spawn, spawnSync } from 'node:child_process';
import OpenAI from 'openai';

export const binary = process.env.ARLE_BINARY ?? new URL('../../build/release/bin/arle', import.meta.url).pathname;
export const fixtures = process.env.ARLE_TEST_FIXTURES ?? new URL('../fixtures', import.meta.url).pathname;

export async function startServer(args = []) {
  const child = spawn(binary, ['--log-level', 'warn', 'serve', '--port', '0', ...args], {
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
    child.on('exit', (code) => reject(new Error(`arle serve exited with ${code}: ${stderr}`)));
  });
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return {
    url,
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
