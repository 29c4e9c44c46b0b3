// Renders every template in templates.json over every conversation in conversations.json (with and without
// add_generation_prompt, plus the extra cases) with Hugging Face's own JavaScript Jinja, and writes goldens.json,
// which ChatTemplateGoldenTests compares with the C# renderer byte for byte.
//
//   mkdir -p /tmp/jinja && cd /tmp/jinja && npm install @huggingface/jinja@0.5.11
//   node <repo>/Rest.Onnx.Tests/Chat/Goldens/render-goldens.mjs     (run from /tmp/jinja)
//
// @huggingface/jinja is resolved from the working directory, so nothing is installed into the repository.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(join(process.cwd(), "noop.js"));
const { Template } = require("@huggingface/jinja");
const version = JSON.parse(readFileSync(join(process.cwd(), "node_modules/@huggingface/jinja/package.json"), "utf8")).version;
if (version !== "0.5.11") throw new Error(`expected @huggingface/jinja 0.5.11, found ${version}`);

const here = dirname(fileURLToPath(import.meta.url));
const templates = JSON.parse(readFileSync(join(here, "templates.json"), "utf8"));
const { conversations, extraCases } = JSON.parse(readFileSync(join(here, "conversations.json"), "utf8"));

const cases = [];
for (const t of templates)
  for (const conversation of Object.keys(conversations))
    for (const add_generation_prompt of [false, true])
      cases.push({ template: t.name, conversation, add_generation_prompt, variables: {} });
cases.push(...extraCases);

const goldens = cases.map((c) => {
  const t = templates.find((x) => x.name === c.template);
  const context = {
    messages: conversations[c.conversation],
    add_generation_prompt: c.add_generation_prompt,
    bos_token: t.bos_token,
    eos_token: t.eos_token,
    ...c.variables,
  };
  const golden = { template: c.template, conversation: c.conversation, add_generation_prompt: c.add_generation_prompt, variables: c.variables };
  try {
    golden.output = new Template(t.template).render(context);
  } catch (e) {
    golden.error = e.message;
  }
  return golden;
});
writeFileSync(join(here, "goldens.json"), JSON.stringify({ renderer: `@huggingface/jinja ${version}`, goldens }, null, 1) + "\n");
console.log(`${goldens.length} renderings (${goldens.filter((g) => g.error).length} raise) written to goldens.json`);
