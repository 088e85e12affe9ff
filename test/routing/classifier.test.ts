import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { TaskType } from "../../src/config/schema.js";
import { featurize, TaskClassifier, type SerializedClassifier, type TrainingExample } from "../../src/routing/classifier.js";
import { decodeSnapshot, encodeSnapshot, examplesHash, loadOrTrainClassifier } from "../../src/routing/classifier-cache.js";

const synthetic: TrainingExample[] = [
  ...[
    "Write a poem about the sea at night",
    "Write a short poem about autumn leaves",
    "Compose a poem about a lonely lighthouse",
    "Write a story about a dragon and a knight",
    "Tell me a short story about a lost cat",
    "Write a funny story about a talking dog",
  ].map((text) => ({ text, label: "creative_writing" as const })),
  ...[
    "Translate this sentence into Spanish: good morning",
    "Translate into French: where is the station",
    "Translate the word house into German",
    "How do you say thank you in Japanese",
    "Translate into Italian: the food was delicious",
    "Translate this sentence into Portuguese: see you tomorrow",
  ].map((text) => ({ text, label: "translation" as const })),
  ...[
    "Solve for x: 3x + 5 = 20",
    "What is 15% of 240",
    "Solve the equation 2x - 7 = 11 for x",
    "Calculate the area of a circle with radius 4",
    "What is 12 times 17 plus 9",
    "Calculate the sum of the first 50 integers",
  ].map((text) => ({ text, label: "math" as const })),
  ...[
    "Write a Python function that reverses a string",
    "Write a JavaScript function that checks if a number is prime",
    "Implement a binary search function in Python",
    "Write a Python class for a bank account",
    "Implement a stack class in JavaScript",
    "Write a function in Python that merges two sorted lists",
  ].map((text) => ({ text, label: "coding" as const })),
];

const heldOut: Array<[string, TaskType]> = [
  ["Write a poem about the moon", "creative_writing"],
  ["Tell me a story about a brave mouse", "creative_writing"],
  ["Translate into Spanish: the weather is nice today", "translation"],
  ["Translate this sentence into German: I love music", "translation"],
  ["Solve for x: 7x - 2 = 40", "math"],
  ["Calculate 18% of 350", "math"],
  ["Write a Python function that counts vowels in a string", "coding"],
  ["Implement a queue class in JavaScript", "coding"],
];

describe("TaskClassifier on a small synthetic set", () => {
  let clf: TaskClassifier;
  beforeAll(() => {
    clf = TaskClassifier.train(synthetic, { calibrate: false });
  });

  it("reports training stats", () => {
    expect(clf.stats.examples).toBe(synthetic.length);
    expect(clf.stats.features).toBeGreaterThan(10);
    // Not calibrated: temperature 1 and no cross-validated accuracy.
    expect(clf.stats.temperature).toBe(1);
    expect(clf.stats.crossValidatedAccuracy).toBeNull();
  });

  it("predicts the classes of prompts it has not seen", () => {
    for (const [text, label] of heldOut) expect(clf.predict(text).taskType, text).toBe(label);
  });

  it("fits its own training set", () => {
    const right = synthetic.filter((e) => clf.predict(e.text).taskType === e.label).length;
    expect(right).toBe(synthetic.length);
  });

  it("gives probabilities: ranked best first, each in [0, 1], summing near 1, confidence = top p", () => {
    for (const [text] of heldOut) {
      const p = clf.predict(text);
      expect(p.ranked.length).toBeGreaterThanOrEqual(2);
      expect(p.ranked[0]!.taskType).toBe(p.taskType);
      expect(p.confidence).toBe(p.ranked[0]!.p);
      for (const r of p.ranked) {
        expect(r.p).toBeGreaterThanOrEqual(0);
        expect(r.p).toBeLessThanOrEqual(1);
      }
      for (let i = 1; i < p.ranked.length; i++) expect(p.ranked[i - 1]!.p).toBeGreaterThanOrEqual(p.ranked[i]!.p);
      const sum = p.ranked.reduce((s, r) => s + r.p, 0);
      // Only the top classes are listed; with four trained classes they hold nearly all the mass.
      expect(sum).toBeLessThanOrEqual(1 + 1e-9);
      expect(sum).toBeGreaterThan(0.9);
      // The four trained classes are the ones ranked.
      expect(new Set(p.ranked.map((r) => r.taskType))).toEqual(new Set(["creative_writing", "translation", "math", "coding"]));
    }
  });

  it("is more confident on a clear prompt than on an empty-ish one", () => {
    const clear = clf.predict("Translate into French: the cat is sleeping");
    const vague = clf.predict("ok");
    expect(clear.confidence).toBeGreaterThan(vague.confidence);
  });

  it("training is deterministic", () => {
    const again = TaskClassifier.train(synthetic, { calibrate: false });
    for (const [text] of heldOut) expect(again.predict(text)).toEqual(clf.predict(text));
  });

  it("survives a toJSON/fromJSON round trip with the same predictions", () => {
    const json: SerializedClassifier = JSON.parse(JSON.stringify(clf.toJSON("test-hash"))) as SerializedClassifier;
    expect(json.examplesHash).toBe("test-hash");
    const restored = TaskClassifier.fromJSON(json);
    expect(restored.stats).toEqual(clf.stats);
    for (const [text] of [...heldOut, ["something else entirely", "math"] as const]) {
      const a = clf.predict(text);
      const b = restored.predict(text);
      expect(b.taskType).toBe(a.taskType);
      expect(b.ranked.map((r) => r.taskType)).toEqual(a.ranked.map((r) => r.taskType));
      expect(b.confidence).toBeCloseTo(a.confidence, 3);
    }
  });
});

