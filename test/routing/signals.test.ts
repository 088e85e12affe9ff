import { describe, expect, it } from "vitest";
import { detectSignals, instructionPart, signalNames } from "../../src/routing/signals.js";

const pythonTraceback = [
  "My script stopped working after the upgrade:",
  "Traceback (most recent call last):",
  '  File "report.py", line 41, in build_report',
  "    totals = sum(row['amount'] for row in rows)",
  "KeyError: 'amount'",
].join("\n");

const jsStack = [
  "TypeError: Cannot read properties of undefined (reading 'length')",
  "    at countItems (cart.js:14:22)",
  "    at Object.<anonymous> (server.js:88:5)",
].join("\n");

const rustPanic = "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/parser.rs:27:18";

const codeBlock = [
  "Here is my helper:",
  "```ts",
  "export function clamp(x: number, lo: number, hi: number): number {",
  "  if (x < lo) return lo;",
  "  return x > hi ? hi : x;",
  "}",
  "```",
].join("\n");

describe("detectSignals: code", () => {
  it("detects a fenced code block and counts code lines", () => {
    const s = detectSignals(codeBlock);
    expect(s.codeBlock).toBe(true);
    expect(s.codeLines).toBeGreaterThanOrEqual(3);
    expect(s.codeRatio).toBeGreaterThan(0.4);
    expect(signalNames(s)).toContain("code_block");
  });

  it("counts unfenced code lines", () => {
    const s = detectSignals("import os\nfrom pathlib import Path\n\ndef size(p):\n    return os.path.getsize(p)\n");
    expect(s.codeBlock).toBe(false);
    expect(s.codeLines).toBeGreaterThanOrEqual(3);
  });

  it("plain prose has no code", () => {
    const s = detectSignals("The lighthouse keeper watched the storm roll in over the harbour all night long.");
    expect(s.codeBlock).toBe(false);
    expect(s.codeLines).toBe(0);
    expect(s.stackTrace).toBe(false);
  });

  it("collects file names", () => {
    const s = detectSignals("The bug is somewhere between utils.py and Router.tsx, not in config.yaml.");
    expect(s.fileNames).toEqual(expect.arrayContaining(["utils.py", "router.tsx", "config.yaml"]));
  });
});

describe("detectSignals: stack traces and errors", () => {
  it("recognizes a Python traceback", () => {
    const s = detectSignals(pythonTraceback);
    expect(s.stackTrace).toBe(true);
    expect(s.fileNames).toContain("report.py");
    expect(signalNames(s)).toContain("stack_trace");
  });

  it('recognizes JavaScript frames like "at f (file.js:1:2)"', () => {
    expect(detectSignals(jsStack).stackTrace).toBe(true);
    expect(detectSignals("Something odd happened\n    at main (index.js:1:2)").stackTrace).toBe(true);
  });

  it("recognizes a Rust panic", () => {
    expect(detectSignals(rustPanic).stackTrace).toBe(true);
  });

  it("recognizes compiler errors", () => {
    expect(detectSignals("src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.").stackTrace).toBe(true);
    expect(detectSignals("main.c:(.text+0x1b): undefined reference to `sqrt'").stackTrace).toBe(true);
  });

  it("does not see a stack trace in ordinary questions", () => {
    expect(detectSignals("What is the difference between an error and an exception in Java?").stackTrace).toBe(false);
    expect(detectSignals("Write a short note at the top of the page.").stackTrace).toBe(false);
  });

  it("detects error words", () => {
    expect(detectSignals("My build keeps failing with a weird message").errorWords).toBe(true);
    expect(detectSignals("The app crashes when I tap save").errorWords).toBe(true);
    expect(detectSignals("Write a haiku about spring rain").errorWords).toBe(false);
  });
});

