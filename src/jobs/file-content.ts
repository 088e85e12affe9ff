import { readFileSync } from "node:fs";
import type { ContentBlock } from "@modelcontextprotocol/sdk/types.js";
import type { SavedFile } from "./files.js";

/** Resource links to the saved files, plus the bytes inline when a file is small enough for clients. */
export function fileContent(files: SavedFile[], maxInlineBytes: number): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  for (const f of files) {
    blocks.push({ type: "resource_link", uri: f.uri, name: f.path.split(/[\\/]/).pop()!, mimeType: f.mimeType, size: f.bytes, description: f.sourceUrl ? `saved from ${f.sourceUrl}` : "saved by Switchboard" });
    if (f.bytes <= maxInlineBytes) {
      const data = readFileSync(f.path).toString("base64");
      if (f.mimeType.startsWith("image/")) blocks.push({ type: "image", data, mimeType: f.mimeType });
      else if (f.mimeType.startsWith("audio/")) blocks.push({ type: "audio", data, mimeType: f.mimeType });
    }
  }
  return blocks;
}