describe("the build's binary snapshot", () => {
  const clf = TaskClassifier.train(synthetic, { calibrate: false });
  const json = clf.toJSON("test-hash");
  const bytes = encodeSnapshot(json);

  it("gives back format 4's very numbers, even from a buffer off its alignment", () => {
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const b of [bytes, shifted.subarray(3)]) {
      const s = decodeSnapshot(b)!;
      expect(s.header).toMatchObject({ format: 4, examplesHash: "test-hash", temperature: json.temperature, bias: json.bias, stats: json.stats });
      expect(Array.from(s.features)).toEqual(json.features);
      // Exactly the doubles the JSON form holds: decisions stay byte-identical.
      expect(Array.from(s.weights)).toEqual(json.weights);
    }
  });

  it("refuses bytes that are not a whole snapshot", () => {
    expect(decodeSnapshot(bytes.subarray(0, bytes.length - 8))).toBeUndefined();
    expect(decodeSnapshot(Buffer.from("{\"format\":4}"))).toBeUndefined();
    expect(decodeSnapshot(new Uint8Array(0))).toBeUndefined();
  });
});

describe("featurize", () => {
  it("returns a unit-length sparse vector", () => {
    const f = featurize("Translate into French: good morning");
    expect(f.size).toBeGreaterThan(5);
    const norm = Math.sqrt([...f.values()].reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 9);
  });

  it("is deterministic and tells different prompts apart", () => {
    const a = featurize("Write a poem about the sea");
    expect(featurize("Write a poem about the sea")).toEqual(a);
    expect(featurize("Solve for x: 2x = 10")).not.toEqual(a);
  });

  it("folds numbers together: prompts differing only in a number look the same", () => {
    expect(featurize("add 12 and 30")).toEqual(featurize("add 7 and 451"));
  });
});

describe("shipped classifier", () => {
  const { config } = loadConfig({ env: {} });
  let clf: TaskClassifier;
  let source: string;
  beforeAll(() => {
    ({ classifier: clf, source } = loadOrTrainClassifier(config));
  });

  it("loads (from the build's snapshot when it matches the examples)", () => {
    expect(["snapshot", "trained"]).toContain(source);
    expect(clf.stats.examples).toBeGreaterThan(100);
    expect(examplesHash(config)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("classifies clear prompts of every kind correctly at least 80% of the time", () => {
    const prompts: Array<[string, TaskType]> = [
      ["Write a Go function that returns the n-th Fibonacci number using memoization.", "coding"],
      ["Implement an LRU cache class in TypeScript with get and put methods.", "coding"],
      ["Review this function and suggest how to make it more idiomatic:\n```python\ndef f(l):\n    out = []\n    for i in range(len(l)):\n        out.append(l[i] * 2)\n    return out\n```", "code_review"],
      ["My Flask app throws `TypeError: 'NoneType' object is not subscriptable` when I submit the form. How do I fix it?", "debugging"],
      ["Why does my React component re-render infinitely when I call setState inside useEffect?", "debugging"],
      ["Solve for x: 4x - 9 = 3x + 12.", "math"],
      ["A bakery sells muffins at $2.50 each. If Sam buys 7 muffins and pays with a $20 bill, how much change does he get?", "math"],
      ["If all bloops are razzies and all razzies are lazzies, are all bloops definitely lazzies? Explain your reasoning.", "reasoning"],
      ["Create a 12-week study plan to prepare for the AWS Solutions Architect exam.", "planning"],
      ["Plan a 3-day itinerary for a family trip to Lisbon with two young kids.", "planning"],
      ["Write a short poem about the first snowfall of winter.", "creative_writing"],
      ["Write a bedtime story about a shy dragon who learns to make friends.", "creative_writing"],
      ["Summarize the following paragraph in one sentence: The city council voted on Tuesday to expand the bike lane network by forty kilometres over the next three years, citing a rise in cycling commuters and a drop in traffic injuries where lanes already exist.", "summarization"],
      ["Translate into Spanish: Where is the nearest train station?", "translation"],
      ["Translate 'good luck with your exams' into German.", "translation"],
      ["Extract every person's name and email address from this text: Contact Jane Doe at jane@example.com or Raj Patel at raj.p@example.org.", "extraction"],
      ["What is the capital of Australia?", "simple_qa"],
      ["Who wrote the novel Frankenstein?", "simple_qa"],
      ["Research the latest developments in solid-state battery technology and cite your sources.", "research"],
      ["Compare the pros and cons of microservices versus a monolith for a five-person startup.", "analysis"],
    ];
    const wrong = prompts.filter(([text, label]) => clf.predict(text).taskType !== label);
    const accuracy = 1 - wrong.length / prompts.length;
    expect(accuracy, `misclassified: ${wrong.map(([t, l]) => `${l}: ${t.slice(0, 40)} -> ${clf.predict(t).taskType}`).join(" | ")}`).toBeGreaterThanOrEqual(0.8);
  });

  it("gives calibrated probabilities", () => {
    const p = clf.predict("Translate into Spanish: good night");
    const sum = p.ranked.reduce((s, r) => s + r.p, 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-9);
    expect(p.confidence).toBeGreaterThan(0);
    expect(clf.stats.temperature).toBeGreaterThan(0);
  });
});