describe("detectSignals: greetings and short questions", () => {
  it.each(["Hi!", "hello there", "Good morning!", "hey, how are you?", "Bonjour", "Привет!", "你好"])("%s is a greeting", (text) => {
    expect(detectSignals(text).greeting).toBe(true);
  });

  it.each([
    "Hi, can you write a function that merges two sorted arrays in Go?",
    "Hello world program in C please",
    "Say hello to everyone in the team for me in a formal email.",
  ])("%s is not a greeting", (text) => {
    expect(detectSignals(text).greeting).toBe(false);
  });

  it("marks short questions", () => {
    expect(detectSignals("Who wrote Pride and Prejudice?").shortQuestion).toBe(true);
    expect(detectSignals("Who wrote Pride and Prejudice").shortQuestion).toBe(false);
    const long = "Can you " + "please ".repeat(25) + "tell me the time?";
    expect(detectSignals(long).shortQuestion).toBe(false);
  });
});

describe("detectSignals: multiple choice and answer slots", () => {
  it("detects lettered options", () => {
    const s = detectSignals("Which organ produces insulin?\nA. Liver\nB. Pancreas\nC. Kidney\nD. Spleen");
    expect(s.multipleChoice).toBe(true);
    expect(signalNames(s)).toContain("multiple_choice");
  });

  it("detects parenthesized options", () => {
    expect(detectSignals("Pick the prime number.\n(A) 21\n(B) 27\n(C) 29\n(D) 33").multipleChoice).toBe(true);
  });

  it("detects an options list", () => {
    expect(detectSignals("What is the best fit for the sentence?\nOptions:\n- ran\n- running\n- runs").multipleChoice).toBe(true);
  });

  it("does not flag a numbered list of steps", () => {
    expect(detectSignals("Tell me about the causes of the French Revolution.").multipleChoice).toBe(false);
  });

  it("detects an answer slot at the end", () => {
    expect(detectSignals("Q: What is the boiling point of water at sea level in Celsius?\nAnswer:").answerSlot).toBe(true);
    expect(detectSignals("Translate to German: good night\nTranslation: ").answerSlot).toBe(true);
    expect(detectSignals("Answer: the boiling point of water is 100 degrees.").answerSlot).toBe(false);
  });
});

describe("detectSignals: math", () => {
  it("marks a bare arithmetic expression", () => {
    const s = detectSignals("(12 + 30) / 7 =");
    expect(s.arithmeticOnly).toBe(true);
    expect(s.numbers).toBe(3);
  });

  it("a worded question with numbers is not arithmetic-only", () => {
    expect(detectSignals("If a shop sells 3 apples for 2 dollars, how many apples can I buy with 10 dollars?").arithmeticOnly).toBe(false);
  });

  it("detects LaTeX notation", () => {
    expect(detectSignals("Evaluate $\\int_0^1 x^2 \\, dx$ and simplify.").mathNotation).toBe(true);
    expect(detectSignals("Show that \\frac{a}{b} + \\frac{c}{d} is rational.").mathNotation).toBe(true);
    expect(detectSignals("What a lovely day for a walk.").mathNotation).toBe(false);
  });
});

describe("detectSignals: languages and scripts", () => {
  it("detects Chinese (Han) text", () => {
    const s = detectSignals("请帮我写一封邮件，告诉老板我明天要请假一天。");
    expect(s.nonEnglish).toBe(true);
    expect(s.script).toBe("han");
    expect(signalNames(s)).toContain("non_english:han");
  });

  it("detects Russian (Cyrillic) text", () => {
    const s = detectSignals("Объясни, пожалуйста, как работает сборщик мусора в Java.");
    expect(s.nonEnglish).toBe(true);
    expect(s.script).toBe("cyrillic");
  });

  it("detects Latin-script non-English text by its function words", () => {
    const s = detectSignals("¿Cuál es la diferencia entre los gatos y los perros para una familia con niños que viven en la ciudad?");
    expect(s.nonEnglish).toBe(true);
    expect(s.script).toBeNull();
  });

  it("English text is English", () => {
    const s = detectSignals("Please tell me what the weather is like in London this time of the year.");
    expect(s.nonEnglish).toBe(false);
    expect(s.script).toBeNull();
  });
});

