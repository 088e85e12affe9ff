import { countTokens } from "gpt-tokenizer/encoding/o200k_base";

/** Exactly tokenized prefix; past it the count is extrapolated from the prefix's ratio. */
const EXACT_CHARS = 2000;

/**
 * Input token estimate with a real BPE tokenizer (o200k, the encoding of current OpenAI
 * models; other vendors' tokenizers land within about 10-20% of it on English and code).
 * Long texts are tokenized on a prefix and scaled, which keeps a decision under a millisecond.
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  if (text.length <= EXACT_CHARS) return countTokens(text);
  const head = countTokens(text.slice(0, EXACT_CHARS));
  return Math.ceil((head / EXACT_CHARS) * text.length);
}

/** Per-message framing overhead of chat formats (role markers, separators). */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** Typical token cost of attachments when the caller gives no count. */
export const ATTACHMENT_TOKENS = { image: 1100, audio: 0, video: 0, document: 3000 } as const;
