import { countChars, scriptProfile, window } from "./text.js";

/**
 * Fast, explainable facts about a prompt. They feed three things: the decisive rules of
 * tier 2, extra features for the classifier, and the complexity estimate.
 */
export interface Signals {
  chars: number;
  words: number;
  lines: number;
  codeBlock: boolean;
  codeLines: number;
  /** Share of non-empty lines that look like code. */
  codeRatio: number;
  fileNames: string[];
  stackTrace: boolean;
  errorWords: boolean;
  greeting: boolean;
  shortQuestion: boolean;
  longDocument: boolean;
  /** A block of prose (an article, passage or transcript) given along with an instruction. */
  passage: boolean;
  multipleChoice: boolean;
  /** Ends with an answer slot, as benchmark templates do ("Answer:", "A:", "Output:"). */
  answerSlot: boolean;
  /** An exam item: four lettered options (A-D) and an answer slot. */
  examItem: boolean;
  mathNotation: boolean;
  arithmeticOnly: boolean;
  /** Several quantities and a question asking for a quantity: a word problem. */
  wordProblem: boolean;
  /** A short who/what/when/where/which question with a single fact for an answer. */
  factoid: boolean;
  /** Distinct mathematical terms, in several languages. */
  mathTerms: number;
  /** Names a programming language or tool, or has a programming-contest I/O section. */
  programming: boolean;
  numbers: number;
  nonEnglish: boolean;
  script: string | null;
  questionCount: number;
  conversationTurns: number;
  intents: Intent[];
}

export type Intent =
  | "translate"
  | "summarize"
  | "fix"
  | "review"
  | "write_code"
  | "write_creative"
  | "plan"
  | "prove"
  | "solve"
  | "extract"
  | "classify"
  | "research"
  | "explain"
  | "analyze"
  | "compare";

const CODE_LINE = [
  /^\s*(def|class|import|from\s+\S+\s+import|return|function|const|let|var|public|private|protected|static|#include|using\s+namespace|package|func|fn|impl|struct|interface|enum|if\s*\(|for\s*\(|while\s*\(|elif|else\s*:|try\s*:|except|catch\s*\(|switch\s*\(|SELECT|INSERT|UPDATE|CREATE\s+TABLE)\b/,
  /[;{}]\s*$/,
  /^\s*(\/\/|#!|\/\*|\*\s)/,
  /^\s*[\w.$[\]]+\s*(=|\+=|-=|==|=>|:=)\s*.+/,
  /^\s*@\w+/,
  /^\s*<\/?[a-zA-Z][\w-]*(\s[^>]*)?>\s*$/,
  /^\s*\w+\([^)]*\)\s*:?\s*$/,
];

const FILE_RE = /\b[\w-]+\.(py|js|mjs|cjs|ts|tsx|jsx|java|kt|cpp|cc|cxx|hpp|h|c|go|rs|rb|php|cs|swift|scala|sql|sh|bash|ps1|ya?ml|toml|json|ini|html|css|scss|vue|svelte|lua|dart|r|m|ipynb|gradle|xml|dockerfile|tf)\b/gi;

const DOT_LETTER_RE = /\.[a-z]/i;

const STACK_RE = new RegExp(
  [
    String.raw`Traceback \(most recent call last\)`,
    String.raw`^\s+at [\w$.<>]+ ?\(?[^\s()]+:\d+(:\d+)?\)?`,
    String.raw`Exception in thread`,
    String.raw`\b[A-Z]\w*(Error|Exception)\b\s*:`,
    String.raw`\bsegmentation fault\b`,
    String.raw`panicked at`,
    String.raw`\berror(\[E\d+\])?:\s`,
    String.raw`\berror (TS|CS|C)\d{3,5}\b`,
    String.raw`undefined reference to`,
    String.raw`core dumped`,
    String.raw`^\s*File "[^"]+", line \d+`,
    String.raw`\bline \d+, in \w+`,
    String.raw`\bnpm ERR!`,
    String.raw`\bFATAL\b|\bERROR\b\s*[:[]`,
    String.raw`^\s*Traceback\s*$`,
  ].join("|"),
  "m",
);

const ERROR_WORDS_RE =
  /\b(error|errors|exception|crash(es|ed|ing)?|bugs?|buggy|fails?|failing|failed|broken|doesn'?t work|does not work|not working|isn'?t working|wrong (output|result|answer|value)|unexpected(ly)?|throws?|stack ?trace|segfault|hangs?|freez(es|ing)|not compil\w*|won'?t compile|fix (it|this|the|my|bugs?))\b/i;

const GREETING_RE =
  /^\s*(hi|hello|hey|hiya|howdy|yo|greetings|good (morning|afternoon|evening)|hola|bonjour|hallo|ciao|привет|你好|こんにちは|안녕)(\s+(there|again|all|everyone|friend|team))?[\s!.,]*(how are (you|u)( doing)?( today)?)?[\s!?.]*$/i;

const MC_RE = /(^|\n)\s*(\(?[A-Ea-e]\)|[A-E][.)]|\([1-4]\))\s+\S[^\n]*\n\s*(\(?[B-Fb-f]\)|[B-F][.)]|\([2-5]\))\s+\S/;
const OPTIONS_RE = /(^|\n)\s*(options|choices|answer choices|choose from|pick from|candidates)\s*:?\s*(\n|-)/i;
const DASH_LIST_OPTIONS_RE = /(^|\n)\s*-\s+\S[^\n]{0,80}\n\s*-\s+\S[^\n]{0,80}\n\s*-\s+\S/;
const EXAM_OPTIONS_RE = /(^|\n)\s*\(?A[.)]\s+\S[^\n]*\n\s*\(?B[.)]\s+\S[^\n]*\n\s*\(?C[.)]\s+\S[^\n]*\n\s*\(?D[.)]\s+\S/;
const ANSWER_SLOT_RE = /\n\s*(answer|a|output|solution|summary|translation|response|label|tl;?dr)\s*:\s*$/i;

