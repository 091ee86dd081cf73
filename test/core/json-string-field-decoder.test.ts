import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonStringFieldDecoder } from "../../src/core/compose/json-string-field-decoder.js";

/** No lone surrogates (String.prototype.isWellFormed is ES2024; this project targets ES2023 types). */
const wellFormed = (s: string): boolean => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

function decodeInPieces(json: string, cuts: number[]): { deltas: string[]; value: string; complete: boolean } {
  const d = new JsonStringFieldDecoder("code");
  const deltas: string[] = [];
  let last = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < json.length)].sort((a, b) => a - b).concat(json.length)) {
    const piece = d.feed(json.slice(last, cut));
    if (piece) deltas.push(piece);
    last = cut;
  }
  return { deltas, value: d.value, complete: d.complete };
}

describe("JsonStringFieldDecoder", () => {
  it("decodes the field from arbitrary fragments, escapes and surrogate pairs included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.array(fc.nat(400)), fc.boolean(), (code, cuts, otherKeyFirst) => {
        const obj = otherKeyFirst ? { lang: "py", nested: { code: "not me" }, code } : { code, after: [1, "x"] };
        const json = JSON.stringify(obj);
        const { deltas, value, complete } = decodeInPieces(json, cuts);
        expect(value).toBe(code);
        expect(deltas.join("")).toBe(code);
        expect(complete).toBe(true);
        // text without lone surrogates never has a pair split between two deltas
        if (wellFormed(code)) for (const d of deltas) expect(wellFormed(d)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("splits inside \\u escapes and \\ sequences", () => {
    const json = '{"code": "a\\u00e9\\n\\ud83d\\ude00b"}';
    for (let cut = 1; cut < json.length; cut++) {
      const { value } = decodeInPieces(json, [cut]);
      expect(value).toBe("aé\n😀b");
    }
  });

  it("streams as it goes (not only at the end)", () => {
    const d = new JsonStringFieldDecoder("code");
    expect(d.feed('{"code": "pri')).toBe("pri");
    expect(d.feed('nt(1)')).toBe("nt(1)");
    expect(d.feed('"}')).toBe("");
    expect(d.complete).toBe(true);
  });

  it("ignores a non-string value and keys that only look alike", () => {
    const d = new JsonStringFieldDecoder("code");
    d.feed('{"codex": "no", "code": 5}');
    expect(d.value).toBe("");
    expect(d.complete).toBe(false);
  });
});
