#!/usr/bin/env python3
"""Writes the golden tokenizer test file: strings and the ids SentencePiece's own `spm_encode` gives them.

  python3 export/demo-model/make_golden.py <held-out corpus text> > Rest.Onnx.Tests/Tokenization/spm-golden.jsonl

Strings are single lines (spm_encode reads line by line): every 25th non-blank line of the held-out
split, plus hand-written cases for runs of spaces and tabs, digits, unicode and text that looks like
special pieces. The ids come from `spm_encode --output_format=id`, never from the project's encoder.
"""
import json
import subprocess
import sys

MODEL = "export/demo-model/checkpoint/tokenizer.model"

handwritten = [
    "   # three spaces before a comment",
    "#", " #", "  #", "   #", "    #", "     #", "      #", "       #", "        #",
    "         # nine", "            # twelve", "                # sixteen",
    "   ", " ", "        ", "\t", "\t\t", "\t  \t", "  \t", "x\t= 1", "if x:\t# tab then comment",
    "trailing spaces   ", "a  b   c    d", "    return x   # comment   ",
    "0", "1234567890", "x = 3.14159e-10", "0xDEADBEEF", "version 3.11.7", "a1b22c333",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9", "\u00fcber \u00df", "\u4e2d\u6587 \u65e5\u672c\u8a9e", "emoji \U0001F600 ok",
    "\u2581 literal lower one eighth block", "\u00a0nbsp\u00a0", "zero\u200bwidth",
    "<s> </s> <unk> <pad>", "<0x41> looks like a byte piece", "a\rb", "\x0c form feed",
    "def f(a, b=2, *args, **kwargs) -> None:", "        self._value = value  # type: ignore",
    "    '''Docstring.'''", "print(f\"{x!r:>10}\")", "lambda: (yield)", "@decorator(arg=[1, 2, 3])",
]


def main():
    heldout = open(sys.argv[1], encoding="utf-8").read().split("\n")
    lines = [line for line in heldout if line.strip()][::25]
    texts = handwritten + lines
    for text in texts:
        assert "\n" not in text
    result = subprocess.run(["spm_encode", f"--model={MODEL}", "--output_format=id"],
                            input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    ids = result.stdout.split("\n")[:len(texts)]
    for text, line in zip(texts, ids):
        print(json.dumps({"text": text, "ids": [int(i) for i in line.split()]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