const NUMBER_WORDS_RE = /\b(\d+(\.\d+)?%?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|half|twice|double|triple|dozen|thirds?|quarters?)\b/gi;
const QUANT_QUESTION_RE = /\b(how (many|much|long|far|old|fast|often)|what (is|was|will be) the (total|sum|difference|average|mean|cost|price|percentage|ratio|number|amount|profit|area|speed)|what percent(age)?|how many more|calculate|find the (total|number|amount|cost))\b/i;
const FACTOID_RE = /^\s*(who|when|where|which|what (year|city|country|state|is the (name|capital|population|height|date))|in (what|which) (year|city|country|state)|how (old|tall|long|many|much|far)|name the|what does \S+ stand for)\b/i;
const FACTOID_LEAD_RE = /^(\s*[^\n?]{0,60}?(answer (this|the following)|question\s*\d*\s*[.:]|formulate an answer to this elaborate question|combine facts and answer this|q)\s*[:.]?\s*)/i;

const MATH_TERMS_RE = new RegExp(
  [
    String.raw`\b(equations?|derivatives?|integrals?|integrate|differentiate|probabilit(y|ies)|prime (number|factor)\w*|theorem|matri(x|ces)|polynomials?|logarithm\w*|sinusoid\w*|arithmetic (progression|sequence|mean)|geometric (series|progression|sequence)|expected value|variance|standard deviation|factorial|permutations?|modulo|divisible|perimeter|hypotenuse|eigen\w+|converge\w*|quadratic|exponent\w*|radius|circumference|compound interest|interest rate|percent(age)?|fractions?|ratio|correlation|regression|confidence interval|p-value|null hypothesis|hypothesis test|median|standard error|normal distribution|random(ly)? (sample|assign)\w*|sampling|topolog\w*|compact space|vector space|isomorph\w*|homomorph\w*|subgroup|integer|divisor)\b`,
    String.raw`уравнен\w*|производн\w*|интеграл\w*|вероятност\w*|прогресси\w*|матриц\w*|многочлен\w*|теорем\w*|докаж\w*|вычисл\w*|найдите|найти|решите|радиус\w*|процент\w*`,
    String.raw`phương trình|đạo hàm|tích phân|xác suất|lãi suất|cấp số|chứng minh|bán kính|vận tốc`,
    String.raw`方程|导数|導數|积分|積分|概率|機率|数列|數列|求解|证明|證明|矩阵|矩陣|函数|函數|几何|三角形|面积|面積|半径|多项式`,
    String.raw`ecuaci[oó]n|derivada|probabilidad|calcul[ae]|demuestr[ae]|equa[cç][aã]o|probabilidade|calcule|[ée]quation|d[ée]riv[ée]e|probabilit[ée]|calculer|d[ée]montrer|gleichung|ableitung|wahrscheinlichkeit|berechne\w*|beweise|równani\w*|prawdopodobie\w*|oblicz\w*`,
  ].join("|"),
  "gi",
);

