import { z } from "zod";
import { imageInput, mediaTool } from "./media-tool.js";

export const styleTransferTool = mediaTool({
  name: "style_transfer",
  title: "Restyle an image",
  description: "Redraw an image in the style of a reference image and/or a style description.",
  job: "styleTransfer",
  input: {
    image: imageInput,
    styleImage: z.string().min(1).optional().describe("Style reference (URL or allowed path)."),
    prompt: z.string().max(2000).optional().describe("The style in words."),
  },
  toInputs: (a) => ({ image: a.image, ...(a.styleImage ? { styleImage: a.styleImage } : {}), ...(a.prompt ? { prompt: a.prompt } : {}) }),
});
