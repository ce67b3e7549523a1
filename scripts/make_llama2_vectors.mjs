// Reference ids for the Llama 2 (SentencePiece-style BPE, byte fallback)
// tokenizer from an independent implementation: @lenml/tokenizers, the
// transformers.js tokenizers. Writes tests/fixtures/tokenizers/vectors/llama2_text_ids.jsonl
// for the same texts as the Qwen/GPT-2 vectors.
//
//   mkdir -p /tmp/jsref && (cd /tmp/jsref && npm install @lenml/tokenizers@3.7.2)
//   NODE_PATH=/tmp/jsref/node_modules node scripts/make_llama2_vectors.mjs /tmp/jsref/node_modules
import fs from "node:fs";
import path from "node:path";

const modules = process.argv[2];
const { TokenizerLoader } = await import(path.join(modules, "@lenml/tokenizers/dist/main.mjs"));
const dir = "tests/fixtures/tokenizers";
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(`${dir}/llama2/tokenizer.json`, "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(`${dir}/llama2/tokenizer_config.json`, "utf8")),
});
const lines = fs.readFileSync(`${dir}/vectors/qwen3_text_ids.jsonl`, "utf8").trim().split("\n");
const out = [];
for (const line of lines) {
  const { set, text } = JSON.parse(line);
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  const ids_bos = tokenizer.encode(text);
  out.push(JSON.stringify({ set, text, ids, ids_bos, decoded: ids.length ? tokenizer.decode(ids) : "" }));
}
fs.writeFileSync(`${dir}/vectors/llama2_text_ids.jsonl`, out.join("\n") + "\n");
console.log(`wrote ${out.length} llama2 vectors`);