const PROGRAMMING_RE =
  /\b(python|java|javascript|typescript|node\.?js|c\+\+|c#|golang|rust|kotlin|swift|ruby|php|perl|scala|sql|hiveql|pandas|numpy|matlab|r language|bash|powershell|excel formula|vba|regex|api|json|html|css|react|django|flask|spark)\b|пайтон|питон|(用|使用)\s*[\w+#]+\s*(写|編寫|编写|实现)|输入格式|输出格式|样例输入|样例输出|input format|output format|sample input|sample output|\bstdin\b|\bstdout\b/i;

const LATEX_RE = /\\(frac|sqrt|int|sum|prod|lim|infty|cdot|times|leq|geq|neq|pi|theta|alpha|mathbb|binom)\b|\$[^$\n]{1,80}\$/;

/** Intent words in several languages; checked on the instruction part of the prompt. */
const INTENTS: Array<[Intent, RegExp]> = [
  ["translate", /\b(translat(e|es|ed|ing|ion|or)|traduc(e|ir|tion|teur|ire)|tradu(is|ire|isez|zca|zcas)|how do (you|i) say)\b|traducción|übersetz|Übersetz|перев(од|ед|еди)|翻译|翻譯|翻訳|번역/i],
  ["summarize", /\b(summar(y|ies|ise|ize|ised|ized|ising|izing)|tl;?dr|sum up|recap|main points|key (points|takeaways)|gist|synopsis|condense|outline of|highlights of|in (a|one|two|three|\d) (short )?(sentences?|paragraphs?|bullets?)|in brief|sum (up|the following|this)|abstract of|resum(e|ir|en|a))\b|résum[ée]|总结|總結|概括|摘要|要約|要点|резюм|кратко перескаж|zusammenfass|Zusammenfass|\b[Ff]ass\w* [^.\n]{0,60}zusammen\b|요약/i],
  ["fix", /\b(fix|fixes|fixing|debug|debugging|troubleshoot\w*|resolve (this|the) (error|issue)|why (doesn'?t|isn'?t|don'?t|aren'?t|won'?t|can'?t|does|is|do|am|are) ?(n'?t|not|this|my|it|the|i)?\b[^?\n]{0,80}(work|fail|error|crash|return|wrong|get|print|throw|show|compil|run))/i],
  ["review", /\b(review|code review|refactor\w*|critique|improve (this|my|the) code|clean (this |it |the code )?up|make (it|this|the code) (more )?(readable|idiomatic|cleaner|faster|efficient|pythonic)|best practices|optimi[sz]e (this|my|the following) (code|function|query|script)|code smells?|polish)\b/i],
  ["write_code", /\b(write|implement|create|build|generate|code|develop|make)\b[^.\n?]{0,60}\b(function|method|program|script|class|code|algorithm|api|endpoint|regex|query|sql|app|application|cli|component|module|unit tests?|bash|python|javascript|typescript|java|c\+\+|rust|golang|go program)\b|(编写|写一?个?|生成|实现|用\s*\w+\s*写).{0,20}(程序|代码|函数|脚本|算法|类)|编程|程序设计|lập trình|viết (code|chương trình|hàm)|напиши\w*\s+(код|программу|функцию|скрипт)|программ\w+ на|escrib\w+ (un|una) (programa|función|script|código)|cria\w* (um|uma) (programa|função|script)|コードを書|プログラムを書|関数を(書|実装)|코드를? (작성|짜)|프로그램을? (작성|만들)/i],
  ["write_creative", /\b(write|compose|craft|create|draft|tell( me)?|generate|pen)\b[^.\n]{0,40}\b(story|stories|poem|poems|haiku|limerick|sonnet|song|lyrics|rap|verse|screenplay|script for|scene|sketch|dialogue|fable|tale|joke|slogan|tagline|ad copy|novel|chapter|monologue|speech|toast|eulogy|fan ?fiction|short fiction|narrative|letter|roleplay|role-play|cover letter|wedding vows|essay|essays|blog post|blog posts|op-ed|opinion piece|newsletter|personal statement)\b|\b(continue (the|this) (text|story|scene|poem)|turn (this|it|the following)( text)? into an? (poem|song|story|rap|limerick|haiku)|(change|rewrite) (the|these|this) (lyrics|poem|song)|role-?play (as|with|intro)|imagine you are an?)\b|(写|寫|创作|創作|编|作).{0,12}(诗|詩|歌词|歌詞|故事|小说|小說|散文|剧本|劇本|歌曲|文案|广告词)|(напиш|сочин|придума|созда)\w*.{0,40}(стих|песн|рассказ|сказк|тост|поэм|историю|сценари)|(escrib|escreva|escrever|invent|crea|cri)\w*.{0,40}(poema|canci[oó]n|cuento|historia|hist[oó]ria|can[cç][aã]o|relato|guion|roteiro)|([ée]cri[st]|compose|invente)\w*.{0,40}(po[eè]me|chanson|histoire|conte|nouvelle)|(schreib|verfass)\w*.{0,40}(gedicht|lied|geschichte|märchen|erzählung)|(viết|sáng tác).{0,30}(truyện|thơ|bài hát|lời bài|kịch bản|quảng cáo)|(napisz|stwórz|sastavi|napiši)\w*.{0,40}(wiersz|piosenk|opowiadani|pesm|pjesm|priču|pricu|prozy|proz)|(시|가사|노래|이야기|소설|시나리오)[를을]?\s*(써|작성|만들)|(詩|物語|小説|歌詞|散文詩)を?.{0,6}(書|作|詠)/i],
  ["plan", /\b(plan|planning|itinerary|itineraries|schedule|roadmap|checklist|agenda|timeline for|step[- ]by[- ]step|study plan|meal plan|workout plan|trip to|travel plan|organi[sz]e (a|my|the)|what steps|steps (to|i can|i should|we should)|how (do|can|should) (i|we) (prepare|learn|get started|start|become|get better|improve|launch|grow|organi[sz]e)|(go[- ]to[- ]market|growth|marketing|business|content|launch|migration|exit|pricing) (strategy|plan)|in what order should|curriculum|syllabus|learning path|topics for an? ("?\w+"? ?){0,4}(course|class|discipline|workshop)|(daily|morning|weekly) routine|set of exercises)\b/i],
  ["prove", /\b(prove|proof|show that|demonstrate that|derive)\b/i],
  ["solve", /\b(solve|calculate|compute|evaluate|simplify|how (many|much)|what is the (value|probability|sum|product|area|volume|remainder)|find (the )?(value|x|roots?|derivative|integral|area|probability))\b/i],
  ["extract", /\b(extract|pull out|list (all|every|each) (the )?(names?|dates?|emails?|entities|people|places|numbers|items|products)|find (all|every) (the )?\w+ (mentioned|in the (text|passage|article))|parse (the|this|these)|named entities|into (json|csv|a table))\b/i],
  ["classify", /\b(classify|classification|categori[sz]e|label (the|this|each)|sentiment|(is|was) (this|the following|the) (product )?(review|tweet|text|email|message|sentence|comment)\b[^?\n]{0,30}\b(positive|negative|spam|sarcastic|toxic)|would (the|this) (user|reviewer|customer|buyer) recommend|(positive|negative) or (positive|negative|neutral)|flattering or (not|unflattering)|which (category|topic|class|genre)|topic of|(belongs?|refers?) to which|classified as|(spam|offensive|toxic|sarcastic|fake|clickbait) or not|(give|assign|pick|choose) (the \w+ )?(a|one) (category|label|topic|genre)|how many stars|(provide|give|predict) (a|an|the) [\w ]{0,20}rating)\b/i],
  ["research", /\b(research|investigate|literature review|sources|citations?|cite|latest|up-to-date|as of (20\d\d|today)|(current|recent|newest) (state|trends?|research|studies|prices|data|market|news|events|landscape|developments|advances|papers|findings|years|statistics)|recently published|market (size|analysis|research)|compile (a )?(list|report)|deep dive)\b/i],
  ["explain", /\b(explain|why (is|are|do|does|did)|how (does|do|did) .{0,40} work|what (causes|caused)|describe how|elaborate)\b/i],
  ["analyze", /\b(analy[sz]e|analysis of|evaluate|assess|critique|interpret|what (are|would be) the (implications|consequences|pros and cons))\b/i],
  ["compare", /\b(compare|comparison|vs\.?|versus|pros and cons|advantages and disadvantages|differences? between|better than)\b/i],
];

export function detectSignals(fullText: string, conversationTurns = 1): Signals {
  // Pattern checks read a bounded window so a 100k-character prompt costs what a 3k one does;
  // sizes are measured on (or scaled to) the whole text.
  const text = window(fullText);
  const scale = fullText.length / text.length;
  const chars = fullText.length;
  const counts = countChars(text);
  const words = Math.round(counts.words * scale);
  const rawLines = text.split("\n");
  // One pass over the non-empty lines: code lines, the longest line, and long lines of prose
  // (each line is tested against CODE_LINE once, for both counts).
  let nonEmpty = 0;
  let codeLines = 0;
  let longest = 0;
  let proseLines = 0;
  for (const l of rawLines) {
    if (l.trim().length === 0) continue;
    nonEmpty++;
    const code = CODE_LINE.some((re) => re.test(l));
    if (code) codeLines++;
    else if (l.length > 200) proseLines++;
    longest = Math.max(longest, l.length);
  }
  const codeRatio = nonEmpty ? codeLines / nonEmpty : 0;
  const codeBlock = /```|~~~/.test(text);
  // Every file extension FILE_RE knows starts with a letter: without a dot before a letter, no file name.
  const fileNames = DOT_LETTER_RE.test(text) ? [...new Set((text.match(FILE_RE) ?? []).map((f) => f.toLowerCase()))].slice(0, 10) : [];
  const stackTrace = STACK_RE.test(text);
  const { nonLatinRatio, script } = scriptProfile(text);
  const numbers = counts.numbers;
  const mathSyms = counts.mathSymbols;
  const letters = counts.letters;
  const trimmed = text.trim();
  const questionCount = counts.questionMarks;

  // The instruction usually sits in the first or the last few lines.
  const instruction = instructionPart(text);
  const intents: Intent[] = [];
  for (const [intent, re] of INTENTS) if (re.test(instruction)) intents.push(intent);
  // A pasted review with a question about the reviewer's verdict is a classification task.
  // Some patterns cannot match without a character most one-line prompts lack; the test for it
  // spares the scan. MC_RE, DASH_LIST_OPTIONS_RE and EXAM_OPTIONS_RE each match a newline (the
  // last also an "A." or "A)"), OPTIONS_RE ends on a newline or a dash, REVIEW_RE on a colon,
  // LATEX_RE takes a backslash or a dollar.
  const newline = text.includes("\n");
  if (!intents.includes("classify") && text.includes(":") && REVIEW_RE.test(text) && REVIEW_VERDICT_RE.test(instruction)) intents.push("classify");
  // Answer options, read once for multipleChoice and the word-problem check.
  const mcOrOptions = (newline && MC_RE.test(text)) || ((newline || text.includes("-")) && OPTIONS_RE.test(text));

  return {
    chars,
    words,
    lines: Math.round(rawLines.length * scale),
    codeBlock,
    codeLines: Math.round(codeLines * scale),
    codeRatio,
    fileNames,
    stackTrace,
    errorWords: ERROR_WORDS_RE.test(instruction),
    greeting: words <= 8 && GREETING_RE.test(trimmed),
    shortQuestion: words <= 20 && /\?\s*$/.test(trimmed),
    longDocument: chars > 12000,
    passage: (proseLines >= 1 && words > 150) || (longest > 600 && words > 120),
    multipleChoice: mcOrOptions || (newline && DASH_LIST_OPTIONS_RE.test(text) && /\?/.test(text)),
    answerSlot: ANSWER_SLOT_RE.test(text.slice(-200)),
    examItem: newline && (text.includes("A.") || text.includes("A)")) && EXAM_OPTIONS_RE.test(text) && /\n\s*answer\s*:\s*$/i.test(text.slice(-60)),
    mathNotation: (text.includes("\\") || text.includes("$")) && LATEX_RE.test(text),
    arithmeticOnly: letters <= 12 && numbers >= 2 && mathSyms >= 1,
    wordProblem: isWordProblem(text, words, mcOrOptions),
    factoid: isFactoid(text, trimmed, words),
    programming: PROGRAMMING_RE.test(text),
    mathTerms: new Set((text.slice(0, 3000).match(MATH_TERMS_RE) ?? []).map((t) => t.toLowerCase())).size,
    numbers,
    nonEnglish: nonLatinRatio > 0.3 || (nonLatinRatio < 0.3 && looksLatinNonEnglish(text)),
    script: nonLatinRatio > 0.3 ? script : null,
    questionCount,
    conversationTurns,
    intents,
  };
}

function isWordProblem(text: string, words: number, mcOrOptions: boolean): boolean {
  if (words > 350 || words < 12 || mcOrOptions) return false;
  // A question asking for a quantity (in the last 300 characters) is rarer, and cheaper to look for,
  // than three quantities in the whole text: it is read first.
  return QUANT_QUESTION_RE.test(text.slice(-300)) && (text.match(NUMBER_WORDS_RE) ?? []).length >= 3;
}

function isFactoid(text: string, trimmed: string, words: number): boolean {
  if (words > 45 || /\n\s*\n/.test(trimmed)) return false;
  const body = text.replace(FACTOID_LEAD_RE, "");
  return FACTOID_RE.test(body) && !/\b(why|explain|difference|compare|how (does|do|did|can|should|would))\b/i.test(body);
}

/** First 400 and last 300 characters: where a prompt states what it wants. */
export function instructionPart(text: string): string {
  return text.length <= 700 ? text : text.slice(0, 400) + "\n" + text.slice(-300);
}

const REVIEW_RE = /(^|\n)\s*(title|review|product review|customer review)\s*:/i;
const REVIEW_VERDICT_RE = /\b(satisfied or dissatisfied|(increase|decrease) or (increase|decrease)|positive or negative|negative or positive|recommend|like or dislike|thumbs up|star rating|good or bad|flattering|sentiment)\b/i;

const EN_STOP = /\b(the|and|of|to|is|in|that|for|with|what|how|you|this|are|be|it)\b/gi;
const OTHER_STOP = /\b(el|la|los|las|que|de|del|y|por|para|une?|les|des|est|et|pour|dans|der|die|das|und|ist|nicht|ein|eine|mit|il|che|della|sono|não|uma|com|para|een|het|van|niet|och|att|är)\b/gi;

function looksLatinNonEnglish(text: string): boolean {
  const sample = text.length > 1500 ? text.slice(0, 1500) : text;
  const other = (sample.match(OTHER_STOP) ?? []).length;
  // English stop words are counted only when there are enough others to compare them with.
  return other >= 3 && other > (sample.match(EN_STOP) ?? []).length * 1.5;
}

/** Names of the signals that fired, for the decision record. */
export function signalNames(s: Signals): string[] {
  const out: string[] = [];
  if (s.codeBlock) out.push("code_block");
  if (s.codeLines >= 3) out.push(`code_lines:${s.codeLines}`);
  if (s.fileNames.length) out.push(`file_names:${s.fileNames.slice(0, 3).join(",")}`);
  if (s.stackTrace) out.push("stack_trace");
  if (s.errorWords) out.push("error_words");
  if (s.greeting) out.push("greeting");
  if (s.shortQuestion) out.push("short_question");
  if (s.longDocument) out.push("long_document");
  if (s.passage) out.push("passage");
  if (s.multipleChoice) out.push("multiple_choice");
  if (s.answerSlot) out.push("answer_slot");
  if (s.mathNotation) out.push("math_notation");
  if (s.arithmeticOnly) out.push("arithmetic");
  if (s.wordProblem) out.push("word_problem");
  if (s.factoid) out.push("factoid");
  if (s.programming) out.push("programming");
  if (s.nonEnglish) out.push(s.script ? `non_english:${s.script}` : "non_english");
  if (s.conversationTurns > 1) out.push(`conversation_turns:${s.conversationTurns}`);
  for (const i of s.intents) out.push(`intent:${i}`);
  return out;
}
