import { z } from "zod";
import { imageInput, mediaTool } from "./media-tool.js";

export const generativeFillTool = mediaTool({
  name: "generative_fill",
  title: "Fill part of an image",
  description: "Repaint the masked area of an image (white = replace) following a prompt.",
  job: "generativeFill",
  input: {
    image: imageInput,
    mask: z.string().min(1).describe("Same-size mask, white is repainted (URL or path)."),
    prompt: z.string().min(1).max(2000).describe("What to paint there."),
  },
  toInputs: (a) => ({ image: a.image, mask: a.mask, prompt: a.prompt }),
});
