import { describe, expect, it } from 'vitest';
import { jsonText } from './json-text.js';

describe('jsonText', () => {
  it('puts each object member on its own line, two spaces deep, and ends with a newline', () => {
    expect(jsonText({ a: { b: 1 }, c: null })).toBe('{\n  "a": {\n    "b": 1\n  },\n  "c": null\n}\n');
  });

  it('writes empty objects and arrays inline', () => {
    expect(jsonText({ a: {}, b: [] })).toBe('{\n  "a": {},\n  "b": []\n}\n');
  });

  it('keeps an array of scalars on one line while it fits in 110 columns, comma included', () => {
    // `  "k": ["…"],` is 2 + 5 + 4 + n + 1 columns.
    const fits = 'x'.repeat(110 - 12);
    expect(jsonText({ k: [fits], z: 0 })).toContain(`  "k": ["${fits}"],\n`);
    const tooLong = `${fits}x`;
    expect(jsonText({ k: [tooLong], z: 0 })).toContain(`  "k": [\n    "${tooLong}"\n  ],\n`);
    // The last member has no comma, so it gets one more column.
    expect(jsonText({ k: [tooLong] })).toContain(`  "k": ["${tooLong}"]\n`);
  });

  it('breaks an array holding objects one element per line', () => {
    expect(jsonText([{ a: 1 }, 2])).toBe('[\n  {\n    "a": 1\n  },\n  2\n]\n');
  });

  it('escapes strings as JSON does', () => {
    expect(jsonText({ 'q"': 'a\nb' })).toBe('{\n  "q\\"": "a\\nb"\n}\n');
  });
});