describe("detectSignals: intents", () => {
  const cases: Array<[string, string]> = [
    ["translate", "Translate this paragraph into Spanish for our customers."],
    ["translate", "请把这句话翻译成英文：我今天很开心。"],
    ["summarize", "Give me the key takeaways of the meeting notes below."],
    ["summarize", "Summarize this email thread."],
    ["fix", "Can you fix this function? It skips the last element."],
    ["fix", "Why is my sort function returning the wrong order for negative numbers?"],
    ["review", "Please review this pull request and point out code smells."],
    ["review", "Refactor the module below to remove the duplication."],
    ["write_code", "Write a Python script that renames every file in a folder."],
    ["write_creative", "Write a short story about a robot who learns to paint."],
    ["plan", "Plan a two-week itinerary for a trip to Japan in spring."],
    ["prove", "Prove that the square root of 2 is irrational."],
    ["solve", "Calculate the compound interest on 5000 dollars at 4% for 3 years."],
    ["extract", "Extract all the email addresses from the message below."],
    ["classify", "Classify the sentiment of each customer review as positive or negative."],
    ["research", "Research the latest developments in solid-state batteries and cite sources."],
    ["explain", "Explain how public-key cryptography works."],
    ["compare", "Compare React vs Vue for a small internal dashboard."],
    // Non-ASCII verbs (JS \b is ASCII-only, so these must sit outside \b groups).
    ["translate", "Переведи на английский: привет, как дела?"],
    ["translate", "Нужен перевод этого абзаца."],
    ["translate", "Übersetze bitte diesen Satz ins Englische."],
    ["translate", "Bitte übersetzen Sie den folgenden Text."],
    ["translate", "Peux-tu traduire cette phrase en anglais ?"],
    ["summarize", "Fasse diesen Text in drei Sätzen zusammen."],
    ["fix", "Why doesn't my code work when the list is empty?"],
    ["fix", "Why isn't my function returning anything?"],
  ];

  it.each(cases)("finds intent %s in %j", (intent, text) => {
    const s = detectSignals(text);
    expect(s.intents).toContain(intent);
    expect(signalNames(s)).toContain(`intent:${intent}`);
  });

  it("does not read research into a traceback's 'most recent call last'", () => {
    const s = detectSignals('Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nKeyError: 1');
    expect(s.intents).not.toContain("research");
  });

  it("finds no intent in a plain statement", () => {
    expect(detectSignals("The cat sat quietly on the warm windowsill.").intents).toEqual([]);
  });

  it("reads the instruction from the start and the end of long prompts", () => {
    const filler = "The committee reviewed the quarterly figures in great detail. ".repeat(40);
    const text = "Here is a report.\n\n" + filler + "\n\nPlease translate the above into German.";
    expect(instructionPart(text).length).toBeLessThan(text.length);
    expect(instructionPart(text)).toContain("translate the above into German");
    expect(detectSignals(text).intents).toContain("translate");
    expect(instructionPart("short")).toBe("short");
  });
});

describe("detectSignals: size and structure", () => {
  it("counts words, lines and questions", () => {
    const s = detectSignals("One two three?\nFour five?\nSix.");
    expect(s.words).toBe(6);
    expect(s.lines).toBe(3);
    expect(s.questionCount).toBe(2);
  });

  it("marks a prose passage and a long document", () => {
    const sentence = "The river rose steadily through the night, and by dawn the lower fields of the valley were under water. ";
    const passage = "Summarize this:\n\n" + sentence.repeat(10);
    expect(detectSignals(passage).passage).toBe(true);
    expect(detectSignals(passage).longDocument).toBe(false);
    expect(detectSignals(sentence.repeat(130)).longDocument).toBe(true);
    expect(detectSignals("A short line.").passage).toBe(false);
  });

  it("records conversation turns", () => {
    expect(detectSignals("and then?", 5).conversationTurns).toBe(5);
    expect(signalNames(detectSignals("and then?", 5))).toContain("conversation_turns:5");
    expect(signalNames(detectSignals("and then?"))).not.toContain("conversation_turns:1");
  });
});
